package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// fixture is a migrated database with an organisation and two staff.
type fixture struct {
	db       *db.DB
	svc      *Service
	ann, bob int64
}

func newFixture(t *testing.T, d *db.DB) fixture {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	if _, err := d.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ('RM1', 'Test trust', $1, $1)`, now); err != nil {
		t.Fatal(err)
	}
	f := fixture{db: d, svc: NewService(d)}
	for _, p := range []struct {
		id   *int64
		name string
	}{{&f.ann, "ann"}, {&f.bob, "bob"}} {
		err := d.WriteRowContext(ctx, `INSERT INTO users (email, name, job_role, org_ods, status, password_hash, created_at, updated_at)
			VALUES ($1, $2, 'Nurse', 'RM1', 'active', 'x', $3, $3) RETURNING id`, p.name+"@nhs.net", p.name, now).Scan(p.id)
		if err != nil {
			t.Fatal(err)
		}
	}
	return f
}

var ward = Client{IP: "192.0.2.10"}

// submission is a staff incident by userID with a clean description.
func submission(userID int64) Submission {
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	return Submission{
		Type: Incident, OrgCode: "RM1", Source: Staff, ReporterID: userID, OccurredFrom: day, OccurredTo: day,
		Answers: Answers{
			"AdverseEventDescription.Description":    {"Patient on ward 10 given 10 mg of the wrong drug at 14:30; no harm."},
			"AdverseEventAgent.Patient.PhysicalHarm": {"4", "5"},
		},
		Index:            Index{PhysicalHarm: "4", ServiceType: "acute", Codes: map[string][]string{"safety-challenge": {"3", "1", "3"}}},
		StatementVersion: 2, SharingOptOut: true,
	}
}

// changeOf is an amendment that keeps the submission's date and opt-out.
func changeOf(sub Submission) Change {
	return Change{Answers: sub.Answers, Index: sub.Index, OccurredFrom: sub.OccurredFrom, OccurredTo: sub.OccurredTo, SharingOptOut: sub.SharingOptOut}
}

func count(t *testing.T, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// T7, T15: a submission is stored as version 1 with a reference, the
// recording statement version shown and the sharing answer; versions
// cannot be changed afterwards.
func TestSubmitStoresVersionOne(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		sub := submission(f.ann)
		ev, err := f.svc.Submit(ctx, sub, ward)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseReference(string(ev.Reference)); err != nil || ev.Version != 1 {
			t.Fatalf("submitted %+v", ev)
		}
		got, err := f.svc.ByReference(ctx, ev.Reference)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != ev.ID || got.StatementVersion != 2 || !got.SharingOptOut || got.ReporterID != f.ann ||
			!got.OccurredFrom.Equal(sub.OccurredFrom) || got.Index.PhysicalHarm != "4" ||
			!slices.Equal(got.Answers["AdverseEventAgent.Patient.PhysicalHarm"], []string{"4", "5"}) ||
			!slices.Equal(got.Index.Codes["safety-challenge"], []string{"1", "3"}) {
			t.Fatalf("read back %+v", got)
		}
		if _, err := d.ExecContext(ctx, `UPDATE event_versions SET answers = '{}'`); err == nil {
			t.Fatal("a submitted version was changed")
		}
		if _, err := d.ExecContext(ctx, `DELETE FROM event_versions`); err == nil {
			t.Fatal("a submitted version was deleted")
		}
		rows, err := audit.List(ctx, d, "event", strconv.FormatInt(ev.ID, 10), 5)
		if err != nil || len(rows) != 1 || rows[0].Action != "event.submit" || rows[0].Details["reference"] != string(ev.Reference) {
			t.Fatalf("audit = %+v, %v", rows, err)
		}
		for _, v := range rows[0].Details {
			if strings.Contains(v, "wrong drug") {
				t.Fatal("the audit log holds what was recorded")
			}
		}
	})
}

// T12: text that could identify someone is refused, field by field,
// without echoing it, and nothing is stored: not the event, not a draft.
func TestIdentifiersAreRefusedAndNothingIsStored(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		sub := submission(f.ann)
		sub.Answers["AdverseEventDescription.Description"] = []string{"Mrs Smith (NHS number 943 476 5919) fell in the bay."}
		_, err := f.svc.Submit(ctx, sub, ward)
		var fields apperr.Fields
		if apperr.CodeOf(err) != apperr.Invalid || !errors.As(err, &fields) || len(fields) != 2 {
			t.Fatalf("submit with identifiers: %v, want two field errors", err)
		}
		for _, fe := range fields {
			if fe.Field != "AdverseEventDescription.Description" || strings.Contains(fe.Message, "943") || strings.Contains(fe.Message, "Smith") {
				t.Errorf("field error %+v", fe)
			}
		}
		if _, err := f.svc.SaveDraft(ctx, f.ann, 0, Incident, sub.Answers); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("draft with identifiers: %v, want Invalid", err)
		}
		amended := submission(f.ann)
		ev, err := f.svc.Submit(ctx, amended, ward)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Amend(ctx, ev.ID, f.bob, "Reviewed by Dr Patel", changeOf(amended), ward); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("amendment reason with a name: %v, want Invalid", err)
		}
		// Hidden control characters are refused by the store itself, so no
		// way in can store a NUL (which PostgreSQL would refuse with an error).
		hidden := submission(f.ann)
		hidden.Answers["AdverseEventDescription.Description"] = []string{"The pump\x00 alarmed\x1b."}
		if _, err := f.svc.Submit(ctx, hidden, ward); apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(apperr.MessageOf(err)+fmt.Sprint(err), "hidden control characters") {
			t.Fatalf("submit with control characters: %v, want Invalid", err)
		}
		if _, err := f.svc.SaveDraft(ctx, f.ann, 0, Incident, hidden.Answers); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("draft with control characters: %v, want Invalid", err)
		}
		if n := count(t, d, "events"); n != 1 {
			t.Fatalf("%d events stored, want only the clean one", n)
		}
		if n := count(t, d, "drafts"); n != 0 {
			t.Fatalf("%d drafts stored", n)
		}
		if n := count(t, d, "event_versions"); n != 1 {
			t.Fatalf("%d versions stored", n)
		}
	})
}

// T8: a public submission has no reporter and says where it came from.
func TestPublicSubmissionHasNoReporter(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		sub := submission(0)
		sub.Source = Public
		ev, err := f.svc.Submit(context.Background(), sub, ward)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.Get(context.Background(), ev.ID)
		if got.Source != Public || got.ReporterID != 0 {
			t.Fatalf("public event = %+v", got)
		}
		staff := submission(0)
		if _, err := f.svc.Submit(context.Background(), staff, ward); err == nil {
			t.Fatal("a staff submission without a reporter was stored")
		}
	})
}

// An amendment is a new version with its own time, author and reason; the
// earlier versions stay as they were.
func TestAmendmentsKeepEveryVersion(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		ev, err := f.svc.Submit(ctx, submission(f.ann), ward)
		if err != nil {
			t.Fatal(err)
		}
		answers := Answers{"AdverseEventDescription.Description": {"Corrected: 5 mg, not 10 mg."}}
		index := Index{PhysicalHarm: "3", Codes: map[string][]string{"agent": {"medication"}}}
		later := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
		got, err := f.svc.Amend(ctx, ev.ID, f.bob, "The dose was wrong",
			Change{Answers: answers, Index: index, OccurredFrom: later, OccurredTo: later, SharingOptOut: true}, ward)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 2 || got.Index.PhysicalHarm != "3" || got.Answers["AdverseEventDescription.Description"][0] != "Corrected: 5 mg, not 10 mg." ||
			len(got.Index.Codes) != 1 || got.Index.Codes["agent"][0] != "medication" || !got.UpdatedAt.After(got.SubmittedAt.Add(-time.Second)) ||
			!got.OccurredFrom.Equal(later) || !got.SharingOptOut {
			t.Fatalf("after amending: %+v", got)
		}
		versions, err := f.svc.Versions(ctx, ev.ID)
		if err != nil || len(versions) != 2 {
			t.Fatalf("versions = %+v, %v", versions, err)
		}
		if versions[0].AuthorID != f.ann || versions[0].Reason != "" || versions[1].AuthorID != f.bob || versions[1].Reason != "The dose was wrong" ||
			!strings.Contains(versions[0].Answers["AdverseEventDescription.Description"][0], "wrong drug") {
			t.Fatalf("versions = %+v", versions)
		}
		if _, err := f.svc.Amend(ctx, 999999, f.bob, "x", Change{Answers: answers, Index: index, OccurredFrom: later, OccurredTo: later}, ward); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("amending nothing: %v", err)
		}
		if _, err := f.svc.Versions(ctx, 999999); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("versions of nothing: %v", err)
		}
	})
}

// Drafts are their author's alone, can be resumed and changed, and go
// when the event is submitted (the sweep that deletes stale drafts is
// tested in lifecycle_test.go).
func TestDraftsBelongToTheirAuthor(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		id, err := f.svc.SaveDraft(ctx, f.ann, 0, Incident, Answers{"q": {"first"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SaveDraft(ctx, f.ann, id, Incident, Answers{"q": {"second"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SaveDraft(ctx, f.bob, id, Incident, Answers{"q": {"taken over"}}); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("saving another's draft: %v", err)
		}
		if _, err := f.svc.Draft(ctx, f.bob, id); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("reading another's draft: %v", err)
		}
		dr, err := f.svc.Draft(ctx, f.ann, id)
		if err != nil || dr.Answers["q"][0] != "second" {
			t.Fatalf("draft = %+v, %v", dr, err)
		}
		if list, _ := f.svc.Drafts(ctx, f.bob); len(list) != 0 {
			t.Fatalf("bob sees %d drafts", len(list))
		}
		sub := submission(f.bob)
		sub.DraftID = id
		if _, err := f.svc.Submit(ctx, sub, ward); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("submitting from another's draft: %v", err)
		}
		if n := count(t, d, "events"); n != 0 {
			t.Fatal("the refused submission was stored")
		}
		sub = submission(f.ann)
		sub.DraftID = id
		if _, err := f.svc.Submit(ctx, sub, ward); err != nil {
			t.Fatal(err)
		}
		if list, _ := f.svc.Drafts(ctx, f.ann); len(list) != 0 {
			t.Fatal("the draft stayed after its event was submitted")
		}
	})
}

// Submissions made at the same moment each get their own reference.
func TestParallelSubmissionsGetTheirOwnReferences(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		var mu sync.Mutex
		refs := map[Reference]bool{}
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				ev, err := f.svc.Submit(context.Background(), submission(f.ann), Client{IP: fmt.Sprint("192.0.2.", i)})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				refs[ev.Reference] = true
				mu.Unlock()
			})
		}
		wg.Wait()
		if len(refs) != 20 || count(t, d, "events") != 20 {
			t.Fatalf("%d distinct references for 20 submissions", len(refs))
		}
	})
}
