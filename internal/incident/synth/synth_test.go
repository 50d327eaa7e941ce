package synth

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/incident/taxonomy"
	"github.com/psims/psims/internal/pii"
)

var now = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

var testOrgs = []string{"RM1", "RGT", "P81001", "FA123"}

func newGenerator(t testing.TB, seed uint64) (*Generator, *form.Form) {
	t.Helper()
	tax, err := taxonomy.Load()
	if err != nil {
		t.Fatal(err)
	}
	f, err := form.New(tax)
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(f, testOrgs, seed)
	if err != nil {
		t.Fatal(err)
	}
	return g, f
}

// Thousands of generated events are each what the form accepts as
// complete, unchanged when checked again, clean of anything the
// identifier guard finds, and varied in the ways lists filter on.
func TestEventsAreCompleteCleanAndVaried(t *testing.T) {
	g, f := newGenerator(t, 1)
	n := 4000
	if testing.Short() {
		n = 500
	}
	types := map[incident.Type]int{}
	harm := map[string]int{}
	descriptions := map[string]bool{}
	orgs := map[string]int{}
	patients := map[string]int{}
	for i := range n {
		typ := g.Type()
		by := Reporter{ID: int64(i + 1)}
		if i%2 == 0 {
			by.OrgCode = "RM1"
		}
		sub, err := g.Event(typ, now, by, 3)
		if err != nil {
			t.Fatal(err)
		}
		if sub.Type != typ || sub.Source != incident.Staff || sub.ReporterID != by.ID || sub.StatementVersion != 3 {
			t.Fatalf("event %d: %+v", i, sub)
		}
		if by.OrgCode != "" && sub.OrgCode != by.OrgCode {
			t.Fatalf("event %d happened in %s, not the reporter's %s", i, sub.OrgCode, by.OrgCode)
		}
		if sub.OccurredFrom.IsZero() || sub.OccurredTo.Before(sub.OccurredFrom) || sub.OccurredTo.After(now) ||
			sub.OccurredTo.Before(now.AddDate(-2, 0, -1)) {
			t.Fatalf("event %d happened from %s to %s", i, sub.OccurredFrom, sub.OccurredTo)
		}
		again, problems := f.Complete(typ, sub.Answers, now)
		if problems != nil || !reflect.DeepEqual(again.Answers, sub.Answers) || !reflect.DeepEqual(again.Index, sub.Index) {
			t.Fatalf("event %d is not what the form makes of its answers: %v", i, problems)
		}
		for el, vs := range sub.Answers {
			for _, v := range vs {
				if found := pii.Scan(v); len(found) > 0 {
					t.Fatalf("event %d: %s = %q: the guard finds %s", i, el, v, pii.Describe(v, found[0]))
				}
			}
		}
		if c := sub.Answers[form.PatientCount]; len(c) == 1 {
			patients[c[0]]++
			k, _ := strconv.Atoi(c[0])
			if hs := sub.Answers["PatientInformation.PhysicalHarm"]; len(hs) != 0 && len(hs) != k {
				t.Fatalf("event %d: %d patients, %d harm answers", i, k, len(hs))
			}
		}
		types[typ]++
		harm[sub.Index.PhysicalHarm]++
		descriptions[sub.Answers[form.Description][0]] = true
		orgs[sub.OrgCode]++
	}
	if types[incident.Incident] < n/2 || types[incident.GoodCare] == 0 || types[incident.Risk] == 0 || types[incident.Outcome] == 0 {
		t.Errorf("types %v: want mostly incidents and some of each other", types)
	}
	if harm["5"] < harm["4"] || harm["4"] < harm["3"] || harm["3"] < harm["2"] || harm["2"] < harm["1"] || harm["1"] == 0 {
		t.Errorf("physical harm %v: want none most often, fatal least but present", harm)
	}
	if len(descriptions) < n*9/10 {
		t.Errorf("%d different descriptions in %d events", len(descriptions), n)
	}
	if len(orgs) != len(testOrgs) || orgs["RM1"] < n/2 {
		t.Errorf("organisations %v", orgs)
	}
	if patients["0"] == 0 || patients["1"] < patients["2"] || patients["3"] == 0 {
		t.Errorf("patient counts %v", patients)
	}
}

func TestTheSameSeedMakesTheSameEvents(t *testing.T) {
	events := func(seed uint64) []incident.Submission {
		g, _ := newGenerator(t, seed)
		var out []incident.Submission
		for i := range 50 {
			sub, err := g.Event(g.Type(), now, Reporter{ID: int64(i)}, 1)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, sub)
		}
		return out
	}
	a, b, c := events(7), events(7), events(8)
	if !reflect.DeepEqual(a, b) {
		t.Error("the same seed made different events")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds made the same events")
	}
}

func TestNewNeedsAFormAndOrganisations(t *testing.T) {
	_, f := newGenerator(t, 1)
	if _, err := New(f, nil, 1); err == nil {
		t.Error("no organisations accepted")
	}
	if _, err := New(nil, testOrgs, 1); err == nil {
		t.Error("no form accepted")
	}
}

func TestClipKeepsWholeWords(t *testing.T) {
	for _, c := range []struct {
		text string
		n    int
		want string
	}{
		{"a short note", 50, "a short note"},
		{"a short note", 9, "a short"},
		{"abcdefgh", 4, "abcd"},
		{"no limit", 0, "no limit"},
	} {
		if got := clip(c.text, c.n); got != c.want {
			t.Errorf("clip(%q, %d) = %q, want %q", c.text, c.n, got, c.want)
		}
	}
}

func BenchmarkEvent(b *testing.B) {
	g, _ := newGenerator(b, 1)
	for i := 0; b.Loop(); i++ {
		if _, err := g.Event(g.Type(), now, Reporter{ID: int64(i)}, 1); err != nil {
			b.Fatal(err)
		}
	}
}
