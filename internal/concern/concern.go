// Package concern keeps the concern reports the terms of use ask every
// user to make within 48 hours (T5): a breach of the terms, unauthorised
// access, a need to deactivate a user, or a suspected personal data
// breach. Signed-in users report from the footer of every page; anyone
// else from the sign-in page. National admins work the reports as a queue
// with a 48-hour clock from each report, act on the account a report
// names (suspend or deactivate it, T6, through internal/account, with the
// report named in the audit row), write notes and close each report with
// an outcome. Organisation admins see the reports about their own
// organisation's users.
//
// Everything typed here passes the identifier guard (internal/pii) before
// it is stored (T12). A report from someone signed out does the same work
// and gets the same answer whether or not the addresses typed belong to
// accounts: one lookup, one insert, one receipt queued to the address the
// reporter gave.
//
// The package owns the concern_reports and concern_entries tables
// (migration 0021). It reads users for names, addresses and scope, and
// writes nothing else but the audit log, the outbox, and (through the
// account service, in the same transaction) the status of a named account.
package concern

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/emailaddr"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/numfmt"
	"github.com/psims/psims/internal/pii"
	"github.com/psims/psims/internal/ratelimit"
	"github.com/psims/psims/internal/textcheck"
)

// Clock is how long the operator has to look at a report: the terms ask
// users to report within 48 hours, and the operator answers in as long.
const Clock = 48 * time.Hour

// MaxLength is the most characters one text (what happened, a note, an
// outcome, a reason) may hold.
const MaxLength = 2000

// MaxNameLength is the most characters a signed-out reporter's name may
// hold.
const MaxNameLength = 200

// Rates: how many reports one signed-in user, one network address or one
// reporter's email address may send in an hour.
const (
	UserRate    = 10
	IPRate      = 5
	AddressRate = 3
)

// Kind is what a report is about.
type Kind string

// The kinds.
const (
	TermsBreach        Kind = "terms-breach"
	UnauthorisedAccess Kind = "unauthorised-access"
	DeactivateUser     Kind = "deactivate-user"
	DataBreach         Kind = "data-breach"
)

// Kinds lists the kinds in the order the form offers them.
func Kinds() []Kind { return []Kind{UnauthorisedAccess, DeactivateUser, TermsBreach, DataBreach} }

// Label is the kind as a heading, such as "Unauthorised access".
func (k Kind) Label() string {
	switch k {
	case TermsBreach:
		return "Breach of the terms of use"
	case UnauthorisedAccess:
		return "Unauthorised access"
	case DeactivateUser:
		return "A user needs to be deactivated"
	case DataBreach:
		return "Suspected personal data breach"
	}
	return string(k)
}

// Phrase is the kind inside a sentence, as in "Thank you for reporting
// unauthorised access".
func (k Kind) Phrase() string {
	switch k {
	case TermsBreach:
		return "a breach of the terms of use"
	case UnauthorisedAccess:
		return "unauthorised access"
	case DeactivateUser:
		return "a user who needs to be deactivated"
	case DataBreach:
		return "a suspected personal data breach"
	}
	return "a concern"
}

// Valid reports whether k is one of the kinds.
func (k Kind) Valid() bool {
	switch k {
	case TermsBreach, UnauthorisedAccess, DeactivateUser, DataBreach:
		return true
	}
	return false
}

// Status is where a report stands: open until closed.
type Status string

// The statuses.
const (
	StatusOpen   Status = "open"
	StatusClosed Status = "closed"
)

// Label is the status in words.
func (s Status) Label() string {
	if s == StatusClosed {
		return "Closed"
	}
	return "Open"
}

// Outcome is how a report was closed.
type Outcome string

// The outcomes.
const (
	OutcomeAccountActioned Outcome = "account-actioned"
	OutcomeResolved        Outcome = "resolved"
	OutcomeNoBreach        Outcome = "no-breach"
	OutcomeNotEnough       Outcome = "not-enough"
)

// Outcomes lists the outcomes in the order the form offers them.
func Outcomes() []Outcome {
	return []Outcome{OutcomeAccountActioned, OutcomeResolved, OutcomeNoBreach, OutcomeNotEnough}
}

// Label is the outcome in words, as the reporter is told it.
func (o Outcome) Label() string {
	switch o {
	case OutcomeAccountActioned:
		return "the account was suspended or deactivated"
	case OutcomeResolved:
		return "the concern was dealt with in another way"
	case OutcomeNoBreach:
		return "we looked into it and found no breach"
	case OutcomeNotEnough:
		return "there was not enough information for us to act"
	}
	return string(o)
}

// Reference is how a report is named to people, such as "CR-00042".
func Reference(id int64) string { return fmt.Sprintf("CR-%05d", id) }

