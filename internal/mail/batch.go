package mail

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// BatchCounts counts the messages of one mailing (its Batch, such as
// "newsletter:7") by outbox status.
func (o *Outbox) BatchCounts(ctx context.Context, batch string) (map[string]int, error) {
	rows, err := o.db.QueryContext(ctx, `SELECT status, COUNT(*) FROM outbox WHERE batch = $1 GROUP BY status`, batch)
	if err != nil {
		return nil, fmt.Errorf("mail: batch counts: %w", err)
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, fmt.Errorf("mail: batch counts: %w", err)
		}
		counts[status] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mail: batch counts: %w", err)
	}
	return counts, nil
}

// BatchEntry is one message of a mailing as its status page lists it.
type BatchEntry struct {
	ID        int64
	To        string
	Status    string
	Attempts  int
	LastError string
	// SentAt is zero until the message is sent.
	SentAt time.Time
}

// BatchPage returns up to limit messages of the mailing whose outbox id is
// greater than after, in id order, and whether more follow.
func (o *Outbox) BatchPage(ctx context.Context, batch string, after int64, limit int) ([]BatchEntry, bool, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := o.db.QueryContext(ctx, `SELECT id, to_addr, status, attempts, last_error, sent_at FROM outbox
		WHERE batch = $1 AND id > $2 ORDER BY id LIMIT $3`, batch, after, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("mail: batch page: %w", err)
	}
	defer rows.Close()
	var out []BatchEntry
	for rows.Next() {
		var e BatchEntry
		var sentAt sql.NullTime
		if err := rows.Scan(&e.ID, &e.To, &e.Status, &e.Attempts, &e.LastError, &sentAt); err != nil {
			return nil, false, fmt.Errorf("mail: batch page: %w", err)
		}
		if sentAt.Valid {
			e.SentAt = sentAt.Time.UTC()
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("mail: batch page: %w", err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}
