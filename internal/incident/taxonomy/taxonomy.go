// Package taxonomy is the national LFPSE patient safety event taxonomy as
// data: every code list of the national profile, with its national codes and
// display text, and the elements of the profile that take those codes.
//
// The data lives in taxonomy.json, next to this file and embedded in the
// binary. It is generated from the reference pages by ./gen (run `go generate
// ./internal/incident/taxonomy`) and committed; nobody edits it by hand. The
// form, validation, storage and the API all read it through Load.
package taxonomy

//go:generate go run ./gen -ref ../../../../shared/reference -out taxonomy.json

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

// embedded is the generated taxonomy file. It is a string so it cannot be
// changed at run time.
//
//go:embed taxonomy.json
var embedded string

// Where a code list's codes come from.
const (
	// SourceReference marks a list whose codes are published in the
	// reference's code-system pages.
	SourceReference = "reference"
	// SourceOrganisations marks a list whose codes are the ODS codes of the
	// organisations in the database. The file holds no codes for it.
	SourceOrganisations = "organisations"
	// SourceFacts marks a list whose codes the reference states among its
	// gathered facts rather than in a code-system page. Only the codes it
	// states are listed.
	SourceFacts = "reference-facts"
)

// EventTypeList is the ID of the list of event types (incident, good care
// and so on) as the national API codes them.
const EventTypeList = "event-type"

// The kinds of value an element takes.
const (
	TypeCode    = "Code"    // a code of the element's code list
	TypeString  = "String"  // free text
	TypeBoolean = "Boolean" // yes or no
	TypeInteger = "Integer" // a whole number
	TypeDate    = "Date"    // a calendar date
	TypeTime    = "Time"    // a time of day
)

// Taxonomy is the whole taxonomy: its code lists, the extensions of the
// national profile and their elements.
type Taxonomy struct {
	// Version is the version of the national taxonomy, such as "5".
	Version string `json:"version"`
	// Profile is the ID of the national profile events are recorded on,
	// such as "patient-safety-adverse-event-5", and ProfileURL its address.
	Profile    string `json:"profile"`
	ProfileURL string `json:"profileUrl"`
	// CodeLists are sorted by ID.
	CodeLists []CodeList `json:"codeLists"`
	// Extensions and Elements are in the order the profile gives them.
	Extensions []Extension `json:"extensions"`
	Elements   []Element   `json:"elements"`
}

// CodeList is one list of codes, such as the levels of physical harm.
type CodeList struct {
	// ID is the national ID of the list's value set, such as
	// "level-of-physical-harm-5"; it never changes within a version.
	ID string `json:"id"`
	// Name is the list's name in the reference.
	Name string `json:"name"`
	// Source says where the codes come from: one of the Source constants.
	Source string `json:"source"`
	// Codes are in the order the reference gives them, which is the order
	// forms offer them. Empty for SourceOrganisations.
	Codes []Code `json:"codes,omitempty"`
}

// Code is one code of a list and the text people are shown for it.
type Code struct {
	Code    string `json:"code"`
	Display string `json:"display"`
}

// Extension is a group of elements of the national profile, sent to the API
// as one extension, such as PatientInformation (one per patient).
type Extension struct {
	// ID is the extension's name in the profile, such as
	// "PatientInformation".
	ID string `json:"id"`
	// Profile is the ID of the extension's own definition, such as
	// "patient-information-5", and URL its address: the URL the API expects
	// on the extension.
	Profile string `json:"profile"`
	URL     string `json:"url"`
	// Resource is the ID of the profile of the resource that carries the
	// extension: the event itself, or a contained resource such as
	// "adverse-event-patient-5".
	Resource string `json:"resource"`
	// Min and Max are how many times the extension may appear.
	Min int `json:"min"`
	Max int `json:"max"`
}

// Element is one question of the national profile, such as the physical harm
// a patient came to.
type Element struct {
	// ID is "Extension.Name", such as "PatientInformation.PhysicalHarm".
	ID string `json:"id"`
	// Name is the element's name in the profile, such as "PhysicalHarm":
	// the URL of its inner extension in the API.
	Name string `json:"name"`
	// Extension is the ID of the extension the element belongs to.
	Extension string `json:"extension"`
	// Type is the kind of value: one of the Type constants.
	Type string `json:"type"`
	// Min and Max are how many values the element may have within one
	// instance of its extension.
	Min int `json:"min"`
	Max int `json:"max"`
	// CodeList is the ID of the list the element's codes come from, for
	// TypeCode elements; empty otherwise.
	CodeList string `json:"codeList,omitempty"`
}

// Load parses the embedded taxonomy file. Each call parses it afresh and
// returns a taxonomy the caller owns: parse it once at start-up and keep it.
func Load() (*Taxonomy, error) {
	return Parse([]byte(embedded))
}

// Parse reads a taxonomy file and checks it holds together: unique IDs and
// codes, no empty display text, and every element bound to a list that
// exists. Unknown fields are an error.
func Parse(data []byte) (*Taxonomy, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var t Taxonomy
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("taxonomy: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("taxonomy: data after the taxonomy")
	}
	if err := t.check(); err != nil {
		return nil, fmt.Errorf("taxonomy: %w", err)
	}
	return &t, nil
}

