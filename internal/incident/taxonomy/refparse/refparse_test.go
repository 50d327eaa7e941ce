package refparse

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/psims/psims/internal/incident/taxonomy"
)

// A small reference in the layout of the real pages: two lists on the
// code-system page, one on its own page, the organisations, and a profile
// with one extension binding them.
const (
	smallCodeSystems = "Code system document for AdverseEvent v5\n\n" +
		"## Yes-No-Unknown Codes\n\n- Id: yes-no-unknown-codes-5\n\n- Count: -2\n\n\n" +
		" | Code | Display |\n | --- | --- |\n| `  y` | Yes |\n| `  n` | No |\n| `  u` | I don't know |\n\n\n" +
		"## Specialty\n\n- Id: specialty-5\n\n- Count: -3\n\n" +
		"!!! info \"Too many codes to display\"\n\n    For the full list go to [specialty-5](../code-systems/specialty)\n\n" +
		"## ODS Codes\n\n- Id: ods-codes-5\n\n- Count: 16491\n\n" +
		"!!! info \"Too many codes to display\"\n\n    For the full list go to [ods-codes-5](../code-systems/ods-codes)\n"

	smallSpecialty = "# Specialty\n\nThis code system has a lot of items, so has been extracted to its own page. The grouped record is [here](../../code-systems#specialty).\n\n\n" +
		" | Code | Display |\n | --- | --- |\n| `  2` | Acute internal medicine |\n| `109` | Addiction |\n"

	smallProfile = "Taxonomy document for AdverseEvent v5\r\n\r\nDesc: A profile\r\n\r\n- Id: patient-safety-adverse-event-5\r\n\r\n" +
		"- Url: [https://x/StructureDefinition/patient-safety-adverse-event-5](https://x/StructureDefinition/patient-safety-adverse-event-5)\r\n\r\n" +
		"## AdverseEventThing\r\n\r\n- Cardinality\r\n\r\n    - Min: 0\r\n\r\n    - Max: 1\r\n\r\n" +
		"Nested profile: [https://x/StructureDefinition/thing-5](https://x/StructureDefinition/thing-5) `Extension`\r\n\r\n" +
		"Desc: A thing\r\n\r\n- Id: thing-5\r\n\r\n- Url: [https://x/StructureDefinition/thing-5](https://x/StructureDefinition/thing-5)\r\n\r\n" +
		"### Known\r\n\r\n Definition: Whether it is known\r\n\r\n- Cardinality\r\n\r\n    - Min: 0\r\n\r\n    - Max: 1\r\n\r\n- Type: `Code`\r\n\r\n" +
		"- Value set Url: [https://x/ValueSet/yes-no-unknown-codes-5](https://x/ValueSet/yes-no-unknown-codes-5)\r\n\r\n" +
		"The code system options for [Yes-No-Unknown Codes](../code-systems/#yes-no-unknown-codes) are: \r\n\r\n" +
		" | Code | Display |\r\n | --- | --- |\r\n| `  y` | Yes |\r\n| `  n` | No |\r\n| `  u` | I don't know |\r\n\r\n" +
		"### Specialty\r\n\r\n Definition: The specialty\r\n\r\n- Cardinality\r\n\r\n    - Min: 0\r\n\r\n    - Max: 1\r\n\r\n- Type: `Code`\r\n\r\n" +
		"- Value set Url: [https://x/ValueSet/specialty-5](https://x/ValueSet/specialty-5)\r\n\r\n" +
		"The code system options for [Specialty](../code-systems/#specialty) are: \r\n\r\n" +
		" | Code | Display |\r\n | --- | --- |\r\n| `  2` | Acute internal medicine |\r\n| ... | ... |\r\n\r\n" +
		"!!! info \"Displaying 1 of 2\"\r\n\r\n    For full list go to [specialty-5](../code-systems/specialty)\r\n\r\n" +
		"### Organisation\r\n\r\n Definition: The organisation\r\n\r\n- Cardinality\r\n\r\n    - Min: 0\r\n\r\n    - Max: 100\r\n\r\n- Type: `Code`\r\n\r\n" +
		"- Value set Url: [https://x/ValueSet/ods-codes-5](https://x/ValueSet/ods-codes-5)\r\n\r\n" +
		"The code system options for [ODS Codes](../code-systems/#ods-codes) are: \r\n\r\n" +
		" | Code | Display |\r\n | --- | --- |\r\n| `RM1` | A trust |\r\n| ... | ... |\r\n\r\n" +
		"!!! info \"Displaying 1 of 16496\"\r\n\r\n    For full list go to [ods-codes-5](../code-systems/ods-codes)\r\n\r\n" +
		"### Notes\r\n\r\n Definition: Notes\r\n\r\n- Cardinality\r\n\r\n    - Min: 0\r\n\r\n    - Max: 1\r\n\r\n- Type: `String`\r\n\r\n- Type: `[x]`\r\n\r\n" +
		"Target profile: [http://hl7.org/fhir/StructureDefinition/Organization]()\r\nReference\r\n\r\n" +
		"- Profile URI not loaded: http://hl7.org/fhir/StructureDefinition/Organization\r\n\r\n" +
		"!!! failure \"Error occurred processing profile\"\r\n\r\n    An error occurred, details as follows: \r\n\r\n    > It failed.\r\n\r\n"
)

// pages returns a reader over the small reference with the given pages
// replaced.
func pages(replace map[string]string) reader {
	files := map[string]string{
		codeSystemsFile:         smallCodeSystems,
		"lfpse-v5-specialty.md": smallSpecialty,
		profileFile:             smallProfile,
	}
	for name, text := range replace {
		files[name] = text
	}
	return func(name string) (string, error) {
		text, ok := files[name]
		if !ok || text == "" {
			return "", fs.ErrNotExist
		}
		return text, nil
	}
}

