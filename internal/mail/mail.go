// Package mail sends email through SMTP with the outbox table as the record
// of truth: a message is written to the outbox, and a send_mail job for it
// inserted, in the caller's own transaction, so mail goes out exactly when
// the change that caused it commits.
//
// Messages that carry a one-time link (verify email, reset password) never
// leave a usable token in the database once sent: their bodies hold the
// Placeholder where the link goes, the link waits in the secret column, is
// put in only while sending, and is cleared as soon as the message is sent
// or given up on.
package mail

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/psims/psims/internal/db"
)

// Placeholder marks where a message's one-time link goes in its stored
// bodies.
const Placeholder = "{{secret}}"

// Outbox statuses.
const (
	// StatusQueued is waiting for its first try (or for SMTP to be configured).
	StatusQueued = "queued"
	// StatusRetrying failed at least once and will be tried again.
	StatusRetrying = "retrying"
	// StatusSent was accepted by the SMTP server.
	StatusSent = "sent"
	// StatusFailed failed every try, or was refused permanently (an SMTP
	// 5xx answer), and will not be tried again.
	StatusFailed = "failed"
	// StatusUncertain was being sent when the process stopped: the try was
	// recorded but its outcome never was, so the message may or may not
	// have gone. It is never sent again automatically; a national admin may
	// send it again from the outbox page, with the same Message-ID.
	StatusUncertain = "uncertain"
	// StatusCancelled was a newsletter or invitation whose recipient no
	// longer wanted such messages when it came to be sent.
	StatusCancelled = "cancelled"
)

// Statuses lists every outbox status, in the order the outbox page shows
// them.
func Statuses() []string {
	return []string{StatusQueued, StatusRetrying, StatusSent, StatusFailed, StatusUncertain, StatusCancelled}
}

// Categories lists every message category.
func Categories() []string {
	return []string{CategoryService, CategoryNewsletter, CategoryInvitation}
}

// Message categories. A service notice (security, terms changes, dormancy,
// replies) is always sent; newsletters and invitations only to people who
// still want them, checked again just before sending.
const (
	CategoryService    = "service"
	CategoryNewsletter = "newsletter"
	CategoryInvitation = "invitation"
)

// What List shows in place of a link that is no longer stored.
const (
	LinkRemovedSent   = "[link removed after sending]"
	LinkRemovedFailed = "[link removed after sending failed]"
	// LinkRemovedUnsent is shown for a message cancelled, or left
	// uncertain, before or while it was sent.
	LinkRemovedUnsent = "[link removed: message not known to be sent]"
)

// Message is one email. Text is required; HTML is optional.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
	// Secret is the one-time link (an absolute http or https URL) that
	// replaces Placeholder in Text and HTML when sending. Empty for messages
	// without such a link.
	Secret string
	// Category is CategoryService (the default when empty),
	// CategoryNewsletter or CategoryInvitation.
	Category string
	// ListUnsubscribe is the absolute http or https address that
	// unsubscribes the recipient with one POST (RFC 8058). It is sent in the
	// List-Unsubscribe and List-Unsubscribe-Post headers. Required for
	// newsletters and invitations; empty for service notices.
	ListUnsubscribe string
	// Batch groups the messages of one mailing (a newsletter's
	// "newsletter:ID") for its per-message status; empty otherwise.
	Batch string
}

// Validate reports what is wrong with m, or nil.
func (m Message) Validate() error {
	if _, err := mail.ParseAddress(m.To); err != nil {
		return errors.New("mail: recipient is not an email address")
	}
	if strings.TrimSpace(m.Subject) == "" || strings.ContainsAny(m.Subject, "\r\n") {
		return errors.New("mail: subject must be one non-empty line")
	}
	if strings.TrimSpace(m.Text) == "" {
		return errors.New("mail: text body is empty")
	}
	switch m.Category {
	case "", CategoryService:
		if m.ListUnsubscribe != "" {
			return errors.New("mail: a service notice has no unsubscribe address")
		}
	case CategoryNewsletter, CategoryInvitation:
		u, err := url.Parse(m.ListUnsubscribe)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(m.ListUnsubscribe, "<>, \r\n") {
			return errors.New("mail: a newsletter or invitation needs an absolute http or https unsubscribe address")
		}
	default:
		return errors.New("mail: unknown message category")
	}
	if strings.ContainsAny(m.Batch, "\r\n") || len(m.Batch) > 100 {
		return errors.New("mail: batch must be one short line")
	}
	if m.Secret == "" {
		if strings.Contains(m.Text, Placeholder) || strings.Contains(m.HTML, Placeholder) {
			return errors.New("mail: body has a link placeholder but the message has no link")
		}
		return nil
	}
	u, err := url.Parse(m.Secret)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("mail: link is not an absolute http or https URL")
	}
	if !strings.Contains(m.Text, Placeholder) || (m.HTML != "" && !strings.Contains(m.HTML, Placeholder)) {
		return errors.New("mail: message has a link but a body has no placeholder for it")
	}
	if strings.Contains(m.Text, m.Secret) || strings.Contains(m.HTML, m.Secret) {
		return errors.New("mail: a body contains the link itself; use the placeholder")
	}
	return nil
}

// render returns the bodies as sent: the link put in place of Placeholder,
// HTML-escaped in the HTML body (valid inside an attribute and in text).
func (m Message) render() (text, htmlBody string) {
	if m.Secret == "" {
		return m.Text, m.HTML
	}
	return strings.ReplaceAll(m.Text, Placeholder, m.Secret),
		strings.ReplaceAll(m.HTML, Placeholder, html.EscapeString(m.Secret))
}

