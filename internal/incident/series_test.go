package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// A scope's events counted by month and by week, from the day counts:
// calendar months, weeks from Monday, empty periods 0, the current period
// partial, and the boundaries at midnight UTC. // T14
func TestSeriesCountsByMonthAndWeek(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d) // now: Tuesday 1 December 2026, 09:00 UTC
		ctx := context.Background()
		f.event(t, f.ann, "RM1", -24*40, nil) // 22 October
		f.event(t, f.ann, "RM1", -24*40, func(s *Submission) { s.Type, s.Index.PhysicalHarm = GoodCare, "" })
		f.event(t, f.bob, "RM1", -34, nil)                                                // Sunday 29 November, 23:00
		f.event(t, f.bob, "RM1", -33, func(s *Submission) { s.Index.PhysicalHarm = "2" }) // Monday 30 November, 00:00
		f.event(t, f.bob, "RM1", -10, func(s *Submission) { s.Type = Risk })              // 30 November, 23:00
		f.event(t, f.bob, "RM1", -9, nil)                                                 // 1 December, 00:00
		f.event(t, f.cat, "D82044", 0, nil)                                               // another organisation
		rm1 := Scope{Orgs: []string{"RM1"}}

		type want struct {
			from, to time.Time
			partial  bool
			total    int
		}
		check := func(what string, got Series, wants []want) {
			t.Helper()
			if len(got.Periods) != len(wants) {
				t.Fatalf("%s: %d periods, want %d: %+v", what, len(got.Periods), len(wants), got.Periods)
			}
			for i, w := range wants {
				p := got.Periods[i]
				if !p.From.Equal(w.from) || !p.To.Equal(w.to) || p.Partial != w.partial || p.Total != w.total {
					t.Errorf("%s: period %d is %s to %s partial %v total %d, want %s to %s partial %v total %d", what, i,
						p.From.Format(time.DateOnly), p.To.Format(time.DateOnly), p.Partial, p.Total,
						w.from.Format(time.DateOnly), w.to.Format(time.DateOnly), w.partial, w.total)
				}
			}
		}

		months, err := f.svc.Series(ctx, rm1, Monthly, date(2026, 9, 15), date(2027, 1, 20))
		if err != nil {
			t.Fatal(err)
		}
		check("by month", months, []want{
			{date(2026, 9, 1), date(2026, 9, 30), false, 0},
			{date(2026, 10, 1), date(2026, 10, 31), false, 2},
			{date(2026, 11, 1), date(2026, 11, 30), false, 3},
			{date(2026, 12, 1), date(2026, 12, 31), true, 1},
		})
		if !months.First.Equal(date(2026, 10, 22)) {
			t.Errorf("first day %s, want 22 October", months.First)
		}
		oct, nov := months.Periods[1], months.Periods[2]
		if oct.ByType[Incident] != 1 || oct.ByType[GoodCare] != 1 || oct.ByHarm["5"] != 1 || oct.ByHarm[""] != 1 {
			t.Errorf("October: %+v", oct)
		}
		if nov.ByType[Incident] != 2 || nov.ByType[Risk] != 1 || nov.ByHarm["2"] != 1 || nov.ByHarm["5"] != 2 {
			t.Errorf("November: %+v", nov)
		}

		weeks, err := f.svc.Series(ctx, rm1, Weekly, date(2026, 11, 18), date(2026, 12, 1))
		if err != nil {
			t.Fatal(err)
		}
		check("by week", weeks, []want{
			{date(2026, 11, 16), date(2026, 11, 22), false, 0},
			{date(2026, 11, 23), date(2026, 11, 29), false, 1},
			{date(2026, 11, 30), date(2026, 12, 6), true, 3},
		})

		national, err := f.svc.Series(ctx, Scope{All: true}, Weekly, date(2026, 11, 30), date(2026, 11, 30))
		if err != nil {
			t.Fatal(err)
		}
		check("national", national, []want{{date(2026, 11, 30), date(2026, 12, 6), true, 4}})

		// A period that ended yesterday is complete.
		f.clock = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
		done, err := f.svc.Series(ctx, rm1, Weekly, date(2026, 11, 30), date(2026, 12, 6))
		if err != nil {
			t.Fatal(err)
		}
		check("a finished week", done, []want{{date(2026, 11, 30), date(2026, 12, 6), false, 3}})

		mine, err := f.svc.Series(ctx, Scope{ReporterID: f.ann}, Monthly, date(2026, 10, 1), date(2026, 11, 1))
		if err != nil {
			t.Fatal(err)
		}
		if !mine.First.IsZero() {
			t.Errorf("a reporter's first day %s", mine.First)
		}
		none, err := f.svc.Series(ctx, Scope{Orgs: []string{"QMM"}}, Monthly, date(2026, 10, 1), date(2026, 11, 1))
		if err != nil || !none.First.IsZero() || len(none.Periods) != 2 {
			t.Errorf("an organisation without events: %+v, %v", none, err)
		}
		check("a reporter's own are not counted this way", mine, []want{
			{date(2026, 10, 1), date(2026, 10, 31), false, 0},
			{date(2026, 11, 1), date(2026, 11, 30), false, 0},
		})

		for name, call := range map[string]func() error{
			"an unknown grain": func() error { _, err := f.svc.Series(ctx, rm1, "year", date(2026, 1, 1), date(2026, 2, 1)); return err },
			"a range backwards": func() error {
				_, err := f.svc.Series(ctx, rm1, Monthly, date(2026, 11, 1), date(2026, 9, 1))
				return err
			},
			"too many periods": func() error {
				_, err := f.svc.Series(ctx, rm1, Weekly, date(2000, 1, 1), date(2026, 11, 1))
				return err
			},
		} {
			var ae *apperr.Error
			if err := call(); !errors.As(err, &ae) || ae.Code != apperr.Invalid {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
	})
}

