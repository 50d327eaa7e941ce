package incident

import (
	"context"
	"fmt"
	"time"
)

// PersonalEvent is an event a person recorded, as "Download my data" and
// legal disclosures show it (P15, P18): its reference, type and dates,
// never its answers, which describe other people, and never its review,
// which is the organisation's own working.
type PersonalEvent struct {
	Reference    Reference `json:"reference"`
	Type         Type      `json:"type"`
	OrgCode      string    `json:"organisation_code"`
	Status       string    `json:"status"` // "submitted", or "amended" once a later version exists
	Version      int       `json:"version"`
	OccurredFrom time.Time `json:"occurred_from"`
	OccurredTo   time.Time `json:"occurred_to"`
	SubmittedAt  time.Time `json:"submitted_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// PersonalDraft is a draft a person keeps: its type and dates, not its
// answers.
type PersonalDraft struct {
	ID        int64     `json:"id"`
	Type      Type      `json:"type"`
	Status    string    `json:"status"` // always "draft"
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PersonalData lists the events userID recorded and the drafts they keep,
// oldest first.
func (s *Service) PersonalData(ctx context.Context, userID int64) ([]PersonalEvent, []PersonalDraft, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT reference, event_type, org_ods, version, occurred_from, occurred_to, submitted_at, updated_at
		FROM events WHERE reporter_id = $1 ORDER BY submitted_at, id`, userID)
	if err != nil {
		return nil, nil, fmt.Errorf("incident: personal data: %w", err)
	}
	defer rows.Close()
	events := []PersonalEvent{}
	for rows.Next() {
		var e PersonalEvent
		if err := rows.Scan(&e.Reference, &e.Type, &e.OrgCode, &e.Version, &e.OccurredFrom, &e.OccurredTo, &e.SubmittedAt, &e.UpdatedAt); err != nil {
			return nil, nil, fmt.Errorf("incident: personal data: %w", err)
		}
		e.Status = "submitted"
		if e.Version > 1 {
			e.Status = "amended"
		}
		e.OccurredFrom, e.OccurredTo, e.SubmittedAt, e.UpdatedAt = e.OccurredFrom.UTC(), e.OccurredTo.UTC(), e.SubmittedAt.UTC(), e.UpdatedAt.UTC()
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("incident: personal data: %w", err)
	}
	rows.Close()
	drows, err := s.db.QueryContext(ctx, `SELECT id, event_type, created_at, updated_at FROM drafts WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, nil, fmt.Errorf("incident: personal data: drafts: %w", err)
	}
	defer drows.Close()
	drafts := []PersonalDraft{}
	for drows.Next() {
		d := PersonalDraft{Status: "draft"}
		if err := drows.Scan(&d.ID, &d.Type, &d.CreatedAt, &d.UpdatedAt); err != nil {
			return nil, nil, fmt.Errorf("incident: personal data: drafts: %w", err)
		}
		d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
		drafts = append(drafts, d)
	}
	return events, drafts, drows.Err()
}
