package org

import (
	"context"
	"fmt"
	"slices"

	"github.com/psims/psims/internal/db"
)

// This file loads many organisations at once, for demonstrations and
// benchmarks (internal/demo), in the caller's transaction so that a demo
// is all there or not there at all. Import stays the path for real
// organisation files.

// loadBatch is how many organisations one INSERT writes: 5 parameters a
// row makes a few hundred a statement, far below both engines' limits and
// small enough for SQLite's driver, which looks up each numbered
// parameter among all of them, in time growing with the square of their
// number.
const loadBatch = 100

// Codes returns the code of every stored organisation, active or not, read
// in tx: the codes a load must not use again.
func (s *Store) Codes(ctx context.Context, tx *db.Tx) (map[string]bool, error) {
	return existingCodes(ctx, tx)
}

// Load adds orgs in tx, many to a statement, created and updated at
// tx.Now. A parent must be stored already or come earlier in orgs. Each
// needs a code, a name and a known type; a code already stored fails the
// load, and so the caller's transaction.
func (s *Store) Load(ctx context.Context, tx *db.Tx, orgs []Organisation) error {
	for i, o := range orgs {
		if o.Code.IsZero() || o.Name == "" || !slices.Contains(Types(), o.Type) {
			return fmt.Errorf("org: load organisation %d: it needs a code, a name and a type, not %q, %q, %q", i, o.Code, o.Name, o.Type)
		}
	}
	for start := 0; start < len(orgs); start += loadBatch {
		batch := orgs[start:min(start+loadBatch, len(orgs))]
		q := `INSERT INTO organisations (created_at, updated_at, ods_code, name, org_type, parent_ods, active) VALUES ` +
			db.Values(len(batch), 5, 2, "$1, $1, ")
		args := make([]any, 0, 1+5*len(batch))
		args = append(args, tx.Now)
		for _, o := range batch {
			var parent any
			if !o.Parent.IsZero() {
				parent = o.Parent.String()
			}
			args = append(args, o.Code.String(), o.Name, string(o.Type), parent, o.Active)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("org: load organisations: %w", err)
		}
	}
	return nil
}

// Analyze refreshes the statistics the query planner keeps on
// organisations, so that after a large Load it chooses indexes for the new
// size at once rather than when it next gets round to it.
func (s *Store) Analyze(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, "ANALYZE organisations"); err != nil {
		return fmt.Errorf("org: analyze: %w", err)
	}
	return nil
}
