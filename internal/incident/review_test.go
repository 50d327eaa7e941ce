package incident

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

var assignable = []string{"reviewer", "org-admin"}

// makeReviewer gives the user the reviewer role.
func makeReviewer(t *testing.T, d *db.DB, id int64) {
	t.Helper()
	if _, err := d.ExecContext(context.Background(), `UPDATE users SET role = 'reviewer' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
}

func fieldOf(err error) string {
	var fe apperr.Fields
	if !errors.As(err, &fe) || len(fe) == 0 {
		return ""
	}
	return fe[0].Field
}

// TestAReviewGoesFromNewToClosedAndCanBeReopened: each change is audited
// in its transaction; closing needs a note; an assignee must review for the
// event's organisation; a closed review reopens into review, never new;
// notes are guarded, and an edit keeps the old text.
func TestAReviewGoesFromNewToClosedAndCanBeReopened(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d)
		ctx := context.Background()
		makeReviewer(t, d, f.bob)
		ev := f.event(t, f.ann, "RM1", 1, nil)
		rv, err := f.svc.Review(ctx, ev.ID)
		if err != nil || rv.State != ReviewNew || rv.AssigneeID != 0 || !rv.Due.IsZero() || len(rv.Notes) != 0 {
			t.Fatalf("a new event's review = %+v, %v", rv, err)
		}
		set := func(ch ReviewChange) (Review, error) {
			ch.EventID, ch.ActorID, ch.AssignableRoles = ev.ID, f.bob, assignable
			return f.svc.SetReview(ctx, ch, ward)
		}
		due := time.Date(2026, 12, 14, 0, 0, 0, 0, time.UTC)
		for _, c := range []struct {
			name  string
			ch    ReviewChange
			field string
		}{
			{"a reporter as assignee", ReviewChange{State: InReview, AssigneeID: f.ann}, "assignee"},
			{"a reviewer of another organisation", ReviewChange{State: InReview, AssigneeID: f.cat}, "assignee"},
			{"an unknown state", ReviewChange{State: "done"}, "state"},
			{"closing without a note", ReviewChange{State: Closed}, "note"},
			{"a due date before the event", ReviewChange{State: InReview, Due: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}, "due"},
			{"an identifier in a note", ReviewChange{State: InReview, Note: "Spoke to the patient, NHS number 943 476 5919."}, "note"},
		} {
			if _, err := set(c.ch); fieldOf(err) != c.field {
				t.Fatalf("%s: %v, want a problem with %s", c.name, err, c.field)
			}
		}
		if n := countAudit(t, d, "event.review"); n != 0 {
			t.Fatalf("refused changes audited %d times", n)
		}

		rv, err = set(ReviewChange{State: InReview, AssigneeID: f.bob, Due: due, Note: "Asked the ward manager for the rota."})
		if err != nil || rv.State != InReview || rv.AssigneeID != f.bob || !rv.Due.Equal(due) || len(rv.Notes) != 1 {
			t.Fatalf("into review: %+v, %v", rv, err)
		}
		if _, err := set(ReviewChange{State: Closed, AssigneeID: f.bob, Due: due, Note: "Staffing was short; rota changed."}); err != nil {
			t.Fatal(err)
		}
		if _, err := set(ReviewChange{State: ReviewNew, AssigneeID: f.bob}); fieldOf(err) != "state" {
			t.Fatalf("a closed review made new: %v", err)
		}
		rv, err = set(ReviewChange{State: InReview, AssigneeID: f.bob})
		if err != nil || rv.State != InReview || !rv.Due.IsZero() {
			t.Fatalf("reopened: %+v, %v", rv, err)
		}
		if n := countAudit(t, d, "event.review"); n != 3 {
			t.Fatalf("%d review changes audited, want 3", n)
		}

		note := rv.Notes[0]
		if err := f.svc.EditNote(ctx, ev.ID, note.ID, note.Version, f.bob, "Asked the ward manager for the rota and the handover sheet.", ward); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.EditNote(ctx, ev.ID, note.ID, note.Version, f.bob, "Stale.", ward); !errors.Is(err, ErrNoteChangedMeanwhile) {
			t.Fatalf("editing an old version: %v", err)
		}
		if err := f.svc.EditNote(ctx, ev.ID+1000, note.ID, 2, f.bob, "Elsewhere.", ward); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("editing a note through another event: %v", err)
		}
		rv, _ = f.svc.Review(ctx, ev.ID)
		got := rv.Notes[0]
		if got.Version != 2 || got.Body != "Asked the ward manager for the rota and the handover sheet." ||
			len(got.Earlier) != 1 || got.Earlier[0].Body != "Asked the ward manager for the rota." {
			t.Fatalf("edited note = %+v", got)
		}
		if _, err := d.ExecContext(ctx, `UPDATE review_note_versions SET body = 'rewritten' WHERE note_id = $1`, note.ID); err == nil {
			t.Fatal("an old version of a note was rewritten")
		}
		if n := countAudit(t, d, "event.review_note"); n != 3 {
			t.Fatalf("%d note changes audited, want 3", n)
		}
	})
}

func countAudit(t *testing.T, d *db.DB, action string) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = $1`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestListsFilterAndSortByReview: state, assignee, unassigned and due-by
// filters, and the due-date order paged by keyset forwards and back.
func TestListsFilterAndSortByReview(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d)
		ctx := context.Background()
		makeReviewer(t, d, f.bob)
		var evs []Event
		for i := range 7 {
			evs = append(evs, f.event(t, f.ann, "RM1", i+1, nil))
		}
		day := func(n int) time.Time { return time.Date(2026, 12, 10+n, 0, 0, 0, 0, time.UTC) }
		// Events 0-4 are in review with bob, due on days 4, 2, 2, 0, 3; 5 is
		// in review with nobody; 6 is new.
		for i, dueIn := range []int{4, 2, 2, 0, 3} {
			if _, err := f.svc.SetReview(ctx, ReviewChange{EventID: evs[i].ID, ActorID: f.bob, State: InReview, AssigneeID: f.bob,
				AssignableRoles: assignable, Due: day(dueIn)}, ward); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.svc.SetReview(ctx, ReviewChange{EventID: evs[5].ID, ActorID: f.bob, State: InReview, AssignableRoles: assignable}, ward); err != nil {
			t.Fatal(err)
		}
		org := Scope{Orgs: []string{"RM1"}}
		want := func(name string, got []Reference, idx ...int) {
			t.Helper()
			var w []Reference
			for _, i := range idx {
				w = append(w, evs[i].Reference)
			}
			if !slices.Equal(got, w) {
				t.Fatalf("%s: %v, want %v", name, got, w)
			}
		}
		want("new", listAll(t, f.svc, org, Filter{ReviewStates: []ReviewState{ReviewNew}}), 6)
		want("in review, unassigned", listAll(t, f.svc, org, Filter{ReviewStates: []ReviewState{InReview}, Unassigned: true}), 5)
		want("bob's", listAll(t, f.svc, org, Filter{AssigneeID: f.bob}), 4, 3, 2, 1, 0)
		want("due by day 2", listAll(t, f.svc, org, Filter{DueBy: day(2)}), 3, 2, 1)
		want("due soonest", listAll(t, f.svc, org, Filter{Sort: DueSoonest}), 3, 1, 2, 4, 0)

		// Back from the last page of the due order.
		p, err := f.svc.List(ctx, org, Filter{Sort: DueSoonest}, Cursor{}, 3)
		if err != nil {
			t.Fatal(err)
		}
		last, err := f.svc.List(ctx, org, Filter{Sort: DueSoonest}, p.Next, 3)
		if err != nil || p.Count != 5 || last.Events[0].ReviewState != InReview || last.Events[0].AssigneeID != f.bob {
			t.Fatalf("second page: %+v %v", last, err)
		}
		back, err := f.svc.List(ctx, org, Filter{Sort: DueSoonest}, last.Previous, 3)
		if err != nil || !slices.Equal(refs(back.Events), refs(p.Events)) {
			t.Fatalf("back: %v, want %v (%v)", refs(back.Events), refs(p.Events), err)
		}
		if _, err := f.svc.List(ctx, org, Filter{ReviewStates: []ReviewState{"done"}}, Cursor{}, 3); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("an unknown state filter: %v", err)
		}
	})
}
