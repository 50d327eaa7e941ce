// Package feedback keeps the feedback and questions people send about the
// service from the "?" link on every page (P3), and the operator's answers
// to them (P8): the sender's own list and threads, the national admins'
// inbox with its filters, assignment, statuses and replies sent by email
// through the outbox, and the count of questions left unanswered for more
// than five working days.
//
// Only signed-in users send feedback: replies go to the address their
// account has verified, under "Your account", and nobody's address is
// taken from a form. Everything anyone types here passes the identifier
// guard (internal/pii) before it is stored (T12).
//
// The package owns the feedback_items and feedback_replies tables
// (migration 0018). It reads users for names and reply addresses, and
// writes nothing else but the audit log and the outbox, in the same
// transaction as the change they record.
package feedback

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

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/numfmt"
	"github.com/psims/psims/internal/pii"
	"github.com/psims/psims/internal/ratelimit"
	"github.com/psims/psims/internal/textcheck"
)

// Kind says whether a person is telling us something or asking.
type Kind string

// The kinds.
const (
	Feedback Kind = "feedback"
	Question Kind = "question"
)

// Kinds lists the kinds in the order the form offers them.
func Kinds() []Kind { return []Kind{Feedback, Question} }

// Label is the kind in words, as in "your question".
func (k Kind) Label() string {
	if k == Question {
		return "question"
	}
	return "feedback"
}

// Status is where an item stands.
type Status string

// The statuses. An item is new until the operator replies (answered) or
// closes it; a closed item can be reopened, which makes it new again.
const (
	StatusNew      Status = "new"
	StatusAnswered Status = "answered"
	StatusClosed   Status = "closed"
)

// Statuses lists every status.
func Statuses() []Status { return []Status{StatusNew, StatusAnswered, StatusClosed} }

// Label is the status in words.
func (s Status) Label() string {
	switch s {
	case StatusNew:
		return "New"
	case StatusAnswered:
		return "Answered"
	case StatusClosed:
		return "Closed"
	}
	return string(s)
}

// MaxLength is the most characters one message (sent or replied) may hold.
const MaxLength = 2000

// DefaultRate is how many items one person may send in an hour.
const DefaultRate = 10

// OverdueAfter is how many working days an item may wait for an answer
// before the inbox counts it as overdue.
const OverdueAfter = 5

// Limiter decides per-key limits kept in the database; *ratelimit.Store is
// one.
type Limiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (ratelimit.Decision, error)
}

// Outbox queues an email in the caller's transaction; *mail.Outbox is one.
type Outbox interface {
	Enqueue(ctx context.Context, tx *db.Tx, m mail.Message) (int64, error)
}

// Service keeps feedback and questions and their replies.
type Service struct {
	db     *db.DB
	limits Limiter
	outbox Outbox
	// threadURL is the address of a sender's thread without its id, for
	// the link in a reply email.
	threadURL string
	rate      int
	// uk is the time zone working days are counted in.
	uk *time.Location
}

// NewService returns the service on d. Each sender may send rate items an
// hour (DefaultRate when rate is not positive), counted by limits; replies
// are emailed through outbox with a link to threadURL + "/" + the item's id
// (such as https://psims.example/account/queries).
func NewService(d *db.DB, limits Limiter, outbox Outbox, threadURL string, rate int) *Service {
	if rate <= 0 {
		rate = DefaultRate
	}
	uk, err := time.LoadLocation("Europe/London")
	if err != nil {
		uk = time.UTC
	}
	return &Service{db: d, limits: limits, outbox: outbox, threadURL: strings.TrimSuffix(threadURL, "/"), rate: rate, uk: uk}
}

// Rate is how many items one person may send in an hour.
func (s *Service) Rate() int { return s.rate }

// Reference is how an item is named to people, such as "FB-00042".
func Reference(id int64) string { return fmt.Sprintf("FB-%05d", id) }

// Item is one piece of feedback or one question.
type Item struct {
	ID     int64
	UserID int64
	// UserName, UserEmail and UserOrg describe the sender as their account
	// stands now (for the operator's pages).
	UserName, UserEmail, UserOrg string
	Kind                         Kind
	// Page is the path of the page it was sent from; "" when unknown.
	Page     string
	Text     string
	MayReply bool // the sender agreed to be replied to by email
	Status   Status
	// AssigneeID is the national admin it is assigned to; 0 for nobody.
	AssigneeID   int64
	AssigneeName string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// WaitingSince is when it last became new: sent, or reopened.
	WaitingSince time.Time
	Replies      int
}

// Reference is the item's reference.
func (i Item) Reference() string { return Reference(i.ID) }

// Reply is one answer from the operator.
type Reply struct {
	ID         int64
	AuthorID   int64 // 0 once the author's account is deleted
	AuthorName string
	Text       string
	Emailed    bool // a copy was queued to the sender's email address
	CreatedAt  time.Time
}

// Thread is an item with its replies, oldest first.
type Thread struct {
	Item
	Replies []Reply
}

// Submission is what a person sends.
type Submission struct {
	UserID   int64
	Kind     Kind
	Text     string
	Page     string // the page it was sent from, checked with ParsePage
	MayReply bool
}

