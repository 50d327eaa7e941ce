package incident

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// loadSubmissions are n varied submissions by userID, each with a
// description naming its place in the list, so they can be told apart.
func loadSubmissions(userID int64, n int) []Submission {
	subs := make([]Submission, n)
	for i := range subs {
		sub := submission(userID)
		sub.Type = Types()[i%len(Types())]
		sub.OccurredFrom = sub.OccurredFrom.AddDate(0, 0, -i%400)
		sub.OccurredTo = sub.OccurredFrom.AddDate(0, 0, i%3)
		sub.SharingOptOut = i%2 == 0
		sub.StatementVersion = 1 + i%3
		sub.Answers = Answers{
			"AdverseEventDescription.Description": {fmt.Sprintf("Loaded event %d: a fall in the bay, no harm.", i)},
			"PatientInformation.PhysicalHarm":     {strconv.Itoa(1 + i%5), ""},
		}
		sub.Index = Index{PhysicalHarm: strconv.Itoa(1 + i%5), PsychologicalHarm: strconv.Itoa(1 + i%4), ServiceType: strconv.Itoa(i % 17)}
		switch i % 3 {
		case 0:
			sub.Index.Codes = map[string][]string{ElementSafetyChallenges: {"2", "1", "2"}, ElementAgents: {"4"}}
		case 1:
			sub.Index.Codes = map[string][]string{ElementAgents: {strconv.Itoa(i % 14)}}
		}
		if i%10 == 9 {
			sub.Source, sub.ReporterID = Public, 0
		}
		subs[i] = sub
	}
	return subs
}

// withoutIdentity is ev without what differs between two events stored
// from the same submission.
func withoutIdentity(ev Event) Event {
	ev.ID, ev.Reference, ev.SubmittedAt, ev.UpdatedAt = 0, "", time.Time{}, time.Time{}
	return ev
}

// Loaded events read back exactly as the same submissions do when
// submitted one by one, across more than one transaction, with one audit
// entry per transaction.
func TestLoadStoresWhatSubmitWould(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		// Load checks, then writes in batches; smaller ones here, so the
		// test crosses a transaction's end quickly.
		const batch = 400
		n := 2*batch + 150
		subs := loadSubmissions(f.ann, n)
		if err := f.svc.Load(ctx, subs[:1]); err != nil {
			t.Fatal(err)
		}
		for _, sub := range subs[1:] {
			if err := validateSubmission(sub); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.svc.load(ctx, subs[1:], batch); err != nil {
			t.Fatal(err)
		}
		if got := count(t, d, "events"); got != n {
			t.Fatalf("%d events, want %d", got, n)
		}
		if got := count(t, d, "event_versions"); got != n {
			t.Fatalf("%d versions, want %d", got, n)
		}
		// Codes are stored once each: two for one event in three, one for
		// the next.
		if got, want := count(t, d, "event_codes"), 3*((n+2)/3)+(n+1)/3; got != want {
			t.Fatalf("%d codes, want %d", got, want)
		}

		loaded := map[string]Event{}
		refs := map[Reference]bool{}
		rows, err := d.QueryContext(ctx, `SELECT id FROM events`)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			ev, err := f.svc.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseReference(string(ev.Reference)); err != nil || refs[ev.Reference] {
				t.Fatalf("event %d has reference %q, not a new valid one", id, ev.Reference)
			}
			refs[ev.Reference] = true
			loaded[ev.Answers["AdverseEventDescription.Description"][0]] = ev
		}

		for i, sub := range subs {
			if i%97 != 0 && i != n-1 && i != 9 {
				continue
			}
			got, ok := loaded[sub.Answers["AdverseEventDescription.Description"][0]]
			if !ok {
				t.Fatalf("submission %d was not loaded", i)
			}
			submitted, err := f.svc.Submit(ctx, sub, ward)
			if err != nil {
				t.Fatal(err)
			}
			want, err := f.svc.Get(ctx, submitted.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(withoutIdentity(got), withoutIdentity(want)) {
				t.Fatalf("submission %d loaded as\n%+v\nsubmitted as\n%+v", i, got, want)
			}
			vs, err := f.svc.Versions(ctx, got.ID)
			if err != nil || len(vs) != 1 || vs[0].AuthorID != sub.ReporterID || !reflect.DeepEqual(vs[0].Answers, sub.Answers) {
				t.Fatalf("versions of loaded submission %d: %+v, %v", i, vs, err)
			}
		}

		entries, err := audit.List(ctx, d, "event", "*", 10)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, e := range entries {
			if e.Action != "event.load" {
				t.Fatalf("audit entry %+v", e)
			}
			k, _ := strconv.Atoi(e.Details["events"])
			total += k
		}
		if len(entries) != 4 || total != n {
			t.Fatalf("%d load entries for %d events, want 4 (one per transaction) for %d", len(entries), total, n)
		}
		if _, problem, err := audit.Verify(ctx, d); err != nil || problem != nil {
			t.Fatalf("audit chain: %+v, %v", problem, err)
		}
		if err := f.svc.Analyze(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// T12 holds for loading too: one submission with an identifier stops the
// whole load before anything is stored.
func TestLoadRefusesIdentifiersAndStoresNothing(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		subs := loadSubmissions(f.ann, 500)
		subs[495].Answers["AdverseEventDescription.Description"] = []string{"Seen with NHS number 943 476 5919."}
		if err := f.svc.Load(ctx, subs); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("load with an identifier: %v, want Invalid", err)
		}
		subs = loadSubmissions(f.ann, 3)
		subs[1].DraftID = 7
		if err := f.svc.Load(ctx, subs); err == nil {
			t.Fatal("a load that would delete a draft was accepted")
		}
		if n := count(t, d, "events"); n != 0 {
			t.Fatalf("%d events stored", n)
		}
		if err := f.svc.Load(ctx, nil); err != nil {
			t.Fatalf("loading nothing: %v", err)
		}
	})
}

// BusiestOrg finds the organisation with the most events, for the event
// list benchmark, and says when there are none.
func TestBusiestOrgHasTheMostEvents(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		if _, _, err := f.svc.BusiestOrg(ctx); err == nil {
			t.Fatal("no error without events")
		}
		if _, err := d.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ('RM2', 'Other trust', $1, $1)`, d.Now()); err != nil {
			t.Fatal(err)
		}
		subs := loadSubmissions(f.ann, 8)
		for i := range subs[3:] {
			subs[3+i].OrgCode = "RM2"
		}
		if err := f.svc.Load(ctx, subs); err != nil {
			t.Fatal(err)
		}
		if org, n, err := f.svc.BusiestOrg(ctx); org != "RM2" || n != 5 || err != nil {
			t.Errorf("busiest %s with %d, %v; want RM2 with 5", org, n, err)
		}
	})
}