func TestParseReadsTheLayoutOfThePages(t *testing.T) {
	tax, err := parse(pages(nil))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("lists come sorted by ID with the event types added", func(t *testing.T) {
		var ids []string
		for _, l := range tax.CodeLists {
			ids = append(ids, l.ID)
		}
		if got := strings.Join(ids, " "); got != "event-type ods-codes-5 specialty-5 yes-no-unknown-codes-5" {
			t.Errorf("lists %s", got)
		}
	})

	t.Run("codes are trimmed and keep the reference's order", func(t *testing.T) {
		l, _ := tax.List("yes-no-unknown-codes-5")
		if len(l.Codes) != 3 || l.Codes[0] != (taxonomy.Code{Code: "y", Display: "Yes"}) || l.Codes[2].Code != "u" {
			t.Errorf("codes %+v", l.Codes)
		}
	})

	t.Run("a long list is read from its own page", func(t *testing.T) {
		l, _ := tax.List("specialty-5")
		if len(l.Codes) != 2 || l.Display("109") != "Addiction" {
			t.Errorf("codes %+v", l.Codes)
		}
	})

	t.Run("the ODS list is marked as the organisations", func(t *testing.T) {
		l, _ := tax.List("ods-codes-5")
		if l.Source != taxonomy.SourceOrganisations || len(l.Codes) != 0 {
			t.Errorf("%+v", l)
		}
	})

	t.Run("elements carry their extension, type, cardinality and list", func(t *testing.T) {
		if len(tax.Extensions) != 1 || tax.Extensions[0].Profile != "thing-5" || tax.Extensions[0].Resource != "patient-safety-adverse-event-5" {
			t.Fatalf("extensions %+v", tax.Extensions)
		}
		want := []taxonomy.Element{
			{ID: "AdverseEventThing.Known", Name: "Known", Extension: "AdverseEventThing", Type: "Code", Min: 0, Max: 1, CodeList: "yes-no-unknown-codes-5"},
			{ID: "AdverseEventThing.Specialty", Name: "Specialty", Extension: "AdverseEventThing", Type: "Code", Min: 0, Max: 1, CodeList: "specialty-5"},
			{ID: "AdverseEventThing.Organisation", Name: "Organisation", Extension: "AdverseEventThing", Type: "Code", Min: 0, Max: 100, CodeList: "ods-codes-5"},
			{ID: "AdverseEventThing.Notes", Name: "Notes", Extension: "AdverseEventThing", Type: "String", Min: 0, Max: 1},
		}
		if len(tax.Elements) != len(want) {
			t.Fatalf("elements %+v", tax.Elements)
		}
		for i := range want {
			if tax.Elements[i] != want[i] {
				t.Errorf("element %d = %+v, want %+v", i, tax.Elements[i], want[i])
			}
		}
	})
}

func TestParseFailsLoudly(t *testing.T) {
	cases := []struct {
		name    string
		replace map[string]string
		want    string // part of the error
	}{
		{
			"on a line of the code-system page it does not know",
			map[string]string{codeSystemsFile: strings.Replace(smallCodeSystems, "- Count: -2", "- Count: -2\n\nSome new note", 1)},
			"cannot read line",
		},
		{
			"on a list whose count does not match its rows",
			map[string]string{codeSystemsFile: strings.Replace(smallCodeSystems, "| `  n` | No |\n", "", 1)},
			"count -2 is not 5 less than the 2 codes read",
		},
		{
			"on a table row it cannot read",
			map[string]string{codeSystemsFile: strings.Replace(smallCodeSystems, "| `  n` | No |", "| n | No |", 1)},
			"cannot read line",
		},
		{
			"on a long list whose page is missing",
			map[string]string{"lfpse-v5-specialty.md": ""},
			"lfpse-v5-specialty.md is missing",
		},
		{
			"on a long list page with a different heading",
			map[string]string{"lfpse-v5-specialty.md": strings.Replace(smallSpecialty, "# Specialty", "# Specialities", 1)},
			"expected the heading",
		},
		{
			"on a line of the profile page it does not know",
			map[string]string{profileFile: strings.Replace(smallProfile, "- Type: `String`", "- Type: `String`\r\n\r\n- Pattern: abc", 1)},
			"cannot read line",
		},
		{
			"on an element bound to a list the code-system page lacks",
			map[string]string{profileFile: strings.ReplaceAll(smallProfile, "ValueSet/yes-no-unknown-codes-5", "ValueSet/maybe-codes-5")},
			`bound to "maybe-codes-5"`,
		},
		{
			"on a profile table that disagrees with its list",
			map[string]string{profileFile: strings.Replace(smallProfile, "| `  n` | No |", "| `  n` | Nope |", 1)},
			"differ",
		},
		{
			"on a shortened table whose total is not the list's size",
			map[string]string{profileFile: strings.Replace(smallProfile, "Displaying 1 of 2", "Displaying 1 of 3", 1)},
			"the page has 3 codes",
		},
		{
			"on a coded element with no value set",
			map[string]string{profileFile: strings.Replace(smallProfile, "- Type: `String`", "- Type: `Code`", 1)},
			"no value set",
		},
		{
			"on a heading under a profile that was not loaded",
			map[string]string{profileFile: smallProfile + "### Stray\r\n"},
			"outside any loaded profile",
		},
		{
			"on pages of different versions",
			map[string]string{profileFile: strings.Replace(smallProfile, "AdverseEvent v5", "AdverseEvent v6", 1)},
			"version",
		},
	}
	for _, c := range cases {
		t.Run("it fails "+c.name, func(t *testing.T) {
			_, err := parse(pages(c.replace))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}
