package incident

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// Generated events are the rows Submit writes, consistent with one
// another: valid unique references, a first version whose answers hold
// the indexed harm, service type and codes, the codes themselves, the
// search index, the day counts and the statistics rollups; the largest
// organisation gets exactly its share; events can be read, listed,
// searched and amended like any other.
func TestLoadGeneratedWritesConsistentEvents(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d)
		ctx := context.Background()
		if _, err := d.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ('RX1', 'Third', $1, $1)`, f.clock); err != nil {
			t.Fatal(err)
		}
		from := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
		spec := GenerateSpec{Events: 2500, Orgs: []string{"RM1", "D82044", "RX1"}, LargestOrg: "D82044", LargestEvents: 1200,
			From: from, To: from.AddDate(0, 5, 0), Seed: 7, StatementVersion: 1}
		// Batches of 700, so that several transactions and a short last
		// one are tried.
		if err := f.svc.loadGenerated(ctx, spec, 0, 700); err != nil {
			t.Fatal(err)
		}

		byOrg := map[string]int{}
		rows, err := d.QueryContext(ctx, `SELECT org_ods, COUNT(*) FROM events GROUP BY org_ods`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var o string
			var n int
			if err := rows.Scan(&o, &n); err != nil {
				t.Fatal(err)
			}
			byOrg[o] = n
		}
		rows.Close()
		if byOrg["D82044"] != 1200 || byOrg["RM1"] != 650 || byOrg["RX1"] != 650 {
			t.Fatalf("events by organisation: %v", byOrg)
		}

		// Every event: a valid reference, dates in the period, a first
		// version whose answers agree with the event's index and codes.
		type gen struct {
			id                  int64
			ref                 string
			typ, harm, service  string
			occurred, submitted time.Time
			answers             string
		}
		var all []gen
		rows, err = d.QueryContext(ctx, `SELECT e.id, e.reference, e.event_type, e.physical_harm, e.service_type, e.occurred_from,
			e.submitted_at, v.answers FROM events e JOIN event_versions v ON v.event_id = e.id AND v.version = 1 ORDER BY e.id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var g gen
			if err := rows.Scan(&g.id, &g.ref, &g.typ, &g.harm, &g.service, &g.occurred, &g.submitted, &g.answers); err != nil {
				t.Fatal(err)
			}
			all = append(all, g)
		}
		rows.Close()
		if len(all) != spec.Events {
			t.Fatalf("%d events with a first version, want %d", len(all), spec.Events)
		}
		seen := map[string]bool{}
		types := map[string]int{}
		for _, g := range all {
			ref, err := ParseReference(g.ref)
			if err != nil || string(ref) != g.ref || seen[g.ref] {
				t.Fatalf("reference %q: %v (seen before: %v)", g.ref, err, seen[g.ref])
			}
			seen[g.ref] = true
			types[g.typ]++
			if g.occurred.Before(spec.From) || !g.occurred.Before(spec.To) || g.submitted.Before(g.occurred) || g.submitted.Sub(g.occurred) > 72*time.Hour {
				t.Fatalf("event %d: occurred %s, submitted %s", g.id, g.occurred, g.submitted)
			}
			var a Answers
			if err := json.Unmarshal([]byte(g.answers), &a); err != nil {
				t.Fatalf("event %d: answers %s: %v", g.id, g.answers, err)
			}
			if harm := a["PatientInformation.PhysicalHarm"]; (g.harm == "") != (len(harm) == 0) || (g.harm != "" && harm[0] != g.harm) {
				t.Fatalf("event %d: harm %q, answers %s", g.id, g.harm, g.answers)
			}
			if svc := a["LocationDetails.ServiceArea"]; (g.service == "") != (len(svc) == 0) || (g.service != "" && svc[0] != g.service) {
				t.Fatalf("event %d: service type %q, answers %s", g.id, g.service, g.answers)
			}
			if (g.harm == "") != (g.typ == string(GoodCare) || g.typ == string(Risk)) {
				t.Fatalf("event %d: a %s with harm %q", g.id, g.typ, g.harm)
			}
		}
		for _, typ := range Types() {
			if types[string(typ)] == 0 {
				t.Errorf("no %s generated: %v", typ, types)
			}
		}
		for _, i := range []int{0, 1, 2, 3, 500, 1999, len(all) - 1} {
			ev, err := f.svc.Get(ctx, all[i].id)
			if err != nil {
				t.Fatal(err)
			}
			var a Answers
			if err := json.Unmarshal([]byte(all[i].answers), &a); err != nil {
				t.Fatal(err)
			}
			for _, el := range statElements {
				want := slices.Sorted(slices.Values(a[el]))
				if got := ev.Index.Codes[el]; !slices.Equal(got, want) {
					t.Fatalf("event %d: %s codes %v, answers %v", ev.ID, el, got, want)
				}
			}
		}
		var withCodes int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(DISTINCT event_id) FROM event_codes`).Scan(&withCodes); err != nil {
			t.Fatal(err)
		}
		if withCodes < spec.Events/3 {
			t.Fatalf("only %d events have codes", withCodes)
		}

		// The day counts are the events by submission day.
		var dayTotal, dayRows, groups int
		if err := d.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0), COUNT(*) FROM event_day_counts`).Scan(&dayTotal, &dayRows); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM events GROUP BY org_ods, `+d.Dialect().UTCDay("submitted_at")+
			`, event_type, physical_harm) x`).Scan(&groups); err != nil {
			t.Fatal(err)
		}
		if dayTotal != spec.Events || dayRows != groups {
			t.Fatalf("day counts: %d events in %d rows, want %d in %d", dayTotal, dayRows, spec.Events, groups)
		}

		// The rollups agree with the events.
		checkStats := func(when string) {
			t.Helper()
			for _, p := range [][2]time.Time{{spec.From, spec.To}, {time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 17, 0, 0, 0, 0, time.UTC)}} {
				for _, basis := range []Basis{BasisOccurred, BasisSubmitted} {
					got, err := f.svc.StatCounts(ctx, basis, p[0], p[1])
					if err != nil {
						t.Fatal(err)
					}
					want := directStatCounts(t, d, basis, p[0], p[1])
					if !slices.Equal(got.Events, want.Events) || !slices.Equal(got.Codes, want.Codes) || len(want.Codes) == 0 {
						t.Fatalf("%s: statistics from the rollups differ from the events (%d and %d rows, %d and %d code rows)",
							when, len(got.Events), len(want.Events), len(got.Codes), len(want.Codes))
					}
				}
			}
		}
		checkStats("generated")

		// Listed, searched and amended like any other event.
		scope := Scope{Orgs: []string{"D82044"}}
		page, err := f.svc.List(ctx, scope, Filter{}, Cursor{}, 5)
		if err != nil || page.Count != 1200 && !page.More {
			t.Fatalf("list: %+v, %v", page.Count, err)
		}
		found, err := f.svc.List(ctx, scope, Filter{Words: []string{"benchmark"}}, Cursor{}, 5)
		if err != nil || len(found.Events) == 0 {
			t.Fatalf("search: %d found, %v", len(found.Events), err)
		}
		ev := all[10]
		day := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
		if _, err := f.svc.Amend(ctx, ev.id, f.bob, "Corrected", Change{Answers: Answers{"AdverseEvent.description": {"Changed."}},
			Index: Index{PhysicalHarm: "3", ServiceType: "19", Codes: map[string][]string{ElementAgents: {"9"}}}, OccurredFrom: day, OccurredTo: day}, ward); err != nil {
			t.Fatal(err)
		}
		checkStats("after an amendment")

		// A second load takes other references, and the whole load is
		// refused without an organisation.
		if err := f.svc.LoadGenerated(ctx, GenerateSpec{Events: 300, Orgs: spec.Orgs, LargestOrg: "RM1", LargestEvents: 100,
			From: spec.From, To: spec.To, Seed: 7, StatementVersion: 1}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, "events"); n != spec.Events+300 {
			t.Fatalf("%d events after a second load", n)
		}
		checkStats("after a second load")
		bad := spec
		bad.LargestOrg = "NOPE"
		if err := f.svc.LoadGenerated(ctx, bad); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("an unknown largest organisation: %v", err)
		}
	})
}
