package taxonomy_test

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/psims/psims/internal/incident/taxonomy"
	"github.com/psims/psims/internal/incident/taxonomy/refparse"
)

// referenceDir is the reference folder, from this package's folder. CI may
// not have it; the tests that need it skip.
const referenceDir = "../../../../shared/reference"

func load(t *testing.T) *taxonomy.Taxonomy {
	t.Helper()
	tax, err := taxonomy.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return tax
}

func list(t *testing.T, tax *taxonomy.Taxonomy, id string) taxonomy.CodeList {
	t.Helper()
	l, ok := tax.List(id)
	if !ok {
		t.Fatalf("list %q is missing", id)
	}
	return l
}

func codesOf(l taxonomy.CodeList) []string {
	var codes []string
	for _, c := range l.Codes {
		codes = append(codes, c.Code)
	}
	return codes
}

func TestTheTaxonomyMatchesTheReference(t *testing.T) {
	if _, err := os.Stat(referenceDir); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("the reference folder %s is not here, so the file cannot be checked against it; the other tests still check the committed file", referenceDir)
	}
	tax := load(t)
	want, err := refparse.Parse(referenceDir)
	if err != nil {
		t.Fatalf("parsing the reference: %v", err)
	}

	t.Run("every list ID in the code-system page is in the taxonomy", func(t *testing.T) {
		// Read the IDs without the parser, so a list the parser drops is
		// caught here.
		f, err := os.Open(filepath.Join(referenceDir, "lfpse-v5-code-systems.md"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		n := 0
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			id, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "- Id: ")
			if !ok {
				continue
			}
			n++
			if _, ok := tax.List(id); !ok {
				t.Errorf("list %q of the reference is missing", id)
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		if n < 70 {
			t.Errorf("found only %d list IDs in the reference page", n)
		}
	})

	t.Run("every list of the reference has exactly the same codes and display text", func(t *testing.T) {
		for _, w := range want.CodeLists {
			got, ok := tax.List(w.ID)
			if !ok {
				t.Errorf("list %q (%s) is missing", w.ID, w.Name)
				continue
			}
			if got.Name != w.Name || got.Source != w.Source || !slices.Equal(got.Codes, w.Codes) {
				t.Errorf("list %q differs from the reference:\n got %+v\nwant %+v", w.ID, got, w)
			}
		}
		if len(tax.CodeLists) != len(want.CodeLists) {
			t.Errorf("the taxonomy has %d lists, the reference %d", len(tax.CodeLists), len(want.CodeLists))
		}
	})

	t.Run("the committed file is byte for byte what the generator writes now", func(t *testing.T) {
		fresh, err := taxonomy.Encode(want)
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile("taxonomy.json")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(committed, fresh) {
			t.Error("taxonomy.json is stale: run go generate ./internal/incident/taxonomy")
		}
	})

	t.Run("parsing the reference twice gives the same bytes", func(t *testing.T) {
		again, err := refparse.Parse(referenceDir)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := taxonomy.Encode(want)
		b, _ := taxonomy.Encode(again)
		if !bytes.Equal(a, b) {
			t.Error("two parses of the same reference encode differently")
		}
	})
}

func TestTheCommittedTaxonomy(t *testing.T) {
	tax := load(t)

	t.Run("it is version 5 of the national profile", func(t *testing.T) {
		if tax.Version != "5" || tax.Profile != "patient-safety-adverse-event-5" {
			t.Errorf("version %q, profile %q", tax.Version, tax.Profile)
		}
	})

	t.Run("event types code an incident 1 and good care 4", func(t *testing.T) {
		l := list(t, tax, taxonomy.EventTypeList)
		if d := l.Display("1"); d != "Incident" {
			t.Errorf("code 1 is %q", d)
		}
		if d := l.Display("4"); d != "Good care" {
			t.Errorf("code 4 is %q", d)
		}
		if l.Source != taxonomy.SourceFacts {
			t.Errorf("source %q", l.Source)
		}
	})

	t.Run("physical harm runs from no harm (5) to fatal (1)", func(t *testing.T) {
		l := list(t, tax, "level-of-physical-harm-5")
		if got := codesOf(l); !slices.Equal(got, []string{"5", "4", "3", "2", "1"}) {
			t.Errorf("codes %v", got)
		}
		if l.Display("5") != "No physical harm" || l.Display("1") != "Fatal" {
			t.Errorf("displays %q and %q", l.Display("5"), l.Display("1"))
		}
	})

	t.Run("psychological harm has four levels, severe being 1", func(t *testing.T) {
		l := list(t, tax, "level-of-psychological-harm-5")
		if got := codesOf(l); !slices.Equal(got, []string{"4", "3", "2", "1"}) {
			t.Errorf("codes %v", got)
		}
		if l.Display("1") != "Severe psychological harm" {
			t.Errorf("code 1 is %q", l.Display("1"))
		}
	})

	t.Run("there are twelve age brackets from 0-14 days to 85+ years", func(t *testing.T) {
		l := list(t, tax, "age-brackets-5")
		if len(l.Codes) != 12 || l.Display("1") != "0-14 days" || l.Display("12") != "85+ years" {
			t.Errorf("%d brackets, first %q, last %q", len(l.Codes), l.Display("1"), l.Display("12"))
		}
	})

	t.Run("the long lists have 202 specialties and 93 device types", func(t *testing.T) {
		if n := len(list(t, tax, "specialty-5").Codes); n != 202 {
			t.Errorf("%d specialties", n)
		}
		if n := len(list(t, tax, "device-type-5").Codes); n != 93 {
			t.Errorf("%d device types", n)
		}
	})

	t.Run("yes, no and unknown are y, n and u", func(t *testing.T) {
		if got := codesOf(list(t, tax, "yes-no-unknown-codes-5")); !slices.Equal(got, []string{"y", "n", "u"}) {
			t.Errorf("codes %v", got)
		}
	})

	t.Run("the ODS list is marked as the organisations and holds no codes", func(t *testing.T) {
		l := list(t, tax, "ods-codes-5")
		if l.Source != taxonomy.SourceOrganisations || len(l.Codes) != 0 {
			t.Errorf("source %q with %d codes", l.Source, len(l.Codes))
		}
	})

	t.Run("it has all 76 national lists and the event types", func(t *testing.T) {
		if len(tax.CodeLists) != 77 {
			t.Errorf("%d lists", len(tax.CodeLists))
		}
	})

	t.Run("lists are sorted by ID", func(t *testing.T) {
		if !slices.IsSortedFunc(tax.CodeLists, func(a, b taxonomy.CodeList) int { return strings.Compare(a.ID, b.ID) }) {
			t.Error("lists are not sorted by ID")
		}
	})

	t.Run("codes are unique within each list and every display has text", func(t *testing.T) {
		for _, l := range tax.CodeLists {
			seen := map[string]bool{}
			for _, c := range l.Codes {
				if seen[c.Code] {
					t.Errorf("list %q: code %q twice", l.ID, c.Code)
				}
				seen[c.Code] = true
				if strings.TrimSpace(c.Code) == "" || strings.TrimSpace(c.Display) == "" {
					t.Errorf("list %q: empty code or display %+v", l.ID, c)
				}
			}
			if l.Source != taxonomy.SourceOrganisations && len(l.Codes) == 0 {
				t.Errorf("list %q has no codes", l.ID)
			}
		}
	})

	t.Run("every coded element is bound to a list that exists and every list is used", func(t *testing.T) {
		used := map[string]bool{taxonomy.EventTypeList: true}
		for _, e := range tax.Elements {
			if e.Type != taxonomy.TypeCode {
				continue
			}
			if _, ok := tax.List(e.CodeList); !ok {
				t.Errorf("element %q is bound to missing list %q", e.ID, e.CodeList)
			}
			used[e.CodeList] = true
		}
		for _, l := range tax.CodeLists {
			if !used[l.ID] {
				t.Errorf("list %q is bound to no element", l.ID)
			}
		}
	})

	t.Run("the profile has its 25 extensions and 147 elements", func(t *testing.T) {
		if len(tax.Extensions) != 25 || len(tax.Elements) != 147 {
			t.Errorf("%d extensions, %d elements", len(tax.Extensions), len(tax.Elements))
		}
	})

	t.Run("patient information may appear once per patient, up to 100", func(t *testing.T) {
		for _, x := range tax.Extensions {
			if x.ID == "PatientInformation" {
				if x.Min != 0 || x.Max != 100 || x.Resource != "adverse-event-patient-5" {
					t.Errorf("%+v", x)
				}
				return
			}
		}
		t.Error("no PatientInformation extension")
	})
}

func TestLookups(t *testing.T) {
	tax := load(t)

	t.Run("List finds a list by its ID and not an unknown one", func(t *testing.T) {
		if l, ok := tax.List("age-brackets-5"); !ok || l.Name != "Age Brackets" {
			t.Errorf("List(age-brackets-5) = %q, %v", l.Name, ok)
		}
		if _, ok := tax.List("no-such-list"); ok {
			t.Error("found a list that does not exist")
		}
	})

	t.Run("Lookup finds a code and not an unknown one", func(t *testing.T) {
		l := list(t, tax, "specialty-5")
		if c, ok := l.Lookup("2"); !ok || c.Display != "Acute internal medicine" {
			t.Errorf("Lookup(2) = %+v, %v", c, ok)
		}
		if _, ok := l.Lookup("99999"); ok {
			t.Error("found a code that does not exist")
		}
		if _, ok := l.Lookup(" 2"); ok {
			t.Error("found a padded code")
		}
	})

	t.Run("Display gives the text, or the code itself when unknown", func(t *testing.T) {
		l := list(t, tax, "gender-5")
		if d := l.Display("1"); d != "Female" {
			t.Errorf("Display(1) = %q", d)
		}
		if d := l.Display("9"); d != "9" {
			t.Errorf("Display(9) = %q", d)
		}
	})

	t.Run("Element finds an element and its list", func(t *testing.T) {
		e, ok := tax.Element("PatientInformation.PhysicalHarm")
		if !ok || e.Type != taxonomy.TypeCode || e.CodeList != "level-of-physical-harm-5" || e.Name != "PhysicalHarm" {
			t.Errorf("Element = %+v, %v", e, ok)
		}
		if _, ok := tax.Element("PhysicalHarm"); ok {
			t.Error("found an element by its bare name")
		}
	})

	t.Run("each Load returns its own copy", func(t *testing.T) {
		a, b := load(t), load(t)
		a.CodeLists[0].Codes[0].Display = "changed"
		if b.CodeLists[0].Codes[0].Display == "changed" {
			t.Error("two loads share their lists")
		}
	})
}

func TestParseRejectsBrokenFiles(t *testing.T) {
	const head = `"version":"5","profile":"p","profileUrl":"u"`
	const ext = `"extensions":[{"id":"X","profile":"x-5","url":"u/x-5","resource":"p","min":0,"max":1}]`
	cases := []struct {
		name, json string
	}{
		{"a file that is not JSON", `{`},
		{"a file with an unknown field", `{` + head + `,"extra":1}`},
		{"a file with no version", `{"profile":"p","profileUrl":"u"}`},
		{"a list with a code twice", `{` + head + `,"codeLists":[{"id":"a","name":"A","source":"reference","codes":[{"code":"1","display":"One"},{"code":"1","display":"Uno"}]}]}`},
		{"a list with an empty display", `{` + head + `,"codeLists":[{"id":"a","name":"A","source":"reference","codes":[{"code":"1","display":" "}]}]}`},
		{"a list with a padded code", `{` + head + `,"codeLists":[{"id":"a","name":"A","source":"reference","codes":[{"code":" 1","display":"One"}]}]}`},
		{"a reference list with no codes", `{` + head + `,"codeLists":[{"id":"a","name":"A","source":"reference"}]}`},
		{"an organisations list with codes", `{` + head + `,"codeLists":[{"id":"a","name":"A","source":"organisations","codes":[{"code":"RM1","display":"A trust"}]}]}`},
		{"a list with an unknown source", `{` + head + `,"codeLists":[{"id":"a","name":"A","source":"guess","codes":[{"code":"1","display":"One"}]}]}`},
		{"the same list twice", `{` + head + `,"codeLists":[{"id":"a","name":"A","source":"organisations"},{"id":"a","name":"A","source":"organisations"}]}`},
		{"an element bound to a missing list", `{` + head + `,` + ext + `,"elements":[{"id":"X.Y","name":"Y","extension":"X","type":"Code","min":0,"max":1,"codeList":"nope"}]}`},
		{"an element of a missing extension", `{` + head + `,"elements":[{"id":"X.Y","name":"Y","extension":"X","type":"String","min":0,"max":1}]}`},
		{"an element of an unknown type", `{` + head + `,` + ext + `,"elements":[{"id":"X.Y","name":"Y","extension":"X","type":"Float","min":0,"max":1}]}`},
		{"an element whose minimum exceeds its maximum", `{` + head + `,` + ext + `,"elements":[{"id":"X.Y","name":"Y","extension":"X","type":"String","min":2,"max":1}]}`},
	}
	for _, c := range cases {
		t.Run("it rejects "+c.name, func(t *testing.T) {
			if _, err := taxonomy.Parse([]byte(c.json)); err == nil {
				t.Error("accepted")
			}
		})
	}

	t.Run("it accepts a small file that holds together", func(t *testing.T) {
		ok := `{` + head + `,"codeLists":[{"id":"a","name":"A","source":"reference","codes":[{"code":"1","display":"One"}]}],` + ext +
			`,"elements":[{"id":"X.Y","name":"Y","extension":"X","type":"Code","min":0,"max":1,"codeList":"a"}]}`
		if _, err := taxonomy.Parse([]byte(ok)); err != nil {
			t.Error(err)
		}
	})
}
