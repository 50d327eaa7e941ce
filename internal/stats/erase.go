package stats

import (
	"context"
	"fmt"

	"github.com/psims/psims/internal/db"
)

// ErasePreReleaseAddress removes, inside an erasure's transaction, the
// address addr from every publication's pre-release list: the list is kept
// by address, and an erased person sees no more publications early (P15).
// Who created a publication or added a name stays, pointing at the erased
// account's tombstone, which names nobody, as the audit log does.
func ErasePreReleaseAddress(ctx context.Context, tx *db.Tx, addr string) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM statistics_prerelease WHERE lower(email) = lower($1)`, addr)
	if err != nil {
		return 0, fmt.Errorf("stats: erase a pre-release address: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("stats: erase a pre-release address: %w", err)
	}
	return n, nil
}
