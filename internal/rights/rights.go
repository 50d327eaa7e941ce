// Package rights keeps the requests people make about their own data
// (issue 13 item 2, P15): erasure and restriction, which national admins
// answer from a queue by a legal due date, and objection to contact, which
// takes effect at once.
//
// A request is due one calendar month after it is received (DueDate) and
// may be extended, with a reason emailed to the person, to three months in
// all. Every step is audited in the transaction that makes it and its
// outcome emailed through the outbox.
//
// Completing an erasure erases the person everywhere in one transaction,
// through the small interfaces declared here, each implemented by the
// package that owns the tables (the erase.go file of account, terms,
// usage, feedback, incident and mail). Completing a restriction makes the
// account read-only until a national admin lifts it.
//
// The package owns the rights_requests and rights_request_notes tables
// (migration 0020); it reads users for names and addresses.
package rights

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/numfmt"
	"github.com/psims/psims/internal/pii"
	"github.com/psims/psims/internal/textcheck"
)

// Kind is what a person asks for.
type Kind string

// The kinds.
const (
	Erasure     Kind = "erasure"
	Restriction Kind = "restriction"
	Objection   Kind = "objection" // to contact: newsletters, notifications, invitations
)

// Kinds lists every kind.
func Kinds() []Kind { return []Kind{Erasure, Restriction, Objection} }

// Label is the kind as a title, such as "Erasure".
func (k Kind) Label() string {
	switch k {
	case Erasure:
		return "Erasure"
	case Restriction:
		return "Restriction"
	case Objection:
		return "Objection to contact"
	}
	return string(k)
}

// What is what the kind asks for, as in "a request for erasure of your data".
func (k Kind) What() string {
	switch k {
	case Erasure:
		return "erasure of your data"
	case Restriction:
		return "restriction of the processing of your data"
	case Objection:
		return "no newsletters, notifications or invitations"
	}
	return string(k)
}

// Status is where a request stands.
type Status string

// The statuses. Received, in progress and extended are open; the rest are
// closed.
const (
	Received   Status = "received"
	InProgress Status = "in_progress"
	Extended   Status = "extended"
	Completed  Status = "completed"
	Refused    Status = "refused"
	Withdrawn  Status = "withdrawn"
)

// Statuses lists every status.
func Statuses() []Status {
	return []Status{Received, InProgress, Extended, Completed, Refused, Withdrawn}
}

// Open reports whether a request with the status is still to be answered.
func (s Status) Open() bool { return s == Received || s == InProgress || s == Extended }

// Label is the status in words.
func (s Status) Label() string {
	switch s {
	case Received:
		return "Received"
	case InProgress:
		return "In progress"
	case Extended:
		return "Extended"
	case Completed:
		return "Completed"
	case Refused:
		return "Refused"
	case Withdrawn:
		return "Withdrawn"
	}
	return string(s)
}

// MaxLength is the most characters a reason or note may hold.
const MaxLength = 2000

// MaxExtension is how many calendar months a request may be extended by,
// beyond the first month.
const MaxExtension = 2

// AddMonths returns t moved n calendar months on, on the same day of the
// month, or on the last day of the month when it has fewer days: 31
// January plus one month is 28 February, or 29 in a leap year.
func AddMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// DueDate is when a request received at received must be answered, after
// extended months of extension (0 to MaxExtension).
func DueDate(received time.Time, extended int) time.Time { return AddMonths(received, 1+extended) }

// Reference is how a request is named to people, such as "RR-00042".
func Reference(id int64) string { return fmt.Sprintf("RR-%05d", id) }

// Request is one request.
type Request struct {
	ID     int64
	UserID int64
	// UserName, UserEmail and UserOrg describe the person as their
	// account stands now; empty once they are erased.
	UserName, UserEmail, UserOrg string
	Kind                         Kind
	Status                       Status
	Reason                       string // the person's own words; may be empty
	ReceivedAt, DueAt            time.Time
	ExtensionReason              string
	Outcome                      string // the reason for a refusal
	ClosedAt, LiftedAt           *time.Time
	UpdatedAt                    time.Time
	Notes                        []Note
}

// Reference is the request's reference.
func (r Request) Reference() string { return Reference(r.ID) }

// Overdue reports whether an open request is past its due date at now.
func (r Request) Overdue(now time.Time) bool { return r.Status.Open() && now.After(r.DueAt) }

// InForce reports whether a completed restriction or objection still
// holds.
func (r Request) InForce() bool {
	return r.Status == Completed && r.LiftedAt == nil && (r.Kind == Restriction || r.Kind == Objection)
}

// Note is a national admin's note on a request.
type Note struct {
	ID         int64
	AuthorID   int64
	AuthorName string
	Body       string
	CreatedAt  time.Time
}

// checkText applies the rules for text typed here: not too long, no
// hidden control characters, nothing that could identify anyone (T12).
// empty is the message for a box that must be filled, or "" when it may
// be left empty.
func checkText(problems *apperr.Fields, field, label, empty, text string) {
	switch n := utf8.RuneCountInString(text); {
	case text == "":
		if empty != "" {
			problems.Add(field, empty)
		}
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
