package mail

import (
	"context"
	"fmt"

	"github.com/psims/psims/internal/db"
)

// EraseAddress deletes every email to addr from the outbox inside the
// caller's transaction, when its owner is erased (P15): the outbox is the
// record of what was sent, and the messages name the person. The outcome
// email of the erasure is queued after this, in the same transaction, and
// is the one message kept. It returns how many rows went.
func (o *Outbox) EraseAddress(ctx context.Context, tx *db.Tx, addr string) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE to_addr = $1`, addr)
	if err != nil {
		return 0, fmt.Errorf("mail: erase outbox rows: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
