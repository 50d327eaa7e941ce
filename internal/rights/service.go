package rights

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
)

// Outbox queues an email in the caller's transaction; *mail.Outbox is one.
type Outbox interface {
	Enqueue(ctx context.Context, tx *db.Tx, m mail.Message) (int64, error)
	// EraseAddress deletes every email to addr (P15).
	EraseAddress(ctx context.Context, tx *db.Tx, addr string) (int64, error)
}

// People is what the service needs from the accounts; *account.Service is
// one.
type People interface {
	UserInTx(ctx context.Context, tx *db.Tx, id int64) (account.User, error)
	SetRestricted(ctx context.Context, tx *db.Tx, userID int64, restricted bool) error
	SetContactObjection(ctx context.Context, tx *db.Tx, userID int64, objects bool) error
	// ErasePerson erases the account itself; it runs last.
	ErasePerson(ctx context.Context, tx *db.Tx, userID int64) (map[string]int64, error)
}

// Eraser erases what one package holds about a person, inside the
// erasure's transaction, and says how many rows of each kind it changed.
// Each owner package implements it in its erase.go.
type Eraser interface {
	ErasePerson(ctx context.Context, tx *db.Tx, userID int64) (map[string]int64, error)
}

// EraserFunc makes a function an Eraser.
type EraserFunc func(ctx context.Context, tx *db.Tx, userID int64) (map[string]int64, error)

// ErasePerson calls f.
func (f EraserFunc) ErasePerson(ctx context.Context, tx *db.Tx, userID int64) (map[string]int64, error) {
	return f(ctx, tx, userID)
}

// AddressEraser erases, inside the erasure's transaction, what is kept
// under a person's email address rather than their id, and says how many
// rows went; jobs.EraseAddress is one.
type AddressEraser func(ctx context.Context, tx *db.Tx, addr string) (int64, error)

// PerPage is how many requests a page of the queue shows.
const PerPage = 25

// Service keeps the requests.
type Service struct {
	db      *db.DB
	people  People
	outbox  Outbox
	erasers []Eraser
	// byAddress erase what is kept under the person's address, by the
	// name their count takes in the audit row.
	byAddress map[string]AddressEraser
	// dataURL is the address of "Your data", for links in emails.
	dataURL string
}

// NewService returns the service on d. erasers are every package's part
// of an erasure but the account's and the outbox's, which People and
// Outbox do; dataURL is where a person sees their requests.
func NewService(d *db.DB, people People, outbox Outbox, dataURL string, erasers ...Eraser) *Service {
	return &Service{db: d, people: people, outbox: outbox, erasers: erasers, dataURL: dataURL}
}

// EraseAddressesWith adds e to what an erasure runs for each of the
// person's addresses, its count named key in the audit row, and returns s.
func (s *Service) EraseAddressesWith(key string, e AddressEraser) *Service {
	if s.byAddress == nil {
		s.byAddress = map[string]AddressEraser{}
	}
	s.byAddress[key] = e
	return s
}

// Actor is who does something, and from where.
type Actor struct {
	ID int64
	IP string
}

// CleanText is typed text as it is checked and stored.
func CleanText(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }

func addressee(u account.User) mail.Addressee { return mail.Addressee{Email: u.Email, Name: u.Name} }

func dueWords(t time.Time) string {
	if uk, err := time.LoadLocation("Europe/London"); err == nil {
		t = t.In(uk)
	}
	return t.Format("2 January 2006")
}

