package usage

import (
	"context"
	"testing"
	"time"

	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// addresses returns each event's address by user id.
func addresses(t *testing.T, d *db.DB) map[int64]string {
	t.Helper()
	rows, err := d.QueryContext(context.Background(), `SELECT user_id, ip FROM usage_events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var ip string
		if err := rows.Scan(&id, &ip); err != nil {
			t.Fatal(err)
		}
		out[id] = ip
	}
	return out
}

// P4: once an event is older than the IP retention period its address is
// cut to its network; younger events keep theirs. A run that stops part
// way (here: an earlier run, when fewer events had come of age) is taken
// up by the next, and running again changes nothing. Each day changed is
// audited with a count and no address.
func TestTruncateIPsAfterTheRetentionPeriod(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		keep := Retention{Days: 30}
		now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
		cutoff := now.AddDate(0, 0, -30)
		at := func(user int64, when time.Time, ip string) Event {
			e := use(when, user, "RM1", KindPage, "GET /")
			e.IP = ip
			return e
		}
		load(t, d,
			at(1, cutoff.AddDate(0, 0, -40), "192.0.2.77"),
			at(2, cutoff.AddDate(0, 0, -3), "2001:db8:1234:5678::1"),
			at(3, cutoff.Add(-time.Minute), "198.51.100.9"),
			at(4, cutoff.Add(-time.Minute), "not an address"),
			at(5, cutoff.Add(-time.Minute), "198.51.100.0"), // already a network
			at(6, cutoff.Add(time.Minute), "203.0.113.5"),
			at(7, now, "203.0.113.6"))
		// A run when only the first two had come of age.
		n, err := TruncateIPs(ctx, d, now.AddDate(0, 0, -2), keep)
		if err != nil || n != 2 {
			t.Fatalf("first run changed %d, %v; want 2", n, err)
		}
		n, err = TruncateIPs(ctx, d, now, keep)
		if err != nil || n != 2 {
			t.Fatalf("second run changed %d, %v; want 2 (events 3 and 4)", n, err)
		}
		want := map[int64]string{1: "192.0.2.0", 2: "2001:db8:1234::", 3: "198.51.100.0", 4: "", 5: "198.51.100.0",
			6: "203.0.113.5", 7: "203.0.113.6"}
		got := addresses(t, d)
		for id, ip := range want {
			if got[id] != ip {
				t.Errorf("event of %d has address %q, want %q", id, got[id], ip)
			}
		}
		if n, err := TruncateIPs(ctx, d, now, keep); err != nil || n != 0 {
			t.Fatalf("a run again changed %d, %v", n, err)
		}
		// An hour later, the event just after the cutoff comes of age.
		if n, err := TruncateIPs(ctx, d, now.Add(time.Hour), keep); err != nil || n != 1 || addresses(t, d)[6] != "203.0.113.0" {
			t.Fatalf("an hour later changed %d, %v: %q", n, err, addresses(t, d)[6])
		}
		entries, err := audit.List(ctx, d, "usage_day", dayKey(cutoff.AddDate(0, 0, -40)), 10)
		if err != nil || len(entries) != 1 || entries[0].Action != "usage.ip_truncate" || entries[0].Details["addresses"] != "1" {
			t.Fatalf("audit: %+v, %v", entries, err)
		}
		for _, v := range entries[0].Details {
			if v == "192.0.2.77" || v == "192.0.2.0" {
				t.Fatalf("the audit entry names an address: %v", entries[0].Details)
			}
		}
		if _, err := TruncateIPs(ctx, d, now, Retention{}); err == nil {
			t.Fatal("no retention period was accepted")
		}
	})
}

// P4: raw events, and the rows naming a person, go once they are older
// than the retention period, but only for days already rolled up; the
// counts that name nobody stay, so old whole weeks and months still
// report how many people were active. Each day deleted is audited.
func TestDeleteExpiredKeepsOnlyTheAggregates(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		keep := Retention{Months: 13}
		load(t, d, rolledEvents()...)
		now := sunday.AddDate(1, 1, 5).Add(time.Hour) // 6 April 2027: 13 months back is 6 March 2026
		// Nothing is deleted before it is rolled up.
		if n, err := DeleteExpired(ctx, d, now, keep); err != nil || n != 0 {
			t.Fatalf("deleted %d, %v before the rollup", n, err)
		}
		// Roll up to Sunday only, as if the rollup had stopped there.
		rollUp(t, d, sunday.AddDate(0, 0, 1).Add(time.Hour))
		n, err := DeleteExpired(ctx, d, now, keep)
		if err != nil || n != 22 {
			t.Fatalf("deleted %d, %v; want the 22 events to Sunday", n, err)
		}
		var raw, personDays, personPeriods, days, periods int
		for q, n := range map[string]*int{
			`SELECT COUNT(*) FROM usage_events`: &raw, `SELECT COUNT(*) FROM usage_user_days`: &personDays,
			`SELECT COUNT(*) FROM usage_user_periods`: &personPeriods, `SELECT COUNT(*) FROM usage_days`: &days,
			`SELECT COUNT(*) FROM usage_period_users`: &periods,
		} {
			if err := d.QueryRowContext(ctx, q).Scan(n); err != nil {
				t.Fatal(err)
			}
		}
		if raw != 1 || personDays != 0 || personPeriods != 0 || days == 0 || periods == 0 {
			t.Fatalf("left %d events (want Monday's), %d person days, %d person periods, %d day counts, %d period counts",
				raw, personDays, personPeriods, days, periods)
		}
		if n, err := DeleteExpired(ctx, d, now, keep); err != nil || n != 0 {
			t.Fatalf("a run again deleted %d, %v", n, err)
		}
		rows, err := audit.List(ctx, d, "usage_day", "2026-02-27", 10)
		if err != nil || len(rows) != 2 || rows[0].Action != "usage.delete" || rows[0].Details["events"] != "18" {
			t.Fatalf("audit of Friday: %+v, %v", rows, err)
		}
		// Monday is rolled up now, and then goes too.
		rollUp(t, d, now)
		if n, err := DeleteExpired(ctx, d, now, keep); err != nil || n != 1 {
			t.Fatalf("deleted %d, %v; want Monday's event", n, err)
		}
	})
}
