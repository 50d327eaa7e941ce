package apikey

import (
	"context"
	"fmt"

	"github.com/psims/psims/internal/db"
)

// ErasePerson clears, inside an erasure's transaction, userID from the
// keys they created or revoked (P15). The keys stay: they are the
// organisation's, not the person's, and keep working or stay revoked. The
// audit log keeps who did it, as the erased account's tombstone.
func ErasePerson(ctx context.Context, tx *db.Tx, userID int64) (map[string]int64, error) {
	out := map[string]int64{}
	for _, column := range []string{"created_by", "revoked_by"} {
		// column is one of the two names above, never input.
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET `+column+` = NULL WHERE `+column+` = $1`, userID)
		if err != nil {
			return nil, fmt.Errorf("apikey: erase %s: %w", column, err)
		}
		n, _ := res.RowsAffected()
		out["api_keys."+column] = n
	}
	return out, nil
}
