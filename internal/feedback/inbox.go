package feedback

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
)

// PerPage is how many items a page of the inbox shows.
const PerPage = 25

// Who an inbox filter asks for by assignment.
const (
	AssignedAnyone = ""     // assigned or not
	AssignedToMe   = "me"   // assigned to the viewer
	AssignedNobody = "none" // not assigned
)

// Filter chooses the items an inbox page shows. Zero values mean "any".
type Filter struct {
	Kind   Kind
	Status Status
	// Assigned is AssignedAnyone, AssignedToMe or AssignedNobody; "me" is
	// ViewerID.
	Assigned string
	ViewerID int64
	Page     int // from 1
}

// InboxPage is one page of the inbox.
type InboxPage struct {
	Items []Item
	Total int // items the filter matches
	Page  int
	// Overdue counts the items, whatever the filter, still new after more
	// than OverdueAfter working days.
	Overdue int
}

// Pages is how many pages the filter's items fill.
func (p InboxPage) Pages() int { return (p.Total + PerPage - 1) / PerPage }

// Inbox returns a page of items for the operator, newest first. Only
// national admins may see it: the caller asks authz.
func (s *Service) Inbox(ctx context.Context, f Filter) (InboxPage, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.Kind != "" {
		where = append(where, "f.kind = "+arg(string(f.Kind)))
	}
	if f.Status != "" {
		where = append(where, "f.status = "+arg(string(f.Status)))
	}
	switch f.Assigned {
	case AssignedToMe:
		where = append(where, "f.assignee_id = "+arg(f.ViewerID))
	case AssignedNobody:
		where = append(where, "f.assignee_id IS NULL")
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	page := InboxPage{Page: max(f.Page, 1)}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM feedback_items f`+cond, args...).Scan(&page.Total); err != nil {
		return InboxPage{}, fmt.Errorf("feedback: inbox count: %w", err)
	}
	if last := max(page.Pages(), 1); page.Page > last {
		page.Page = last
	}
	q := `SELECT ` + itemColumns + itemFrom + cond + ` ORDER BY f.id DESC LIMIT ` + arg(PerPage) + ` OFFSET ` + arg((page.Page-1)*PerPage)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return InboxPage{}, fmt.Errorf("feedback: inbox: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return InboxPage{}, fmt.Errorf("feedback: inbox: %w", err)
		}
		page.Items = append(page.Items, it)
	}
	if err := rows.Err(); err != nil {
		return InboxPage{}, fmt.Errorf("feedback: inbox: %w", err)
	}
	if page.Overdue, err = s.Overdue(ctx, s.db.Now()); err != nil {
		return InboxPage{}, err
	}
	return page, nil
}

// Overdue counts the items that have waited for an answer, as new, for
// more than OverdueAfter working days at now (see WorkingDaysBefore).
func (s *Service) Overdue(ctx context.Context, now time.Time) (int, error) {
	cutoff := WorkingDaysBefore(now, OverdueAfter, s.uk).UTC()
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM feedback_items WHERE status = $1 AND waiting_since < $2`,
		string(StatusNew), cutoff).Scan(&n); err != nil {
		return 0, fmt.Errorf("feedback: overdue: %w", err)
	}
	return n, nil
}

// Person is someone an item may be assigned to.
type Person struct {
	ID   int64
	Name string
}

