package usage

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// sunday is 1 March 2026, the last day of an ISO week; the day before is
// the last of February.
var sunday = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// use is a usage event of user in org at at.
func use(at time.Time, user int64, org, kind, route string) Event {
	return Event{At: at, Kind: kind, Route: route, Status: 200, UserID: user, OrgCode: org, SessionHash: fmt.Sprintf("s%d", user),
		IP: "192.0.2.77", Browser: Browser{FamilyFirefox, 133}}
}

func load(t *testing.T, d *db.DB, events ...Event) {
	t.Helper()
	if err := Load(context.Background(), d, events); err != nil {
		t.Fatal(err)
	}
}

func rollUp(t *testing.T, d *db.DB, now time.Time) int {
	t.Helper()
	n, err := RollUp(context.Background(), d, now)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// dump is every aggregate row and watermark, in order, as text.
func dump(t *testing.T, d *db.DB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT org_ods, day, kind, area, n FROM usage_days ORDER BY 1, 2, 3, 4`,
		`SELECT org_ods, day, user_id, sign_ins, page_views, documents, mask, last_at FROM usage_user_days ORDER BY 1, 2, 3`,
		`SELECT org_ods, period, start, user_id, mask FROM usage_user_periods ORDER BY 1, 2, 3, 4`,
		`SELECT org_ods, period, start, measure, users FROM usage_period_users ORDER BY 1, 2, 3, 4`,
		`SELECT job, value FROM usage_progress ORDER BY 1`,
	} {
		rows, err := d.QueryContext(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if tm, ok := v.(time.Time); ok {
					vals[i] = tm.UTC().Format(time.RFC3339Nano)
				}
				if bs, ok := v.([]byte); ok {
					vals[i] = string(bs)
				}
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
		b.WriteString("--\n")
	}
	return b.String()
}

// rolledEvents is usage over Friday 27 February to Monday 2 March 2026:
// six people of RM1, one of them also in RX1 on Saturday, and a person
// of no organisation.
func rolledEvents() []Event {
	fri, sat, mon := sunday.AddDate(0, 0, -2), sunday.AddDate(0, 0, -1), sunday.AddDate(0, 0, 1)
	var events []Event
	for u := int64(1); u <= 6; u++ {
		events = append(events,
			use(fri.Add(9*time.Hour+time.Duration(u)*time.Minute), u, "RM1", KindSignIn, "POST /sign-in"),
			use(fri.Add(9*time.Hour+time.Duration(u)*time.Minute+time.Second), u, "RM1", KindPage, "GET /{$}"),
			use(fri.Add(10*time.Hour), u, "RM1", KindPage, "GET /events/{ref}"))
	}
	events = append(events,
		use(sat.Add(23*time.Hour+59*time.Minute), 1, "RX1", KindPage, "GET /events"),
		use(sat.Add(8*time.Hour), 2, "RM1", KindDocument, "GET /library/{id}/file"),
		use(sunday.Add(12*time.Hour), 3, "RM1", KindPage, "POST /drafts/{id}/{step}"),
		use(sunday.Add(12*time.Hour), 9, "", KindPage, "GET /admin/users"),
		use(mon.Add(time.Hour), 4, "RM1", KindPage, "GET /{$}"))
	return events
}

// A complete day is rolled up once: into counts per organisation and for
// the whole service, a row per person, and their weeks and months; the
// week ending on Sunday and February are completed with how many people
// did each thing. Running the rollup again, or twice at once, changes
// nothing; each day rolled up is audited.
func TestRollUpRollsUpEachCompleteDayOnce(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		load(t, d, rolledEvents()...)
		// Sunday has not settled yet ten minutes after it ended.
		if n := rollUp(t, d, sunday.AddDate(0, 0, 1).Add(10*time.Minute)); n != 2 {
			t.Fatalf("rolled up %d days, want Friday and Saturday", n)
		}
		now := sunday.AddDate(0, 0, 1).Add(10 * time.Hour)
		var wg sync.WaitGroup
		days := make(chan int, 2)
		for range 2 {
			wg.Go(func() {
				n, err := RollUp(ctx, d, now)
				if err != nil {
					t.Error(err)
				}
				days <- n
			})
		}
		wg.Wait()
		close(days)
		if a, b := <-days, <-days; a+b != 1 {
			t.Fatalf("two rollups at once rolled up %d and %d days, want Sunday once", a, b)
		}
		first := dump(t, d)
		if n := rollUp(t, d, now); n != 0 {
			t.Fatalf("a second run rolled up %d days", n)
		}
		if again := dump(t, d); again != first {
			t.Fatalf("a second run changed the aggregates:\n%s\nthen\n%s", first, again)
		}
		for _, want := range []string{
			"RM1 2026-02-27 sign-in account 6\n", "RM1 2026-02-27 page home 6\n", "RM1 2026-02-27 page events 6\n",
			"RX1 2026-02-28 page events 1\n", "RM1 2026-02-28 document library 1\n", "RM1 2026-03-01 page recording 1\n",
			"* 2026-02-27 page home 6\n", "* 2026-03-01 page admin 1\n", "* 2026-03-01 page recording 1\n",
			// Person 1 on Friday: a sign-in and two pages, last at 10:00.
			"RM1 2026-02-27 1 1 2 0 " + fmt.Sprint(bitSignIn|bitPage|areaBit(AreaHome)|areaBit(AreaEvents)) + " 2026-02-27T10:00:00Z\n",
			" 2026-03-01 9 0 1 0 ",
			// The week ending on Sunday, and February, completed.
			"RM1 week 2026-02-23 active 6\n", "RM1 week 2026-02-23 document 1\n", "RM1 week 2026-02-23 area:recording 1\n",
			"RX1 week 2026-02-23 active 1\n", "* week 2026-02-23 active 7\n", "* week 2026-02-23 area:events 6\n",
			"RM1 month 2026-02-01 active 6\n", "* month 2026-02-01 active 6\n",
			"rollup 2026-03-01\n",
		} {
			if !strings.Contains(first, want) {
				t.Errorf("no row %q in\n%s", want, first)
			}
		}
		// March has begun, so it has per-person rows but no count yet;
		// Monday is not rolled up; people of no organisation count only
		// for the whole service.
		for _, unwanted := range []string{"month 2026-03-01 active", "2026-03-02", "\n 2026-03-01 page"} {
			if strings.Contains(first, unwanted) {
				t.Errorf("unexpected %q in\n%s", unwanted, first)
			}
		}
		rows, err := audit.List(ctx, d, "usage_day", "2026-02-27", 10)
		if err != nil || len(rows) != 1 || rows[0].Action != "usage.rollup" || rows[0].Details["events"] != "18" ||
			rows[0].Details["people"] != "6" || rows[0].ActorID != 0 {
			t.Fatalf("audit of Friday: %+v, %v", rows, err)
		}
		// Events of a day rolled up are refused by the loader: they would
		// never be counted.
		if err := Load(ctx, d, []Event{use(sunday.Add(time.Hour), 1, "RM1", KindPage, "GET /")}); err == nil {
			t.Fatal("loaded an event of a day already rolled up")
		}
	})
}
