package terms

import (
	"context"
	"fmt"
	"time"
)

// PersonalData is what the terms part holds about one person, for
// "Download my data" and legal disclosures (P15, P18): every acceptance
// in the ledger, their consents now and the history of their choices.
type PersonalData struct {
	Acceptances []AcceptanceRecord `json:"acceptances"`
	Consents    map[Purpose]bool   `json:"consents"`
	History     []ConsentRecord    `json:"consent_history"`
}

// AcceptanceRecord is one row of the acceptance ledger.
type AcceptanceRecord struct {
	Kind       Kind      `json:"document"`
	Version    int       `json:"version"`
	AcceptedAt time.Time `json:"accepted_at"`
	IP         string    `json:"ip"`
	Browser    string    `json:"browser"`
}

// ConsentRecord is one change of a consent.
type ConsentRecord struct {
	Purpose        Purpose   `json:"purpose"`
	Granted        bool      `json:"granted"`
	PrivacyVersion int       `json:"privacy_version"`
	ChangedAt      time.Time `json:"changed_at"`
	IP             string    `json:"ip"`
}

// PersonalData reads what the terms part holds about userID, oldest first.
func (s *Service) PersonalData(ctx context.Context, userID int64) (PersonalData, error) {
	pd := PersonalData{Acceptances: []AcceptanceRecord{}, History: []ConsentRecord{}}
	rows, err := s.db.QueryContext(ctx, `SELECT kind, version, accepted_at, ip, user_agent FROM acceptances
		WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return PersonalData{}, fmt.Errorf("terms: personal data: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a AcceptanceRecord
		if err := rows.Scan(&a.Kind, &a.Version, &a.AcceptedAt, &a.IP, &a.Browser); err != nil {
			return PersonalData{}, fmt.Errorf("terms: personal data: %w", err)
		}
		a.AcceptedAt = a.AcceptedAt.UTC()
		pd.Acceptances = append(pd.Acceptances, a)
	}
	if err := rows.Err(); err != nil {
		return PersonalData{}, fmt.Errorf("terms: personal data: %w", err)
	}
	rows.Close()

	hist, err := s.db.QueryContext(ctx, `SELECT purpose, granted, privacy_version, changed_at, ip FROM consent_history
		WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return PersonalData{}, fmt.Errorf("terms: personal data: %w", err)
	}
	defer hist.Close()
	for hist.Next() {
		var c ConsentRecord
		if err := hist.Scan(&c.Purpose, &c.Granted, &c.PrivacyVersion, &c.ChangedAt, &c.IP); err != nil {
			return PersonalData{}, fmt.Errorf("terms: personal data: %w", err)
		}
		c.ChangedAt = c.ChangedAt.UTC()
		pd.History = append(pd.History, c)
	}
	if err := hist.Err(); err != nil {
		return PersonalData{}, fmt.Errorf("terms: personal data: %w", err)
	}
	c, err := s.Consents(ctx, userID)
	if err != nil {
		return PersonalData{}, err
	}
	pd.Consents = map[Purpose]bool{}
	for _, p := range Purposes() {
		pd.Consents[p] = c.Granted[p]
	}
	return pd, nil
}
