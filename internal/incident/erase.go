package incident

import (
	"context"
	"fmt"

	"github.com/psims/psims/internal/db"
)

// ErasePerson removes the person from events inside the caller's
// transaction, when they are erased (P15). Their drafts are deleted: they
// were never submitted. Events they recorded, their versions and review
// notes they wrote are the organisation's records and stay, still pointing
// at the person's account, which account.Service.ErasePerson turns into a
// tombstone with no name, email or role, so every view shows the reporter
// or author as an erased user; the review of an event assigned to them is
// assigned to nobody. It returns how many rows of each changed.
func (s *Service) ErasePerson(ctx context.Context, tx *db.Tx, userID int64) (map[string]int64, error) {
	counts := map[string]int64{}
	for _, st := range []struct{ key, query string }{
		{"drafts", `DELETE FROM drafts WHERE user_id = $1`},
		{"reviews_unassigned", `UPDATE events SET assignee_id = NULL WHERE assignee_id = $1`},
	} {
		res, err := tx.ExecContext(ctx, st.query, userID)
		if err != nil {
			return nil, fmt.Errorf("incident: erase %s: %w", st.key, err)
		}
		counts[st.key], _ = res.RowsAffected()
	}
	for _, c := range []struct{ key, query string }{
		{"events_kept", `SELECT COUNT(*) FROM events WHERE reporter_id = $1`},
		{"review_notes_kept", `SELECT COUNT(*) FROM review_notes WHERE author_id = $1`},
	} {
		var n int64
		if err := tx.QueryRowContext(ctx, c.query, userID).Scan(&n); err != nil {
			return nil, fmt.Errorf("incident: erase: count %s: %w", c.key, err)
		}
		counts[c.key] = n
	}
	return counts, nil
}
