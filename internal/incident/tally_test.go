package incident

import (
	"context"
	"testing"
	"time"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// The week's counts come from the day counts kept with each submission
// and amendment, within the scope, and from the first day asked for.
func TestCountSinceCountsTheScopesWeek(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d)
		ctx := context.Background()
		f.event(t, f.ann, "RM1", -24*8, nil) // eight days before: not this week
		f.event(t, f.ann, "RM1", -24*6, nil)
		severe := f.event(t, f.bob, "RM1", -1, func(s *Submission) { s.Index.PhysicalHarm = "2" })
		f.event(t, f.bob, "RM1", 0, func(s *Submission) { s.Type, s.Index.PhysicalHarm = GoodCare, "" })
		f.event(t, f.cat, "D82044", 0, nil)
		since := f.clock.AddDate(0, 0, -6)

		check := func(what string, scope Scope, total int, types map[Type]int, harms map[string]int) {
			t.Helper()
			got, err := f.svc.CountSince(ctx, scope, since)
			if err != nil {
				t.Fatal(err)
			}
			if got.Total != total || !got.From.Equal(dayStart(since)) || !got.To.Equal(dayStart(f.clock)) {
				t.Fatalf("%s: %+v, want %d in all", what, got, total)
			}
			for k, n := range types {
				if got.ByType[k] != n {
					t.Errorf("%s: %s %d, want %d", what, k, got.ByType[k], n)
				}
			}
			for k, n := range harms {
				if got.ByHarm[k] != n {
					t.Errorf("%s: harm %q %d, want %d", what, k, got.ByHarm[k], n)
				}
			}
		}
		check("an organisation", Scope{Orgs: []string{"RM1"}}, 3, map[Type]int{Incident: 2, GoodCare: 1}, map[string]int{"5": 1, "2": 1, "": 1})
		check("every organisation", Scope{All: true}, 4, map[Type]int{Incident: 3, GoodCare: 1}, map[string]int{"5": 2, "2": 1})
		check("a reporter's own are not counted this way", Scope{ReporterID: f.ann}, 0, nil, nil)

		day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
		if _, err := f.svc.Amend(ctx, severe.ID, f.bob, "Harm was less", Change{Index: Index{PhysicalHarm: "4"},
			OccurredFrom: day, OccurredTo: day}, ward); err != nil {
			t.Fatal(err)
		}
		check("after an amendment", Scope{Orgs: []string{"RM1"}}, 3, nil, map[string]int{"2": 0, "4": 1, "5": 1})

		// Migration 0012 counts the events stored before it.
		for _, stmt := range []string{`DROP TABLE event_day_counts`, `DROP TABLE event_search`, `DROP INDEX events_org_occurred_span`, `DELETE FROM schema_migrations WHERE version = 12`} {
			if _, err := d.ExecContext(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		check("counted by the migration", Scope{Orgs: []string{"RM1"}}, 3, map[Type]int{Incident: 2, GoodCare: 1}, map[string]int{"4": 1, "5": 1, "": 1})

		// Loading counts too.
		subs := []Submission{{Type: Risk, OrgCode: "D82044", Source: Staff, ReporterID: f.cat, OccurredFrom: day, OccurredTo: day,
			Answers: Answers{"AdverseEvent.description": {"Loose cable"}}, StatementVersion: 1}}
		if err := f.svc.Load(ctx, subs); err != nil {
			t.Fatal(err)
		}
		check("after a load", Scope{Orgs: []string{"D82044"}}, 2, map[Type]int{Risk: 1, Incident: 1}, nil)
	})
}