// Ask records a request for erasure or restriction by the signed-in
// person (who is the Actor), or an objection to contact, which takes
// effect at once. reason is optional. Errors: apperr.Fields ("kind",
// "reason") for a missing kind or a reason that is too long or could
// identify someone; Conflict when the person already has an open request
// of the kind, or already objects.
func (s *Service) Ask(ctx context.Context, by Actor, kind Kind, reason string) (Request, error) {
	reason = CleanText(reason)
	var problems apperr.Fields
	if !slices.Contains(Kinds(), kind) {
		problems.Add("kind", "Select what you are asking for")
	}
	checkText(&problems, "reason", "Your reason", "", reason)
	if err := problems.Err(); err != nil {
		return Request{}, err
	}
	var req Request
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		u, err := s.people.UserInTx(ctx, tx, by.ID)
		if err != nil {
			return err
		}
		status, due := Received, DueDate(tx.Now, 0)
		var closed any
		if kind == Objection {
			if u.ContactObjectedAt != nil {
				return apperr.New(apperr.Conflict, "You have already objected to being contacted.")
			}
			status, due, closed = Completed, tx.Now, tx.Now
		}
		var open int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM rights_requests WHERE user_id = $1 AND kind = $2
			AND status IN ('received', 'in_progress', 'extended')`, by.ID, string(kind)).Scan(&open); err != nil {
			return fmt.Errorf("rights: ask: %w", err)
		}
		if open > 0 {
			return apperr.New(apperr.Conflict, "You already have a request for "+kind.What()+" waiting for an answer. You can see it below.")
		}
		req = Request{UserID: by.ID, Kind: kind, Status: status, Reason: reason, ReceivedAt: tx.Now, DueAt: due, UpdatedAt: tx.Now}
		if err := tx.QueryRowContext(ctx, `INSERT INTO rights_requests (user_id, kind, status, reason, received_at, due_at, closed_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $5) RETURNING id`,
			by.ID, string(kind), string(status), reason, tx.Now, due, closed).Scan(&req.ID); err != nil {
			return fmt.Errorf("rights: ask: %w", err)
		}
		action := "rights.requested"
		msg := mail.RightsReceived(addressee(u), req.Reference(), kind.What(), dueWords(due), s.dataURL)
		if kind == Objection {
			if err := s.people.SetContactObjection(ctx, tx, by.ID, true); err != nil {
				return err
			}
			action = "rights.objected"
			msg = mail.RightsObjectionConfirmed(addressee(u), req.Reference(), s.dataURL)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: by.ID, Action: action, SubjectType: "rights_request",
			SubjectID: strconv.FormatInt(req.ID, 10), Details: map[string]string{"kind": string(kind), "due": due.Format(time.DateOnly)}, IP: by.IP}); err != nil {
			return err
		}
		_, err = s.outbox.Enqueue(ctx, tx, msg)
		return err
	})
	if err != nil {
		return Request{}, err
	}
	return req, nil
}

// requestColumns are the columns scanRequest reads, from rights_requests r
// and users u.
const requestColumns = `r.id, r.user_id, u.name, u.email, u.org_ods, u.status, r.kind, r.status, r.reason, r.received_at, r.due_at,
	r.extension_reason, r.outcome, r.closed_at, r.lifted_at, r.updated_at`

const requestFrom = ` FROM rights_requests r JOIN users u ON u.id = r.user_id`

type scanner interface{ Scan(dest ...any) error }

func scanRequest(row scanner) (Request, error) {
	var r Request
	var kind, status, userStatus string
	var closed, lifted sql.NullTime
	err := row.Scan(&r.ID, &r.UserID, &r.UserName, &r.UserEmail, &r.UserOrg, &userStatus, &kind, &status, &r.Reason,
		&r.ReceivedAt, &r.DueAt, &r.ExtensionReason, &r.Outcome, &closed, &lifted, &r.UpdatedAt)
	r.Kind, r.Status = Kind(kind), Status(status)
	if userStatus == string(account.StatusErased) {
		r.UserName, r.UserEmail, r.UserOrg = account.ErasedName, "", ""
	}
	r.ReceivedAt, r.DueAt, r.UpdatedAt = r.ReceivedAt.UTC(), r.DueAt.UTC(), r.UpdatedAt.UTC()
	if closed.Valid {
		t := closed.Time.UTC()
		r.ClosedAt = &t
	}
	if lifted.Valid {
		t := lifted.Time.UTC()
		r.LiftedAt = &t
	}
	return r, err
}

func (s *Service) list(ctx context.Context, q string, args ...any) ([]Request, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("rights: list: %w", err)
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("rights: list: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rights: list: %w", err)
	}
	return out, nil
}

// Mine lists the person's requests, newest first.
func (s *Service) Mine(ctx context.Context, userID int64) ([]Request, error) {
	return s.list(ctx, `SELECT `+requestColumns+requestFrom+` WHERE r.user_id = $1 ORDER BY r.id DESC`, userID)
}

// Get returns one request with its notes. Who may see it is for the
// caller to decide (authz). Errors: NotFound.
func (s *Service) Get(ctx context.Context, id int64) (Request, error) {
	r, err := scanRequest(s.db.QueryRowContext(ctx, `SELECT `+requestColumns+requestFrom+` WHERE r.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Request{}, apperr.New(apperr.NotFound, "There is no such request")
	}
	if err != nil {
		return Request{}, fmt.Errorf("rights: request %d: %w", id, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT n.id, COALESCE(n.author_id, 0), COALESCE(a.name, ''), COALESCE(a.status, ''), n.body, n.created_at
		FROM rights_request_notes n LEFT JOIN users a ON a.id = n.author_id WHERE n.request_id = $1 ORDER BY n.id`, id)
	if err != nil {
		return Request{}, fmt.Errorf("rights: notes of %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var n Note
		var status string
		if err := rows.Scan(&n.ID, &n.AuthorID, &n.AuthorName, &status, &n.Body, &n.CreatedAt); err != nil {
			return Request{}, fmt.Errorf("rights: notes of %d: %w", id, err)
		}
		if status == string(account.StatusErased) || n.AuthorID == 0 {
			n.AuthorName = account.ErasedName
		}
		n.CreatedAt = n.CreatedAt.UTC()
		r.Notes = append(r.Notes, n)
	}
	if err := rows.Err(); err != nil {
		return Request{}, fmt.Errorf("rights: notes of %d: %w", id, err)
	}
	return r, nil
}

// Filter chooses the requests a page of the queue shows. Zero values
// mean "any"; Open chooses the open statuses.
type Filter struct {
	Kind   Kind
	Status Status
	Open   bool
	Page   int // from 1
}

// QueuePage is one page of the queue.
type QueuePage struct {
	Requests []Request
	Total    int
	Page     int
	// Overdue counts the open requests past their due date, whatever the
	// filter.
	Overdue int
}

// Pages is how many pages the filter's requests fill (at least 1).
func (p QueuePage) Pages() int { return max(1, (p.Total+PerPage-1)/PerPage) }

// Queue returns a page of requests for the national admins: overdue ones
// first, then by due date. Only national admins may see it: the caller
// asks authz.
func (s *Service) Queue(ctx context.Context, f Filter) (QueuePage, error) {
	now := s.db.Now()
	page := QueuePage{Page: max(1, f.Page)}
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Kind != "" {
		conds = append(conds, "r.kind = "+arg(string(f.Kind)))
	}
	switch {
	case f.Status != "":
		conds = append(conds, "r.status = "+arg(string(f.Status)))
	case f.Open:
		conds = append(conds, "r.status IN ('received', 'in_progress', 'extended')")
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM rights_requests r`+where, args...).Scan(&page.Total); err != nil {
		return QueuePage{}, fmt.Errorf("rights: count: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM rights_requests
		WHERE status IN ('received', 'in_progress', 'extended') AND due_at < $1`, now).Scan(&page.Overdue); err != nil {
		return QueuePage{}, fmt.Errorf("rights: count overdue: %w", err)
	}
	at := arg(now)
	q := `SELECT ` + requestColumns + requestFrom + where + `
		ORDER BY CASE WHEN r.status IN ('received', 'in_progress', 'extended') AND r.due_at < ` + at + ` THEN 0
			WHEN r.status IN ('received', 'in_progress', 'extended') THEN 1 ELSE 2 END, r.due_at, r.id
		LIMIT ` + arg(PerPage) + ` OFFSET ` + arg((page.Page-1)*PerPage)
	reqs, err := s.list(ctx, q, args...)
	if err != nil {
		return QueuePage{}, err
	}
	page.Requests = reqs
	return page, nil
}

// change runs fn on request id inside a transaction, after checking that
// it is open (or, when closed is true, that it need not be), then audits
// action with details and queues the email msg makes.
func (s *Service) change(ctx context.Context, by Actor, id int64, action string, fn func(tx *db.Tx, r Request, u account.User) (map[string]string, mail.Message, error)) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		r, err := scanRequest(tx.QueryRowContext(ctx, `SELECT `+requestColumns+requestFrom+` WHERE r.id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "There is no such request")
		}
		if err != nil {
			return fmt.Errorf("rights: %s: %w", action, err)
		}
		u, err := s.people.UserInTx(ctx, tx, r.UserID)
		if err != nil {
			return err
		}
		details, msg, err := fn(tx, r, u)
		if err != nil {
			return err
		}
		if details == nil {
			details = map[string]string{}
		}
		details["kind"] = string(r.Kind)
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: by.ID, Action: action, SubjectType: "rights_request",
			SubjectID: strconv.FormatInt(id, 10), Details: details, IP: by.IP}); err != nil {
			return err
		}
		if msg.To == "" {
			return nil
		}
		_, err = s.outbox.Enqueue(ctx, tx, msg)
		return err
	})
}

