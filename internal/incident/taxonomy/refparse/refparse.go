// Package refparse reads the LFPSE reference pages (Markdown, as published
// for the national API) into a taxonomy.Taxonomy. The generator in
// ../gen writes the result to the taxonomy file; the taxonomy tests use it to
// check the committed file is complete and up to date.
//
// The parser knows every kind of line the pages contain and fails, naming the
// file and line, on any line it does not know, so a change in the pages can
// never drop a list or a code without anyone noticing.
package refparse

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/psims/psims/internal/incident/taxonomy"
)

// The reference pages, by file name.
const (
	codeSystemsFile = "lfpse-v5-code-systems.md"
	profileFile     = "lfpse-v5-taxonomy.md"
)

// organisationLists are the lists whose codes are organisations: the file
// marks them SourceOrganisations and holds none of their codes, which live in
// the database.
var organisationLists = []string{"ods-codes-5"}

// countOffset is how much smaller each list's "Count" in the code-system page
// is than the number of codes the reference lists for it: five, for every
// list, including the long ones on their own pages and the organisations. The
// parser checks it, so a row it failed to read cannot go unnoticed.
const countOffset = 5

// Parse reads the reference pages in dir.
func Parse(dir string) (*taxonomy.Taxonomy, error) {
	return parse(func(name string) (string, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		return string(b), err
	})
}

// reader returns the text of one reference page, by file name.
type reader func(name string) (string, error)

func parse(read reader) (*taxonomy.Taxonomy, error) {
	text, err := read(codeSystemsFile)
	if err != nil {
		return nil, err
	}
	version, lists, err := parseCodeSystems(text, read)
	if err != nil {
		return nil, err
	}
	lists = append(lists, eventTypes())
	slices.SortFunc(lists, func(a, b taxonomy.CodeList) int { return strings.Compare(a.ID, b.ID) })

	text, err = read(profileFile)
	if err != nil {
		return nil, err
	}
	p, err := parseProfile(text)
	if err != nil {
		return nil, err
	}
	if p.version != version {
		return nil, fmt.Errorf("%s is version %q but %s is version %q", profileFile, p.version, codeSystemsFile, version)
	}
	t := &taxonomy.Taxonomy{
		Version:    version,
		Profile:    p.profile,
		ProfileURL: p.profileURL,
		CodeLists:  lists,
		Extensions: p.extensions,
		Elements:   p.elements,
	}
	if err := checkBindings(t, p.tables); err != nil {
		return nil, err
	}
	return t, nil
}

// eventTypes is the one list not in the code-system pages: the reference's
// gathered facts (README.md) say the national API codes an incident "1" and
// good care "4". They give no codes for risks or outcomes, so neither is
// listed until the reference does.
func eventTypes() taxonomy.CodeList {
	return taxonomy.CodeList{
		ID:     taxonomy.EventTypeList,
		Name:   "Event type",
		Source: taxonomy.SourceFacts,
		Codes: []taxonomy.Code{
			{Code: "1", Display: "Incident"},
			{Code: "4", Display: "Good care"},
		},
	}
}

