package db

import (
	"context"
	"fmt"
	"sync"
)

// maxGroup is the most callers one shared commit serves.
const maxGroup = 64

// group lets callers of InSharedTx share SQLite commits. Callers queue in
// waiting; one of them at a time (the leader) takes everyone waiting, runs
// their functions in one transaction and commits it, then hands the lead to
// the next caller waiting, if any. No goroutine runs in the background.
type group struct {
	mu      sync.Mutex
	waiting []*groupCall
	leading bool // a caller is committing
}

// groupCall is one caller waiting on a shared commit.
type groupCall struct {
	ctx  context.Context
	fn   func(tx *Tx) error
	done chan groupResult
}

// groupResult answers a caller: its error, or that it now leads.
type groupResult struct {
	err  error
	lead bool
}

// InSharedTx runs fn in a write transaction, like InTx, and returns once the
// transaction's commit is durable or has failed. On SQLite the transaction
// may be shared with other callers waiting at the same time (a group
// commit): each fn runs inside its own savepoint, so its changes are kept or
// undone as a unit and an error from one fn touches nobody else's, and the
// one commit, its write-ahead log pages and its fsync, serves them all. fn
// must do nothing but its statements, since others wait on it. tx.Now is the
// shared transaction's time. PostgreSQL commits many connections in parallel
// and runs fn with InTx.
func (d *DB) InSharedTx(ctx context.Context, fn func(tx *Tx) error) error {
	if d.group == nil {
		return d.InTx(ctx, fn)
	}
	call := &groupCall{ctx: ctx, fn: fn, done: make(chan groupResult, 1)}
	g := d.group
	g.mu.Lock()
	g.waiting = append(g.waiting, call)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	for {
		if lead {
			d.commitGroup()
		}
		res := <-call.done
		if !res.lead {
			return res.err
		}
		lead = true
	}
}

// commitGroup commits everyone waiting (up to maxGroup), answers them, and
// passes the lead on.
func (d *DB) commitGroup() {
	g := d.group
	g.mu.Lock()
	n := min(len(g.waiting), maxGroup)
	batch := g.waiting[:n:n]
	g.waiting = g.waiting[n:]
	g.mu.Unlock()

	errs := make([]error, len(batch))
	err := d.InTx(context.Background(), func(tx *Tx) error {
		for i, c := range batch {
			if errs[i] = c.ctx.Err(); errs[i] != nil {
				continue
			}
			if _, err := tx.ExecContext(context.Background(), `SAVEPOINT shared`); err != nil {
				return fmt.Errorf("db: savepoint: %w", err)
			}
			if errs[i] = c.fn(tx); errs[i] != nil {
				if _, err := tx.ExecContext(context.Background(), `ROLLBACK TO shared`); err != nil {
					return fmt.Errorf("db: rollback to savepoint: %w", err)
				}
			}
			if _, err := tx.ExecContext(context.Background(), `RELEASE shared`); err != nil {
				return fmt.Errorf("db: release savepoint: %w", err)
			}
		}
		return nil
	})
	for i, c := range batch {
		if err != nil && errs[i] == nil {
			errs[i] = err
		}
		c.done <- groupResult{err: errs[i]}
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.waiting) == 0 {
		g.leading = false
		return
	}
	g.waiting[0].done <- groupResult{lead: true}
}