// ParseReference reads a reference made by Reference (any case, blank
// space around it ignored) and returns the report's id, and false when s
// is not one.
func ParseReference(s string) (int64, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	digits, ok := strings.CutPrefix(s, "CR-")
	if !ok || len(digits) < 5 || len(digits) > 18 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || id <= 0 || Reference(id) != s {
		return 0, false
	}
	return id, true
}

// Limiter decides per-key limits kept in the database; *ratelimit.Store is
// one.
type Limiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (ratelimit.Decision, error)
}

// Outbox queues an email in the caller's transaction; *mail.Outbox is one.
type Outbox interface {
	Enqueue(ctx context.Context, tx *db.Tx, m mail.Message) (int64, error)
}

// Accounts changes the status of an account inside the caller's
// transaction, naming the report in its audit row; *account.Service is
// one.
type Accounts interface {
	SetStatusInTx(ctx context.Context, tx *db.Tx, actor account.User, target account.User, to account.Status, reason, ip string, link map[string]string) error
}

// Service keeps concern reports.
type Service struct {
	db       *db.DB
	limits   Limiter
	outbox   Outbox
	accounts Accounts
}

// NewService returns the service on d: limits counts reports, outbox
// sends the reporter's emails and accounts acts on named accounts.
func NewService(d *db.DB, limits Limiter, outbox Outbox, accounts Accounts) *Service {
	return &Service{db: d, limits: limits, outbox: outbox, accounts: accounts}
}

// Submission is a report as made.
type Submission struct {
	// ReporterID is the signed-in user reporting; 0 for someone signed
	// out, who gives ReporterName and ReporterEmail instead.
	ReporterID                  int64
	ReporterName, ReporterEmail string
	Kind                        Kind
	Text                        string
	// HappenedOn is the day it happened or was noticed (checked by the
	// caller as a date input); nil when not given.
	HappenedOn *time.Time
	// NamedEmail is the address of the account the report is about:
	// required for DeactivateUser, optional otherwise.
	NamedEmail string
	IP         string
}

// Receipt is what the reporter is told after reporting.
type Receipt struct {
	ID        int64
	Reference string
}

// CleanText is typed text as it is checked and stored: Windows line ends
// made plain, and blank space around it taken off.
func CleanText(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }

// checkText applies the rules for any text typed here: not too long, no
// hidden control characters, nothing that could identify a patient or
// member of the public (T12). empty is the message for a box left empty;
// "" means the box may be left empty.
func checkText(problems *apperr.Fields, field, label, empty, text string) {
	switch n := utf8.RuneCountInString(text); {
	case text == "" && empty != "":
		problems.Add(field, empty)
	case text == "":
	case !textcheck.Valid(text):
		problems.Add(field, textcheck.Message(label))
	case n > MaxLength:
		problems.Add(field, fmt.Sprintf("%s must be %s characters or fewer. You have %s: shorten it by %s",
			label, numfmt.Thousands(MaxLength), numfmt.Thousands(n), numfmt.Thousands(n-MaxLength)))
	default:
		found := pii.Scan(text)
		for _, f := range found {
			problems.Add(field, pii.Message(text, f, found, label))
		}
	}
}

// check checks a submission, returning it cleaned with the addresses
// parsed, or apperr.Fields.
func (sub Submission) check() (Submission, error) {
	sub.Text = CleanText(sub.Text)
	sub.ReporterName = strings.TrimSpace(sub.ReporterName)
	// Problems are listed in the order the form shows its boxes.
	var problems apperr.Fields
	if sub.ReporterID == 0 {
		switch n := utf8.RuneCountInString(sub.ReporterName); {
		case n == 0:
			problems.Add("reporter_name", "Enter your name")
		case !textcheck.Valid(sub.ReporterName):
			problems.Add("reporter_name", textcheck.Message("Your name"))
		case n > MaxNameLength:
			problems.Add("reporter_name", fmt.Sprintf("Your name must be %d characters or fewer", MaxNameLength))
		}
		a, err := emailaddr.Parse(strings.TrimSpace(sub.ReporterEmail))
		switch {
		case strings.TrimSpace(sub.ReporterEmail) == "":
			problems.Add("reporter_email", "Enter your email address, so that we can tell you what happens")
		case err != nil:
			problems.Add("reporter_email", "Enter your email address in the correct format, like name@example.nhs.uk")
		default:
			sub.ReporterEmail = a.String()
		}
	} else {
		sub.ReporterName, sub.ReporterEmail = "", ""
	}
	if !sub.Kind.Valid() {
		problems.Add("kind", "Select what you are reporting")
	}
	checkText(&problems, "text", "What happened", "Enter what happened", sub.Text)
	switch named := strings.TrimSpace(sub.NamedEmail); {
	case named == "" && sub.Kind == DeactivateUser:
		problems.Add("named_email", "Enter the email address of the account that needs to be deactivated")
	case named == "":
		sub.NamedEmail = ""
	default:
		a, err := emailaddr.Parse(named)
		if err != nil {
			problems.Add("named_email", "Enter the account's email address in the correct format, like name@example.nhs.uk")
		} else {
			sub.NamedEmail = a.String()
		}
	}
	return sub, problems.Err()
}

