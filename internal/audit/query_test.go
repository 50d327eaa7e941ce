package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// directory is the account owner as the viewer sees it: three people, two
// of them at RM1; user 9 was erased.
type directory struct{}

var people = map[int64]struct {
	audit.Actor
	org string
}{
	1: {audit.Actor{Name: "Ada Admin", Email: "ada@nhs.net"}, "RM1"},
	2: {audit.Actor{Name: "Ben Reviewer", Email: "ben@nhs.net"}, "RM1"},
	3: {audit.Actor{Name: "=cmd|' /C calc'!A0", Email: "cat@nhs.net"}, "D82044"},
}

func (directory) AuditActors(_ context.Context, ids []int64) (map[int64]audit.Actor, error) {
	out := map[int64]audit.Actor{}
	for _, id := range ids {
		if p, ok := people[id]; ok {
			out[id] = p.Actor
		}
	}
	return out, nil
}

func (directory) AuditActorByEmail(_ context.Context, email string) (int64, bool, error) {
	for id, p := range people {
		if p.Email == email {
			return id, true, nil
		}
	}
	return 0, false, nil
}

func (directory) AuditOrgMembers(_ context.Context, org string) ([]int64, error) {
	var out []int64
	for id, p := range people {
		if p.org == org {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// logRows records rows with the given actors, actions and subjects, one
// transaction each, at the database's clock.
func logRow(t *testing.T, d *db.DB, e audit.Entry) {
	t.Helper()
	ctx := context.Background()
	if err := d.InTx(ctx, func(tx *db.Tx) error { return audit.Record(ctx, tx, e) }); err != nil {
		t.Fatal(err)
	}
}

// sample writes 12 rows: ids 1..12. Rows 1-4 by user 1, 5-8 by user 2,
// 9 by user 3, 10 by the system about organisation RM1, 11 by erased user
// 9, 12 by user 3 about organisation D82044.
// Row i is written at base plus i hours.
func sample(t *testing.T, d *db.DB) {
	n := 0
	d.SetClock(func() time.Time { return base.Add(time.Duration(n) * time.Hour) })
	next := func() { n++ }
	defer d.SetClock(time.Now)
	for i := 1; i <= 4; i++ {
		next()
		logRow(t, d, audit.Entry{ActorID: 1, Action: "users.change_status", SubjectType: "user", SubjectID: strconv.Itoa(10 + i), IP: "192.0.2.1",
			Details: map[string]string{"to": "suspended"}})
	}
	for i := 5; i <= 8; i++ {
		next()
		logRow(t, d, audit.Entry{ActorID: 2, Action: "event.review", SubjectType: "event", SubjectID: "PSE-" + strconv.Itoa(i), IP: "192.0.2.2"})
	}
	next()
	logRow(t, d, audit.Entry{ActorID: 3, Action: "account.sign_in", SubjectType: "user", SubjectID: "3", IP: "192.0.2.3"})
	next()
	logRow(t, d, audit.Entry{Action: "org.rename", SubjectType: "organisation", SubjectID: "RM1"})
	next()
	logRow(t, d, audit.Entry{ActorID: 9, Action: "account.sign_in", SubjectType: "user", SubjectID: "9", IP: "192.0.2.9"})
	next()
	logRow(t, d, audit.Entry{ActorID: 3, Action: "usage.individuals_shown", SubjectType: "organisation", SubjectID: "D82044",
		Details: map[string]string{"note": "+SUM(A1)"}})
}

var base = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func ids(res audit.Result) []int64 {
	var out []int64
	for _, r := range res.Rows {
		out = append(out, r.ID)
	}
	return out
}

// Each filter of the viewer chooses the rows it names, newest first, and
// the actors are named through the account owner: "Erased user" for an ID
// that names nobody now, the system for rows with none (issue 13, T5).
func TestSearchFiltersByActorActionObjectOrganisationAndTime(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		sample(t, d)
		ctx := context.Background()
		l := audit.NewLog(d, directory{})
		at := func(id int) time.Time { return base.Add(time.Duration(id) * time.Hour) }
		res, err := l.Search(ctx, audit.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Rows[0].At.Equal(at(12)) {
			t.Fatalf("row 12 at %s, want %s", res.Rows[0].At, at(12))
		}
		if got := ids(res); !slices.Equal(got, []int64{12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}) {
			t.Fatalf("all rows: %v", got)
		}
		labels := map[int64]string{}
		for _, r := range res.Rows {
			labels[r.ID] = r.ActorLabel
		}
		if labels[1] != "Ada Admin (ada@nhs.net)" || labels[10] != audit.LabelSystem || labels[11] != audit.LabelErased {
			t.Errorf("actor labels: %q, %q, %q", labels[1], labels[10], labels[11])
		}
		for _, c := range []struct {
			name string
			q    audit.Query
			want []int64
		}{
			{"actor by email", audit.Query{Actor: "BEN@nhs.net"}, []int64{8, 7, 6, 5}},
			{"actor by id", audit.Query{Actor: "3"}, []int64{12, 9}},
			{"erased actor by id", audit.Query{Actor: "9"}, []int64{11}},
			{"the system", audit.Query{Actor: "system"}, []int64{10}},
			{"an address with no account", audit.Query{Actor: "nobody@nhs.net"}, nil},
			{"action", audit.Query{Action: "account.sign_in"}, []int64{11, 9}},
			{"object type", audit.Query{SubjectType: "event"}, []int64{8, 7, 6, 5}},
			{"object", audit.Query{SubjectType: "user", SubjectID: "12"}, []int64{2}},
			{"organisation: its people and rows about it", audit.Query{Org: "RM1"}, []int64{10, 8, 7, 6, 5, 4, 3, 2, 1}},
			{"organisation and action", audit.Query{Org: "D82044", Action: "account.sign_in"}, []int64{9}},
			{"organisation with nobody", audit.Query{Org: "QMM"}, nil},
			{"from", audit.Query{From: at(10)}, []int64{12, 11, 10}},
			{"to", audit.Query{To: at(2)}, []int64{1}},
			{"from and to", audit.Query{From: at(7), To: at(9)}, []int64{8, 7}},
			{"from, to and actor", audit.Query{From: at(7), To: at(10), Actor: "3"}, []int64{9}},
		} {
			res, err := l.Search(ctx, c.q)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got := ids(res); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
		if _, err := l.Search(ctx, audit.Query{Actor: "not a number"}); err == nil {
			t.Error("an actor that is neither an address nor a number was accepted")
		}
	})
}

// Keyset pages: older pages walk the whole filtered log once, newest
// first, and newer links walk back to the first page, each page the same
// as on the way down.
func TestSearchPagesByKeysetBothWays(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		sample(t, d)
		ctx := context.Background()
		l := audit.NewLog(d, directory{})
		q := audit.Query{Org: "RM1", Limit: 4}
		var pages [][]int64
		var seen []int64
		for {
			res, err := l.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, ids(res))
			seen = append(seen, ids(res)...)
			if len(pages) == 1 && res.Newer != 0 {
				t.Errorf("the first page has a newer page: %d", res.Newer)
			}
			if res.Older == 0 {
				break
			}
			q.Before, q.After = res.Older, 0
			if len(pages) > 5 {
				t.Fatal("too many pages")
			}
		}
		if !slices.Equal(seen, []int64{10, 8, 7, 6, 5, 4, 3, 2, 1}) || len(pages) != 3 {
			t.Fatalf("pages %v", pages)
		}
		// Back up from the last page.
		q = audit.Query{Org: "RM1", Limit: 4, Before: 3}
		res, err := l.Search(ctx, q)
		if err != nil || !slices.Equal(ids(res), []int64{2, 1}) || res.Older != 0 || res.Newer != 2 {
			t.Fatalf("last page: %v %+v", err, res)
		}
		res, err = l.Search(ctx, audit.Query{Org: "RM1", Limit: 4, After: res.Newer})
		if err != nil || !slices.Equal(ids(res), []int64{6, 5, 4, 3}) || res.Older != 3 || res.Newer != 6 {
			t.Fatalf("newer from the last page: %v %v older %d newer %d", err, ids(res), res.Older, res.Newer)
		}
		res, err = l.Search(ctx, audit.Query{Org: "RM1", Limit: 4, After: res.Newer})
		if err != nil || !slices.Equal(ids(res), []int64{10, 8, 7}) || res.Older != 7 || res.Newer != 0 {
			t.Fatalf("the first page again, reached by newer: %v %v older %d newer %d", err, ids(res), res.Older, res.Newer)
		}
		// The page size is bounded.
		for range 210 {
			logRow(t, d, audit.Entry{Action: "bulk", SubjectType: "x", SubjectID: "1"})
		}
		res, err = l.Search(ctx, audit.Query{Limit: 100000})
		if err != nil || len(res.Rows) != audit.MaxPageSize {
			t.Fatalf("a huge limit gave %d rows, want %d (%v)", len(res.Rows), audit.MaxPageSize, err)
		}
		actions, err := l.Actions(ctx)
		if err != nil || !slices.Equal(actions, []string{"account.sign_in", "bulk", "event.review", "org.rename", "usage.individuals_shown", "users.change_status"}) {
			t.Fatalf("actions: %v %v", actions, err)
		}
		types, err := l.SubjectTypes(ctx)
		if err != nil || !slices.Equal(types, []string{"event", "organisation", "user", "x"}) {
			t.Fatalf("subject types: %v %v", types, err)
		}
	})
}