// Patterns of the lines of the pages, matched after trailing white space
// (including the carriage returns of CRLF pages) is removed.
var (
	codeSystemsTitle = regexp.MustCompile(`^Code system document for AdverseEvent v(\d+)$`)
	profileTitle     = regexp.MustCompile(`^Taxonomy document for AdverseEvent v(\d+)$`)
	heading          = regexp.MustCompile(`^(#{1,4}) (\S.*)$`)
	idLine           = regexp.MustCompile(`^- Id: (\S+)$`)
	countLine        = regexp.MustCompile(`^- Count: (-?\d+)$`)
	tableHeader      = regexp.MustCompile(`^ ?\| Code \| Display \|$`)
	tableRule        = regexp.MustCompile(`^ ?\| --- \| --- \|$`)
	tableRow         = regexp.MustCompile("^\\| `\\s*([^`\\s]+)` \\| (.*\\S) \\|$")
	tableEllipsis    = regexp.MustCompile(`^\| \.\.\. \| \.\.\. \|$`)
	tooMany          = regexp.MustCompile(`^!!! info "Too many codes to display"$`)
	fullListLink     = regexp.MustCompile(`^ {4}For the full list go to \[(\S+)\]\(\.\./code-systems/([a-z0-9-]+)\)$`)
	pageIntro        = regexp.MustCompile(`^This code system has a lot of items, so has been extracted to its own page\. `)
	urlLine          = regexp.MustCompile(`^- Url: \[(\S+)\]\((\S+)\)$`)
	descLine         = regexp.MustCompile(`^Desc: \S`)
	definitionLine   = regexp.MustCompile(`^ Definition: \S`)
	cardinalityLine  = regexp.MustCompile(`^- Cardinality$`)
	minLine          = regexp.MustCompile(`^ {4}- Min: (\d+)$`)
	maxLine          = regexp.MustCompile(`^ {4}- Max: (\d+)$`)
	typeLine         = regexp.MustCompile("^- Type: `([A-Za-z]+|\\[x\\])`$")
	valueSetLine     = regexp.MustCompile(`^- Value set Url: \[(\S+/ValueSet/([a-z0-9-]+))\]\((\S+)\)$`)
	optionsLine      = regexp.MustCompile(`^The code system options for \[[^\]]+\]\(\.\./code-systems/#[a-z0-9-]+\) are:$`)
	displayingLine   = regexp.MustCompile(`^!!! info "Displaying (\d+) of (\d+)"$`)
	fullListLine     = regexp.MustCompile(`^ {4}For full list go to \[(\S+)\]\(\.\./code-systems/[a-z0-9-]+\)$`)
	nestedLine       = regexp.MustCompile("^Nested profile: \\[(\\S+)\\]\\((\\S+)\\) `([A-Za-z]+)`$")
	targetLine       = regexp.MustCompile(`^Target profile: \[(\S+)\]\(\)$`)
	referenceLine    = regexp.MustCompile(`^Reference$`)
	notLoadedLine    = regexp.MustCompile(`^- Profile URI not loaded: \S+$`)
	failureLine      = regexp.MustCompile(`^(!!! failure "Error occurred processing profile"| {4}An error occurred, details as follows:| {4}>.*)$`)
)

// lines splits a page into lines without line endings or trailing spaces.
func lines(text string) []string {
	ls := strings.Split(text, "\n")
	for i, l := range ls {
		ls[i] = strings.TrimRight(l, " \t\r")
	}
	return ls
}

// lineError is an error at one line of a page.
func lineError(file string, i int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", file, i+1, fmt.Sprintf(format, args...))
}

// rawList is a list as the code-system page gives it, before its codes are
// checked against its count.
type rawList struct {
	line     int
	name, id string
	count    int
	hasCount bool
	codes    []taxonomy.Code
	table    bool   // a table header was read
	page     string // the slug of the page the codes are on, when too many to show
}

// parseCodeSystems reads the code-system page and, through read, the pages of
// the lists too long to show on it.
func parseCodeSystems(text string, read reader) (string, []taxonomy.CodeList, error) {
	ls := lines(text)
	m := codeSystemsTitle.FindStringSubmatch(ls[0])
	if m == nil {
		return "", nil, lineError(codeSystemsFile, 0, "not a code-system page: %q", ls[0])
	}
	version := m[1]
	var raws []*rawList
	var cur *rawList
	for i := 1; i < len(ls); i++ {
		l := ls[i]
		if l == "" {
			continue
		}
		if m := heading.FindStringSubmatch(l); m != nil {
			if m[1] != "##" {
				return "", nil, lineError(codeSystemsFile, i, "unexpected heading %q", l)
			}
			cur = &rawList{line: i, name: m[2]}
			raws = append(raws, cur)
			continue
		}
		if cur == nil {
			return "", nil, lineError(codeSystemsFile, i, "text before the first list: %q", l)
		}
		switch {
		case idLine.MatchString(l):
			if cur.id != "" {
				return "", nil, lineError(codeSystemsFile, i, "second Id for %q", cur.name)
			}
			cur.id = idLine.FindStringSubmatch(l)[1]
		case countLine.MatchString(l):
			n, err := strconv.Atoi(countLine.FindStringSubmatch(l)[1])
			if err != nil || cur.hasCount {
				return "", nil, lineError(codeSystemsFile, i, "bad or second count %q", l)
			}
			cur.count, cur.hasCount = n, true
		case tableHeader.MatchString(l):
			if cur.table || cur.page != "" {
				return "", nil, lineError(codeSystemsFile, i, "second table for %q", cur.name)
			}
			cur.table = true
		case tableRule.MatchString(l):
			if !cur.table || len(cur.codes) > 0 {
				return "", nil, lineError(codeSystemsFile, i, "table rule out of place")
			}
		case tableRow.MatchString(l):
			if !cur.table {
				return "", nil, lineError(codeSystemsFile, i, "table row without a table header")
			}
			m := tableRow.FindStringSubmatch(l)
			cur.codes = append(cur.codes, taxonomy.Code{Code: m[1], Display: strings.TrimSpace(m[2])})
		case tooMany.MatchString(l):
			if cur.table {
				return "", nil, lineError(codeSystemsFile, i, "list %q has both a table and a page", cur.name)
			}
			i = nextNonBlank(ls, i)
			m := fullListLink.FindStringSubmatch(ls[i])
			if m == nil {
				return "", nil, lineError(codeSystemsFile, i, "expected the link to the full list, got %q", ls[i])
			}
			if m[1] != cur.id {
				return "", nil, lineError(codeSystemsFile, i, "list %q links to %q", cur.id, m[1])
			}
			cur.page = m[2]
		default:
			return "", nil, lineError(codeSystemsFile, i, "cannot read line %q", l)
		}
	}
	if len(raws) == 0 {
		return "", nil, fmt.Errorf("%s: no code lists", codeSystemsFile)
	}

	var lists []taxonomy.CodeList
	for _, r := range raws {
		list, err := finishList(r, read)
		if err != nil {
			return "", nil, err
		}
		lists = append(lists, list)
	}
	return version, lists, nil
}

