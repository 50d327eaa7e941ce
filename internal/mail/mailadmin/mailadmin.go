// Package mailadmin is what national admins do to the outbox from the
// outbox page: look at how delivery is going and send a failed or
// uncertain message once more. It is a package of its own because every
// such change is audited in its own transaction, and the audit package
// already sends mail through package mail.
package mailadmin

import (
	"context"
	"strconv"

	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
)

// What the outbox page shows, named here so that the web layer needs only
// this package (it imports neither db nor mail).
type (
	// Filter chooses the messages of a page.
	Filter = mail.Filter
	// Page is one page of messages with the counts by status.
	Page = mail.DeliveryPage
	// Message is one message as the page shows it: never its bodies or
	// links.
	Message = mail.Delivery
)

// PerPage is how many messages a page shows.
const PerPage = mail.PerPage

// The statuses and categories, as in package mail.
const (
	StatusQueued       = mail.StatusQueued
	StatusRetrying     = mail.StatusRetrying
	StatusSent         = mail.StatusSent
	StatusFailed       = mail.StatusFailed
	StatusUncertain    = mail.StatusUncertain
	StatusCancelled    = mail.StatusCancelled
	CategoryService    = mail.CategoryService
	CategoryNewsletter = mail.CategoryNewsletter
	CategoryInvitation = mail.CategoryInvitation
)

// Statuses lists every status, in the order the page shows them.
func Statuses() []string { return mail.Statuses() }

// Categories lists every message category.
func Categories() []string { return mail.Categories() }

// Service reads the outbox and sends messages again.
type Service struct {
	db     *db.DB
	outbox *mail.Outbox
}

// New returns the service over outbox, which keeps its messages in d.
func New(d *db.DB, outbox *mail.Outbox) *Service {
	return &Service{db: d, outbox: outbox}
}

// Actor is who asks, and from where.
type Actor struct {
	UserID int64
	IP     string
}

// Deliveries returns a page of the outbox with the count of messages in
// each status.
func (s *Service) Deliveries(ctx context.Context, f Filter) (Page, error) {
	return s.outbox.Deliveries(ctx, f)
}

// Resend sends failed or uncertain message id once more, with the same
// Message-ID, and records in the audit log, in the same transaction, who
// asked. It returns the message as it was. Errors as mail.Outbox.ResendTx.
func (s *Service) Resend(ctx context.Context, by Actor, id int64) (Message, error) {
	var m Message
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if m, err = s.outbox.ResendTx(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: by.UserID, Action: "mail.resend", SubjectType: "outbox",
			SubjectID: strconv.FormatInt(id, 10), IP: by.IP,
			Details: map[string]string{"previous_status": m.Status, "category": m.Category, "attempts": strconv.Itoa(m.Attempts)}})
	})
	if err != nil {
		return Message{}, err
	}
	return m, nil
}
