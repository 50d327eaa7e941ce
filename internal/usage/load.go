package usage

import (
	"context"
	"fmt"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
)

// loadRows is the most rows one INSERT of Load writes. More rows a
// statement save round trips, but SQLite's driver binds each parameter
// by looking its name up in a list of them all, so a statement's cost
// grows with the square of its parameters: twenty-five rows of ten loaded
// fastest there.
const loadRows = 25

// Load writes events in one transaction with multi-row INSERTs: the bulk
// loader for synthetic usage (psims demo seed --usage, benchmarks), far
// faster than the Writer's row at a time. Events are written as given;
// the rollup must run afterwards. Errors: Conflict when an event falls on
// a day already rolled up, which the rollup would never count.
func Load(ctx context.Context, d *db.DB, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	return d.InTx(ctx, func(tx *db.Tx) error {
		rolled, err := progress(ctx, tx, progressRollup)
		if err != nil {
			return err
		}
		for _, e := range events {
			if dayKey(e.At) <= rolled {
				return apperr.New(apperr.Conflict, fmt.Sprintf("Usage up to %s is already rolled up, so events of %s cannot be added.",
					rolled, dayKey(e.At)))
			}
		}
		values := make([]any, 0, min(len(events), loadRows)*10)
		for len(events) > 0 {
			n := 1
			for _, size := range []int{loadRows, 5} {
				if len(events) >= size {
					n = size
					break
				}
			}
			values = values[:0]
			for _, e := range events[:n] {
				var org any
				if e.OrgCode != "" {
					org = e.OrgCode
				}
				values = append(values, e.At.UTC(), e.Kind, e.Route, e.Status, e.UserID, org, e.SessionHash, e.IP,
					e.Browser.Family, e.Browser.Major)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO usage_events (at, kind, route, status, user_id, org_ods, session_hash, ip,
				browser, browser_major) VALUES `+db.Values(n, 10, 1, ""), values...)
			if err != nil {
				return fmt.Errorf("usage: load events: %w", err)
			}
			events = events[n:]
		}
		return nil
	})
}

// Analyze refreshes the query planner's statistics of the usage tables,
// after a large load, so that it picks the indexes for the new sizes.
func Analyze(ctx context.Context, d *db.DB) error {
	for _, table := range []string{"usage_events", "usage_days", "usage_user_days", "usage_user_periods", "usage_period_users"} {
		if _, err := d.ExecContext(ctx, "ANALYZE "+table); err != nil {
			return fmt.Errorf("usage: analyze %s: %w", table, err)
		}
	}
	return nil
}
