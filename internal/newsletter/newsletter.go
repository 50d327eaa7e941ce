// Package newsletter keeps the newsletters and research invitations that
// national admins compose in Markdown and send to the people who asked for
// them (issue 14, P7), and the one-click unsubscribe links every message
// carries (RFC 8058).
//
// A mailing is written as a draft, previewed exactly as recipients will get
// it, and then sent at once or scheduled. Sending is a River job
// (newsletter_send, one per newsletter at a time) that queues the messages
// in the outbox in batches, committing the mailing's cursor with each
// batch, so a crash resumes where it stopped and nobody gets two copies. A
// periodic job (newsletter_due) starts scheduled mailings when they are
// due.
//
// Recipients are read through internal/account: active accounts whose
// processing is not restricted, who have not objected to contact, and who
// consent now to the newsletter (for newsletters) or to research
// invitations (for invitations), in the chosen audience. StillWanted asks
// the same again just before each message is sent.
//
// The package owns the newsletters table (migration 0025) and writes
// nothing else but the audit log, the outbox (through internal/mail) and
// consents (through internal/terms).
package newsletter

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/numfmt"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/pii"
	"github.com/psims/psims/internal/terms"
	"github.com/psims/psims/internal/textcheck"
)

// Limits on what is typed.
const (
	MaxSubjectLength = 150
	MaxBodyLength    = 20000
	// MaxOrgs is the most organisations one audience may name.
	MaxOrgs = 50
)

// Kind is what a mailing is.
type Kind string

// The kinds.
const (
	// KindNewsletter goes to people who consent to the newsletter.
	KindNewsletter Kind = "newsletter"
	// KindInvitation invites people to research or a survey, and goes only
	// to people who consent to research invitations.
	KindInvitation Kind = "invitation"
)

// Kinds lists the kinds in the order the form offers them.
func Kinds() []Kind { return []Kind{KindNewsletter, KindInvitation} }

// Label is the kind in words.
func (k Kind) Label() string {
	if k == KindInvitation {
		return "Research or survey invitation"
	}
	return "Newsletter"
}

// Purpose is the consent a recipient must have given.
func (k Kind) Purpose() terms.Purpose {
	if k == KindInvitation {
		return terms.Research
	}
	return terms.Newsletter
}

// Category is the outbox category of the kind's messages.
func (k Kind) Category() string {
	if k == KindInvitation {
		return mail.CategoryInvitation
	}
	return mail.CategoryNewsletter
}

// Valid reports whether k is one of the kinds.
func (k Kind) Valid() bool { return k == KindNewsletter || k == KindInvitation }

// Audience says who among the people who consent a mailing goes to.
type Audience string

// The audiences.
const (
	Everyone Audience = "everyone"
	ByRole   Audience = "roles"
	ByOrg    Audience = "orgs"
)

// Valid reports whether a is one of the audiences.
func (a Audience) Valid() bool { return a == Everyone || a == ByRole || a == ByOrg }

// Status is where a mailing stands.
type Status string

// The statuses.
const (
	StatusDraft     Status = "draft"
	StatusScheduled Status = "scheduled"
	StatusSending   Status = "sending"
	StatusSent      Status = "sent"
	StatusCancelled Status = "cancelled"
)

// Label is the status in words.
func (s Status) Label() string {
	switch s {
	case StatusDraft:
		return "Draft"
	case StatusScheduled:
		return "Scheduled"
	case StatusSending:
		return "Sending"
	case StatusSent:
		return "Sent"
	case StatusCancelled:
		return "Cancelled"
	}
	return string(s)
}

// Editable reports whether a mailing in the status may still be changed.
func (s Status) Editable() bool { return s == StatusDraft || s == StatusScheduled }

// Cancellable reports whether a mailing in the status may be cancelled.
func (s Status) Cancellable() bool {
	return s == StatusDraft || s == StatusScheduled || s == StatusSending
}

// Newsletter is one mailing.
type Newsletter struct {
	ID       int64
	Kind     Kind
	Subject  string
	Body     string
	Audience Audience
	Roles    []string
	Orgs     []string
	Status   Status
	// SendAt is when a scheduled mailing starts; zero means "when asked".
	SendAt    time.Time
	AuthorID  int64
	Cursor    int64
	Queued    int
	CreatedAt time.Time
	UpdatedAt time.Time
	// StartedAt and FinishedAt are zero until sending starts and ends.
	StartedAt, FinishedAt time.Time
}

// RoleLabels names the audience's account types as people do.
func (n Newsletter) RoleLabels() []string {
	labels := make([]string, 0, len(n.Roles))
	for _, r := range n.Roles {
		labels = append(labels, account.RoleLabel(account.Role(r)))
	}
	return labels
}

