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
// rows went; what jobs.AddressEraser returns is one.
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
