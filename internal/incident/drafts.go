package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/psims/psims/internal/apperr"
)

// Draft is an event being recorded, saved so its author can come back to
// it. Only its author sees it.
type Draft struct {
	ID        int64
	UserID    int64
	Type      Type
	Answers   Answers
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SaveDraft stores answers as the user's draft id, or as a new draft when
// id is 0, and returns its id. The identifier guard runs first: a draft
// holding anything that could identify someone is not saved (T12).
// Errors: Invalid (with field errors), NotFound when id is not the user's.
func (s *Service) SaveDraft(ctx context.Context, userID, id int64, t Type, answers Answers) (int64, error) {
	if _, err := ParseType(string(t)); err != nil {
		return 0, err
	}
	if err := checkShape(answers); err != nil {
		return 0, err
	}
	if err := checkAnswers(answers); err != nil {
		return 0, err
	}
	body, err := json.Marshal(answers)
	if err != nil {
		return 0, fmt.Errorf("incident: encode draft: %w", err)
	}
	now := s.db.Now()
	if id == 0 {
		err := s.db.WriteRowContext(ctx, `INSERT INTO drafts (user_id, event_type, answers, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $4) RETURNING id`, userID, t, string(body), now).Scan(&id)
		if err != nil {
			return 0, fmt.Errorf("incident: insert draft: %w", err)
		}
		return id, nil
	}
	res, err := s.db.ExecContext(ctx, `UPDATE drafts SET event_type = $1, answers = $2, updated_at = $3, reminded_at = NULL
		WHERE id = $4 AND user_id = $5`, t, string(body), now, id, userID)
	if err != nil {
		return 0, fmt.Errorf("incident: update draft: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return 0, apperr.New(apperr.NotFound, "That draft no longer exists.")
	}
	return id, nil
}

const draftColumns = `id, user_id, event_type, answers, created_at, updated_at`

func scanDraft(row interface{ Scan(...any) error }) (Draft, error) {
	var d Draft
	var answers string
	if err := row.Scan(&d.ID, &d.UserID, &d.Type, &answers, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return Draft{}, err
	}
	if err := json.Unmarshal([]byte(answers), &d.Answers); err != nil {
		return Draft{}, fmt.Errorf("incident: decode draft %d: %w", d.ID, err)
	}
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return d, nil
}

// Draft returns the user's draft id. Errors: NotFound, also for another
// user's draft.
func (s *Service) Draft(ctx context.Context, userID, id int64) (Draft, error) {
	d, err := scanDraft(s.db.QueryRowContext(ctx, `SELECT `+draftColumns+` FROM drafts WHERE id = $1 AND user_id = $2`, id, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return Draft{}, apperr.New(apperr.NotFound, "That draft no longer exists.")
	}
	if err != nil {
		return Draft{}, fmt.Errorf("incident: draft: %w", err)
	}
	return d, nil
}

// Drafts returns the user's drafts, the most recently saved first.
func (s *Service) Drafts(ctx context.Context, userID int64) ([]Draft, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+draftColumns+` FROM drafts WHERE user_id = $1 ORDER BY updated_at DESC, id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("incident: drafts: %w", err)
	}
	defer rows.Close()
	var list []Draft
	for rows.Next() {
		d, err := scanDraft(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, d)
	}
	return list, rows.Err()
}

// DeleteDraft deletes the user's draft. Errors: NotFound.
func (s *Service) DeleteDraft(ctx context.Context, userID, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM drafts WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return fmt.Errorf("incident: delete draft: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return apperr.New(apperr.NotFound, "That draft no longer exists.")
	}
	return nil
}
