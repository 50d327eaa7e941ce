package incident

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

func TestParseSearchTellsReferencesFromWords(t *testing.T) {
	t.Parallel()
	ref := NewReference()
	// The same reference with its check character changed.
	wrong := string(ref[:len(ref)-1]) + "2"
	if ref[len(ref)-1] == '2' {
		wrong = string(ref[:len(ref)-1]) + "3"
	}
	for _, c := range []struct {
		name, text string
		want       Search
		problem    string
	}{
		{"empty text searches nothing", "   ", Search{}, ""},
		{"a reference as printed", string(ref), Search{Reference: ref}, ""},
		{"a reference in lower case with spaces", strings.ToLower(strings.ReplaceAll(string(ref), "-", " ")), Search{Reference: ref}, ""},
		{"a mistyped reference is refused, not searched as words", wrong, Search{}, "Enter a reference number like PSE-7K2M-9QXH, or search for words"},
		{"words in lower case, each once", "Fall  on the WARD, fall", Search{Words: []string{"fall", "on", "the", "ward"}}, ""},
		{"FTS syntax is split into plain words", `"fall" OR ward* NEAR(x) body:`, Search{Words: []string{"fall", "or", "ward", "near", "x", "body"}}, ""},
		{"only punctuation is refused", `*"():-`, Search{}, "Enter words to search for, using letters or numbers"},
		{"too many words are refused", "a b c d e f g h i j k", Search{}, "Search for 10 words or fewer"},
		{"very long text is refused", strings.Repeat("a", MaxSearchRunes+1), Search{}, "Search must be 200 characters or fewer"},
		{"invalid UTF-8 is refused", "fall\xff", Search{}, "Search using letters and numbers"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseSearch(c.text)
			if c.problem != "" {
				if apperr.CodeOf(err) != apperr.Invalid || apperr.MessageOf(err) != c.problem {
					t.Fatalf("error %v, want %q", err, c.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Reference != c.want.Reference || strings.Join(got.Words, " ") != strings.Join(c.want.Words, " ") {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

// withText makes a submission hold text as its description, indexed as the
// form indexes it.
func withText(text string) func(*Submission) {
	return func(s *Submission) {
		s.Answers = Answers{"AdverseEvent.description": {text}}
		s.Index.Text = text
	}
}

// Words find events holding every word, within the scope only, combined
// with the other filters, and the count agrees.
func TestSearchByWordsStaysInScope(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d)
		fall := f.event(t, f.ann, "RM1", 1, withText("Patient had a fall on the ward"))
		fallSevere := f.event(t, f.bob, "RM1", 2, func(s *Submission) {
			withText("A second FALL, near the stairs")(s)
			s.Index.PhysicalHarm = "2"
		})
		f.event(t, f.ann, "RM1", 3, withText("Wrong dose of insulin given"))
		otherOrg := f.event(t, f.cat, "D82044", 4, withText("Fall in the waiting room"))
		public := f.event(t, 0, "RM1", 5, func(s *Submission) {
			withText("Café floor was wet and my mother had a fall")(s)
			s.Source, s.ReporterID = Public, 0
		})
		for _, c := range []struct {
			name  string
			scope Scope
			f     Filter
			want  []Reference
		}{
			{"one word within an organisation", Scope{Orgs: []string{"RM1"}}, Filter{Words: []string{"fall"}},
				[]Reference{fall.Reference, fallSevere.Reference, public.Reference}},
			{"every word must be there", Scope{Orgs: []string{"RM1"}}, Filter{Words: []string{"fall", "ward"}}, []Reference{fall.Reference}},
			{"case folds", Scope{Orgs: []string{"RM1"}}, Filter{Words: []string{"café"}}, []Reference{public.Reference}},
			// PostgreSQL's 'simple' configuration keeps accents, and SQLite
			// is told to, so that both find the same.
			{"accents are kept", Scope{Orgs: []string{"RM1"}}, Filter{Words: []string{"cafe"}}, nil},
			{"combined with a filter", Scope{Orgs: []string{"RM1"}}, Filter{Words: []string{"fall"}, PhysicalHarm: []string{"2"}},
				[]Reference{fallSevere.Reference}},
			{"a reporter finds only their own", Scope{ReporterID: f.ann}, Filter{Words: []string{"fall"}}, []Reference{fall.Reference}},
			{"another organisation's words are not found", Scope{Orgs: []string{"D82044"}}, Filter{Words: []string{"ward"}}, nil},
			{"every organisation", Scope{All: true}, Filter{Words: []string{"fall"}},
				[]Reference{fall.Reference, fallSevere.Reference, public.Reference, otherOrg.Reference}},
			{"a word nobody wrote", Scope{All: true}, Filter{Words: []string{"aardvark"}}, nil},
			{"an organisation's code is not a word of its events", Scope{Orgs: []string{"RM1"}}, Filter{Words: []string{"rm1"}}, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				got := listAll(t, f.svc, c.scope, c.f)
				if !sameSet(got, c.want) {
					t.Fatalf("got %v, want %v", got, c.want)
				}
				p, err := f.svc.List(context.Background(), c.scope, c.f, Cursor{}, 0)
				if err != nil {
					t.Fatal(err)
				}
				if p.Count != len(c.want) || p.More {
					t.Fatalf("count %d (more %v), want %d", p.Count, p.More, len(c.want))
				}
			})
		}
	})
}

// The index follows amendments in the same transaction: old words stop
// matching, new ones match.
func TestSearchFollowsAmendments(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d)
		ev := f.event(t, f.ann, "RM1", 1, withText("Syringe driver alarm ignored"))
		scope := Scope{Orgs: []string{"RM1"}}
		day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
		_, err := f.svc.Amend(context.Background(), ev.ID, f.ann, "Typo", Change{
			Answers: Answers{"AdverseEvent.description": {"Infusion pump alarm ignored"}},
			Index:   Index{Text: "Infusion pump alarm ignored"}, OccurredFrom: day, OccurredTo: day}, ward)
		if err != nil {
			t.Fatal(err)
		}
		if got := listAll(t, f.svc, scope, Filter{Words: []string{"syringe"}}); len(got) != 0 {
			t.Errorf("the old words still match: %v", got)
		}
		if got := listAll(t, f.svc, scope, Filter{Words: []string{"pump", "alarm"}}); !sameSet(got, []Reference{ev.Reference}) {
			t.Errorf("the new words match %v, want %v", got, ev.Reference)
		}
	})
}

