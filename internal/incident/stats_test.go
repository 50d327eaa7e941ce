package incident

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// directStatCounts counts as StatCounts did before the rollups: a GROUP BY
// over the events themselves. The rollups must always give the same.
func directStatCounts(t *testing.T, d *db.DB, basis Basis, from, to time.Time) StatCounts {
	t.Helper()
	ctx := context.Background()
	from, to = dayStart(from), dayStart(to).AddDate(0, 0, 1)
	column := "e.occurred_from"
	if basis == BasisSubmitted {
		column = "e.submitted_at"
	}
	var out StatCounts
	rows, err := d.QueryContext(ctx, `SELECT e.org_ods, e.event_type, e.physical_harm, e.service_type, COUNT(*)
		FROM events e WHERE `+column+` >= $1 AND `+column+` < $2
		GROUP BY e.org_ods, e.event_type, e.physical_harm, e.service_type
		ORDER BY e.org_ods, e.event_type, e.physical_harm, e.service_type`, from, to)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c StatCount
		if err := rows.Scan(&c.Org, &c.Type, &c.PhysicalHarm, &c.ServiceType, &c.N); err != nil {
			t.Fatal(err)
		}
		out.Events = append(out.Events, c)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	rows, err = d.QueryContext(ctx, `SELECT e.org_ods, e.event_type, c.element, c.code, COUNT(*)
		FROM events e JOIN event_codes c ON c.event_id = e.id
		WHERE `+column+` >= $1 AND `+column+` < $2 AND c.element IN ($3, $4)
		GROUP BY e.org_ods, e.event_type, c.element, c.code
		ORDER BY e.org_ods, e.event_type, c.element, c.code`, from, to, ElementSafetyChallenges, ElementAgents)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c StatCodeCount
		if err := rows.Scan(&c.Org, &c.Type, &c.Element, &c.Code, &c.N); err != nil {
			t.Fatal(err)
		}
		out.Codes = append(out.Codes, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// randomStatSubmission is an event with a random type, harm, service type,
// date and codes, in one of the fixture's organisations.
func randomStatSubmission(rng *rand.Rand, f *listFixture, base time.Time) Submission {
	types := []Type{Incident, Incident, GoodCare, Risk, Outcome}
	harms := []string{"", "1", "2", "3", "4", "5", "5"}
	services := []string{"", "1", "3", "19"}
	org, reporter := "RM1", f.ann
	if rng.IntN(3) == 0 {
		org, reporter = "D82044", f.cat
	}
	occurred := base.AddDate(0, 0, rng.IntN(130)).Add(time.Duration(rng.IntN(24*60)) * time.Minute)
	return Submission{
		Type: types[rng.IntN(len(types))], OrgCode: org, Source: Staff, ReporterID: reporter,
		OccurredFrom: occurred, OccurredTo: occurred,
		Answers: Answers{"AdverseEvent.description": {"A fall on the ward."}},
		Index: Index{PhysicalHarm: harms[rng.IntN(len(harms))], ServiceType: services[rng.IntN(len(services))],
			Codes: randomStatCodes(rng)},
		StatementVersion: 1,
	}
}

func randomStatCodes(rng *rand.Rand) map[string][]string {
	codes := map[string][]string{}
	for range rng.IntN(4) {
		codes[ElementSafetyChallenges] = append(codes[ElementSafetyChallenges], fmt.Sprint(1+rng.IntN(5)))
	}
	for range rng.IntN(3) {
		codes[ElementAgents] = append(codes[ElementAgents], fmt.Sprint(3+rng.IntN(4)))
	}
	if rng.IntN(4) == 0 {
		codes["AdverseEventRisk.Theme"] = []string{"2"} // not counted
	}
	return codes
}

// The statistics read from the rollups are what a GROUP BY over the events
// gives, on both engines, for periods of whole months, parts of months and
// single days, on both bases, after random submissions, amendments (harm,
// service type, date and codes changed), a load, and the migration's
// backfill.
func TestStatCountsFromRollupsEqualCountingEvents(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d)
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(15, 27))
		base := time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
		start := f.clock
		var events []Event
		for i := range 80 {
			sub := randomStatSubmission(rng, f, base)
			// Submitted over three months, so the submitted basis spans
			// months too.
			f.clock = start.AddDate(0, 0, -rng.IntN(90)).Add(time.Duration(i) * time.Minute)
			ev, err := f.svc.Submit(ctx, sub, ward)
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, ev)
		}
		f.clock = start
		for range 40 {
			ev := events[rng.IntN(len(events))]
			sub := randomStatSubmission(rng, f, base)
			ch := Change{Answers: sub.Answers, Index: sub.Index, OccurredFrom: sub.OccurredFrom, OccurredTo: sub.OccurredTo}
			if rng.IntN(3) == 0 {
				// Only the codes change.
				cur, err := f.svc.Get(ctx, ev.ID)
				if err != nil {
					t.Fatal(err)
				}
				ch.OccurredFrom, ch.OccurredTo = cur.OccurredFrom, cur.OccurredTo
				ch.Index.PhysicalHarm, ch.Index.ServiceType = cur.Index.PhysicalHarm, cur.Index.ServiceType
			}
			if _, err := f.svc.Amend(ctx, ev.ID, f.bob, "Corrected", ch, ward); err != nil {
				t.Fatal(err)
			}
		}
		var subs []Submission
		for range 15 {
			subs = append(subs, randomStatSubmission(rng, f, base))
		}
		if err := f.svc.Load(ctx, subs); err != nil {
			t.Fatal(err)
		}

		periods := []struct{ name, from, to string }{
			{"everything", "2026-01-01", "2026-12-31"},
			{"whole months", "2026-04-01", "2026-06-30"},
			{"parts of months at both ends", "2026-03-25", "2026-07-10"},
			{"within one month", "2026-05-03", "2026-05-20"},
			{"one day", "2026-04-15", "2026-04-15"},
			{"a month and a day", "2026-04-01", "2026-05-01"},
			{"the last day of a month to the first of the next", "2026-04-30", "2026-05-01"},
			{"six months", "2026-04-01", "2026-09-30"},
		}
		check := func(when string) {
			t.Helper()
			nonEmpty := 0
			for _, p := range periods {
				from, _ := time.Parse(time.DateOnly, p.from)
				to, _ := time.Parse(time.DateOnly, p.to)
				for _, basis := range []Basis{BasisOccurred, BasisSubmitted} {
					got, err := f.svc.StatCounts(ctx, basis, from, to)
					if err != nil {
						t.Fatal(err)
					}
					want := directStatCounts(t, d, basis, from, to)
					if !slices.Equal(got.Events, want.Events) || !slices.Equal(got.Codes, want.Codes) {
						t.Fatalf("%s, %s, %s:\n got %v\nwant %v\n got %v\nwant %v", when, p.name, basis, got.Events, want.Events, got.Codes, want.Codes)
					}
					if len(want.Events) > 0 {
						nonEmpty++
					}
				}
			}
			if nonEmpty < len(periods) {
				t.Fatalf("%s: only %d of %d periods have events; the test would prove little", when, nonEmpty, 2*len(periods))
			}
		}
		check("kept with each write")

		// Migration 0027 counts the events stored before it.
		for _, stmt := range []string{`DROP TABLE event_stat_days`, `DROP TABLE event_stat_months`, `DROP TABLE event_stat_code_days`,
			`DROP TABLE event_stat_code_months`, `DELETE FROM schema_migrations WHERE version = 27`} {
			if _, err := d.ExecContext(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		check("counted by the migration")
	})
}

func TestStatPeriodOf(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	cases := []struct {
		from, to string // to excluded
		want     statPeriod
	}{
		{"2026-04-01", "2026-10-01", statPeriod{"2026-04-01", "2026-04-01", "2026-10-01", "2026-10-01", "2026-04", "2026-10"}},
		{"2026-03-25", "2026-07-11", statPeriod{"2026-03-25", "2026-04-01", "2026-07-01", "2026-07-11", "2026-04", "2026-07"}},
		{"2026-05-03", "2026-05-21", statPeriod{headFrom: "2026-05-03", headTo: "2026-05-21"}},
		{"2026-04-30", "2026-05-02", statPeriod{headFrom: "2026-04-30", headTo: "2026-05-02"}},
		{"2026-12-01", "2027-01-01", statPeriod{"2026-12-01", "2026-12-01", "2027-01-01", "2027-01-01", "2026-12", "2027-01"}},
	}
	for _, c := range cases {
		if got := statPeriodOf(day(c.from), day(c.to)); got != c.want {
			t.Errorf("%s to %s: got %+v, want %+v", c.from, c.to, got, c.want)
		}
	}
}
