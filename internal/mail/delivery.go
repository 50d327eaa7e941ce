package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
)

// PerPage is how many messages a page of the outbox view shows.
const PerPage = 50

// Filter chooses the messages a page of the outbox view shows. Empty
// fields match every message.
type Filter struct {
	Status   string
	Category string
	Batch    string
	Page     int // from 1
}

// Delivery is one message as the outbox view shows it: who it is to, what
// it is about and how sending went. Never its bodies or its link.
type Delivery struct {
	ID        int64
	To        string
	Subject   string
	Category  string
	Batch     string
	Status    string
	Attempts  int
	LastError string
	CreatedAt time.Time
	// SentAt is zero until the message is sent.
	SentAt time.Time
	// LinkLost is true when the message carried a one-time link that is
	// no longer stored, so it cannot be sent again.
	LinkLost bool
}

// CanResend reports whether the message may be sent again by a person:
// failed or uncertain, with its one-time link, if it had one, still there.
func (d Delivery) CanResend() bool {
	return (d.Status == StatusFailed || d.Status == StatusUncertain) && !d.LinkLost
}

// DeliveryPage is one page of the outbox view.
type DeliveryPage struct {
	Messages []Delivery
	Total    int // messages the filter matches
	Page     int
	// Counts is how many messages have each status, whatever the filter.
	Counts map[string]int
}

// Pages is how many pages the filter's messages fill.
func (p DeliveryPage) Pages() int { return (p.Total + PerPage - 1) / PerPage }

// Depth is how many messages are still to send: queued and retrying.
func (p DeliveryPage) Depth() int { return p.Counts[StatusQueued] + p.Counts[StatusRetrying] }