// nextNonBlank returns the index of the first non-blank line after i, or the
// last line.
func nextNonBlank(ls []string, i int) int {
	for i++; i < len(ls)-1 && ls[i] == ""; i++ {
	}
	return i
}

// finishList checks a list read from the code-system page, reads its codes
// from its own page when they are there, and checks them against its count.
func finishList(r *rawList, read reader) (taxonomy.CodeList, error) {
	where := func(format string, args ...any) error {
		return lineError(codeSystemsFile, r.line, "list %q: %s", r.name, fmt.Sprintf(format, args...))
	}
	if r.id == "" || !r.hasCount {
		return taxonomy.CodeList{}, where("no Id or no Count")
	}
	list := taxonomy.CodeList{ID: r.id, Name: r.name, Source: taxonomy.SourceReference, Codes: r.codes}
	switch {
	case slices.Contains(organisationLists, r.id):
		if r.page == "" || r.table {
			return taxonomy.CodeList{}, where("expected the organisations list to be on its own page")
		}
		list.Source, list.Codes = taxonomy.SourceOrganisations, nil
		return list, nil
	case r.page != "":
		file := "lfpse-v" + versionOf(r.id) + "-" + r.page + ".md"
		text, err := read(file)
		if errors.Is(err, fs.ErrNotExist) {
			return taxonomy.CodeList{}, where("its codes are on a page, but %s is missing", file)
		}
		if err != nil {
			return taxonomy.CodeList{}, err
		}
		codes, err := parseListPage(file, r.name, text)
		if err != nil {
			return taxonomy.CodeList{}, err
		}
		list.Codes = codes
	case !r.table || len(r.codes) == 0:
		return taxonomy.CodeList{}, where("no codes")
	}
	if r.count+countOffset != len(list.Codes) {
		return taxonomy.CodeList{}, where("count %d is not %d less than the %d codes read", r.count, countOffset, len(list.Codes))
	}
	return list, nil
}

// versionOf returns the version suffix of a list ID, "5" for "specialty-5".
func versionOf(id string) string {
	return id[strings.LastIndexByte(id, '-')+1:]
}

// parseListPage reads the page of one long list.
func parseListPage(file, name, text string) ([]taxonomy.Code, error) {
	ls := lines(text)
	if ls[0] != "# "+name {
		return nil, lineError(file, 0, "expected the heading %q, got %q", "# "+name, ls[0])
	}
	var codes []taxonomy.Code
	table := false
	for i := 1; i < len(ls); i++ {
		l := ls[i]
		switch {
		case l == "" || pageIntro.MatchString(l):
		case tableHeader.MatchString(l):
			if table {
				return nil, lineError(file, i, "second table")
			}
			table = true
		case tableRule.MatchString(l) && table && len(codes) == 0:
		case tableRow.MatchString(l) && table:
			m := tableRow.FindStringSubmatch(l)
			codes = append(codes, taxonomy.Code{Code: m[1], Display: strings.TrimSpace(m[2])})
		default:
			return nil, lineError(file, i, "cannot read line %q", l)
		}
	}
	if len(codes) == 0 {
		return nil, fmt.Errorf("%s: no codes", file)
	}
	return codes, nil
}

