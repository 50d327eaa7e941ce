package usage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/psims/psims/internal/db"
)

// This file holds what the rollup, the minimisation jobs and the reports
// share: the watermarks of usage_progress and reading times back.

// The jobs whose watermarks usage_progress keeps (migration 0016).
const (
	progressRollup  = "rollup"  // the last day rolled up, YYYY-MM-DD; "" before the first
	progressIP      = "ip"      // every address of an event before this time is truncated; "" before the first run
	progressHorizon = "horizon" // the first day whose per-person rows are kept; "" while none was deleted
)

// progressTime is how a time is kept as a watermark: fixed width, so
// that comparing the text compares the times.
const progressTime = "2006-01-02T15:04:05.000000Z"

// querier is what reads go through: the database or a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// progress reads a job's watermark.
func progress(ctx context.Context, q querier, job string) (string, error) {
	var v string
	if err := q.QueryRowContext(ctx, `SELECT value FROM usage_progress WHERE job = $1`, job).Scan(&v); err != nil {
		return "", fmt.Errorf("usage: read the %s watermark: %w", job, err)
	}
	return v, nil
}

// advance moves a job's watermark from was to to, and reports false when
// it was no longer was: another run moved it first, and this one must
// not do the same work again.
func advance(ctx context.Context, tx *db.Tx, job, was, to string) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE usage_progress SET value = $1 WHERE job = $2 AND value = $3`, to, job, was)
	if err != nil {
		return false, fmt.Errorf("usage: move the %s watermark: %w", job, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("usage: move the %s watermark: %w", job, err)
	}
	return n == 1, nil
}

// firstEventAt is the time of the earliest usage event at or after
// from, and false when there is none.
func firstEventAt(ctx context.Context, q querier, from time.Time) (time.Time, bool, error) {
	var at time.Time
	err := q.QueryRowContext(ctx, `SELECT at FROM usage_events WHERE at >= $1 ORDER BY at LIMIT 1`, from.UTC()).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("usage: the first usage event: %w", err)
	}
	return at.UTC(), true, nil
}

// anyTime scans a time that SQLite may return as text: the result of
// MAX over a TIMESTAMP column has no declared type there, so the driver
// does not turn it into a time.
type anyTime struct{ t time.Time }

// Scan implements sql.Scanner.
func (a *anyTime) Scan(v any) error {
	switch x := v.(type) {
	case time.Time:
		a.t = x.UTC()
		return nil
	case string:
		return a.parse(x)
	case []byte:
		return a.parse(string(x))
	}
	return fmt.Errorf("usage: %T is not a time", v)
}

func (a *anyTime) parse(s string) error {
	// The forms SQLite's driver writes times in.
	for _, f := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999Z07:00",
		time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(f, s); err == nil {
			a.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("usage: %q is not a time", s)
}
