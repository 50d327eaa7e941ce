package dataexport

import (
	"context"
	"fmt"

	"github.com/psims/psims/internal/db"
)

// ErasePerson deletes every export of the person's data, their own
// downloads and disclosures about them alike, inside the caller's
// transaction, when they are erased (P15): each is a copy of what erasure
// removes. The audit log keeps that a disclosure was made, with its basis
// and reference. Disclosures a national admin made about others stay,
// showing them as an erased user. It returns how many rows went.
func ErasePerson(ctx context.Context, tx *db.Tx, userID int64) (map[string]int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM data_exports WHERE user_id = $1`, userID)
	if err != nil {
		return nil, fmt.Errorf("dataexport: erase: %w", err)
	}
	n, _ := res.RowsAffected()
	return map[string]int64{"data_exports": n}, nil
}