// Words reach the database as values, never as query syntax, whatever the
// caller passes.
func TestSearchRefusesWordsParseWordsWouldNotMake(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d)
		for _, words := range [][]string{{`fall" OR "x`}, {"ward*"}, {""}, {"a:b"}} {
			_, err := f.svc.List(context.Background(), Scope{All: true}, Filter{Words: words}, Cursor{}, 0)
			if apperr.CodeOf(err) != apperr.Invalid {
				t.Errorf("words %q: error %v, want Invalid", words, err)
			}
		}
	})
}

// The count is exact to CountCap and says "more" beyond it: the bulk
// loader writes the search index too.
func TestListCountsExactlyToTenThousand(t *testing.T) {
	if testing.Short() {
		t.Skip("loads ten thousand events")
	}
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d)
		day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
		subs := make([]Submission, CountCap+1)
		for i := range subs {
			subs[i] = Submission{Type: Incident, OrgCode: "RM1", Source: Staff, ReporterID: f.ann, OccurredFrom: day, OccurredTo: day,
				Answers: Answers{"AdverseEvent.description": {"Bed rail"}}, Index: Index{Text: "Bed rail"}, StatementVersion: 1}
		}
		if err := f.svc.Load(context.Background(), subs[:CountCap]); err != nil {
			t.Fatal(err)
		}
		scope := Scope{Orgs: []string{"RM1"}}
		for _, filter := range []Filter{{}, {Words: []string{"rail"}}} {
			p, err := f.svc.List(context.Background(), scope, filter, Cursor{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if p.Count != CountCap || p.More {
				t.Fatalf("words %v: count %d (more %v) of %d, want exact", filter.Words, p.Count, p.More, CountCap)
			}
			// A word in more than fewWords events is read down the list's
			// index: the same page, newest first.
			if len(p.Events) != DefaultPerPage || p.Events[0].ID < p.Events[1].ID || p.Next.IsZero() {
				t.Fatalf("words %v: page of %d, next %v", filter.Words, len(p.Events), p.Next)
			}
		}
		if err := f.svc.Load(context.Background(), subs[CountCap:]); err != nil {
			t.Fatal(err)
		}
		for _, filter := range []Filter{{}, {Words: []string{"rail"}}} {
			p, err := f.svc.List(context.Background(), scope, filter, Cursor{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if p.Count != CountCap || !p.More {
				t.Fatalf("words %v: count %d (more %v) of %d, want %d and more", filter.Words, p.Count, p.More, CountCap+1, CountCap)
			}
		}
	})
}

// Migration 0012 indexes the events stored before it, from their current
// version, and 0014 turns PostgreSQL's index into its present layout: run
// again on a database whose index is gone, they find them.
func TestMigrationIndexesEarlierEvents(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d)
		ctx := context.Background()
		ev := f.event(t, f.ann, "RM1", 1, func(s *Submission) {
			s.Answers = Answers{"AdverseEvent.description": {"Pressure ulcer found"},
				"AdverseEventOutcome.ImmediateActions": {"Mattress changed"}, "PatientInformation.PhysicalHarm": {"4"}}
		})
		f.event(t, f.cat, "D82044", 2, withText("Pressure ulcer on the heel"))
		for _, stmt := range []string{`DROP TABLE event_search`, `DROP TABLE event_day_counts`, `DROP INDEX events_org_occurred_span`, `DELETE FROM schema_migrations WHERE version IN (12, 14)`} {
			if _, err := d.ExecContext(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for _, words := range [][]string{{"pressure", "ulcer"}, {"mattress"}} {
			if got := listAll(t, f.svc, Scope{Orgs: []string{"RM1"}}, Filter{Words: words}); !sameSet(got, []Reference{ev.Reference}) {
				t.Errorf("%v: got %v, want %v", words, got, ev.Reference)
			}
		}
		// A code answer is not free text.
		if got := listAll(t, f.svc, Scope{All: true}, Filter{Words: []string{"4"}}); len(got) != 0 {
			t.Errorf("a code was indexed: %v", got)
		}
	})
}

