package terms

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
)

// Purpose is something a user may consent to. None is needed to use the
// service (P9).
type Purpose string

// The purposes.
const (
	// UsageAnalysis lets usage reports show the user's own activity, not
	// only aggregates (P19).
	UsageAnalysis Purpose = "usage-analysis"
	// Research lets the operator invite the user to user research and
	// surveys.
	Research Purpose = "research"
	// Newsletter sends the user the newsletter (P7).
	Newsletter Purpose = "newsletter"
)

// Purposes lists every purpose, in the order pages show them.
func Purposes() []Purpose { return []Purpose{UsageAnalysis, Research, Newsletter} }

// Label is the purpose as a choice people make.
func (p Purpose) Label() string {
	switch p {
	case UsageAnalysis:
		return "Analysis of how I use the service"
	case Research:
		return "Invitations to user research and surveys"
	case Newsletter:
		return "The newsletter"
	}
	return string(p)
}

// Hint explains what saying yes means.
func (p Purpose) Hint() string {
	switch p {
	case UsageAnalysis:
		return "Usage reports may show the pages you visited and the documents you opened under your name. Without your consent they count your activity only in totals that name nobody."
	case Research:
		return "We may email you to ask you to take part in research or a survey about the service. You can say no to each invitation."
	case Newsletter:
		return "A short email about patient safety learning and changes to the service, about once a week."
	}
	return ""
}

// Consents is a user's current choices.
type Consents struct {
	// Offered is true once the user has made a choice, even to give no
	// consent, so the offer is not repeated.
	Offered bool
	Granted map[Purpose]bool
}

// Consents returns the user's current choices; every purpose not chosen
// is false.
func (s *Service) Consents(ctx context.Context, userID int64) (Consents, error) {
	c := Consents{Granted: map[Purpose]bool{}}
	rows, err := s.db.QueryContext(ctx, `SELECT purpose, granted FROM consents WHERE user_id = $1`, userID)
	if err != nil {
		return Consents{}, fmt.Errorf("terms: consents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p Purpose
		var granted bool
		if err := rows.Scan(&p, &granted); err != nil {
			return Consents{}, fmt.Errorf("terms: scan consent: %w", err)
		}
		c.Offered = true
		c.Granted[p] = granted
	}
	return c, rows.Err()
}

// HasConsent reports whether the user consents to p now. Every part of the
// service that depends on consent asks this, so a withdrawal takes effect
// at once (P15).
func (s *Service) HasConsent(ctx context.Context, userID int64, p Purpose) (bool, error) {
	var granted bool
	err := s.db.QueryRowContext(ctx, `SELECT granted FROM consents WHERE user_id = $1 AND purpose = $2`, userID, p).Scan(&granted)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("terms: consent %s: %w", p, err)
	}
	return granted, nil
}

// SetConsents makes granted the user's choices: each purpose not in it is
// declined. Every change is appended to the history with the privacy
// policy version the user had accepted, and audited. The first call
// records every purpose, so the history shows the choice was offered.
// Errors: Conflict when the user has not accepted a privacy policy.
func (s *Service) SetConsents(ctx context.Context, userID int64, c Client, granted map[Purpose]bool) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var privacy int
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM acceptances WHERE user_id = $1 AND kind = $2`,
			userID, Privacy).Scan(&privacy)
		if err != nil {
			return fmt.Errorf("terms: accepted privacy version: %w", err)
		}
		if privacy == 0 {
			return apperr.New(apperr.Conflict, "Accept the privacy policy before choosing what you consent to.")
		}
		current := map[Purpose]bool{}
		rows, err := tx.QueryContext(ctx, `SELECT purpose, granted FROM consents WHERE user_id = $1`, userID)
		if err != nil {
			return fmt.Errorf("terms: read consents: %w", err)
		}
		for rows.Next() {
			var p Purpose
			var g bool
			if err := rows.Scan(&p, &g); err != nil {
				rows.Close()
				return fmt.Errorf("terms: scan consent: %w", err)
			}
			current[p] = g
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("terms: read consents: %w", err)
		}
		changes := map[string]string{}
		for _, p := range Purposes() {
			want := granted[p]
			if was, ok := current[p]; ok && was == want {
				continue
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO consents (user_id, purpose, granted, updated_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (user_id, purpose) DO UPDATE SET granted = excluded.granted, updated_at = excluded.updated_at`,
				userID, p, want, tx.Now)
			if err != nil {
				return fmt.Errorf("terms: set consent %s: %w", p, err)
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO consent_history (user_id, purpose, granted, privacy_version, changed_at, ip)
				VALUES ($1, $2, $3, $4, $5, $6)`, userID, p, want, privacy, tx.Now, c.IP)
			if err != nil {
				return fmt.Errorf("terms: consent history: %w", err)
			}
			if want {
				changes[string(p)] = "given"
			} else {
				changes[string(p)] = "not given"
			}
		}
		if len(changes) == 0 {
			return nil
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: userID, Action: "consent.change", SubjectType: "user",
			SubjectID: fmt.Sprint(userID), IP: c.IP, Details: changes})
	})
}

// ConsentChange is one entry of a user's consent history.
type ConsentChange struct {
	Purpose        Purpose
	Granted        bool
	PrivacyVersion int // the privacy policy version the choice was made under
	ChangedAt      time.Time
}

// ConsentHistory returns every change of the user's consents, newest first.
func (s *Service) ConsentHistory(ctx context.Context, userID int64) ([]ConsentChange, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT purpose, granted, privacy_version, changed_at FROM consent_history
		WHERE user_id = $1 ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("terms: consent history: %w", err)
	}
	defer rows.Close()
	var list []ConsentChange
	for rows.Next() {
		var ch ConsentChange
		if err := rows.Scan(&ch.Purpose, &ch.Granted, &ch.PrivacyVersion, &ch.ChangedAt); err != nil {
			return nil, fmt.Errorf("terms: scan consent change: %w", err)
		}
		ch.ChangedAt = ch.ChangedAt.UTC()
		list = append(list, ch)
	}
	return list, rows.Err()
}

// ConsentingMembers returns the IDs of the users of the organisation who
// consent to p now, in ID order: the people an organisation's usage
// report may show one by one (P19). A withdrawal takes effect at once.
// A person whose processing is restricted at their request is left out
// while it lasts, whatever they consented to (P15).
func (s *Service) ConsentingMembers(ctx context.Context, orgCode string, p Purpose) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT u.id FROM users u JOIN consents c ON c.user_id = u.id
		WHERE u.org_ods = $1 AND c.purpose = $2 AND c.granted AND u.restricted_at IS NULL ORDER BY u.id`, orgCode, p)
	if err != nil {
		return nil, fmt.Errorf("terms: consenting members: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("terms: consenting members: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("terms: consenting members: %w", err)
	}
	return ids, nil
}