// allow takes one report under each limit that applies: the signed-in
// user's, or for someone signed out their network address's and their
// email address's. Errors: RateLimited, with how long to wait.
func (s *Service) allow(ctx context.Context, sub Submission) error {
	type limit struct {
		key  string
		rate int
	}
	limits := []limit{{"concern:user:" + strconv.FormatInt(sub.ReporterID, 10), UserRate}}
	if sub.ReporterID == 0 {
		limits = []limit{{"concern:ip:" + ratelimit.Network(sub.IP), IPRate}, {"concern:address:" + sub.ReporterEmail, AddressRate}}
	}
	for _, l := range limits {
		d, err := s.limits.Allow(ctx, l.key, l.rate, time.Hour, s.db.Now())
		if err != nil {
			return fmt.Errorf("concern: rate limit: %w", err)
		}
		if !d.Allowed {
			minutes := int(math.Ceil(d.RetryAfter.Minutes()))
			wait := "1 minute"
			if minutes > 1 {
				wait = strconv.Itoa(minutes) + " minutes"
			}
			return apperr.New(apperr.RateLimited, fmt.Sprintf(
				"Too many reports have been sent from here in the last hour. You can send this one in %s: what you typed is still below.", wait))
		}
	}
	return nil
}

// Report stores a concern report, audits it and queues the receipt to the
// reporter (their account's address, or the address they typed when signed
// out), in one transaction. The account named is looked up by its address
// and kept by id when there is one; the address itself is kept only when
// it belongs to nobody. Whether either address belongs to an account
// changes neither the answer nor the work done. Errors: apperr.Fields
// (fields "kind", "text", "named_email", "reporter_name",
// "reporter_email"), and then nothing is stored or counted; RateLimited.
func (s *Service) Report(ctx context.Context, sub Submission) (Receipt, error) {
	sub, err := sub.check()
	if err != nil {
		return Receipt{}, err
	}
	if err := s.allow(ctx, sub); err != nil {
		return Receipt{}, err
	}
	var rc Receipt
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		// The same single lookup is made whether or not an address was
		// named, so the time taken says nothing about it.
		var named sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(id) FROM users WHERE email = $1`, sub.NamedEmail).Scan(&named); err != nil {
			return fmt.Errorf("concern: named account: %w", err)
		}
		namedEmail := sub.NamedEmail
		if named.Valid {
			namedEmail = ""
		}
		var happened sql.NullString
		if sub.HappenedOn != nil {
			happened = sql.NullString{String: sub.HappenedOn.UTC().Format(time.DateOnly), Valid: true}
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO concern_reports
			(kind, body, happened_on, reporter_id, reporter_name, reporter_email, named_user_id, named_email,
			 status, outcome, outcome_text, created_at, due_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '', '', $10, $11) RETURNING id`,
			string(sub.Kind), sub.Text, happened, db.NullID(sub.ReporterID), sub.ReporterName, sub.ReporterEmail,
			named, namedEmail, string(StatusOpen), tx.Now, tx.Now.Add(Clock)).Scan(&rc.ID)
		if err != nil {
			return fmt.Errorf("concern: report: %w", err)
		}
		rc.Reference = Reference(rc.ID)
		details := map[string]string{"kind": string(sub.Kind)}
		if named.Valid {
			details["named_user"] = strconv.FormatInt(named.Int64, 10)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: sub.ReporterID, Action: "concern.report", SubjectType: "concern",
			SubjectID: strconv.FormatInt(rc.ID, 10), IP: sub.IP, Details: details}); err != nil {
			return err
		}
		to := mail.Addressee{Email: sub.ReporterEmail, Name: sub.ReporterName}
		if sub.ReporterID != 0 {
			if err := tx.QueryRowContext(ctx, `SELECT email, name FROM users WHERE id = $1`, sub.ReporterID).Scan(&to.Email, &to.Name); err != nil {
				return fmt.Errorf("concern: reporter: %w", err)
			}
		}
		_, err = s.outbox.Enqueue(ctx, tx, mail.ConcernReceived(to, rc.Reference, sub.Kind.Phrase()))
		return err
	})
	if err != nil {
		return Receipt{}, err
	}
	return rc, nil
}

// Person is an account as a report shows it.
type Person struct {
	ID               int64
	Name, Email, Org string
	Role             account.Role
	Status           account.Status
}

