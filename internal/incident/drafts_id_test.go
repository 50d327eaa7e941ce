package incident

import (
	"context"
	"testing"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// A tab left open on a deleted draft must not open the next draft under
// the same address (issue 11 item 12).
func TestADeletedDraftsIDIsNeverGivenToANewDraft(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		first, err := f.svc.SaveDraft(ctx, f.ann, 0, Incident, Answers{"q": {"first"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteDraft(ctx, f.ann, first); err != nil {
			t.Fatal(err)
		}
		second, err := f.svc.SaveDraft(ctx, f.ann, 0, Incident, Answers{"q": {"second"}})
		if err != nil {
			t.Fatal(err)
		}
		if second == first {
			t.Fatalf("new draft got the deleted draft's id %d", first)
		}
		if _, err := f.svc.Draft(ctx, f.ann, first); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("the deleted draft's address opens something: %v", err)
		}
	})
}
