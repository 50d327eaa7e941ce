package terms

import (
	"context"
	"fmt"

	"github.com/psims/psims/internal/db"
)

// This file loads many acceptances at once, for demonstrations and
// benchmarks (internal/bench), in the caller's transaction. Accept stays
// the path for real people: it checks each version is the current one and
// audits each acceptance.

// loadAcceptanceBatch is how many acceptances one INSERT writes: 3
// parameters a row makes a few hundred a statement, far below both
// engines' limits and small enough for SQLite's driver, which looks up
// each numbered parameter among all of them, in time growing with the
// square of their number.
const loadAcceptanceBatch = 200

// LoadAcceptance is one row of the acceptance ledger for LoadAcceptances.
type LoadAcceptance struct {
	UserID  int64
	Kind    Kind // Terms or Privacy
	Version int  // a published version of Kind
}

// LoadAcceptances records the acceptances in tx, many to a statement, all
// accepted at tx.Now from c, without audit entries: the caller records
// what the load was. Each must be of an accepted kind; a version that was
// never published fails the load, and so the caller's transaction.
func (s *Service) LoadAcceptances(ctx context.Context, tx *db.Tx, c Client, accepted []LoadAcceptance) error {
	for i, a := range accepted {
		if !a.Kind.Accepted() || a.UserID == 0 {
			return fmt.Errorf("terms: load acceptance %d: a user's acceptance of the terms or the privacy policy, not %+v", i, a)
		}
	}
	for start := 0; start < len(accepted); start += loadAcceptanceBatch {
		batch := accepted[start:min(start+loadAcceptanceBatch, len(accepted))]
		q := `INSERT INTO acceptances (accepted_at, ip, user_agent, user_id, kind, version) VALUES ` +
			db.Values(len(batch), 3, 4, "$1, $2, $3, ")
		args := make([]any, 0, 3+3*len(batch))
		args = append(args, tx.Now, c.IP, truncate(c.UserAgent, 500))
		for _, a := range batch {
			args = append(args, a.UserID, a.Kind, a.Version)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("terms: load acceptances: %w", err)
		}
	}
	return nil
}

// FinishNotices marks the change notice of every version published so far
// as done, in tx, so the notice job emails nobody about them: for demo and
// benchmark users loaded as having accepted those versions already, who
// would otherwise each get an email while a benchmark measures.
func (s *Service) FinishNotices(ctx context.Context, tx *db.Tx) error {
	if _, err := tx.ExecContext(ctx, `UPDATE document_notices SET finished_at = $1 WHERE finished_at IS NULL`, tx.Now); err != nil {
		return fmt.Errorf("terms: finish notices: %w", err)
	}
	return nil
}

// Analyze refreshes the statistics the query planner keeps on the
// acceptance ledger, so that after a large load it chooses indexes for
// the new size at once rather than when it next gets round to it.
func (s *Service) Analyze(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, "ANALYZE acceptances"); err != nil {
		return fmt.Errorf("terms: analyze: %w", err)
	}
	return nil
}