// Batch is the outbox batch of the mailing's messages.
func (n Newsletter) Batch() string { return Batch(n.ID) }

// Batch is the outbox batch of mailing id.
func Batch(id int64) string { return "newsletter:" + strconv.FormatInt(id, 10) }

// filter is who the mailing goes to, as internal/account reads it.
func (n Newsletter) filter() account.ContactFilter {
	f := account.ContactFilter{Purpose: string(n.Kind.Purpose())}
	switch n.Audience {
	case ByRole:
		for _, r := range n.Roles {
			f.Roles = append(f.Roles, account.Role(r))
		}
	case ByOrg:
		f.Orgs = n.Orgs
	}
	return f
}

// Draft is a mailing as composed.
type Draft struct {
	Kind     Kind
	Subject  string
	Body     string
	Audience Audience
	Roles    []string
	// Orgs are ODS codes as typed, separated by commas, spaces or lines.
	Orgs string
	// SendAt is when to send it; zero means "send now", when asked.
	SendAt time.Time
}

// Actor is the national admin acting.
type Actor struct {
	ID int64
	IP string
}

// Recipients reads the people a mailing may go to; *account.Service is
// one.
type Recipients interface {
	Contactable(ctx context.Context, tx *db.Tx, f account.ContactFilter, after int64, limit int) ([]account.Contactable, error)
	CountContactable(ctx context.Context, f account.ContactFilter) (int, error)
	StillContactable(ctx context.Context, email, purpose string) (bool, error)
}

// Consents withdraws a consent, recording it in the consent history;
// *terms.Service is one.
type Consents interface {
	WithdrawConsent(ctx context.Context, userID int64, p terms.Purpose, c terms.Client, via string) (bool, error)
}

// Outbox queues messages and reads a mailing's back; *mail.Outbox is one.
type Outbox interface {
	Enqueue(ctx context.Context, tx *db.Tx, m mail.Message) (int64, error)
	BatchCounts(ctx context.Context, batch string) (map[string]int, error)
	BatchPage(ctx context.Context, batch string, after int64, limit int) ([]mail.BatchEntry, bool, error)
}

// JobInserter inserts a job in one of our transactions; *jobs.Runner is
// one.
type JobInserter interface {
	InsertTx(ctx context.Context, tx *db.Tx, args river.JobArgs, opts *river.InsertOpts) error
}

// Orgs finds an organisation by its code; *org.Store is one.
type Orgs interface {
	Get(ctx context.Context, code org.Code) (org.Organisation, error)
}

// Parts are the services a Service uses.
type Parts struct {
	Recipients Recipients
	Consents   Consents
	Outbox     Outbox
	Jobs       JobInserter
	Orgs       Orgs
}

// Service keeps mailings and sends them.
type Service struct {
	db    *db.DB
	parts Parts
	// key signs unsubscribe tokens; base is the service's base URL, which
	// the unsubscribe links start with.
	key  []byte
	base string
	// batchSize is how many messages one transaction queues.
	batchSize int
}

// DefaultBatchSize is how many messages one transaction queues.
const DefaultBatchSize = 500

// NewService returns the service on d. key (from internal/secret) signs the
// unsubscribe tokens and base is the service's base URL (an absolute http
// or https URL, without a trailing slash).
func NewService(d *db.DB, parts Parts, key []byte, base string) *Service {
	return &Service{db: d, parts: parts, key: key, base: strings.TrimSuffix(base, "/"), batchSize: DefaultBatchSize}
}

// WithBatchSize makes the service queue n messages a transaction (at
// least 1) instead of DefaultBatchSize, and returns it.
func (s *Service) WithBatchSize(n int) *Service {
	s.batchSize = max(n, 1)
	return s
}

// CleanText is typed text as it is checked and stored: Windows line ends
// made plain, and blank space around it taken off.
func CleanText(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }

// checked is a draft checked: the text cleaned, the roles and organisations
// parsed.
type checked struct {
	Draft
	orgs []string
}

