package mail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// DefaultFrom is the From address used when none is configured.
const DefaultFrom = "PSIMS <no-reply@localhost>"

// Timeouts for one delivery: each network step (connect, each SMTP command)
// and the whole conversation.
const (
	stepTimeout = 15 * time.Second
	sendTimeout = 45 * time.Second
)

// Sender delivers messages to one SMTP server. It is safe for concurrent
// use: every Send has its own connection.
type Sender struct {
	host string
	from string
	// domain is the From address's domain, the right part of every
	// Message-ID.
	domain string
	opts   []gomail.Option
}

// fromDomain is the domain of the From address from, already checked to
// be valid, or "localhost" if it has none.
func fromDomain(from string) string {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return "localhost"
	}
	_, domain, ok := strings.Cut(a.Address, "@")
	if !ok || domain == "" {
		return "localhost"
	}
	return domain
}

// NewSender reads the --smtp URL:
//
//   - smtp://[user:pass@]host[:port] upgrades to TLS with STARTTLS when the
//     server offers it and continues in plain text otherwise (port 25 by
//     default);
//   - smtps://[user:pass@]host[:port] uses TLS from the start (port 465).
//
// With user and password it authenticates with PLAIN or LOGIN, which go-mail
// only allows over TLS or to a server on this machine, so a password is
// never sent in clear across a network. from is the From address (DefaultFrom
// when empty).
//
// An empty smtpURL means no SMTP server is configured: NewSender returns a
// nil *Sender and no error, and mail stays in the outbox.
func NewSender(smtpURL, from string) (*Sender, error) {
	if smtpURL == "" {
		return nil, nil
	}
	if from == "" {
		from = DefaultFrom
	}
	if err := gomail.NewMsg().From(from); err != nil {
		return nil, fmt.Errorf("mail: from address %q is not valid", from)
	}
	// The URL may hold a password: errors name the problem, never the URL.
	u, err := url.Parse(smtpURL)
	if err != nil {
		return nil, errors.New("mail: --smtp is not a valid URL")
	}
	host := u.Hostname()
	if host == "" {
		return nil, errors.New("mail: --smtp has no host")
	}
	opts := []gomail.Option{gomail.WithTimeout(stepTimeout)}
	port := gomail.DefaultPort
	switch u.Scheme {
	case "smtp":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case "smtps":
		port = gomail.DefaultPortSSL
		opts = append(opts, gomail.WithSSL())
	default:
		return nil, errors.New("mail: --smtp must start with smtp:// or smtps://")
	}
	if p := u.Port(); p != "" {
		port, err = strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return nil, errors.New("mail: --smtp has a bad port")
		}
	}
	opts = append(opts, gomail.WithPort(port))
	if u.User != nil && u.User.Username() != "" {
		pass, _ := u.User.Password()
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(u.User.Username()),
			gomail.WithPassword(pass))
	}
	return &Sender{host: host, from: from, domain: fromDomain(from), opts: opts}, nil
}

// Send delivers m, putting its link in place of Placeholder, as a
// multipart message with a plain text part and, when m has one, an HTML
// part. key is the message's idempotency key from the outbox: its
// Message-ID is <key@domain of the From address>, the same on every try.
// A message with ListUnsubscribe carries it in List-Unsubscribe, with
// List-Unsubscribe-Post for one-click unsubscribe (RFC 8058).
func (s *Sender) Send(ctx context.Context, key string, m Message) error {
	text, htmlBody := m.render()
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("mail: from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return errors.New("mail: recipient is not an email address")
	}
	msg.Subject(m.Subject)
	if key == "" {
		return errors.New("mail: message has no key for its Message-ID")
	}
	msg.SetMessageIDWithValue(key + "@" + s.domain)
	if m.ListUnsubscribe != "" {
		msg.SetListUnsubscribe(m.ListUnsubscribe)
		msg.SetListUnsubscribePost()
	}
	msg.SetDate()
	msg.SetBodyString(gomail.TypeTextPlain, text)
	if htmlBody != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, htmlBody)
	}
	client, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("mail: smtp client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		if msg.IsDelivered() {
			// The server accepted the message; only a later step (RSET,
			// QUIT) failed. Reporting an error would send it again.
			return nil
		}
		return fmt.Errorf("mail: smtp: %w", err)
	}
	return nil
}

// isAmbiguous reports whether err leaves it unknown whether the server
// took the message: the whole message was sent, and the connection failed
// before the server answered.
func isAmbiguous(err error) bool {
	var se *gomail.SendError
	return errors.As(err, &se) && se.Reason == gomail.ErrSMTPDataClose && se.ErrorCode() == 0
}

// shortError is err as one line of at most 200 bytes with the link and the
// list of recipients taken out: fit for last_error, River's job record and
// logs.
func shortError(err error, secret string) string {
	s := err.Error()
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "[link]")
	}
	s, _, _ = strings.Cut(s, ", affected recipient(s)")
	// The Message-ID is the message's own, already stored: it only makes
	// the line longer.
	s, _, _ = strings.Cut(s, ", affected message ID")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "")
	}
	return s
}
