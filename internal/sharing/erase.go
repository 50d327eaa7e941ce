package sharing

import (
	"context"
	"fmt"

	"github.com/psims/psims/internal/db"
)

// ErasePerson removes, inside an erasure's transaction, userID from the
// recipients of every agreement: an erased person extracts nothing more
// (P15). The registry's record of who registered or revoked an agreement
// and who exported under it stays, pointing at the erased account's
// tombstone, which names nobody, as the audit log does: it is the
// operator's record of what was shared (T4, T15).
func ErasePerson(ctx context.Context, tx *db.Tx, userID int64) (map[string]int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM sharing_agreement_recipients WHERE user_id = $1`, userID)
	if err != nil {
		return nil, fmt.Errorf("sharing: erase: %w", err)
	}
	n, _ := res.RowsAffected()
	return map[string]int64{"sharing_agreement_recipients": n}, nil
}