// Deliveries returns a page of the outbox, newest first, with the count of
// messages in each status. Only the filters set become conditions, so each
// can use its index (status; batch and status).
func (o *Outbox) Deliveries(ctx context.Context, f Filter) (DeliveryPage, error) {
	counts, err := o.StatusCounts(ctx)
	if err != nil {
		return DeliveryPage{}, err
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Status != "" {
		where = append(where, "status = "+arg(f.Status))
	}
	if f.Category != "" {
		where = append(where, "category = "+arg(f.Category))
	}
	if f.Batch != "" {
		// The batch index leaves out messages of no batch: saying so lets
		// the planner use it.
		where = append(where, "batch = "+arg(f.Batch)+" AND batch <> ''")
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	page := DeliveryPage{Page: max(f.Page, 1), Counts: counts}
	switch {
	case len(where) == 0:
		for _, n := range counts {
			page.Total += n
		}
	case len(where) == 1 && f.Status != "":
		page.Total = counts[f.Status]
	default:
		if err := o.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox`+cond, args...).Scan(&page.Total); err != nil {
			return DeliveryPage{}, fmt.Errorf("mail: count deliveries: %w", err)
		}
	}
	if last := max(page.Pages(), 1); page.Page > last {
		page.Page = last
	}
	// Ids rise in the order messages were queued, so the newest come first
	// by the primary key, with no sort.
	q := `SELECT id, to_addr, subject, category, batch, status, attempts, last_error, created_at, sent_at,
			secret IS NULL AND (body_text LIKE ` + arg("%"+Placeholder+"%") + ` OR body_html LIKE ` + arg("%"+Placeholder+"%") + `)
		FROM outbox` + cond + ` ORDER BY id DESC LIMIT ` + arg(PerPage) + ` OFFSET ` + arg((page.Page-1)*PerPage)
	rows, err := o.db.QueryContext(ctx, q, args...)
	if err != nil {
		return DeliveryPage{}, fmt.Errorf("mail: deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Delivery
		var sentAt sql.NullTime
		if err := rows.Scan(&m.ID, &m.To, &m.Subject, &m.Category, &m.Batch, &m.Status, &m.Attempts, &m.LastError, &m.CreatedAt, &sentAt, &m.LinkLost); err != nil {
			return DeliveryPage{}, fmt.Errorf("mail: deliveries: %w", err)
		}
		if sentAt.Valid {
			m.SentAt = sentAt.Time
		}
		page.Messages = append(page.Messages, m)
	}
	if err := rows.Err(); err != nil {
		return DeliveryPage{}, fmt.Errorf("mail: deliveries: %w", err)
	}
	return page, nil
}

// StatusCounts counts the messages in each status; every status is a key.
func (o *Outbox) StatusCounts(ctx context.Context) (map[string]int, error) {
	counts := map[string]int{}
	for _, st := range Statuses() {
		counts[st] = 0
	}
	rows, err := o.db.QueryContext(ctx, `SELECT status, COUNT(*) FROM outbox GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("mail: status counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("mail: status counts: %w", err)
		}
		counts[st] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mail: status counts: %w", err)
	}
	return counts, nil
}

// ResendTx queues message id, failed or uncertain, to be sent once more,
// inside tx: its status goes back to queued and a send_mail job is
// inserted. It keeps its message key, so the copy has the same Message-ID
// as any that did arrive. It returns the message as it was. The caller
// records who asked, in the same transaction.
//
// Errors: NotFound; Conflict when the message is not failed or uncertain,
// or its one-time link is no longer stored.
func (o *Outbox) ResendTx(ctx context.Context, tx *db.Tx, id int64) (Delivery, error) {
	var m Delivery
	var secret sql.NullString
	var text, htmlBody string
	err := tx.QueryRowContext(ctx, `SELECT id, to_addr, subject, category, batch, status, attempts, last_error, body_text, body_html, secret
		FROM outbox WHERE id = $1`, id).
		Scan(&m.ID, &m.To, &m.Subject, &m.Category, &m.Batch, &m.Status, &m.Attempts, &m.LastError, &text, &htmlBody, &secret)
	if errors.Is(err, sql.ErrNoRows) {
		return Delivery{}, apperr.New(apperr.NotFound, "There is no such message.")
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("mail: resend %d: %w", id, err)
	}
	m.LinkLost = !secret.Valid && (strings.Contains(text, Placeholder) || strings.Contains(htmlBody, Placeholder))
	if m.Status != StatusFailed && m.Status != StatusUncertain {
		return Delivery{}, apperr.New(apperr.Conflict, "Only a message that failed, or whose sending is uncertain, can be sent again.")
	}
	if m.LinkLost {
		return Delivery{}, apperr.New(apperr.Conflict, "This message held a one-time link that is no longer stored, so it cannot be sent again. Ask the person to request a new link.")
	}
	res, err := tx.ExecContext(ctx, `UPDATE outbox SET status = $1, send_started_at = NULL, last_error = ''
		WHERE id = $2 AND status = $3`, StatusQueued, id, m.Status)
	if err != nil {
		return Delivery{}, fmt.Errorf("mail: resend %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return Delivery{}, apperr.New(apperr.Conflict, "The message changed while you were looking at it. Check its status and try again.")
	}
	if err := o.jobs.InsertTx(ctx, tx, SendArgs{OutboxID: id, Resend: m.Attempts}, nil); err != nil {
		return Delivery{}, fmt.Errorf("mail: resend %d: %w", id, err)
	}
	return m, nil
}

// FailedAndUncertain counts the messages that need a person: failed and
// uncertain, for the metrics.
func (o *Outbox) FailedAndUncertain(ctx context.Context) (failed, uncertain int, err error) {
	err = o.db.QueryRowContext(ctx, `SELECT
			COALESCE(SUM(CASE WHEN status = $1 THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN status = $2 THEN 1 ELSE 0 END), 0)
		FROM outbox WHERE status IN ($1, $2)`, StatusFailed, StatusUncertain).Scan(&failed, &uncertain)
	if err != nil {
		return 0, 0, fmt.Errorf("mail: failed and uncertain: %w", err)
	}
	return failed, uncertain, nil
}
