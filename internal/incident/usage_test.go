package incident

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// Usage reports count the events an organisation received each day, and
// how many different people with an account recorded them (up to the
// number that lets a figure be shown); public concerns count for no one.
func TestRecordedPerDayAndReporters(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		monday := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		for i := range 4 {
			err := d.WriteRowContext(ctx, `INSERT INTO users (email, name, job_role, org_ods, status, password_hash, created_at, updated_at)
				VALUES ($1, 'x', 'Nurse', 'RM1', 'active', 'x', $2, $2) RETURNING id`, fmt.Sprintf("p%d@nhs.net", i), monday).Scan(new(int64))
			if err != nil {
				t.Fatal(err)
			}
		}
		var extra []int64
		rows, err := d.QueryContext(ctx, `SELECT id FROM users WHERE email LIKE 'p%' ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			extra = append(extra, id)
		}
		rows.Close()
		// Monday: ann twice, bob once and a public concern. Tuesday: the
		// four others, once each.
		d.SetClock(func() time.Time { return monday })
		public := submission(0)
		public.Source = Public
		if err := f.svc.Load(ctx, []Submission{submission(f.ann), submission(f.ann), submission(f.bob), public}); err != nil {
			t.Fatal(err)
		}
		d.SetClock(func() time.Time { return monday.AddDate(0, 0, 1) })
		var tuesday []Submission
		for _, id := range extra {
			tuesday = append(tuesday, submission(id))
		}
		if err := f.svc.Load(ctx, tuesday); err != nil {
			t.Fatal(err)
		}
		perDay, err := f.svc.RecordedPerDay(ctx, "RM1", monday, monday.AddDate(0, 0, 6))
		if err != nil || len(perDay) != 2 || perDay["2026-03-02"] != 4 || perDay["2026-03-03"] != 4 {
			t.Fatalf("per day %v, %v", perDay, err)
		}
		if perDay, err := f.svc.RecordedPerDay(ctx, "RX9", monday, monday); err != nil || len(perDay) != 0 {
			t.Fatalf("another organisation: %v, %v", perDay, err)
		}
		all, err := f.svc.RecordedPerDay(ctx, "", monday.AddDate(0, 0, 1), monday.AddDate(0, 0, 1))
		if err != nil || len(all) != 1 || all["2026-03-03"] != 4 {
			t.Fatalf("every organisation on Tuesday: %v, %v", all, err)
		}
		for _, c := range []struct {
			org      string
			from, to time.Time
			enough   int
			want     int
		}{
			{"RM1", monday, monday, 5, 2},
			{"RM1", monday, monday.AddDate(0, 0, 1), 5, 5},
			{"RM1", monday, monday.AddDate(0, 0, 1), 0, 6},
			{"", monday, monday.AddDate(0, 0, 1), 10, 6},
			{"RM1", monday.AddDate(0, 0, 2), monday.AddDate(0, 0, 9), 5, 0},
		} {
			n, err := f.svc.RecordedReporters(ctx, c.org, c.from, c.to, c.enough)
			if err != nil || n != c.want {
				t.Errorf("reporters of %q %s to %s (enough %d) = %d, %v; want %d", c.org, c.from, c.to, c.enough, n, err, c.want)
			}
		}
	})
}