// checkText applies the rules for any message typed here: something
// written, not too long, no hidden control characters, nothing that could
// identify anyone (T12). label names the box in messages; empty is the
// message for a box left empty.
func checkText(problems *apperr.Fields, field, label, empty, text string) {
	switch n := utf8.RuneCountInString(text); {
	case text == "":
		problems.Add(field, empty)
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

// CleanText is typed text as it is checked and stored: Windows line ends
// made plain, and blank space around it taken off.
func CleanText(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }

// Send stores feedback or a question from a signed-in user. Errors:
// apperr.Fields (fields "kind" and "text") when the kind is missing or the
// text is empty, too long, or holds something that could identify someone,
// and then nothing is stored or counted; RateLimited, with a message
// saying how long to wait, when the sender has used up their items for the
// hour. A page that is not a local path is dropped, not refused: it came
// from a hidden field, which nobody can correct.
func (s *Service) Send(ctx context.Context, sub Submission) (Item, error) {
	sub.Text = CleanText(sub.Text)
	var problems apperr.Fields
	if sub.Kind != Feedback && sub.Kind != Question {
		problems.Add("kind", "Select whether you are giving feedback or asking a question")
	}
	checkText(&problems, "text", "Your message", "Enter your feedback or question", sub.Text)
	if err := problems.Err(); err != nil {
		return Item{}, err
	}
	page, ok := ParsePage(sub.Page)
	if !ok {
		page = ""
	}
	d, err := s.limits.Allow(ctx, "feedback:user:"+strconv.FormatInt(sub.UserID, 10), s.rate, time.Hour, s.db.Now())
	if err != nil {
		return Item{}, fmt.Errorf("feedback: rate limit: %w", err)
	}
	if !d.Allowed {
		minutes := int(math.Ceil(d.RetryAfter.Minutes()))
		wait := "1 minute"
		if minutes > 1 {
			wait = strconv.Itoa(minutes) + " minutes"
		}
		return Item{}, apperr.New(apperr.RateLimited, fmt.Sprintf(
			"You can send up to %d messages an hour. You can send this one in %s: your message is still below.", s.rate, wait))
	}
	it := Item{UserID: sub.UserID, Kind: sub.Kind, Page: page, Text: sub.Text, MayReply: sub.MayReply, Status: StatusNew}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		it.CreatedAt, it.UpdatedAt, it.WaitingSince = tx.Now, tx.Now, tx.Now
		return tx.QueryRowContext(ctx, `INSERT INTO feedback_items
			(user_id, kind, page, body, may_reply, status, created_at, updated_at, waiting_since)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7) RETURNING id`,
			it.UserID, string(it.Kind), it.Page, it.Text, it.MayReply, string(it.Status), tx.Now).Scan(&it.ID)
	})
	if err != nil {
		return Item{}, fmt.Errorf("feedback: send: %w", err)
	}
	return it, nil
}

// itemColumns are the columns scanItem reads, from feedback_items f, the
// sender u and the assignee a (left joined).
const itemColumns = `f.id, f.user_id, u.name, u.email, u.org_ods, f.kind, f.page, f.body, f.may_reply, f.status,
	f.assignee_id, a.name, f.created_at, f.updated_at, f.waiting_since,
	(SELECT COUNT(*) FROM feedback_replies r WHERE r.item_id = f.id)`

const itemFrom = ` FROM feedback_items f JOIN users u ON u.id = f.user_id LEFT JOIN users a ON a.id = f.assignee_id`

type scanner interface{ Scan(dest ...any) error }

func scanItem(row scanner) (Item, error) {
	var it Item
	var kind, status string
	var assignee sql.NullInt64
	var assigneeName sql.NullString
	err := row.Scan(&it.ID, &it.UserID, &it.UserName, &it.UserEmail, &it.UserOrg, &kind, &it.Page, &it.Text, &it.MayReply, &status,
		&assignee, &assigneeName, &it.CreatedAt, &it.UpdatedAt, &it.WaitingSince, &it.Replies)
	it.Kind, it.Status = Kind(kind), Status(status)
	it.AssigneeID, it.AssigneeName = assignee.Int64, assigneeName.String
	return it, err
}

// Mine lists the items the user sent, newest first.
func (s *Service) Mine(ctx context.Context, userID int64) ([]Item, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+itemColumns+itemFrom+` WHERE f.user_id = $1 ORDER BY f.id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("feedback: list own: %w", err)
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, fmt.Errorf("feedback: list own: %w", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("feedback: list own: %w", err)
	}
	return out, nil
}

// Thread returns one item with its replies. Who may see it is for the
// caller to decide (authz). Errors: NotFound.
func (s *Service) Thread(ctx context.Context, id int64) (Thread, error) {
	it, err := scanItem(s.db.QueryRowContext(ctx, `SELECT `+itemColumns+itemFrom+` WHERE f.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Thread{}, apperr.New(apperr.NotFound, "There is no such message")
	}
	if err != nil {
		return Thread{}, fmt.Errorf("feedback: thread %d: %w", id, err)
	}
	t := Thread{Item: it}
	rows, err := s.db.QueryContext(ctx, `SELECT r.id, r.author_id, u.name, r.body, r.emailed, r.created_at
		FROM feedback_replies r LEFT JOIN users u ON u.id = r.author_id WHERE r.item_id = $1 ORDER BY r.id`, id)
	if err != nil {
		return Thread{}, fmt.Errorf("feedback: thread %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Reply
		var author sql.NullInt64
		var name sql.NullString
		if err := rows.Scan(&r.ID, &author, &name, &r.Text, &r.Emailed, &r.CreatedAt); err != nil {
			return Thread{}, fmt.Errorf("feedback: thread %d: %w", id, err)
		}
		r.AuthorID, r.AuthorName = author.Int64, name.String
		t.Replies = append(t.Replies, r)
	}
	if err := rows.Err(); err != nil {
		return Thread{}, fmt.Errorf("feedback: thread %d: %w", id, err)
	}
	return t, nil
}