// check checks a draft without the database, returning it cleaned and the
// problems in the order the form shows its boxes.
func check(d Draft, now time.Time) (checked, apperr.Fields) {
	var problems apperr.Fields
	c := checked{Draft: d}
	c.Subject = strings.Join(strings.Fields(d.Subject), " ")
	c.Body = CleanText(d.Body)
	if !c.Kind.Valid() {
		problems.Add("kind", "Select whether this is a newsletter or an invitation")
	}
	switch n := utf8.RuneCountInString(c.Subject); {
	case n == 0:
		problems.Add("subject", "Enter a subject")
	case !textcheck.Valid(c.Subject):
		problems.Add("subject", textcheck.Message("Subject"))
	case n > MaxSubjectLength:
		problems.Add("subject", fmt.Sprintf("Subject must be %d characters or fewer", MaxSubjectLength))
	default:
		guard(&problems, "subject", "Subject", c.Subject)
	}
	switch n := utf8.RuneCountInString(c.Body); {
	case n == 0:
		problems.Add("body", "Enter the message")
	case !textcheck.Valid(c.Body):
		problems.Add("body", textcheck.Message("Message"))
	case n > MaxBodyLength:
		problems.Add("body", fmt.Sprintf("Message must be %s characters or fewer. You have %s: shorten it by %s",
			numfmt.Thousands(MaxBodyLength), numfmt.Thousands(n), numfmt.Thousands(n-MaxBodyLength)))
	case strings.Contains(c.Body, mail.Placeholder):
		problems.Add("body", "Message must not contain "+mail.Placeholder)
	default:
		guard(&problems, "body", "Message", c.Body)
	}
	switch c.Audience {
	case Everyone:
		c.Roles = nil
	case ByRole:
		var roles []string
		for _, r := range c.Roles {
			if _, err := account.ParseRole(r); err == nil && !slices.Contains(roles, r) {
				roles = append(roles, r)
			}
		}
		c.Roles = roles
		if len(roles) == 0 {
			problems.Add("roles", "Select at least one role")
		}
	case ByOrg:
		c.Roles = nil
		badCode := false
		for _, f := range strings.FieldsFunc(d.Orgs, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
			code, err := org.ParseCode(f)
			if err != nil {
				problems.Add("orgs", "Enter ODS codes in the correct format, like RM1 or P87657, separated by commas")
				c.orgs, badCode = nil, true
				break
			}
			if !slices.Contains(c.orgs, code.String()) {
				c.orgs = append(c.orgs, code.String())
			}
		}
		switch {
		case len(c.orgs) == 0 && !badCode:
			problems.Add("orgs", "Enter the ODS code of at least one organisation")
		case len(c.orgs) > MaxOrgs:
			problems.Add("orgs", fmt.Sprintf("Enter %d organisations or fewer", MaxOrgs))
		}
	default:
		problems.Add("audience", "Select who to send it to")
	}
	if !c.SendAt.IsZero() && !c.SendAt.After(now) {
		problems.Add("send_at", "The date and time to send it must be in the future")
	}
	return c, problems
}

// guard adds a problem for each identifier the guard finds in text (T12),
// naming the field and where the identifier is, never what it is.
func guard(problems *apperr.Fields, field, label, text string) {
	found := pii.Scan(text)
	for _, f := range found {
		problems.Add(field, pii.Message(text, f, found, label))
	}
}

// Check reports what is wrong with a draft as apperr.Fields, or nil: for a
// form that has problems of its own (a date typed wrongly) to show the
// draft's alongside. It does not look up the organisations.
func (s *Service) Check(d Draft) error {
	_, problems := check(d, s.db.Now())
	return problems.Err()
}

// checkAll is check plus the organisations looked up.
func (s *Service) checkAll(ctx context.Context, d Draft) (checked, error) {
	c, problems := check(d, s.db.Now())
	for _, code := range c.orgs {
		pc, _ := org.ParseCode(code)
		if _, err := s.parts.Orgs.Get(ctx, pc); err != nil {
			if apperr.CodeOf(err) == apperr.NotFound {
				problems.Add("orgs", "No organisation has the ODS code "+code+". Check the codes and try again")
				break
			}
			return c, err
		}
	}
	return c, problems.Err()
}

