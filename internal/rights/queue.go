package rights

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
)

// requestColumns are the columns scanRequest reads, from rights_requests r
// and users u.
const requestColumns = `r.id, r.user_id, u.name, u.email, u.org_ods, u.status, r.kind, r.status, r.reason, r.received_at, r.due_at,
	r.extension_reason, r.outcome, r.closed_at, r.lifted_at, r.updated_at`

const requestFrom = ` FROM rights_requests r JOIN users u ON u.id = r.user_id`

type scanner interface{ Scan(dest ...any) error }

func scanRequest(row scanner) (Request, error) {
	var r Request
	var kind, status, userStatus string
	var closed, lifted sql.NullTime
	err := row.Scan(&r.ID, &r.UserID, &r.UserName, &r.UserEmail, &r.UserOrg, &userStatus, &kind, &status, &r.Reason,
		&r.ReceivedAt, &r.DueAt, &r.ExtensionReason, &r.Outcome, &closed, &lifted, &r.UpdatedAt)
	r.Kind, r.Status = Kind(kind), Status(status)
	if userStatus == string(account.StatusErased) {
		r.UserName, r.UserEmail, r.UserOrg = account.ErasedName, "", ""
	}
	r.ReceivedAt, r.DueAt, r.UpdatedAt = r.ReceivedAt.UTC(), r.DueAt.UTC(), r.UpdatedAt.UTC()
	if closed.Valid {
		t := closed.Time.UTC()
		r.ClosedAt = &t
	}
	if lifted.Valid {
		t := lifted.Time.UTC()
		r.LiftedAt = &t
	}
	return r, err
}

func (s *Service) list(ctx context.Context, q string, args ...any) ([]Request, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("rights: list: %w", err)
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("rights: list: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rights: list: %w", err)
	}
	return out, nil
}

// Mine lists the person's requests, newest first.
func (s *Service) Mine(ctx context.Context, userID int64) ([]Request, error) {
	return s.list(ctx, `SELECT `+requestColumns+requestFrom+` WHERE r.user_id = $1 ORDER BY r.id DESC`, userID)
}

// Get returns one request with its notes. Who may see it is for the
// caller to decide (authz). Errors: NotFound.
func (s *Service) Get(ctx context.Context, id int64) (Request, error) {
	r, err := scanRequest(s.db.QueryRowContext(ctx, `SELECT `+requestColumns+requestFrom+` WHERE r.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Request{}, apperr.New(apperr.NotFound, "There is no such request")
	}
	if err != nil {
		return Request{}, fmt.Errorf("rights: request %d: %w", id, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT n.id, COALESCE(n.author_id, 0), COALESCE(a.name, ''), COALESCE(a.status, ''), n.body, n.created_at
		FROM rights_request_notes n LEFT JOIN users a ON a.id = n.author_id WHERE n.request_id = $1 ORDER BY n.id`, id)
	if err != nil {
		return Request{}, fmt.Errorf("rights: notes of %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var n Note
		var status string
		if err := rows.Scan(&n.ID, &n.AuthorID, &n.AuthorName, &status, &n.Body, &n.CreatedAt); err != nil {
			return Request{}, fmt.Errorf("rights: notes of %d: %w", id, err)
		}
		if status == string(account.StatusErased) || n.AuthorID == 0 {
			n.AuthorName = account.ErasedName
		}
		n.CreatedAt = n.CreatedAt.UTC()
		r.Notes = append(r.Notes, n)
	}
	if err := rows.Err(); err != nil {
		return Request{}, fmt.Errorf("rights: notes of %d: %w", id, err)
	}
	return r, nil
}

// Filter chooses the requests a page of the queue shows. Zero values
// mean "any"; Open chooses the open statuses.
type Filter struct {
	Kind   Kind
	Status Status
	Open   bool
	Page   int // from 1
}

// QueuePage is one page of the queue.
type QueuePage struct {
	Requests []Request
	Total    int
	Page     int
	// Overdue counts the open requests past their due date, whatever the
	// filter.
	Overdue int
}

// Pages is how many pages the filter's requests fill (at least 1).
func (p QueuePage) Pages() int { return max(1, (p.Total+PerPage-1)/PerPage) }

// Queue returns a page of requests for the national admins: overdue ones
// first, then by due date. Only national admins may see it: the caller
// asks authz.
func (s *Service) Queue(ctx context.Context, f Filter) (QueuePage, error) {
	now := s.db.Now()
	page := QueuePage{Page: max(1, f.Page)}
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Kind != "" {
		conds = append(conds, "r.kind = "+arg(string(f.Kind)))
	}
	switch {
	case f.Status != "":
		conds = append(conds, "r.status = "+arg(string(f.Status)))
	case f.Open:
		conds = append(conds, "r.status IN ('received', 'in_progress', 'extended')")
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM rights_requests r`+where, args...).Scan(&page.Total); err != nil {
		return QueuePage{}, fmt.Errorf("rights: count: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM rights_requests
		WHERE status IN ('received', 'in_progress', 'extended') AND due_at < $1`, now).Scan(&page.Overdue); err != nil {
		return QueuePage{}, fmt.Errorf("rights: count overdue: %w", err)
	}
	at := arg(now)
	q := `SELECT ` + requestColumns + requestFrom + where + `
		ORDER BY CASE WHEN r.status IN ('received', 'in_progress', 'extended') AND r.due_at < ` + at + ` THEN 0
			WHEN r.status IN ('received', 'in_progress', 'extended') THEN 1 ELSE 2 END, r.due_at, r.id
		LIMIT ` + arg(PerPage) + ` OFFSET ` + arg((page.Page-1)*PerPage)
	reqs, err := s.list(ctx, q, args...)
	if err != nil {
		return QueuePage{}, err
	}
	page.Requests = reqs
	return page, nil
}