// Entry is one outbox row as `psims mail list` shows it.
type Entry struct {
	ID        int64
	To        string
	Subject   string
	Status    string
	Attempts  int
	LastError string
	CreatedAt time.Time
	// SentAt is zero until the message is sent.
	SentAt time.Time
	// Text is the text body with the link put in while the message waits,
	// or a note that the link was removed.
	Text string
}

// JobInserter inserts jobs inside one of our transactions, one or many at
// a time; *jobs.Runner is one.
type JobInserter interface {
	InsertTx(ctx context.Context, tx *db.Tx, args river.JobArgs, opts *river.InsertOpts) error
	InsertManyTx(ctx context.Context, tx *db.Tx, params []river.InsertManyParams) error
}

// Outbox records messages to send and reads them back.
type Outbox struct {
	db     *db.DB
	jobs   JobInserter
	logger *slog.Logger
}

// NewOutbox returns the outbox of d, inserting send_mail jobs through
// jobs (an insert-only runner is enough).
func NewOutbox(d *db.DB, jobs JobInserter, logger *slog.Logger) *Outbox {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Outbox{db: d, jobs: jobs, logger: logger}
}

// Enqueue records m in the outbox with status queued and inserts the job
// that sends it, both in tx: if tx rolls back, neither exists. It returns
// the outbox id.
func (o *Outbox) Enqueue(ctx context.Context, tx *db.Tx, m Message) (int64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	var secret sql.NullString
	if m.Secret != "" {
		secret = sql.NullString{String: m.Secret, Valid: true}
	}
	category := m.Category
	if category == "" {
		category = CategoryService
	}
	key, err := newMessageKey()
	if err != nil {
		return 0, fmt.Errorf("mail: enqueue: %w", err)
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO outbox (to_addr, subject, body_text, body_html, secret, status, attempts, last_error, created_at,
			message_key, category, list_unsubscribe, batch)
		VALUES ($1, $2, $3, $4, $5, $6, 0, '', $7, $8, $9, $10, $11) RETURNING id`,
		m.To, m.Subject, m.Text, m.HTML, secret, StatusQueued, tx.Now, key, category, m.ListUnsubscribe, m.Batch).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("mail: enqueue: %w", err)
	}
	if err := o.jobs.InsertTx(ctx, tx, SendArgs{OutboxID: id}, nil); err != nil {
		return 0, fmt.Errorf("mail: enqueue: %w", err)
	}
	return id, nil
}

// newMessageKey returns 32 random hex digits: the left part of a message's
// Message-ID, made once when it is queued and the same on every try.
func newMessageKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Requeue gives a send_mail job to every message still waiting to go, and
// returns how many it looked at. Messages queued while no SMTP server was
// configured stay queued with no job; serve calls this at start when one is
// configured, so they are sent then. A message whose job is still waiting
// or running is not given a second one.
func (o *Outbox) Requeue(ctx context.Context) (int, error) {
	rows, err := o.db.QueryContext(ctx, `SELECT id FROM outbox WHERE status IN ($1, $2) ORDER BY id`, StatusQueued, StatusRetrying)
	if err != nil {
		return 0, fmt.Errorf("mail: requeue: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("mail: requeue: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("mail: requeue: %w", err)
	}
	err = o.db.InTx(ctx, func(tx *db.Tx) error {
		for _, id := range ids {
			if err := o.jobs.InsertTx(ctx, tx, SendArgs{OutboxID: id}, nil); err != nil {
				return fmt.Errorf("mail: requeue %d: %w", id, err)
			}
		}
		return nil
	})
	return len(ids), err
}

// List returns up to limit messages, newest first, only those to the
// address to when it is not empty (compared without regard to case).
func (o *Outbox) List(ctx context.Context, to string, limit int) ([]Entry, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := o.db.QueryContext(ctx, `SELECT id, to_addr, subject, body_text, secret, status, attempts, last_error, created_at, sent_at
		FROM outbox WHERE ($1 = '' OR lower(to_addr) = lower($1))
		ORDER BY created_at DESC, id DESC LIMIT $2`, to, limit)
	if err != nil {
		return nil, fmt.Errorf("mail: list: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var secret sql.NullString
		var sentAt sql.NullTime
		if err := rows.Scan(&e.ID, &e.To, &e.Subject, &e.Text, &secret, &e.Status, &e.Attempts, &e.LastError, &e.CreatedAt, &sentAt); err != nil {
			return nil, fmt.Errorf("mail: list: %w", err)
		}
		if sentAt.Valid {
			e.SentAt = sentAt.Time
		}
		switch {
		case secret.Valid:
			e.Text = strings.ReplaceAll(e.Text, Placeholder, secret.String)
		case e.Status == StatusFailed:
			e.Text = strings.ReplaceAll(e.Text, Placeholder, LinkRemovedFailed)
		case e.Status == StatusUncertain || e.Status == StatusCancelled:
			e.Text = strings.ReplaceAll(e.Text, Placeholder, LinkRemovedUnsent)
		default:
			e.Text = strings.ReplaceAll(e.Text, Placeholder, LinkRemovedSent)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mail: list: %w", err)
	}
	return out, nil
}

// QueueDepth counts messages still to send: queued and retrying.
func (o *Outbox) QueueDepth(ctx context.Context) (int, error) {
	var n int
	err := o.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE status IN ($1, $2)`, StatusQueued, StatusRetrying).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("mail: queue depth: %w", err)
	}
	return n, nil
}