// A word in more than fewWords events is read by walking the list a
// stretch at a time; every order, forwards and back, gives exactly the
// events of the list that hold the word, in the list's order, and so does
// a search with another filter too (counted by walking). The events
// arrive in batches submitted further and further in the past, and
// happened on days in no order, so that neither order follows the ids
// (the walk must never rely on it for what it finds). A walk with no time
// to spend falls back to gathering every match: the same pages. The
// service is told that 200 matches are many, so that a list of a few
// hundred events is walked.
func TestSearchWalkingTheListFindsWhatTheListHolds(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d)
		f.svc.fewWords = 200
		ctx := context.Background()
		start := f.clock
		// The word "ward" is in every event whose physical harm is not 5,
		// so that the list shows which events should be found: in none of
		// the middle 300, so that a walk either way crosses stretches that
		// find none.
		const events, batch = 600, 20
		for b := 0; b < events/batch; b++ {
			f.clock = start.Add(-time.Duration(b) * time.Hour)
			subs := make([]Submission, 0, batch+2)
			for i := b * batch; i < (b+1)*batch; i++ {
				day := start.AddDate(0, 0, -(i*37)%400).Truncate(24 * time.Hour)
				harm, text := "4", "Slipped on the ward floor"
				if (i >= 200 && i < 500) || i%10 == 0 {
					harm, text = "5", "Slipped near the lift"
				}
				subs = append(subs, Submission{Type: Incident, OrgCode: "RM1", Source: Staff, ReporterID: f.ann,
					OccurredFrom: day, OccurredTo: day, Answers: Answers{"AdverseEvent.description": {text}},
					Index: Index{Text: text, PhysicalHarm: harm}, StatementVersion: 1})
			}
			// Another organisation's events, between RM1's ids, holding the
			// word too.
			for range 2 {
				subs = append(subs, Submission{Type: Incident, OrgCode: "D82044", Source: Staff, ReporterID: f.cat,
					OccurredFrom: start, OccurredTo: start, Answers: Answers{"AdverseEvent.description": {"On the ward"}},
					Index: Index{Text: "On the ward", PhysicalHarm: "4"}, StatementVersion: 1})
			}
			if err := f.svc.Load(ctx, subs); err != nil {
				t.Fatal(err)
			}
		}
		f.clock = start
		scope := Scope{Orgs: []string{"RM1"}}
		for _, plain := range []Filter{{}, {OccurredFrom: start.AddDate(0, 0, -300)}} {
			for _, sort := range Sorts() {
				plain.Sort = sort
				var want []Reference
				for _, e := range listInOrder(t, f.svc, scope, plain, 100) {
					if e.PhysicalHarm != "5" {
						want = append(want, e.Reference)
					}
				}
				if plain.OccurredFrom.IsZero() && len(want) <= f.svc.fewWords {
					t.Fatalf("only %d events hold the word: the search would not walk the list", len(want))
				}
				search := plain
				search.Words = []string{"ward"}
				budgets := []time.Duration{0, time.Nanosecond}
				if !plain.OccurredFrom.IsZero() {
					budgets = budgets[:1]
				}
				for _, budget := range budgets {
					f.svc.walkBudget = budget
					got := listInOrder(t, f.svc, scope, search, 25)
					if !slices.Equal(refs(got), want) {
						t.Fatalf("walk budget %v (0: walkBudget), %+v: found %d events, want the list's %d in its order",
							budget, plain, len(got), len(want))
					}
				}
			}
		}
	})
}

