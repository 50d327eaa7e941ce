package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/psims/psims/internal/db"
)

// recordManyRows is how many entries one INSERT carries: 8 parameters an
// entry and the shared time, so 401 a statement, far below both engines'
// limits and small enough for SQLite's driver, whose lookup of numbered
// parameters grows with the square of their number.
const recordManyRows = 50

// RecordMany appends es to the log inside tx, in order, as that many calls
// of Record would: the same rows with the same hashes, each entry's
// previous hash the one before it. It takes the appenders' lock and reads
// the chain's head once, chains the hashes in Go and writes many entries
// to a statement, for callers that record hundreds of changes in one
// transaction. Every entry is encoded before anything is written.
func RecordMany(ctx context.Context, tx *db.Tx, es []Entry) error {
	if len(es) == 0 {
		return nil
	}
	details := make([]string, len(es))
	for i, e := range es {
		d, err := encodeDetails(e.Details)
		if err != nil {
			return err
		}
		details[i] = d
	}
	if err := tx.Dialect.Serialize(ctx, tx.Tx, db.LockAudit); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	prev := genesis
	err := tx.QueryRowContext(ctx, `SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	for start := 0; start < len(es); start += recordManyRows {
		end := min(start+recordManyRows, len(es))
		if prev, err = insertMany(ctx, tx, prev, es[start:end], details[start:end]); err != nil {
			return err
		}
	}
	return nil
}

// insertMany writes one statement's entries chained on from prev and
// returns the hash of the last. It checks that the ids the rows were given
// follow the chain's order, which Verify walks: both engines number the
// rows of a VALUES list in order, and an append that found otherwise
// fails, rolling back its transaction, rather than break the chain.
func insertMany(ctx context.Context, tx *db.Tx, prev string, es []Entry, details []string) (string, error) {
	const perRow = 8
	hashes := make([]string, len(es))
	args := make([]any, 0, 1+perRow*len(es))
	args = append(args, tx.Now)
	for i, e := range es {
		r := Row{Entry: e, At: tx.Now, PrevHash: prev}
		r.Hash = r.computeHash(details[i])
		args = append(args, db.NullID(e.ActorID), e.Action, e.SubjectType, e.SubjectID, details[i], e.IP, r.PrevHash, r.Hash)
		hashes[i], prev = r.Hash, r.Hash
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO audit_log
		(at, actor_user_id, action, subject_type, subject_id, details, ip, prev_hash, hash)
		VALUES `+db.Values(len(es), perRow, 2, "$1, ")+` RETURNING id, hash`, args...)
	if err != nil {
		return "", fmt.Errorf("audit: insert %d entries: %w", len(es), err)
	}
	defer rows.Close()
	idOf := make(map[string]int64, len(es))
	for rows.Next() {
		var id int64
		var hash string
		if err := rows.Scan(&id, &hash); err != nil {
			return "", fmt.Errorf("audit: insert %d entries: %w", len(es), err)
		}
		idOf[hash] = id
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("audit: insert %d entries: %w", len(es), err)
	}
	last := int64(0)
	for _, h := range hashes {
		id := idOf[h]
		if id <= last {
			return "", fmt.Errorf("audit: insert %d entries: the rows were not numbered in the chain's order", len(es))
		}
		last = id
	}
	return prev, nil
}