// Encode writes t as the taxonomy file: indented JSON, HTML characters left
// as they are, ending in a newline. The same taxonomy always gives the same
// bytes.
func Encode(t *Taxonomy) ([]byte, error) {
	if err := t.check(); err != nil {
		return nil, fmt.Errorf("taxonomy: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(t); err != nil {
		return nil, fmt.Errorf("taxonomy: %w", err)
	}
	return buf.Bytes(), nil
}

// List returns the code list with the given ID.
func (t *Taxonomy) List(id string) (CodeList, bool) {
	for _, l := range t.CodeLists {
		if l.ID == id {
			return l, true
		}
	}
	return CodeList{}, false
}

// Element returns the element with the given ID, such as
// "PatientInformation.PhysicalHarm".
func (t *Taxonomy) Element(id string) (Element, bool) {
	for _, e := range t.Elements {
		if e.ID == id {
			return e, true
		}
	}
	return Element{}, false
}

// Lookup returns the list's code equal to code. It never finds a code in a
// SourceOrganisations list: check those against the organisations.
func (l CodeList) Lookup(code string) (Code, bool) {
	for _, c := range l.Codes {
		if c.Code == code {
			return c, true
		}
	}
	return Code{}, false
}

// Index returns the position of code in the list, or -1 when the list does
// not have it. Lists are in the order forms offer them, so for graded lists
// such as harm levels the position is the grade.
func (l CodeList) Index(code string) int {
	for i, c := range l.Codes {
		if c.Code == code {
			return i
		}
	}
	return -1
}

// Display returns the text shown for code, or code itself when the list does
// not have it, so a stored answer is never shown as nothing.
func (l CodeList) Display(code string) string {
	if c, ok := l.Lookup(code); ok {
		return c.Display
	}
	return code
}

// check reports the first thing that does not hold together.
func (t *Taxonomy) check() error {
	if t.Version == "" || t.Profile == "" || t.ProfileURL == "" {
		return fmt.Errorf("version, profile and profile URL are all required")
	}
	lists := map[string]bool{}
	for _, l := range t.CodeLists {
		if err := l.check(); err != nil {
			return err
		}
		if lists[l.ID] {
			return fmt.Errorf("code list %q appears twice", l.ID)
		}
		lists[l.ID] = true
	}
	extensions := map[string]bool{}
	for _, x := range t.Extensions {
		if x.ID == "" || x.Profile == "" || x.URL == "" || x.Resource == "" {
			return fmt.Errorf("extension %q: ID, profile, URL and resource are all required", x.ID)
		}
		if x.Min < 0 || x.Max < 1 || x.Min > x.Max {
			return fmt.Errorf("extension %q: cardinality %d..%d", x.ID, x.Min, x.Max)
		}
		if extensions[x.ID] {
			return fmt.Errorf("extension %q appears twice", x.ID)
		}
		extensions[x.ID] = true
	}
	elements := map[string]bool{}
	for _, e := range t.Elements {
		if e.ID != e.Extension+"."+e.Name || e.Name == "" {
			return fmt.Errorf("element %q: ID is not extension.name (%q.%q)", e.ID, e.Extension, e.Name)
		}
		if !extensions[e.Extension] {
			return fmt.Errorf("element %q: no extension %q", e.ID, e.Extension)
		}
		if elements[e.ID] {
			return fmt.Errorf("element %q appears twice", e.ID)
		}
		elements[e.ID] = true
		if e.Min < 0 || e.Max < 1 || e.Min > e.Max {
			return fmt.Errorf("element %q: cardinality %d..%d", e.ID, e.Min, e.Max)
		}
		switch e.Type {
		case TypeCode:
			if !lists[e.CodeList] {
				return fmt.Errorf("element %q: no code list %q", e.ID, e.CodeList)
			}
		case TypeString, TypeBoolean, TypeInteger, TypeDate, TypeTime:
			if e.CodeList != "" {
				return fmt.Errorf("element %q: a %s element has code list %q", e.ID, e.Type, e.CodeList)
			}
		default:
			return fmt.Errorf("element %q: unknown type %q", e.ID, e.Type)
		}
	}
	return nil
}

// check reports the first thing wrong with one list.
func (l CodeList) check() error {
	if l.ID == "" || strings.TrimSpace(l.Name) == "" {
		return fmt.Errorf("code list %q: ID and name are both required", l.ID)
	}
	switch l.Source {
	case SourceOrganisations:
		if len(l.Codes) != 0 {
			return fmt.Errorf("code list %q: an organisations list holds no codes", l.ID)
		}
		return nil
	case SourceReference, SourceFacts:
	default:
		return fmt.Errorf("code list %q: unknown source %q", l.ID, l.Source)
	}
	if len(l.Codes) == 0 {
		return fmt.Errorf("code list %q has no codes", l.ID)
	}
	seen := map[string]bool{}
	for _, c := range l.Codes {
		if strings.TrimSpace(c.Code) == "" || c.Code != strings.TrimSpace(c.Code) {
			return fmt.Errorf("code list %q: code %q is empty or padded", l.ID, c.Code)
		}
		if strings.TrimSpace(c.Display) == "" {
			return fmt.Errorf("code list %q: code %q has no display text", l.ID, c.Code)
		}
		if seen[c.Code] {
			return fmt.Errorf("code list %q: code %q appears twice", l.ID, c.Code)
		}
		seen[c.Code] = true
	}
	return nil
}