func mustBeOpen(r Request) error {
	if !r.Status.Open() {
		return apperr.New(apperr.Conflict, "This request is "+strings.ToLower(r.Status.Label())+" already, so it cannot be changed. The page shows it as it is now.")
	}
	return nil
}

func (s *Service) setStatus(ctx context.Context, tx *db.Tx, id int64, from, to Status, closedBy int64) error {
	var closedAt any
	if !to.Open() {
		closedAt = tx.Now
	}
	res, err := tx.ExecContext(ctx, `UPDATE rights_requests SET status = $1, updated_at = $2, closed_at = $3, closed_by = $4
		WHERE id = $5 AND status = $6`, string(to), tx.Now, closedAt, db.NullID(closedBy), id, string(from))
	if err != nil {
		return fmt.Errorf("rights: set status: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return apperr.New(apperr.Conflict, "Someone else changed this request just now. The page shows it as it is now.")
	}
	return nil
}

// Withdraw withdraws the person's own open request, or their objection to
// contact, which then ends at once. Who may is for the caller to decide
// (authz, on the request's UserID). Errors: NotFound; Conflict when it is
// closed already.
func (s *Service) Withdraw(ctx context.Context, by Actor, id int64) error {
	return s.change(ctx, by, id, "rights.withdrawn", func(tx *db.Tx, r Request, u account.User) (map[string]string, mail.Message, error) {
		if r.Kind == Objection && r.InForce() {
			if err := s.people.SetContactObjection(ctx, tx, r.UserID, false); err != nil {
				return nil, mail.Message{}, err
			}
			if err := s.setStatus(ctx, tx, r.ID, Completed, Withdrawn, 0); err != nil {
				return nil, mail.Message{}, err
			}
		} else {
			if err := mustBeOpen(r); err != nil {
				return nil, mail.Message{}, err
			}
			if err := s.setStatus(ctx, tx, r.ID, r.Status, Withdrawn, 0); err != nil {
				return nil, mail.Message{}, err
			}
		}
		return nil, mail.RightsWithdrawn(addressee(u), r.Reference(), r.Kind.What(), s.dataURL), nil
	})
}

// AddNote adds a national admin's note to a request; a received request
// is then in progress. Errors: apperr.Fields ("note"); NotFound.
func (s *Service) AddNote(ctx context.Context, by Actor, id int64, body string) error {
	body = CleanText(body)
	var problems apperr.Fields
	checkText(&problems, "note", "Your note", "Enter a note", body)
	if err := problems.Err(); err != nil {
		return err
	}
	return s.change(ctx, by, id, "rights.note_added", func(tx *db.Tx, r Request, u account.User) (map[string]string, mail.Message, error) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO rights_request_notes (request_id, author_id, body, created_at) VALUES ($1, $2, $3, $4)`,
			r.ID, by.ID, body, tx.Now); err != nil {
			return nil, mail.Message{}, fmt.Errorf("rights: add note: %w", err)
		}
		if r.Status == Received {
			if err := s.setStatus(ctx, tx, r.ID, Received, InProgress, 0); err != nil {
				return nil, mail.Message{}, err
			}
		}
		return nil, mail.Message{}, nil
	})
}

// Extend moves an open erasure or restriction request's due date to months
// (1 or 2) further calendar months after the first, with a reason that is
// emailed to the person. Errors: apperr.Fields ("months", "reason");
// NotFound; Conflict when closed or not later than it is now.
func (s *Service) Extend(ctx context.Context, by Actor, id int64, months int, reason string) error {
	reason = CleanText(reason)
	var problems apperr.Fields
	if months < 1 || months > MaxExtension {
		problems.Add("months", "Select by how many months to extend it")
	}
	checkText(&problems, "reason", "The reason", "Enter the reason for the extension: it is emailed to the person", reason)
	if err := problems.Err(); err != nil {
		return err
	}
	return s.change(ctx, by, id, "rights.extended", func(tx *db.Tx, r Request, u account.User) (map[string]string, mail.Message, error) {
		if err := mustBeOpen(r); err != nil {
			return nil, mail.Message{}, err
		}
		due := DueDate(r.ReceivedAt, months)
		if !due.After(r.DueAt) {
			return nil, mail.Message{}, apperr.New(apperr.Conflict, "It is due on "+dueWords(r.DueAt)+" already. Extend it by more months, up to "+strconv.Itoa(MaxExtension)+" in all.")
		}
		res, err := tx.ExecContext(ctx, `UPDATE rights_requests SET status = $1, due_at = $2, extension_reason = $3, updated_at = $4
			WHERE id = $5 AND status = $6`, string(Extended), due, reason, tx.Now, r.ID, string(r.Status))
		if err != nil {
			return nil, mail.Message{}, fmt.Errorf("rights: extend: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil, mail.Message{}, apperr.New(apperr.Conflict, "Someone else changed this request just now. The page shows it as it is now.")
		}
		return map[string]string{"due": due.Format(time.DateOnly), "months": strconv.Itoa(months)},
			mail.RightsExtended(addressee(u), r.Reference(), r.Kind.What(), dueWords(due), reason, s.dataURL), nil
	})
}

// Refuse refuses an open request with a reason that is emailed to the
// person. Errors: apperr.Fields ("reason"); NotFound; Conflict.
func (s *Service) Refuse(ctx context.Context, by Actor, id int64, reason string) error {
	reason = CleanText(reason)
	var problems apperr.Fields
	checkText(&problems, "refusal", "The reason", "Enter the reason for refusing: it is emailed to the person", reason)
	if err := problems.Err(); err != nil {
		return err
	}
	return s.change(ctx, by, id, "rights.refused", func(tx *db.Tx, r Request, u account.User) (map[string]string, mail.Message, error) {
		if err := mustBeOpen(r); err != nil {
			return nil, mail.Message{}, err
		}
		if err := s.setStatus(ctx, tx, r.ID, r.Status, Refused, by.ID); err != nil {
			return nil, mail.Message{}, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE rights_requests SET outcome = $1 WHERE id = $2`, reason, r.ID); err != nil {
			return nil, mail.Message{}, fmt.Errorf("rights: refuse: %w", err)
		}
		return nil, mail.RightsRefused(addressee(u), r.Reference(), r.Kind.What(), reason, s.dataURL), nil
	})
}