// Report is one concern report.
type Report struct {
	ID         int64
	Kind       Kind
	Text       string
	HappenedOn *time.Time
	// Reporter is the signed-in user who reported it (ID 0 when signed
	// out, or once their account is deleted); ReporterName and
	// ReporterEmail are what someone signed out typed.
	Reporter                    Person
	ReporterName, ReporterEmail string
	// Named is the account the report is about (ID 0 for none); NamedEmail
	// an address typed that belongs to no account, until the report is
	// closed.
	Named       Person
	NamedEmail  string
	Status      Status
	Outcome     Outcome
	OutcomeText string
	CreatedAt   time.Time
	DueAt       time.Time
	ClosedAt    *time.Time
}

// Reference is the report's reference.
func (r Report) Reference() string { return Reference(r.ID) }

// SignedOut reports whether it was made by someone signed out.
func (r Report) SignedOut() bool { return r.ReporterEmail != "" }

// Overdue reports whether the report is open past its due time at now.
func (r Report) Overdue(now time.Time) bool { return r.Status == StatusOpen && now.After(r.DueAt) }

// Entry is one step on a report: a note, an action or its closing.
type Entry struct {
	ID         int64
	AuthorID   int64
	AuthorName string
	Kind       string // "note", "suspended", "deactivated" or "closed"
	Text       string
	CreatedAt  time.Time
}

// reportColumns are the columns scanReport reads, from concern_reports c,
// the reporter p and the named account n (both left joined).
const reportColumns = `c.id, c.kind, c.body, c.happened_on, c.reporter_id, p.name, p.email, p.org_ods,
	c.reporter_name, c.reporter_email, c.named_user_id, n.name, n.email, n.org_ods, n.role, n.status,
	c.named_email, c.status, c.outcome, c.outcome_text, c.created_at, c.due_at, c.closed_at`

const reportFrom = ` FROM concern_reports c LEFT JOIN users p ON p.id = c.reporter_id LEFT JOIN users n ON n.id = c.named_user_id`

type scanner interface{ Scan(dest ...any) error }

func scanReport(row scanner) (Report, error) {
	var r Report
	var kind, status, outcome string
	var happened, pName, pEmail, pOrg, nName, nEmail, nOrg, nRole, nStatus sql.NullString
	var reporter, named sql.NullInt64
	var closed sql.NullTime
	err := row.Scan(&r.ID, &kind, &r.Text, &happened, &reporter, &pName, &pEmail, &pOrg,
		&r.ReporterName, &r.ReporterEmail, &named, &nName, &nEmail, &nOrg, &nRole, &nStatus,
		&r.NamedEmail, &status, &outcome, &r.OutcomeText, &r.CreatedAt, &r.DueAt, &closed)
	if err != nil {
		return Report{}, err
	}
	r.Kind, r.Status, r.Outcome = Kind(kind), Status(status), Outcome(outcome)
	if happened.Valid {
		if t, err := time.Parse(time.DateOnly, happened.String); err == nil {
			r.HappenedOn = &t
		}
	}
	r.Reporter = Person{ID: reporter.Int64, Name: pName.String, Email: pEmail.String, Org: pOrg.String}
	r.Named = Person{ID: named.Int64, Name: nName.String, Email: nEmail.String, Org: nOrg.String,
		Role: account.Role(nRole.String), Status: account.Status(nStatus.String)}
	r.CreatedAt, r.DueAt = r.CreatedAt.UTC(), r.DueAt.UTC()
	if closed.Valid {
		t := closed.Time.UTC()
		r.ClosedAt = &t
	}
	return r, nil
}

// notFound is the error for a report that does not exist.
func notFound() error { return apperr.New(apperr.NotFound, "There is no such report") }

// Get returns one report. Who may see it is for the caller to decide
// (authz, with the named account's organisation). Errors: NotFound.
func (s *Service) Get(ctx context.Context, id int64) (Report, error) {
	r, err := scanReport(s.db.QueryRowContext(ctx, `SELECT `+reportColumns+reportFrom+` WHERE c.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Report{}, notFound()
	}
	if err != nil {
		return Report{}, fmt.Errorf("concern: report %d: %w", id, err)
	}
	return r, nil
}

// Entries lists the steps on a report, oldest first.
func (s *Service) Entries(ctx context.Context, id int64) ([]Entry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT e.id, e.author_id, u.name, e.kind, e.body, e.created_at
		FROM concern_entries e LEFT JOIN users u ON u.id = e.author_id WHERE e.report_id = $1 ORDER BY e.id`, id)
	if err != nil {
		return nil, fmt.Errorf("concern: entries of %d: %w", id, err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var author sql.NullInt64
		var name sql.NullString
		if err := rows.Scan(&e.ID, &author, &name, &e.Kind, &e.Text, &e.CreatedAt); err != nil {
			return nil, fmt.Errorf("concern: entries of %d: %w", id, err)
		}
		e.AuthorID, e.AuthorName, e.CreatedAt = author.Int64, name.String, e.CreatedAt.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
