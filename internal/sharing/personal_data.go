package sharing

import (
	"context"
	"fmt"
	"time"
)

// PersonalData is what the registry holds about one person, for their
// "Download my data" and legal disclosures (P15, P18): the agreements
// naming them as a recipient and the extracts they made. Who else an
// agreement names, and the agreement's approver, are left out.
type PersonalData struct {
	NamedIn  []PersonalAgreement `json:"agreements_naming_you"`
	Extracts []PersonalExtract   `json:"extracts_you_made"`
}

// PersonalAgreement is an agreement naming the person as a recipient.
type PersonalAgreement struct {
	Reference string    `json:"reference"`
	Recipient string    `json:"recipient"`
	Purpose   string    `json:"purpose"`
	StartsOn  time.Time `json:"starts_on"`
	EndsOn    time.Time `json:"ends_on"`
	Revoked   bool      `json:"revoked"`
}

// PersonalExtract is one extract the person made under an agreement.
type PersonalExtract struct {
	Agreement string    `json:"agreement_reference"`
	At        time.Time `json:"exported_at"`
	Rows      int       `json:"rows"`
	Scope     string    `json:"scope"`
	Complete  bool      `json:"complete"`
}

// PersonalData reads what the registry holds about userID.
func (s *Service) PersonalData(ctx context.Context, userID int64) (PersonalData, error) {
	out := PersonalData{NamedIn: []PersonalAgreement{}, Extracts: []PersonalExtract{}}
	rows, err := s.db.QueryContext(ctx, `SELECT a.reference, a.recipient, a.purpose, a.starts_on, a.ends_on, a.revoked_at IS NOT NULL
		FROM sharing_agreements a JOIN sharing_agreement_recipients r ON r.agreement_id = a.id
		WHERE r.user_id = $1 ORDER BY a.id`, userID)
	if err != nil {
		return PersonalData{}, fmt.Errorf("sharing: personal data: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a PersonalAgreement
		if err := rows.Scan(&a.Reference, &a.Recipient, &a.Purpose, &a.StartsOn, &a.EndsOn, &a.Revoked); err != nil {
			return PersonalData{}, fmt.Errorf("sharing: personal data: %w", err)
		}
		a.StartsOn, a.EndsOn = a.StartsOn.UTC(), a.EndsOn.UTC()
		out.NamedIn = append(out.NamedIn, a)
	}
	if err := rows.Err(); err != nil {
		return PersonalData{}, fmt.Errorf("sharing: personal data: %w", err)
	}
	rows.Close()
	rows, err = s.db.QueryContext(ctx, `SELECT a.reference, x.exported_at, x.row_count, x.scope, x.complete
		FROM sharing_exports x JOIN sharing_agreements a ON a.id = x.agreement_id
		WHERE x.user_id = $1 ORDER BY x.id`, userID)
	if err != nil {
		return PersonalData{}, fmt.Errorf("sharing: personal data: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var x PersonalExtract
		if err := rows.Scan(&x.Agreement, &x.At, &x.Rows, &x.Scope, &x.Complete); err != nil {
			return PersonalData{}, fmt.Errorf("sharing: personal data: %w", err)
		}
		x.At = x.At.UTC()
		out.Extracts = append(out.Extracts, x)
	}
	if err := rows.Err(); err != nil {
		return PersonalData{}, fmt.Errorf("sharing: personal data: %w", err)
	}
	return out, nil
}
