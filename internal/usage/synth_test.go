package usage

import (
	"context"
	"testing"
	"time"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// Synthetic usage is exactly as many events as asked, the same for the
// same seed, inside its period and after the last day rolled up, of the
// people given; loaded and rolled up, it counts every event.
func TestSyntheticUsage(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 6, 10, 14, 30, 0, 0, time.UTC)
		people := []Person{{1, "RM1"}, {2, "RM1"}, {3, "RX1"}, {10, "RX1"}}
		plan := SynthPlan{Events: 5000, Seed: 7, From: now.AddDate(-2, 0, 0), Now: now, People: people, Batch: 700}
		var first, second []Event
		for _, out := range []*[]Event{&first, &second} {
			err := Synthesize(ctx, plan, func(_ context.Context, events []Event) error {
				*out = append(*out, events...)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if len(first) != 5000 || len(second) != 5000 {
			t.Fatalf("%d and %d events, want 5000", len(first), len(second))
		}
		kinds := map[string]int{}
		for i, e := range first {
			if e != second[i] {
				t.Fatalf("event %d differs between runs: %+v, %+v", i, e, second[i])
			}
			if e.At.Before(startOfDay(now.AddDate(0, -13, 1))) || e.At.After(now) || e.UserID == 0 || e.OrgCode == "" ||
				TruncateIP(e.IP) == "" {
				t.Fatalf("event %+v", e)
			}
			kinds[e.Kind]++
		}
		if kinds[KindSignIn] < 200 || kinds[KindPage] < 3000 || kinds[KindDocument] == 0 {
			t.Fatalf("kinds %v", kinds)
		}
		// The rollup has reached 1 June: nothing is made before 2 June.
		load(t, d, use(now.AddDate(0, 0, -10), 1, "RM1", KindPage, "GET /"))
		rollUp(t, d, now.AddDate(0, 0, -8))
		n, err := LoadSynthetic(ctx, d, plan)
		if err != nil || n != 5000 {
			t.Fatalf("loaded %d, %v", n, err)
		}
		var early int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM usage_events WHERE at < $1`, startOfDay(now.AddDate(0, 0, -8))).Scan(&early); err != nil || early != 1 {
			t.Fatalf("%d events before the rollup's end, %v; want only the first", early, err)
		}
		rollUp(t, d, now)
		var counted int64
		if err := d.QueryRowContext(ctx, `SELECT SUM(n) FROM usage_days WHERE org_ods = '*'`).Scan(&counted); err != nil {
			t.Fatal(err)
		}
		var today int64
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM usage_events WHERE at >= $1`, startOfDay(now)).Scan(&today); err != nil {
			t.Fatal(err)
		}
		if counted+today != 5001 {
			t.Fatalf("rolled up %d and %d today, want 5001 in all", counted, today)
		}
		if org, n, err := BusiestOrg(ctx, d, now.AddDate(-1, 0, 0)); err != nil || (org != "RM1" && org != "RX1") || n == 0 {
			t.Fatalf("busiest %q %d %v", org, n, err)
		}
	})
}