// Assignees lists the active national admins, by name: who an item may be
// assigned to.
func (s *Service) Assignees(ctx context.Context) ([]Person, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name FROM users WHERE role = 'national-admin' AND status = 'active' ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("feedback: assignees: %w", err)
	}
	defer rows.Close()
	var out []Person
	for rows.Next() {
		var p Person
		if err := rows.Scan(&p.ID, &p.Name); err != nil {
			return nil, fmt.Errorf("feedback: assignees: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Action is who does something to an item, and from where, for the audit
// log.
type Action struct {
	ActorID int64
	IP      string
}

func (a Action) audit(ctx context.Context, tx *db.Tx, action string, itemID int64, details map[string]string) error {
	return audit.Record(ctx, tx, audit.Entry{ActorID: a.ActorID, Action: action, SubjectType: "feedback",
		SubjectID: strconv.FormatInt(itemID, 10), Details: details, IP: a.IP})
}

// notFound is the error for an item that does not exist.
func notFound() error { return apperr.New(apperr.NotFound, "There is no such message") }

// exists reports whether the item is there, inside tx.
func exists(ctx context.Context, tx *db.Tx, id int64) (bool, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM feedback_items WHERE id = $1`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("feedback: find %d: %w", id, err)
	}
	return n > 0, nil
}

// Assign gives the item to a national admin (assigneeID), or to nobody
// (0), audited. Errors: NotFound; apperr.Fields (field "assignee") when
// the assignee is not an active national admin.
func (s *Service) Assign(ctx context.Context, by Action, itemID, assigneeID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if assigneeID != 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = $1 AND role = 'national-admin' AND status = 'active'`,
				assigneeID).Scan(&n); err != nil {
				return fmt.Errorf("feedback: assign: %w", err)
			}
			if n == 0 {
				return apperr.Fields{{Field: "assignee", Message: "Select a national admin to assign it to"}}
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE feedback_items SET assignee_id = $1, updated_at = $2 WHERE id = $3`,
			db.NullID(assigneeID), tx.Now, itemID)
		if err != nil {
			return fmt.Errorf("feedback: assign %d: %w", itemID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("feedback: assign %d: %w", itemID, err)
		} else if n == 0 {
			return notFound()
		}
		to := "nobody"
		if assigneeID != 0 {
			to = strconv.FormatInt(assigneeID, 10)
		}
		return by.audit(ctx, tx, "feedback.assign", itemID, map[string]string{"assignee": to})
	})
}

// Reply adds the operator's answer to the item's thread and marks the item
// answered, audited, all in one transaction. When the sender agreed to
// replies by email, the reply goes to their account's address through the
// outbox in the same transaction, with a link to the thread; otherwise it
// waits in the thread, under their "Your account". Errors: NotFound;
// apperr.Fields (field "reply") when the text is empty, too long or holds
// something that could identify anyone (T12); Conflict when the item is
// closed (reopen it first).
func (s *Service) Reply(ctx context.Context, by Action, itemID int64, text string) (Reply, error) {
	text = CleanText(text)
	var problems apperr.Fields
	checkText(&problems, "reply", "Your reply", "Enter your reply", text)
	if err := problems.Err(); err != nil {
		return Reply{}, err
	}
	r := Reply{AuthorID: by.ActorID, Text: text}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		r.CreatedAt = tx.Now
		var userID int64
		var kind string
		var mayReply bool
		err := tx.QueryRowContext(ctx, `UPDATE feedback_items SET status = $1, updated_at = $2 WHERE id = $3 AND status <> $4
			RETURNING user_id, kind, may_reply`, string(StatusAnswered), tx.Now, itemID, string(StatusClosed)).Scan(&userID, &kind, &mayReply)
		if errors.Is(err, sql.ErrNoRows) {
			found, err := exists(ctx, tx, itemID)
			if err != nil {
				return err
			}
			if !found {
				return notFound()
			}
			return apperr.New(apperr.Conflict, "This message is closed. Reopen it before you reply.")
		}
		if err != nil {
			return fmt.Errorf("feedback: reply to %d: %w", itemID, err)
		}
		if mayReply {
			var to mail.Addressee
			if err := tx.QueryRowContext(ctx, `SELECT email, name FROM users WHERE id = $1`, userID).Scan(&to.Email, &to.Name); err != nil {
				return fmt.Errorf("feedback: reply to %d: sender: %w", itemID, err)
			}
			m := mail.FeedbackReply(to, Reference(itemID), Kind(kind).Label(), text, s.threadURL+"/"+strconv.FormatInt(itemID, 10))
			if _, err := s.outbox.Enqueue(ctx, tx, m); err != nil {
				return fmt.Errorf("feedback: reply to %d: %w", itemID, err)
			}
			r.Emailed = true
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO feedback_replies (item_id, author_id, body, emailed, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, itemID, db.NullID(by.ActorID), text, r.Emailed, tx.Now).Scan(&r.ID); err != nil {
			return fmt.Errorf("feedback: reply to %d: %w", itemID, err)
		}
		return by.audit(ctx, tx, "feedback.reply", itemID, map[string]string{"emailed": strconv.FormatBool(r.Emailed)})
	})
	if err != nil {
		return Reply{}, err
	}
	return r, nil
}

// SetStatus closes the item (to StatusClosed, from new or answered) or
// reopens it (to StatusNew, from closed, which starts its wait again),
// audited. An item becomes answered only by a reply. Errors: NotFound;
// Invalid for another status; Conflict when the item is already closed,
// or is not closed when reopened.
func (s *Service) SetStatus(ctx context.Context, by Action, itemID int64, to Status) error {
	var q, action, conflict string
	switch to {
	case StatusClosed:
		q = `UPDATE feedback_items SET status = $1, updated_at = $2 WHERE id = $3 AND status <> $1`
		action, conflict = "feedback.close", "This message is already closed."
	case StatusNew:
		q = `UPDATE feedback_items SET status = $1, updated_at = $2, waiting_since = $2 WHERE id = $3 AND status = '` + string(StatusClosed) + `'`
		action, conflict = "feedback.reopen", "Only a closed message can be reopened."
	default:
		return apperr.New(apperr.Invalid, "A message can only be closed or reopened; it is answered by replying")
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, q, string(to), tx.Now, itemID)
		if err != nil {
			return fmt.Errorf("feedback: status of %d: %w", itemID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("feedback: status of %d: %w", itemID, err)
		}
		if n == 0 {
			found, err := exists(ctx, tx, itemID)
			if err != nil {
				return err
			}
			if !found {
				return notFound()
			}
			return apperr.New(apperr.Conflict, conflict)
		}
		return by.audit(ctx, tx, action, itemID, nil)
	})
}
