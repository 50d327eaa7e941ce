package terms

import (
	"context"
	"fmt"

	"github.com/psims/psims/internal/db"
)

// ErasePerson deletes the person's acceptance ledger, consents and consent
// history inside the caller's transaction, when they are erased (P15). It
// returns how many rows of each went.
//
// The ledger is not kept in a pseudonymous form: it exists to show that a
// person who uses the service accepted its terms (T1, T2), and an erased
// person no longer uses it and can never sign in again, so there is
// nothing left for it to prove; its rows hold the address and browser of
// each acceptance, which are personal. The erasure's own audit row, and
// the audit rows of each acceptance, keep the fact under a number that
// names nobody. The triggers only refuse updates, so deleting is allowed.
func (s *Service) ErasePerson(ctx context.Context, tx *db.Tx, userID int64) (map[string]int64, error) {
	counts := map[string]int64{}
	for _, st := range []struct{ key, query string }{
		{"acceptances", `DELETE FROM acceptances WHERE user_id = $1`},
		{"consents", `DELETE FROM consents WHERE user_id = $1`},
		{"consent_history", `DELETE FROM consent_history WHERE user_id = $1`},
	} {
		res, err := tx.ExecContext(ctx, st.query, userID)
		if err != nil {
			return nil, fmt.Errorf("terms: erase %s: %w", st.key, err)
		}
		counts[st.key], _ = res.RowsAffected()
	}
	return counts, nil
}
