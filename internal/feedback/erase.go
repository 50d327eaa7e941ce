package feedback

import (
	"context"
	"fmt"

	"github.com/psims/psims/internal/db"
)

// ErasePerson deletes the feedback and questions the person sent, with
// the replies to them, inside the caller's transaction, when they are
// erased (P15): the texts are theirs and about them. Items assigned to
// them (as a national admin) are assigned to nobody; replies they wrote
// as a national admin stay, as the sender's conversation, and show the
// author as an erased user. It returns how many rows of each went.
func (s *Service) ErasePerson(ctx context.Context, tx *db.Tx, userID int64) (map[string]int64, error) {
	counts := map[string]int64{}
	for _, st := range []struct{ key, query string }{
		{"feedback_replies", `DELETE FROM feedback_replies WHERE item_id IN (SELECT id FROM feedback_items WHERE user_id = $1)`},
		{"feedback_items", `DELETE FROM feedback_items WHERE user_id = $1`},
		{"feedback_unassigned", `UPDATE feedback_items SET assignee_id = NULL WHERE assignee_id = $1`},
	} {
		res, err := tx.ExecContext(ctx, st.query, userID)
		if err != nil {
			return nil, fmt.Errorf("feedback: erase %s: %w", st.key, err)
		}
		counts[st.key], _ = res.RowsAffected()
	}
	return counts, nil
}
