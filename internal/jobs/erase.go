package jobs

import (
	"context"
	"fmt"

	"github.com/psims/psims/internal/db"
)

// AddressEraser returns a function that deletes, inside the caller's
// transaction, the jobs of the given kinds whose arguments name an address
// in their "email" field (a password reset link asked for it), when its
// owner is erased (P15): River keeps finished jobs for a day, and one
// waiting to run would find nobody. A job running now is left to finish.
// The function returns how many went.
//
// Naming the kinds lets River's index on kind find the few jobs that can
// hold an address, instead of reading every job's arguments: during a
// mass mailing River holds a job for each message, and an erasure must
// not read them all. The query differs by engine because River stores the
// arguments as jsonb on PostgreSQL and as SQLite's binary JSON; this
// package is where River's engine is known.
func AddressEraser(kinds ...string) func(ctx context.Context, tx *db.Tx, addr string) (int64, error) {
	return func(ctx context.Context, tx *db.Tx, addr string) (int64, error) {
		var total int64
		for _, kind := range kinds {
			res, err := tx.ExecContext(ctx, `DELETE FROM river_job WHERE kind = $1 AND `+tx.Dialect.JSONText("args", "email")+` = $2 AND state <> 'running'`, kind, addr)
			if err != nil {
				return total, fmt.Errorf("jobs: erase %s jobs naming an address: %w", kind, err)
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return total, nil
	}
}
