package concern

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
)

// PerPage is how many reports a page of the queue shows.
const PerPage = 25

// StatusAny in a Filter asks for reports whatever their status.
const StatusAny Status = "any"

// Filter chooses the reports a page of the queue shows.
type Filter struct {
	// Org limits the queue to reports naming an account of that
	// organisation (ODS code); "" is every report, for national admins.
	Org string
	// Status is StatusOpen, StatusClosed or StatusAny; "" means open.
	Status Status
	Kind   Kind // "" for any
	Page   int  // from 1
}

// QueuePage is one page of the queue.
type QueuePage struct {
	Reports []Report
	Total   int // reports the filter matches
	Page    int
	// Open and Overdue count the open reports in the filter's scope
	// (Org), whatever its other choices.
	Open, Overdue int
	Now           time.Time
}

// Pages is how many pages the filter's reports fill.
func (p QueuePage) Pages() int { return (p.Total + PerPage - 1) / PerPage }

// Queue returns a page of reports: open ones past their due time first,
// then open ones by due time (the least time left first), then closed ones,
// newest first. Who may see which organisation's reports is decided by the
// caller (authz), which sets Org.
func (s *Service) Queue(ctx context.Context, f Filter) (QueuePage, error) {
	now := s.db.Now()
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.Org != "" {
		where = append(where, "n.org_ods = "+arg(f.Org))
	}
	scope := slices.Clone(where)
	scopeArgs := slices.Clone(args)
	switch f.Status {
	case StatusAny:
	case StatusClosed:
		where = append(where, "c.status = "+arg(string(StatusClosed)))
	default:
		where = append(where, "c.status = "+arg(string(StatusOpen)))
	}
	if f.Kind != "" {
		where = append(where, "c.kind = "+arg(string(f.Kind)))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	page := QueuePage{Page: max(f.Page, 1), Now: now}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*)`+reportFrom+cond, args...).Scan(&page.Total); err != nil {
		return QueuePage{}, fmt.Errorf("concern: queue count: %w", err)
	}
	if last := max(page.Pages(), 1); page.Page > last {
		page.Page = last
	}
	open, nowArg := arg(string(StatusOpen)), arg(now)
	q := `SELECT ` + reportColumns + reportFrom + cond + ` ORDER BY
		CASE WHEN c.status = ` + open + ` AND c.due_at < ` + nowArg + ` THEN 0 WHEN c.status = ` + open + ` THEN 1 ELSE 2 END,
		CASE WHEN c.status = ` + open + ` THEN c.due_at END, c.id DESC
		LIMIT ` + arg(PerPage) + ` OFFSET ` + arg((page.Page-1)*PerPage)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return QueuePage{}, fmt.Errorf("concern: queue: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return QueuePage{}, fmt.Errorf("concern: queue: %w", err)
		}
		page.Reports = append(page.Reports, r)
	}
	if err := rows.Err(); err != nil {
		return QueuePage{}, fmt.Errorf("concern: queue: %w", err)
	}
	scope = append(scope, "c.status = $"+strconv.Itoa(len(scopeArgs)+1))
	scopeArgs = append(scopeArgs, string(StatusOpen), now)
	err = s.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN c.due_at < $`+strconv.Itoa(len(scopeArgs))+` THEN 1 ELSE 0 END), 0)`+
		reportFrom+` WHERE `+strings.Join(scope, " AND "), scopeArgs...).Scan(&page.Open, &page.Overdue)
	if err != nil {
		return QueuePage{}, fmt.Errorf("concern: queue counts: %w", err)
	}
	return page, nil
}

// Counts returns how many reports are open and how many of those are
// overdue at now, across every organisation: for the operator's metrics.
func (s *Service) Counts(ctx context.Context, now time.Time) (open, overdue int, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN due_at < $1 THEN 1 ELSE 0 END), 0)
		FROM concern_reports WHERE status = $2`, now, string(StatusOpen)).Scan(&open, &overdue)
	if err != nil {
		return 0, 0, fmt.Errorf("concern: counts: %w", err)
	}
	return open, overdue, nil
}

// Action is who does something to a report, and from where.
type Action struct {
	Actor account.User
	IP    string
}

func (a Action) audit(ctx context.Context, tx *db.Tx, action string, id int64, details map[string]string) error {
	return audit.Record(ctx, tx, audit.Entry{ActorID: a.Actor.ID, Action: action, SubjectType: "concern",
		SubjectID: strconv.FormatInt(id, 10), Details: details, IP: a.IP})
}

// openReport locks nothing but checks, inside tx, that the report exists
// and is open. Errors: NotFound; Conflict when it is closed.
func openReport(ctx context.Context, tx *db.Tx, id int64) (sql.NullInt64, error) {
	var status string
	var named sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT status, named_user_id FROM concern_reports WHERE id = $1`, id).Scan(&status, &named)
	if errors.Is(err, sql.ErrNoRows) {
		return named, notFound()
	}
	if err != nil {
		return named, fmt.Errorf("concern: report %d: %w", id, err)
	}
	if Status(status) == StatusClosed {
		return named, apperr.New(apperr.Conflict, "This report is closed.")
	}
	return named, nil
}