// Create stores a new draft and audits it. Errors: apperr.Fields (fields
// "kind", "subject", "body", "audience", "roles", "orgs", "send_at"), and
// then nothing is stored.
func (s *Service) Create(ctx context.Context, by Actor, d Draft) (int64, error) {
	c, err := s.checkAll(ctx, d)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO newsletters (kind, subject, body, audience, audience_roles, audience_orgs,
			status, send_at, author_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id`,
			string(c.Kind), c.Subject, c.Body, string(c.Audience), strings.Join(c.Roles, ","), strings.Join(c.orgs, ","),
			string(StatusDraft), nullTime(c.SendAt), db.NullID(by.ID), tx.Now).Scan(&id)
		if err != nil {
			return fmt.Errorf("newsletter: create: %w", err)
		}
		return s.audit(ctx, tx, by, "newsletter.create", id, c)
	})
	return id, err
}

// Update changes a draft or a scheduled mailing, which keeps its status
// (a scheduled one goes at its new time), and audits it. Errors:
// apperr.Fields as for Create; NotFound; Conflict once it is sending,
// sent or cancelled.
func (s *Service) Update(ctx context.Context, by Actor, id int64, d Draft) error {
	c, err := s.checkAll(ctx, d)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		n, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		if !n.Status.Editable() {
			return apperr.New(apperr.Conflict, "This "+strings.ToLower(n.Kind.Label())+" can no longer be changed: it is "+strings.ToLower(n.Status.Label())+".")
		}
		if n.Status == StatusScheduled && c.SendAt.IsZero() {
			return apperr.Fields{{Field: "send_at", Message: "Enter the date and time to send it, or cancel it and make a new one to send now"}}
		}
		_, err = tx.ExecContext(ctx, `UPDATE newsletters SET kind = $1, subject = $2, body = $3, audience = $4, audience_roles = $5,
			audience_orgs = $6, send_at = $7, updated_at = $8 WHERE id = $9`,
			string(c.Kind), c.Subject, c.Body, string(c.Audience), strings.Join(c.Roles, ","), strings.Join(c.orgs, ","),
			nullTime(c.SendAt), tx.Now, id)
		if err != nil {
			return fmt.Errorf("newsletter: update: %w", err)
		}
		return s.audit(ctx, tx, by, "newsletter.edit", id, c)
	})
}

// audit records a change of a mailing's content, naming what it is and
// who it goes to but not what it says (the text is in the table).
func (s *Service) audit(ctx context.Context, tx *db.Tx, by Actor, action string, id int64, c checked) error {
	details := map[string]string{"kind": string(c.Kind), "audience": string(c.Audience)}
	if len(c.Roles) > 0 {
		details["roles"] = strings.Join(c.Roles, ",")
	}
	if len(c.orgs) > 0 {
		details["orgs"] = strings.Join(c.orgs, ",")
	}
	if !c.SendAt.IsZero() {
		details["send_at"] = c.SendAt.UTC().Format(time.RFC3339)
	}
	return audit.Record(ctx, tx, audit.Entry{ActorID: by.ID, Action: action, SubjectType: "newsletter",
		SubjectID: strconv.FormatInt(id, 10), IP: by.IP, Details: details})
}

// Send sends a draft: at once when it has no time to send it (the send
// job is queued in the same transaction), or at its time (it is then
// scheduled, and the periodic job starts it). Audited. Errors: NotFound;
// Conflict unless it is a draft; Invalid when its time has passed.
func (s *Service) Send(ctx context.Context, by Actor, id int64) (Status, error) {
	var status Status
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		n, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		if n.Status != StatusDraft {
			return apperr.New(apperr.Conflict, "Only a draft can be sent. This one is "+strings.ToLower(n.Status.Label())+".")
		}
		action := "newsletter.schedule"
		details := map[string]string{"kind": string(n.Kind)}
		if n.SendAt.IsZero() {
			if err := s.start(ctx, tx, id); err != nil {
				return err
			}
			status, action = StatusSending, "newsletter.send"
		} else {
			if !n.SendAt.After(tx.Now) {
				return apperr.New(apperr.Invalid, "The time to send it has passed. Change the date and time, then send it.")
			}
			if _, err := tx.ExecContext(ctx, `UPDATE newsletters SET status = $1, updated_at = $2 WHERE id = $3`,
				string(StatusScheduled), tx.Now, id); err != nil {
				return fmt.Errorf("newsletter: schedule: %w", err)
			}
			status = StatusScheduled
			details["send_at"] = n.SendAt.Format(time.RFC3339)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: by.ID, Action: action, SubjectType: "newsletter",
			SubjectID: strconv.FormatInt(id, 10), IP: by.IP, Details: details})
	})
	return status, err
}

// start marks the mailing sending and queues its send job, in tx.
func (s *Service) start(ctx context.Context, tx *db.Tx, id int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE newsletters SET status = $1, started_at = $2, updated_at = $2 WHERE id = $3`,
		string(StatusSending), tx.Now, id); err != nil {
		return fmt.Errorf("newsletter: start: %w", err)
	}
	return s.parts.Jobs.InsertTx(ctx, tx, SendArgs{NewsletterID: id}, nil)
}

