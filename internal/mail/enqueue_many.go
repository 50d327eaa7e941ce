package mail

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/psims/psims/internal/db"
)

// enqueueManyRows is how many messages one INSERT carries: 9 parameters a
// message, so 452 a statement, far below both engines' limits (SQLite
// 32,766, PostgreSQL 65,535) and small enough for SQLite's driver, whose
// lookup of numbered parameters grows with the square of their number.
const enqueueManyRows = 50

// EnqueueMany records every message of ms in the outbox with status queued
// and inserts the jobs that send them, all in tx, as Enqueue does for one:
// if tx rolls back, none of them exists. It writes many messages to a
// statement and inserts their jobs in one statement, for callers that
// queue hundreds of messages in one transaction. Every message is checked
// before anything is written; one that is not valid fails the whole call.
// It returns the outbox ids in the order of ms.
func (o *Outbox) EnqueueMany(ctx context.Context, tx *db.Tx, ms []Message) ([]int64, error) {
	for i, m := range ms {
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("mail: enqueue many: message %d: %w", i, err)
		}
	}
	ids := make([]int64, 0, len(ms))
	for start := 0; start < len(ms); start += enqueueManyRows {
		got, err := o.insertMany(ctx, tx, ms[start:min(start+enqueueManyRows, len(ms))])
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
	}
	if len(ids) == 0 {
		return ids, nil
	}
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		params[i] = river.InsertManyParams{Args: SendArgs{OutboxID: id}}
	}
	if err := o.jobs.InsertManyTx(ctx, tx, params); err != nil {
		return nil, fmt.Errorf("mail: enqueue many: %w", err)
	}
	return ids, nil
}

// insertMany writes one statement's messages to the outbox and returns
// their ids in order. The ids come back by message key, which is unique,
// since neither engine promises RETURNING in the order of VALUES.
func (o *Outbox) insertMany(ctx context.Context, tx *db.Tx, ms []Message) ([]int64, error) {
	const perRow = 9
	keys := make([]string, len(ms))
	args := make([]any, 0, 2+perRow*len(ms))
	args = append(args, StatusQueued, tx.Now)
	for i, m := range ms {
		key, err := newMessageKey()
		if err != nil {
			return nil, fmt.Errorf("mail: enqueue many: %w", err)
		}
		keys[i] = key
		var secret sql.NullString
		if m.Secret != "" {
			secret = sql.NullString{String: m.Secret, Valid: true}
		}
		category := m.Category
		if category == "" {
			category = CategoryService
		}
		args = append(args, m.To, m.Subject, m.Text, m.HTML, secret, key, category, m.ListUnsubscribe, m.Batch)
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO outbox (status, attempts, last_error, created_at,
			to_addr, subject, body_text, body_html, secret, message_key, category, list_unsubscribe, batch)
		VALUES `+db.Values(len(ms), perRow, 3, "$1, 0, '', $2, ")+` RETURNING id, message_key`, args...)
	if err != nil {
		return nil, fmt.Errorf("mail: enqueue many: %w", err)
	}
	defer rows.Close()
	byKey := make(map[string]int64, len(ms))
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return nil, fmt.Errorf("mail: enqueue many: %w", err)
		}
		byKey[key] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mail: enqueue many: %w", err)
	}
	ids := make([]int64, len(ms))
	for i, key := range keys {
		if ids[i] = byKey[key]; ids[i] == 0 {
			return nil, fmt.Errorf("mail: enqueue many: message %d was not stored", i)
		}
	}
	return ids, nil
}