// profile is what the profile page gives.
type profile struct {
	version, profile, profileURL string
	extensions                   []taxonomy.Extension
	elements                     []taxonomy.Element
	// tables are the codes the page shows under each bound element, to
	// check against the lists.
	tables []shownTable
}

// shownTable is the (possibly shortened) table of codes the profile page
// shows under one element.
type shownTable struct {
	line      int
	element   string
	list      string
	codes     []taxonomy.Code
	shortened bool // the table ends in "..." and a "Displaying n of m" note
	shown     int  // n of that note
	total     int  // m of that note
}

// block is what is read under one heading of the profile page.
type block struct {
	line        int
	level       int
	name        string
	definition  bool
	cardinality bool
	min, max    int
	hasMin      bool
	hasMax      bool
	typ         string
	valueSet    string
	nestedURL   string
	id, url     string
	table       shownTable
	hasTable    bool
}

// parseProfile reads the profile page: the extensions of the event and of
// the resources it contains, and their elements.
func parseProfile(text string) (*profile, error) {
	ls := lines(text)
	m := profileTitle.FindStringSubmatch(ls[0])
	if m == nil {
		return nil, lineError(profileFile, 0, "not a taxonomy page: %q", ls[0])
	}
	p := &profile{version: m[1]}

	// The page is a sequence of sections: the page's own header, then
	// headings with their blocks, broken by "Target profile" headers of the
	// contained resources. A resource the publisher could not load is
	// followed only by its error, which is skipped.
	const (
		inPageHeader = iota
		inResourceHeader
		inUnloadedResource
		inBlock
	)
	state := inPageHeader
	resource := ""       // profile ID of the resource whose extensions follow
	targetURL := ""      // URL of the latest Target profile
	var b *block         // the block being read
	var ext *blockResult // the extension the following elements belong to

	finish := func() error {
		if b == nil {
			return nil
		}
		r, err := p.addBlock(b, resource, ext)
		if err != nil {
			return err
		}
		if r.extension {
			ext = r
		}
		b = nil
		return nil
	}

	for i := 1; i < len(ls); i++ {
		l := ls[i]
		if l == "" {
			continue
		}
		if m := targetLine.FindStringSubmatch(l); m != nil {
			if err := finish(); err != nil {
				return nil, err
			}
			state, targetURL, resource, ext = inResourceHeader, m[1], "", nil
			continue
		}
		if m := heading.FindStringSubmatch(l); m != nil {
			if err := finish(); err != nil {
				return nil, err
			}
			if resource == "" {
				return nil, lineError(profileFile, i, "heading %q outside any loaded profile", l)
			}
			level := len(m[1])
			if level < 2 {
				return nil, lineError(profileFile, i, "unexpected heading %q", l)
			}
			state, b = inBlock, &block{line: i, level: level, name: m[2]}
			continue
		}

		switch state {
		case inPageHeader:
			switch {
			case descLine.MatchString(l):
			case idLine.MatchString(l) && p.profile == "":
				p.profile = idLine.FindStringSubmatch(l)[1]
				resource = p.profile
			case urlLine.MatchString(l) && p.profileURL == "":
				m := urlLine.FindStringSubmatch(l)
				if m[1] != m[2] || path.Base(m[1]) != p.profile {
					return nil, lineError(profileFile, i, "profile URL %q does not match its Id %q", m[1], p.profile)
				}
				p.profileURL = m[1]
			default:
				return nil, lineError(profileFile, i, "cannot read line %q", l)
			}
		case inResourceHeader:
			switch {
			case referenceLine.MatchString(l), descLine.MatchString(l):
			case idLine.MatchString(l) && resource == "":
				resource = idLine.FindStringSubmatch(l)[1]
				if path.Base(targetURL) != resource {
					return nil, lineError(profileFile, i, "resource Id %q does not match its target profile %q", resource, targetURL)
				}
			case urlLine.MatchString(l) && resource != "":
				if m := urlLine.FindStringSubmatch(l); m[1] != targetURL {
					return nil, lineError(profileFile, i, "resource URL %q is not its target profile %q", m[1], targetURL)
				}
			case notLoadedLine.MatchString(l) && resource == "":
				state = inUnloadedResource
			default:
				return nil, lineError(profileFile, i, "cannot read line %q", l)
			}
		case inUnloadedResource:
			switch {
			case failureLine.MatchString(l), notLoadedLine.MatchString(l):
			case nestedLine.MatchString(l) && nestedLine.FindStringSubmatch(l)[3] != "Extension":
				// A base type of an unloaded resource, such as Quantity.
			default:
				return nil, lineError(profileFile, i, "cannot read line %q under a profile that was not loaded", l)
			}
		case inBlock:
			var err error
			i, err = b.read(ls, i)
			if err != nil {
				return nil, err
			}
		}
	}
	if err := finish(); err != nil {
		return nil, err
	}
	if p.profile == "" || p.profileURL == "" {
		return nil, fmt.Errorf("%s: no profile Id or URL", profileFile)
	}
	if len(p.elements) == 0 {
		return nil, fmt.Errorf("%s: no elements", profileFile)
	}
	return p, nil
}

