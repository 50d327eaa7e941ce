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
func (s *Service) Deliveries(ctx context.Context, f mail.Filter) (mail.DeliveryPage, error) {
	return s.outbox.Deliveries(ctx, f)
}

// Resend sends failed or uncertain message id once more, with the same
// Message-ID, and records in the audit log, in the same transaction, who
// asked. It returns the message as it was. Errors as mail.Outbox.ResendTx.
func (s *Service) Resend(ctx context.Context, by Actor, id int64) (mail.Delivery, error) {
	var m mail.Delivery
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
		return mail.Delivery{}, err
	}
	return m, nil
}