func addEntry(ctx context.Context, tx *db.Tx, id, authorID int64, kind, text string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO concern_entries (report_id, author_id, kind, body, created_at) VALUES ($1, $2, $3, $4, $5)`,
		id, db.NullID(authorID), kind, text, tx.Now)
	if err != nil {
		return fmt.Errorf("concern: entry on %d: %w", id, err)
	}
	return nil
}

// AddNote adds a note to an open report, audited. Errors: apperr.Fields
// (field "note") when it is empty, too long or could identify someone
// (T12); NotFound; Conflict when the report is closed.
func (s *Service) AddNote(ctx context.Context, by Action, id int64, text string) error {
	text = CleanText(text)
	var problems apperr.Fields
	checkText(&problems, "note", "Your note", "Enter your note", text)
	if err := problems.Err(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := openReport(ctx, tx, id); err != nil {
			return err
		}
		if err := addEntry(ctx, tx, id, by.Actor.ID, "note", text); err != nil {
			return err
		}
		return by.audit(ctx, tx, "concern.note", id, nil)
	})
}

// Act suspends or deactivates the account the report names (T6), as
// target was seen by the caller, who was authorised to act on it: the
// account service checks it has not changed since, ends its sessions,
// emails the person and audits the change with the report's id under
// "concern". The step is added to the report and audited as
// "concern.action", all in one transaction. Errors: apperr.Fields (field
// "reason") for a missing or unacceptable reason; NotFound; Conflict when
// the report is closed, names another account, or the account cannot move
// to that status; Invalid for a status other than suspended or
// deactivated.
func (s *Service) Act(ctx context.Context, by Action, id int64, target account.User, to account.Status, reason string) error {
	if to != account.StatusSuspended && to != account.StatusDeactivated {
		return apperr.New(apperr.Invalid, "Choose whether to suspend or deactivate the account.")
	}
	reason = CleanText(reason)
	var problems apperr.Fields
	checkText(&problems, "reason", "Reason", "", reason)
	if err := problems.Err(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		named, err := openReport(ctx, tx, id)
		if err != nil {
			return err
		}
		if !named.Valid || named.Int64 != target.ID {
			return apperr.New(apperr.Conflict, "This report does not name that account.")
		}
		ref := strconv.FormatInt(id, 10)
		if err := s.accounts.SetStatusInTx(ctx, tx, by.Actor, target, to, reason, by.IP, map[string]string{"concern": ref}); err != nil {
			return err
		}
		if err := addEntry(ctx, tx, id, by.Actor.ID, string(to), reason); err != nil {
			return err
		}
		return by.audit(ctx, tx, "concern.action", id, map[string]string{"user": strconv.FormatInt(target.ID, 10), "to": string(to)})
	})
}

// Close closes an open report with an outcome and, optionally, an
// explanation that is emailed to the reporter with the outcome, audited,
// in one transaction. An address typed for an account that does not exist
// is forgotten. Errors: apperr.Fields (fields "outcome", "outcome_text");
// NotFound; Conflict when it is already closed.
func (s *Service) Close(ctx context.Context, by Action, id int64, outcome Outcome, text string) error {
	text = CleanText(text)
	var problems apperr.Fields
	if !slices.Contains(Outcomes(), outcome) {
		problems.Add("outcome", "Select the outcome")
	}
	checkText(&problems, "outcome_text", "What you tell the reporter", "", text)
	if err := problems.Err(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := openReport(ctx, tx, id); err != nil {
			return err
		}
		var to mail.Addressee
		var reporter sql.NullInt64
		err := tx.QueryRowContext(ctx, `UPDATE concern_reports SET status = $1, outcome = $2, outcome_text = $3, closed_at = $4,
			closed_by = $5, named_email = '' WHERE id = $6 AND status = $7 RETURNING reporter_id, reporter_name, reporter_email`,
			string(StatusClosed), string(outcome), text, tx.Now, db.NullID(by.Actor.ID), id, string(StatusOpen)).Scan(&reporter, &to.Name, &to.Email)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.Conflict, "Someone else closed this report at the same time.")
		}
		if err != nil {
			return fmt.Errorf("concern: close %d: %w", id, err)
		}
		if reporter.Valid {
			if err := tx.QueryRowContext(ctx, `SELECT email, name FROM users WHERE id = $1`, reporter.Int64).Scan(&to.Email, &to.Name); err != nil {
				return fmt.Errorf("concern: close %d: reporter: %w", id, err)
			}
		}
		if err := addEntry(ctx, tx, id, by.Actor.ID, "closed", outcome.Label()); err != nil {
			return err
		}
		emailed := to.Email != ""
		if emailed {
			if _, err := s.outbox.Enqueue(ctx, tx, mail.ConcernClosed(to, Reference(id), outcome.Label(), text)); err != nil {
				return fmt.Errorf("concern: close %d: %w", id, err)
			}
		}
		return by.audit(ctx, tx, "concern.close", id, map[string]string{"outcome": string(outcome), "emailed": strconv.FormatBool(emailed)})
	})
}