// listInOrder reads every page of a list forwards, perPage at a time, then
// back again from the last page, and fails unless both give the same
// events and the count agrees. It returns the events in the list's order.
func listInOrder(t *testing.T, svc *Service, scope Scope, f Filter, perPage int) []Summary {
	t.Helper()
	ctx := context.Background()
	var pages [][]Summary
	var count int
	at := Cursor{}
	for {
		p, err := svc.List(ctx, scope, f, at, perPage)
		if err != nil {
			t.Fatal(err)
		}
		pages, count = append(pages, p.Events), p.Count
		if p.Next.IsZero() {
			break
		}
		if len(p.Events) != perPage {
			t.Fatalf("page %d has %d events and a next page", len(pages), len(p.Events))
		}
		at = p.Next
	}
	var all []Summary
	for _, p := range pages {
		all = append(all, p...)
	}
	if count != min(len(all), CountCap) {
		t.Fatalf("count %d, but the pages hold %d events", count, len(all))
	}
	// Back from the last page: each Previous gives the page before.
	last := pages[len(pages)-1]
	if len(last) == 0 {
		return all
	}
	back := Cursor{Sort: f.Sort.orDefault(), Time: last[0].sortKey, ID: last[0].ID, Backward: true}
	for i := len(pages) - 2; i >= 0; i-- {
		p, err := svc.List(ctx, scope, f, back, perPage)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(refs(p.Events), refs(pages[i])) {
			t.Fatalf("going back, page %d differs from going forwards", i+1)
		}
		if p.Previous.IsZero() != (i == 0) {
			t.Fatalf("going back, page %d has a previous page: %v", i+1, !p.Previous.IsZero())
		}
		back = p.Previous
	}
	return all
}
