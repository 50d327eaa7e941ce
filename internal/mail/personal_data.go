package mail

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// LinkLeftOut is what a personal data export shows in place of a one-time
// link in an email: the link is a secret, and is never copied out of the
// outbox.
const LinkLeftOut = "[one-time link not included]"

// PersonalMessage is one email sent (or waiting to be sent) to a person,
// for "Download my data" and legal disclosures (P15, P18).
type PersonalMessage struct {
	Subject   string     `json:"subject"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	// Text is the text body, with any one-time link replaced by
	// LinkLeftOut. The body never holds the link itself (Message.Validate),
	// only its placeholder.
	Text string `json:"text"`
}

// PersonalData lists the messages to the address to (compared without
// regard to case), oldest first. The one-time link column is never read.
func (o *Outbox) PersonalData(ctx context.Context, to string) ([]PersonalMessage, error) {
	rows, err := o.db.QueryContext(ctx, `SELECT subject, body_text, status, created_at, sent_at
		FROM outbox WHERE lower(to_addr) = lower($1) ORDER BY created_at, id`, to)
	if err != nil {
		return nil, fmt.Errorf("mail: personal data: %w", err)
	}
	defer rows.Close()
	out := []PersonalMessage{}
	for rows.Next() {
		var m PersonalMessage
		var sent sql.NullTime
		if err := rows.Scan(&m.Subject, &m.Text, &m.Status, &m.CreatedAt, &sent); err != nil {
			return nil, fmt.Errorf("mail: personal data: %w", err)
		}
		m.CreatedAt = m.CreatedAt.UTC()
		if sent.Valid {
			t := sent.Time.UTC()
			m.SentAt = &t
		}
		m.Text = strings.ReplaceAll(m.Text, Placeholder, LinkLeftOut)
		out = append(out, m)
	}
	return out, rows.Err()
}
