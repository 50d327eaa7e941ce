package jobs

import (
	"context"
	"fmt"

	"github.com/psims/psims/internal/db"
)

// EraseAddress deletes, inside the caller's transaction, the jobs whose
// arguments name the address in their "email" field (a password reset
// link asked for it), when its owner is erased (P15): River keeps finished
// jobs for a day, and one waiting to run would find nobody. A job running
// now is left to finish. It returns how many went.
//
// The query differs by engine because River stores the arguments as
// jsonb on PostgreSQL and as SQLite's binary JSON; this package is where
// River's engine is known.
func EraseAddress(ctx context.Context, tx *db.Tx, addr string) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM river_job WHERE `+tx.Dialect.JSONText("args", "email")+` = $1 AND state <> 'running'`, addr)
	if err != nil {
		return 0, fmt.Errorf("jobs: erase jobs naming an address: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