// BenchmarkSeries times the dashboard's counts for an organisation that
// received 200,000 events over 30 months (every day, every type and
// harm: about 21,600 day counts), among 50 others, on each engine, and
// the national counts of all 51; it reports the 99th percentile as
// p99-ms, beside a plain scan of the organisation's day counts. Run it with
// go test -run XXX -bench Series ./internal/incident/. // T14
func BenchmarkSeries(b *testing.B) {
	for _, e := range dbtest.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			d := dbtest.Open(b, e)
			ctx := context.Background()
			end := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
			d.SetClock(func() time.Time { return end.Add(9 * time.Hour) })
			days := 30 * 30
			types := []Type{Incident, GoodCare, Risk, Outcome}
			harms := []string{"1", "2", "3", "4", "5", ""}
			// 200,000 events over days × 24 combinations: 9 or 10 each.
			per := 200000 / (days * len(types) * len(harms))
			total := 0
			err := d.InTx(ctx, func(tx *db.Tx) error {
				stmt := `INSERT INTO event_day_counts (org_ods, day, event_type, physical_harm, n) VALUES ($1, $2, $3, $4, $5)`
				for i := range days {
					day := dayKey(end.AddDate(0, 0, -i))
					for ti, t := range types {
						for hi, h := range harms {
							n := per + (i+ti+hi)%2
							total += n
							if _, err := tx.ExecContext(ctx, stmt, "RM1", day, string(t), h, n); err != nil {
								return err
							}
						}
						// Fifty other organisations, a few rows a day each.
						if ti == 0 {
							for o := range 50 {
								if _, err := tx.ExecContext(ctx, stmt, fmt.Sprintf("X%03d", o), day, string(t), "5", 3); err != nil {
									return err
								}
							}
						}
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("RM1 has %d events", total)
			svc := NewService(d)
			// The floor: the same day counts of two years added up in one
			// group, as plain a read of the same rows as there is.
			b.Run("scan", func(b *testing.B) {
				var took []time.Duration
				from := dayKey(Monthly.PeriodStart(end).AddDate(0, -24, 0))
				for b.Loop() {
					start := time.Now()
					var n int
					if err := d.QueryRowContext(ctx, `SELECT SUM(n) FROM event_day_counts WHERE org_ods = $1 AND day >= $2`, "RM1", from).Scan(&n); err != nil || n == 0 {
						b.Fatal(err)
					}
					took = append(took, time.Since(start))
				}
				slices.Sort(took)
				b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
			})
			for _, c := range []struct {
				name  string
				g     Grain
				scope Scope
			}{{"month", Monthly, Scope{Orgs: []string{"RM1"}}}, {"week", Weekly, Scope{Orgs: []string{"RM1"}}}, {"national-month", Monthly, Scope{All: true}}} {
				g := c.g
				b.Run(c.name, func(b *testing.B) {
					var took []time.Duration
					from := g.PeriodStart(end).AddDate(0, -24, 0)
					if g == Weekly {
						from = g.PeriodStart(end).AddDate(0, 0, -7*52)
					}
					for b.Loop() {
						start := time.Now()
						s, err := svc.Series(ctx, c.scope, g, from, end)
						if err != nil || len(s.Periods) == 0 {
							b.Fatal(err)
						}
						took = append(took, time.Since(start))
					}
					slices.Sort(took)
					b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
				})
			}
		})
	}
}