// Complete carries out an open request. A restriction makes the account
// read-only until lifted. An erasure erases the person everywhere in this
// one transaction: every Eraser, then the outbox's emails to them, then
// the account itself, which becomes a tombstone; the audit row holds the
// request and counts, nothing personal; the outcome email, queued last,
// is the one message to them the outbox keeps. Errors: NotFound;
// Conflict when closed, or when a national admin would erase themselves.
func (s *Service) Complete(ctx context.Context, by Actor, id int64) error {
	action := "rights.completed"
	return s.change(ctx, by, id, action, func(tx *db.Tx, r Request, u account.User) (map[string]string, mail.Message, error) {
		if err := mustBeOpen(r); err != nil {
			return nil, mail.Message{}, err
		}
		if err := s.setStatus(ctx, tx, r.ID, r.Status, Completed, by.ID); err != nil {
			return nil, mail.Message{}, err
		}
		switch r.Kind {
		case Restriction:
			if err := s.people.SetRestricted(ctx, tx, r.UserID, true); err != nil {
				return nil, mail.Message{}, err
			}
			return nil, mail.RightsRestricted(addressee(u), r.Reference(), s.dataURL), nil
		case Erasure:
			if r.UserID == by.ID {
				return nil, mail.Message{}, apperr.New(apperr.Conflict, "You cannot erase yourself: another national admin must complete this request.")
			}
			counts, err := s.erase(ctx, tx, u)
			if err != nil {
				return nil, mail.Message{}, err
			}
			return counts, mail.RightsErased(addressee(u), r.Reference()), nil
		}
		return nil, mail.Message{}, apperr.New(apperr.Conflict, "This request cannot be completed.")
	})
}

