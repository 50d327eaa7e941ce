package usage

import (
	"context"
	"fmt"

	"github.com/psims/psims/internal/db"
)

// ErasePerson deletes the person's usage events and per-person rollups
// inside the caller's transaction, when they are erased (P15). The
// aggregates (usage_days, usage_period_users) hold counts of people, not
// people, and stay. It returns how many rows of each went.
//
// Events still in the Writer's buffer when the erasure commits are
// written after it; the erasure ends every session first, so at most the
// last second or so of a person's use can follow, and DeleteExpired takes
// it with the rest at the end of the retention period.
func ErasePerson(ctx context.Context, tx *db.Tx, userID int64) (map[string]int64, error) {
	counts := map[string]int64{}
	for _, st := range []struct{ key, query string }{
		{"usage_events", `DELETE FROM usage_events WHERE user_id = $1`},
		{"usage_user_days", `DELETE FROM usage_user_days WHERE user_id = $1`},
		{"usage_user_periods", `DELETE FROM usage_user_periods WHERE user_id = $1`},
	} {
		res, err := tx.ExecContext(ctx, st.query, userID)
		if err != nil {
			return nil, fmt.Errorf("usage: erase %s: %w", st.key, err)
		}
		counts[st.key], _ = res.RowsAffected()
	}
	return counts, nil
}
