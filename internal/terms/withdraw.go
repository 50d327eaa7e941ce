package terms

import (
	"context"
	"fmt"
	"strconv"

	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
)

// WithdrawConsent withdraws the user's consent to p at once, as a one-click
// unsubscribe link asks (P7, RFC 8058): the consent is set to not given,
// the change is appended to the consent history with the privacy policy
// version the user had accepted, and audited with via (such as
// "unsubscribe link") saying how it was asked for, all in one transaction.
// It reports whether anything changed: withdrawing a consent not given
// (twice, or for an account since erased) changes nothing and records
// nothing. Unlike SetConsents it needs no accepted privacy policy, since
// it can only take a consent away.
func (s *Service) WithdrawConsent(ctx context.Context, userID int64, p Purpose, c Client, via string) (bool, error) {
	changed := false
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE consents SET granted = FALSE, updated_at = $1
			WHERE user_id = $2 AND purpose = $3 AND granted`, tx.Now, userID, p)
		if err != nil {
			return fmt.Errorf("terms: withdraw consent %s: %w", p, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		changed = true
		var privacy int
		err = tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM acceptances WHERE user_id = $1 AND kind = $2`,
			userID, Privacy).Scan(&privacy)
		if err != nil {
			return fmt.Errorf("terms: accepted privacy version: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO consent_history (user_id, purpose, granted, privacy_version, changed_at, ip)
			VALUES ($1, $2, FALSE, $3, $4, $5)`, userID, p, privacy, tx.Now, c.IP)
		if err != nil {
			return fmt.Errorf("terms: consent history: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: userID, Action: "consent.change", SubjectType: "user",
			SubjectID: strconv.FormatInt(userID, 10), IP: c.IP, Details: map[string]string{string(p): "not given", "via": via}})
	})
	if err != nil {
		return false, err
	}
	return changed, nil
}
