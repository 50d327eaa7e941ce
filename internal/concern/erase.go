package concern

import (
	"context"
	"fmt"

	"github.com/psims/psims/internal/db"
)

// EraseReporterAddress blanks the name and address a reporter typed when
// they reported signed out from addr, inside the caller's transaction,
// when that person is erased (P15). The reports stay: they are the
// operator's record of a breach or of unauthorised access (T5). Reports
// made signed in, or naming the person, point at the erased account's
// tombstone, which names nobody. It returns how many reports it blanked.
func EraseReporterAddress(ctx context.Context, tx *db.Tx, addr string) (int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE concern_reports SET reporter_name = '', reporter_email = ''
		WHERE LOWER(reporter_email) = LOWER($1)`, addr)
	if err != nil {
		return 0, fmt.Errorf("concern: erase a reporter's address: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
