// Package audit keeps the tamper-evident audit log. Each entry is written in
// the same transaction as the change it records and holds the hash of the
// entry before it, so changing or removing a row breaks the chain, which
// Verify reports.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/psims/psims/internal/db"
)

// Entry is one thing that happened.
type Entry struct {
	ActorID     int64             // user who acted; 0 for the system or the command line
	Action      string            // dotted name, such as "account.sign_in"
	SubjectType string            // what was acted on, such as "user"
	SubjectID   string            // its identifier
	Details     map[string]string // extra facts; never a password, token or patient identifier
	IP          string            // client address, empty for the command line
}

// Row is an entry as stored.
type Row struct {
	Entry
	ID       int64
	At       time.Time
	PrevHash string
	Hash     string
}

// genesis is the previous hash of the first row.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Record appends e to the log inside tx. Appenders are serialised so the
// chain never forks.
func Record(ctx context.Context, tx *db.Tx, e Entry) error {
	if err := tx.Dialect.Serialize(ctx, tx.Tx, db.LockAudit); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	prev := genesis
	err := tx.QueryRowContext(ctx, `SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	details, err := encodeDetails(e.Details)
	if err != nil {
		return err
	}
	r := Row{Entry: e, At: tx.Now, PrevHash: prev}
	r.Hash = r.computeHash(details)
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log
		(at, actor_user_id, action, subject_type, subject_id, details, ip, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		r.At, db.NullID(e.ActorID), e.Action, e.SubjectType, e.SubjectID, details, e.IP, r.PrevHash, r.Hash)
	if err != nil {
		return fmt.Errorf("audit: insert %s: %w", e.Action, err)
	}
	return nil
}

func encodeDetails(m map[string]string) (string, error) {
	if m == nil {
		m = map[string]string{}
	}
	// encoding/json writes map keys in sorted order, so the text is canonical.
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("audit: encode details: %w", err)
	}
	return string(b), nil
}

func (r Row) computeHash(details string) string {
	h := sha256.New()
	for _, part := range []string{
		r.PrevHash,
		r.At.UTC().Format(time.RFC3339Nano),
		strconv.FormatInt(r.ActorID, 10),
		r.Action, r.SubjectType, r.SubjectID, details, r.IP,
	} {
		// Length-prefix each part so no two different rows hash the same text.
		fmt.Fprintf(h, "%d:%s;", len(part), part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Problem says where the chain is broken.
type Problem struct {
	RowID  int64  // the first row that does not fit the chain
	Reason string // what is wrong with it
}

// Verify walks the whole log in order and returns the number of rows checked
// and the first problem, or nil when the chain is intact.
func Verify(ctx context.Context, d *db.DB) (int, *Problem, error) {
	rows, err := d.QueryContext(ctx, `SELECT id, at, actor_user_id, action, subject_type, subject_id, details, ip, prev_hash, hash
		FROM audit_log ORDER BY id`)
	if err != nil {
		return 0, nil, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	prev := genesis
	n := 0
	for rows.Next() {
		var r Row
		var actor sql.NullInt64
		var details string
		if err := rows.Scan(&r.ID, &r.At, &actor, &r.Action, &r.SubjectType, &r.SubjectID, &details, &r.IP, &r.PrevHash, &r.Hash); err != nil {
			return n, nil, fmt.Errorf("audit: verify: %w", err)
		}
		r.ActorID = actor.Int64
		n++
		if r.PrevHash != prev {
			return n, &Problem{RowID: r.ID, Reason: "the row before it was changed or removed"}, nil
		}
		if r.computeHash(details) != r.Hash {
			return n, &Problem{RowID: r.ID, Reason: "the row was changed"}, nil
		}
		prev = r.Hash
	}
	if err := rows.Err(); err != nil {
		return n, nil, fmt.Errorf("audit: verify: %w", err)
	}
	return n, nil, nil
}

// List returns the newest entries first, at most limit of them, for
// subjectType and subjectID when those are set.
func List(ctx context.Context, d *db.DB, subjectType, subjectID string, limit int) ([]Row, error) {
	rows, err := d.QueryContext(ctx, `SELECT id, at, actor_user_id, action, subject_type, subject_id, details, ip, prev_hash, hash
		FROM audit_log
		WHERE ($1 = '' OR subject_type = $1) AND ($2 = '' OR subject_id = $2)
		ORDER BY id DESC LIMIT $3`, subjectType, subjectID, limit)
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		var actor sql.NullInt64
		var details string
		if err := rows.Scan(&r.ID, &r.At, &actor, &r.Action, &r.SubjectType, &r.SubjectID, &details, &r.IP, &r.PrevHash, &r.Hash); err != nil {
			return nil, fmt.Errorf("audit: list: %w", err)
		}
		r.ActorID = actor.Int64
		if err := json.Unmarshal([]byte(details), &r.Details); err != nil {
			return nil, fmt.Errorf("audit: list: details of row %d: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// decodeDetails reads the details column.
func decodeDetails(s string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("audit: decode details: %w", err)
	}
	return m, nil
}