// The export is every filtered row (not one page), newest first, safe to
// open in a spreadsheet, and recorded in the log before it is written:
// who, the filters and the number of rows (T5).
func TestExportIsTheFilteredLogAsSafeCSVAndIsAudited(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		sample(t, d)
		ctx := context.Background()
		l := audit.NewLog(d, directory{})
		var buf bytes.Buffer
		n, err := l.Export(ctx, audit.Query{Actor: "cat@nhs.net", Limit: 1, Before: 10}, 1, "198.51.100.7", &buf)
		if err != nil || n != 2 {
			t.Fatalf("export: %d rows, %v", n, err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 3 || recs[0][0] != "ID" || recs[1][0] != "12" || recs[2][0] != "9" {
			t.Fatalf("export: %q", recs)
		}
		if recs[1][3] != "'=cmd|' /C calc'!A0 (cat@nhs.net)" {
			t.Errorf("actor cell %q is not made text", recs[1][3])
		}
		if recs[1][7] != "note: +SUM(A1)" {
			t.Errorf("details cell %q", recs[1][7])
		}
		res, err := l.Search(ctx, audit.Query{Action: "audit.export"})
		if err != nil || len(res.Rows) != 1 {
			t.Fatalf("the export was not audited: %v %+v", err, res)
		}
		r := res.Rows[0]
		if r.ActorID != 1 || r.IP != "198.51.100.7" || r.Details["rows"] != "2" || r.Details["actor"] != "cat@nhs.net" || r.Details["up_to_id"] != "12" {
			t.Fatalf("audit row of the export: %+v", r)
		}
		// Over more than one batch, the whole log goes, in order.
		for range 1500 {
			logRow(t, d, audit.Entry{Action: "bulk", SubjectType: "x", SubjectID: "1"})
		}
		buf.Reset()
		n, err = l.Export(ctx, audit.Query{}, 2, "", &buf)
		if err != nil || n != 12+1+1500 {
			t.Fatalf("whole export: %d rows, %v", n, err)
		}
		recs, _ = csv.NewReader(&buf).ReadAll()
		for i := 1; i < len(recs); i++ {
			if recs[i][0] != strconv.Itoa(len(recs)-i) {
				t.Fatalf("line %d is row %s", i, recs[i][0])
			}
		}
		if n, _, err := audit.Verify(ctx, d); err != nil || n != 12+2+1500 {
			t.Fatalf("verify after exports: %d %v", n, err)
		}
	})
}

// Details are shown as "key: value" pairs in key order.
func TestDetailsText(t *testing.T) {
	if got := audit.DetailsText(map[string]string{"b": "2", "a": "1"}); got != "a: 1; b: 2" {
		t.Fatalf("%q", got)
	}
	if got := audit.DetailsText(nil); got != "" {
		t.Fatalf("%q", got)
	}
}