// read reads line i of the block (and the line after it, for a link that
// follows a note) and returns the index of the last line it used.
func (b *block) read(ls []string, i int) (int, error) {
	l := ls[i]
	dup := func(what string) error {
		return lineError(profileFile, i, "%s: %s out of place or given twice", b.name, what)
	}
	switch {
	case definitionLine.MatchString(l):
		if b.definition {
			return i, dup("definition")
		}
		b.definition = true
	case cardinalityLine.MatchString(l):
		if b.cardinality {
			return i, dup("cardinality")
		}
		b.cardinality = true
	case minLine.MatchString(l):
		if !b.cardinality || b.hasMin {
			return i, dup("minimum")
		}
		b.min, _ = strconv.Atoi(minLine.FindStringSubmatch(l)[1])
		b.hasMin = true
	case maxLine.MatchString(l):
		if !b.cardinality || b.hasMax {
			return i, dup("maximum")
		}
		b.max, _ = strconv.Atoi(maxLine.FindStringSubmatch(l)[1])
		b.hasMax = true
	case typeLine.MatchString(l):
		t := typeLine.FindStringSubmatch(l)[1]
		if t == "[x]" {
			// The value[x] of the extension that holds the elements
			// before it: nothing to record.
			return i, nil
		}
		if b.typ != "" {
			return i, dup("type")
		}
		b.typ = t
	case valueSetLine.MatchString(l):
		m := valueSetLine.FindStringSubmatch(l)
		if b.valueSet != "" || m[1] != m[3] {
			return i, lineError(profileFile, i, "%s: second or mismatched value set %q", b.name, l)
		}
		b.valueSet = m[2]
	case optionsLine.MatchString(l):
		if b.valueSet == "" {
			return i, lineError(profileFile, i, "%s: code options without a value set", b.name)
		}
	case tableHeader.MatchString(l):
		if b.hasTable || b.valueSet == "" {
			return i, lineError(profileFile, i, "%s: table out of place", b.name)
		}
		b.hasTable = true
		b.table = shownTable{line: i, list: b.valueSet}
	case tableRule.MatchString(l):
		if !b.hasTable || len(b.table.codes) > 0 {
			return i, lineError(profileFile, i, "%s: table rule out of place", b.name)
		}
	case tableRow.MatchString(l):
		if !b.hasTable || b.table.shortened {
			return i, lineError(profileFile, i, "%s: table row out of place", b.name)
		}
		m := tableRow.FindStringSubmatch(l)
		b.table.codes = append(b.table.codes, taxonomy.Code{Code: m[1], Display: strings.TrimSpace(m[2])})
	case tableEllipsis.MatchString(l):
		if !b.hasTable || b.table.shortened {
			return i, lineError(profileFile, i, "%s: table ellipsis out of place", b.name)
		}
		b.table.shortened = true
	case displayingLine.MatchString(l):
		if !b.table.shortened || b.table.total != 0 {
			return i, lineError(profileFile, i, "%s: %q without a shortened table", b.name, l)
		}
		m := displayingLine.FindStringSubmatch(l)
		b.table.shown, _ = strconv.Atoi(m[1])
		b.table.total, _ = strconv.Atoi(m[2])
		i = nextNonBlank(ls, i)
		lm := fullListLine.FindStringSubmatch(ls[i])
		if lm == nil || lm[1] != b.valueSet {
			return i, lineError(profileFile, i, "%s: expected the link to the full list %q, got %q", b.name, b.valueSet, ls[i])
		}
	case nestedLine.MatchString(l):
		m := nestedLine.FindStringSubmatch(l)
		if b.nestedURL != "" || m[1] != m[2] || m[3] != "Extension" {
			return i, lineError(profileFile, i, "%s: cannot read nested profile %q", b.name, l)
		}
		b.nestedURL = m[1]
	case descLine.MatchString(l):
		if b.nestedURL == "" {
			return i, lineError(profileFile, i, "%s: description outside an extension", b.name)
		}
	case idLine.MatchString(l):
		if b.nestedURL == "" || b.id != "" {
			return i, lineError(profileFile, i, "%s: Id out of place", b.name)
		}
		b.id = idLine.FindStringSubmatch(l)[1]
	case urlLine.MatchString(l):
		m := urlLine.FindStringSubmatch(l)
		if b.nestedURL == "" || b.url != "" || m[1] != m[2] || m[1] != b.nestedURL {
			return i, lineError(profileFile, i, "%s: URL out of place or not its nested profile", b.name)
		}
		b.url = m[1]
	default:
		return i, lineError(profileFile, i, "%s: cannot read line %q", b.name, l)
	}
	return i, nil
}