// erase erases u everywhere inside tx and returns the counts for the audit
// row.
func (s *Service) erase(ctx context.Context, tx *db.Tx, u account.User) (map[string]string, error) {
	details := map[string]string{}
	add := func(m map[string]int64) {
		for k, n := range m {
			details[k] = strconv.FormatInt(n, 10)
		}
	}
	for _, e := range s.erasers {
		m, err := e.ErasePerson(ctx, tx, u.ID)
		if err != nil {
			return nil, err
		}
		add(m)
	}
	m, err := s.ErasePerson(ctx, tx, u.ID)
	if err != nil {
		return nil, err
	}
	add(m)
	byAddress := map[string]AddressEraser{"outbox": s.outbox.EraseAddress}
	for k, e := range s.byAddress {
		byAddress[k] = e
	}
	for key, e := range byAddress {
		var total int64
		for _, addr := range []string{u.Email, u.PendingEmail} {
			if addr == "" {
				continue
			}
			n, err := e(ctx, tx, addr)
			if err != nil {
				return nil, err
			}
			total += n
		}
		add(map[string]int64{key: total})
	}
	m, err = s.people.ErasePerson(ctx, tx, u.ID)
	if err != nil {
		return nil, err
	}
	add(m)
	return details, nil
}

// ErasePerson blanks the reasons the person gave in their own requests,
// which stay as the record that their rights were answered, and closes
// their other open requests as withdrawn: there is nobody left to answer.
func (s *Service) ErasePerson(ctx context.Context, tx *db.Tx, userID int64) (map[string]int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE rights_requests SET reason = '' WHERE user_id = $1 AND reason <> ''`, userID)
	if err != nil {
		return nil, fmt.Errorf("rights: erase reasons: %w", err)
	}
	reasons, _ := res.RowsAffected()
	res, err = tx.ExecContext(ctx, `UPDATE rights_requests SET status = $1, closed_at = $2, updated_at = $2
		WHERE user_id = $3 AND status IN ('received', 'in_progress', 'extended')`, string(Withdrawn), tx.Now, userID)
	if err != nil {
		return nil, fmt.Errorf("rights: close open requests: %w", err)
	}
	closed, _ := res.RowsAffected()
	return map[string]int64{"rights_reasons": reasons, "rights_closed": closed}, nil
}

// Lift lifts a restriction in force. Errors: NotFound; Conflict when it
// is not a restriction in force.
func (s *Service) Lift(ctx context.Context, by Actor, id int64) error {
	return s.change(ctx, by, id, "rights.restriction_lifted", func(tx *db.Tx, r Request, u account.User) (map[string]string, mail.Message, error) {
		if r.Kind != Restriction || !r.InForce() {
			return nil, mail.Message{}, apperr.New(apperr.Conflict, "Only a restriction in force can be lifted.")
		}
		res, err := tx.ExecContext(ctx, `UPDATE rights_requests SET lifted_at = $1, lifted_by = $2, updated_at = $1 WHERE id = $3 AND lifted_at IS NULL`,
			tx.Now, by.ID, r.ID)
		if err != nil {
			return nil, mail.Message{}, fmt.Errorf("rights: lift: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil, mail.Message{}, apperr.New(apperr.Conflict, "Someone else lifted it just now.")
		}
		if err := s.people.SetRestricted(ctx, tx, r.UserID, false); err != nil {
			return nil, mail.Message{}, err
		}
		return nil, mail.RightsRestrictionLifted(addressee(u), r.Reference(), s.dataURL), nil
	})
}