// Cancel cancels a draft, a scheduled mailing or one being sent (messages
// already queued still go; no more are queued), and audits it. Errors:
// NotFound; Conflict once it is sent or cancelled.
func (s *Service) Cancel(ctx context.Context, by Actor, id int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		n, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		if !n.Status.Cancellable() {
			return apperr.New(apperr.Conflict, "This "+strings.ToLower(n.Kind.Label())+" is already "+strings.ToLower(n.Status.Label())+".")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE newsletters SET status = $1, finished_at = $2, updated_at = $2 WHERE id = $3`,
			string(StatusCancelled), tx.Now, id); err != nil {
			return fmt.Errorf("newsletter: cancel: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: by.ID, Action: "newsletter.cancel", SubjectType: "newsletter",
			SubjectID: strconv.FormatInt(id, 10), IP: by.IP, Details: map[string]string{"was": string(n.Status),
				"queued": strconv.Itoa(n.Queued)}})
	})
}

// querier is a database or a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const columns = `id, kind, subject, body, audience, audience_roles, audience_orgs, status, send_at, COALESCE(author_id, 0),
	cursor_user_id, queued, created_at, updated_at, started_at, finished_at`

type scanner interface{ Scan(dest ...any) error }

func scan(r scanner) (Newsletter, error) {
	var n Newsletter
	var roles, orgs string
	var sendAt, started, finished sql.NullTime
	err := r.Scan(&n.ID, &n.Kind, &n.Subject, &n.Body, &n.Audience, &roles, &orgs, &n.Status, &sendAt, &n.AuthorID,
		&n.Cursor, &n.Queued, &n.CreatedAt, &n.UpdatedAt, &started, &finished)
	if err != nil {
		return Newsletter{}, err
	}
	if roles != "" {
		n.Roles = strings.Split(roles, ",")
	}
	if orgs != "" {
		n.Orgs = strings.Split(orgs, ",")
	}
	n.SendAt, n.StartedAt, n.FinishedAt = timeOf(sendAt), timeOf(started), timeOf(finished)
	n.CreatedAt, n.UpdatedAt = n.CreatedAt.UTC(), n.UpdatedAt.UTC()
	return n, nil
}

func get(ctx context.Context, q querier, id int64) (Newsletter, error) {
	n, err := scan(q.QueryRowContext(ctx, `SELECT `+columns+` FROM newsletters WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Newsletter{}, apperr.New(apperr.NotFound, "No such newsletter.")
	}
	if err != nil {
		return Newsletter{}, fmt.Errorf("newsletter: get %d: %w", id, err)
	}
	return n, nil
}

// Get returns mailing id. Errors: NotFound.
func (s *Service) Get(ctx context.Context, id int64) (Newsletter, error) { return get(ctx, s.db, id) }

// PageSize is how many mailings, or messages of one, a page lists.
const PageSize = 50

// List returns one page (from 1) of mailings, newest first, and whether
// more follow.
func (s *Service) List(ctx context.Context, page int) ([]Newsletter, bool, error) {
	page = max(page, 1)
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM newsletters ORDER BY id DESC LIMIT $1 OFFSET $2`,
		PageSize+1, (page-1)*PageSize)
	if err != nil {
		return nil, false, fmt.Errorf("newsletter: list: %w", err)
	}
	defer rows.Close()
	var out []Newsletter
	for rows.Next() {
		n, err := scan(rows)
		if err != nil {
			return nil, false, fmt.Errorf("newsletter: list: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("newsletter: list: %w", err)
	}
	more := len(out) > PageSize
	if more {
		out = out[:PageSize]
	}
	return out, more, nil
}

// AudienceSize counts the people the mailing would go to now.
func (s *Service) AudienceSize(ctx context.Context, n Newsletter) (int, error) {
	return s.parts.Recipients.CountContactable(ctx, n.filter())
}

// Delivery is the per-message status of a mailing.
type Delivery struct {
	// Counts are its messages by outbox status.
	Counts map[string]int
	// Messages are one page of them, in the order they were queued; More
	// says whether another page follows, which starts after the last one's
	// ID.
	Messages []mail.BatchEntry
	More     bool
}

// Delivery returns the counts of the mailing's messages by status and the
// page of them after outbox id after.
func (s *Service) Delivery(ctx context.Context, id, after int64) (Delivery, error) {
	counts, err := s.parts.Outbox.BatchCounts(ctx, Batch(id))
	if err != nil {
		return Delivery{}, err
	}
	msgs, more, err := s.parts.Outbox.BatchPage(ctx, Batch(id), after, PageSize)
	if err != nil {
		return Delivery{}, err
	}
	return Delivery{Counts: counts, Messages: msgs, More: more}, nil
}

func nullTime(t time.Time) sql.NullTime {
	if t.IsZero() {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: t.UTC(), Valid: true}
}

func timeOf(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}