// blockResult is the extension a block turned out to be, for the elements
// that follow it.
type blockResult struct {
	extension bool
	id        string
	level     int
	resource  string
}

// addBlock turns a finished block into an extension or an element of p.
func (p *profile) addBlock(b *block, resource string, ext *blockResult) (*blockResult, error) {
	fail := func(format string, args ...any) error {
		return lineError(profileFile, b.line, "%s: %s", b.name, fmt.Sprintf(format, args...))
	}
	if !b.hasMin || !b.hasMax {
		return nil, fail("no cardinality")
	}
	if b.nestedURL != "" {
		if b.definition || b.typ != "" || b.valueSet != "" {
			return nil, fail("an extension with a definition, type or value set")
		}
		if b.id == "" || b.url == "" || path.Base(b.url) != b.id {
			return nil, fail("extension Id %q does not match its URL %q", b.id, b.url)
		}
		p.extensions = append(p.extensions, taxonomy.Extension{
			ID: b.name, Profile: b.id, URL: b.url, Resource: resource, Min: b.min, Max: b.max,
		})
		return &blockResult{extension: true, id: b.name, level: b.level, resource: resource}, nil
	}

	if ext == nil || ext.resource != resource || b.level != ext.level+1 {
		return nil, fail("an element outside any extension")
	}
	if !b.definition || b.typ == "" {
		return nil, fail("an element with no definition or no type")
	}
	e := taxonomy.Element{
		ID: ext.id + "." + b.name, Name: b.name, Extension: ext.id, Type: b.typ, Min: b.min, Max: b.max,
	}
	if b.typ == taxonomy.TypeCode {
		if b.valueSet == "" || !b.hasTable {
			return nil, fail("a coded element with no value set or no table of codes")
		}
		e.CodeList = b.valueSet
		b.table.element = e.ID
		p.tables = append(p.tables, b.table)
	} else if b.valueSet != "" {
		return nil, fail("a %s element with a value set", b.typ)
	}
	p.elements = append(p.elements, e)
	return &blockResult{}, nil
}

// checkBindings checks every bound element names a list that exists, and
// that the codes the profile page shows under it are the list's first codes,
// in the same order, with the same display text.
func checkBindings(t *taxonomy.Taxonomy, tables []shownTable) error {
	for _, tb := range tables {
		fail := func(format string, args ...any) error {
			return lineError(profileFile, tb.line, "%s: %s", tb.element, fmt.Sprintf(format, args...))
		}
		list, ok := t.List(tb.list)
		if !ok {
			return fail("bound to %q, which is not in %s", tb.list, codeSystemsFile)
		}
		if tb.shortened && (tb.shown != len(tb.codes) || tb.total <= tb.shown) {
			return fail("shows %d codes but says it displays %d of %d", len(tb.codes), tb.shown, tb.total)
		}
		if list.Source == taxonomy.SourceOrganisations {
			continue
		}
		total := len(tb.codes)
		if tb.shortened {
			total = tb.total
		}
		if total != len(list.Codes) {
			return fail("the page has %d codes for %q, the list %d", total, list.ID, len(list.Codes))
		}
		if !slices.Equal(tb.codes, list.Codes[:len(tb.codes)]) {
			return fail("the codes shown differ from those of list %q", list.ID)
		}
	}
	return nil
}
