package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
)

// This file is the recording organisation's review of its events: where
// each review stands (new, in review, closed), who has it, by when, and
// the reviewers' notes. It is the organisation's own working and changes
// nothing the national data holds: it is kept beside the event, never in
// its versions, and never exported.

// ReviewState is where an event's review stands.
type ReviewState string

// The states. A review starts new, goes into review, and is closed; a
// closed review can be reopened, into review again.
const (
	ReviewNew ReviewState = "new"
	InReview  ReviewState = "in-review"
	Closed    ReviewState = "closed"
)

// ReviewStates lists the states in their order.
func ReviewStates() []ReviewState { return []ReviewState{ReviewNew, InReview, Closed} }

// Label is the state as pages name it.
func (s ReviewState) Label() string {
	switch s {
	case ReviewNew:
		return "New"
	case InReview:
		return "In review"
	case Closed:
		return "Closed"
	}
	return string(s)
}

// ParseReviewState returns the state named s. Errors: Invalid.
func ParseReviewState(s string) (ReviewState, error) {
	for _, st := range ReviewStates() {
		if string(st) == s {
			return st, nil
		}
	}
	return "", apperr.New(apperr.Invalid, "Choose where the review stands")
}

// next reports whether a review may go from s to to: forward, or from
// closed back into review (reopening); never back to new.
func (s ReviewState) next(to ReviewState) bool {
	switch s {
	case ReviewNew:
		return true
	case InReview:
		return to != ReviewNew
	case Closed:
		return to == Closed || to == InReview
	}
	return false
}

// Limits of review notes.
const (
	maxNoteRunes = 5000
	// MaxDueAhead is how far ahead a due date may be.
	MaxDueAhead = 5 * 366 * 24 * time.Hour
)

// Review is an event's review as it stands.
type Review struct {
	State      ReviewState
	AssigneeID int64     // 0 when nobody has it
	Due        time.Time // midnight UTC of the day it is due; zero when none
	Notes      []Note    // oldest first
}

// Note is a review note as it stands, with its earlier versions.
type Note struct {
	ID        int64
	AuthorID  int64 // 0 for a deleted account
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int
	Body      string
	// Earlier are the versions before this one, newest first.
	Earlier []NoteVersion
}

// NoteVersion is one version of a note, as written.
type NoteVersion struct {
	Version   int
	AuthorID  int64
	CreatedAt time.Time
	Body      string
}

// ReviewChange is a reviewer's change to an event's review: the state,
// assignee and due date it should have, and a note to add.
type ReviewChange struct {
	EventID int64
	ActorID int64
	State   ReviewState
	// AssigneeID is who has the review, 0 for nobody. They must be an
	// active member of the event's organisation with one of
	// AssignableRoles (the policy's authz.AssignableRoles).
	AssigneeID      int64
	AssignableRoles []string
	// Due is the day the review is due, zero for none.
	Due time.Time
	// Note, when not empty, is added as a review note. Closing a review
	// needs one: a closed review says what was concluded.
	Note string
}

// Assignee is someone who may be given an organisation's reviews.
type Assignee struct {
	ID   int64
	Name string
}

// checkNote returns the note trimmed, or the field error that says what
// is wrong with it: too long, or something that could identify someone
// (T12).
func checkNote(field, body string) (string, error) {
	body = strings.TrimSpace(body)
	if n := utf8.RuneCountInString(body); n > maxNoteRunes {
		return "", apperr.Fields{{Field: field, Message: fmt.Sprintf("The note must be %d characters or fewer", maxNoteRunes)}}
	}
	if !utf8.ValidString(body) {
		return "", apperr.Fields{{Field: field, Message: "The note contains characters that are not valid; type it again"}}
	}
	for _, r := range body {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f {
			return "", apperr.Fields{{Field: field, Message: "The note contains control characters; remove them"}}
		}
	}
	if err := checkAnswers(Answers{field: {body}}); err != nil {
		return "", err
	}
	return body, nil
}

// Review returns the event's review with its notes. Errors: NotFound.
func (s *Service) Review(ctx context.Context, eventID int64) (Review, error) {
	var rv Review
	var assignee sql.NullInt64
	var due sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT review_state, assignee_id, review_due FROM events WHERE id = $1`, eventID).
		Scan(&rv.State, &assignee, &due)
	if errors.Is(err, sql.ErrNoRows) {
		return Review{}, apperr.New(apperr.NotFound, "There is no such event.")
	}
	if err != nil {
		return Review{}, fmt.Errorf("incident: review of event %d: %w", eventID, err)
	}
	rv.AssigneeID = assignee.Int64
	if due.Valid {
		rv.Due = due.Time.UTC()
	}
	rows, err := s.db.QueryContext(ctx, `SELECT n.id, COALESCE(n.author_id, 0), n.created_at, n.updated_at, n.version, n.body,
		v.version, COALESCE(v.author_id, 0), v.created_at, v.body
		FROM review_notes n JOIN review_note_versions v ON v.note_id = n.id
		WHERE n.event_id = $1 ORDER BY n.id, v.version DESC`, eventID)
	if err != nil {
		return Review{}, fmt.Errorf("incident: review notes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n Note
		var v NoteVersion
		if err := rows.Scan(&n.ID, &n.AuthorID, &n.CreatedAt, &n.UpdatedAt, &n.Version, &n.Body,
			&v.Version, &v.AuthorID, &v.CreatedAt, &v.Body); err != nil {
			return Review{}, fmt.Errorf("incident: scan review note: %w", err)
		}
		if len(rv.Notes) == 0 || rv.Notes[len(rv.Notes)-1].ID != n.ID {
			n.CreatedAt, n.UpdatedAt = n.CreatedAt.UTC(), n.UpdatedAt.UTC()
			rv.Notes = append(rv.Notes, n)
		}
		if v.Version != n.Version {
			v.CreatedAt = v.CreatedAt.UTC()
			last := &rv.Notes[len(rv.Notes)-1]
			last.Earlier = append(last.Earlier, v)
		}
	}
	return rv, rows.Err()
}

// Assignees lists the active members of org whose role is one of roles
// (the policy's authz.AssignableRoles), by name.
func (s *Service) Assignees(ctx context.Context, org string, roles []string) ([]Assignee, error) {
	q := &sqlQuery{}
	text := `SELECT id, name FROM users WHERE org_ods = ` + q.arg(org) + ` AND status = 'active' AND role IN ` + q.in(roles) +
		` ORDER BY name, id`
	rows, err := s.db.QueryContext(ctx, text, q.args...)
	if err != nil {
		return nil, fmt.Errorf("incident: assignees: %w", err)
	}
	defer rows.Close()
	var out []Assignee
	for rows.Next() {
		var a Assignee
		if err := rows.Scan(&a.ID, &a.Name); err != nil {
			return nil, fmt.Errorf("incident: scan assignee: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetReview changes an event's review: its state, assignee and due date
// as ch gives them, and a note when ch has one, in one transaction with
// an audit entry for each change (which say what changed, never what a
// note says). The caller has checked that the actor may review the event
// (authz.ReviewEvent). Errors: apperr.Fields ("state", "assignee", "due",
// "note"), NotFound.
func (s *Service) SetReview(ctx context.Context, ch ReviewChange, c Client) (Review, error) {
	var problems apperr.Fields
	if _, err := ParseReviewState(string(ch.State)); err != nil {
		problems.Add("state", apperr.MessageOf(err))
	}
	note, err := checkNote("note", ch.Note)
	var fe apperr.Fields
	if errors.As(err, &fe) {
		problems = append(problems, fe...)
	} else if err != nil {
		return Review{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var was Review
		var org string
		var submitted time.Time
		var assignee sql.NullInt64
		var due sql.NullTime
		err := tx.QueryRowContext(ctx, `SELECT review_state, assignee_id, review_due, org_ods, submitted_at FROM events WHERE id = $1`,
			ch.EventID).Scan(&was.State, &assignee, &due, &org, &submitted)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "There is no such event.")
		}
		if err != nil {
			return fmt.Errorf("incident: review of event %d: %w", ch.EventID, err)
		}
		was.AssigneeID = assignee.Int64
		if due.Valid {
			was.Due = due.Time.UTC()
		}
		if _, err := ParseReviewState(string(ch.State)); err == nil && !was.State.next(ch.State) {
			problems.Add("state", "A closed review can be reopened into review, but not made new again")
		}
		if ch.State == Closed && was.State != Closed && note == "" {
			problems.Add("note", "Add a note saying what the review concluded before you close it")
		}
		if ch.AssigneeID != 0 && ch.AssigneeID != was.AssigneeID {
			q := &sqlQuery{}
			text := `SELECT COUNT(*) FROM users WHERE id = ` + q.arg(ch.AssigneeID) + ` AND org_ods = ` + q.arg(org) +
				` AND status = 'active' AND role IN ` + q.in(ch.AssignableRoles)
			var n int
			if len(ch.AssignableRoles) > 0 {
				if err := tx.QueryRowContext(ctx, text, q.args...).Scan(&n); err != nil {
					return fmt.Errorf("incident: check assignee: %w", err)
				}
			}
			if n != 1 {
				problems.Add("assignee", "Choose someone who reviews events for this organisation")
			}
		}
		if !ch.Due.IsZero() {
			ch.Due = dayStart(ch.Due)
			if !ch.Due.Equal(was.Due) && (ch.Due.Before(dayStart(submitted)) || ch.Due.After(tx.Now.Add(MaxDueAhead))) {
				problems.Add("due", "The due date must be between the day the event was submitted and 5 years from today")
			}
		}
		if problems != nil {
			return problems
		}
		changed := map[string]string{}
		if ch.State != was.State {
			changed["state"] = string(was.State) + " to " + string(ch.State)
		}
		if ch.AssigneeID != was.AssigneeID {
			changed["assignee"] = strconv.FormatInt(ch.AssigneeID, 10)
		}
		if !ch.Due.Equal(was.Due) {
			changed["due"] = "none"
			if !ch.Due.IsZero() {
				changed["due"] = ch.Due.Format(time.DateOnly)
			}
		}
		if len(changed) > 0 {
			var dueArg any
			if !ch.Due.IsZero() {
				dueArg = ch.Due
			}
			if _, err := tx.ExecContext(ctx, `UPDATE events SET review_state = $1, assignee_id = $2, review_due = $3 WHERE id = $4`,
				ch.State, db.NullID(ch.AssigneeID), dueArg, ch.EventID); err != nil {
				return fmt.Errorf("incident: set review: %w", err)
			}
			if err := audit.Record(ctx, tx, audit.Entry{ActorID: ch.ActorID, Action: "event.review", SubjectType: "event",
				SubjectID: strconv.FormatInt(ch.EventID, 10), IP: c.IP, Details: changed}); err != nil {
				return err
			}
		}
		if note != "" {
			return addNote(ctx, tx, ch.EventID, ch.ActorID, note, c)
		}
		return nil
	})
	if err != nil {
		return Review{}, err
	}
	return s.Review(ctx, ch.EventID)
}

// addNote adds a review note as its version 1.
func addNote(ctx context.Context, tx *db.Tx, eventID, authorID int64, body string, c Client) error {
	var id int64
	author := db.NullID(authorID)
	if err := tx.QueryRowContext(ctx, `INSERT INTO review_notes (event_id, author_id, created_at, updated_at, version, body)
		VALUES ($1, $2, $3, $3, 1, $4) RETURNING id`, eventID, author, tx.Now, body).Scan(&id); err != nil {
		return fmt.Errorf("incident: add review note: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO review_note_versions (note_id, version, author_id, created_at, body)
		VALUES ($1, 1, $2, $3, $4)`, id, author, tx.Now, body); err != nil {
		return fmt.Errorf("incident: add review note version: %w", err)
	}
	return audit.Record(ctx, tx, audit.Entry{ActorID: authorID, Action: "event.review_note", SubjectType: "event",
		SubjectID: strconv.FormatInt(eventID, 10), IP: c.IP, Details: map[string]string{"note": strconv.FormatInt(id, 10), "version": "1"}})
}

// NoteOf returns the note of the event with its current text. Errors:
// NotFound, also when the note is another event's.
func (s *Service) NoteOf(ctx context.Context, eventID, noteID int64) (Note, error) {
	var n Note
	err := s.db.QueryRowContext(ctx, `SELECT id, COALESCE(author_id, 0), created_at, updated_at, version, body
		FROM review_notes WHERE id = $1 AND event_id = $2`, noteID, eventID).
		Scan(&n.ID, &n.AuthorID, &n.CreatedAt, &n.UpdatedAt, &n.Version, &n.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return Note{}, apperr.New(apperr.NotFound, "There is no such note.")
	}
	if err != nil {
		return Note{}, fmt.Errorf("incident: review note: %w", err)
	}
	return n, nil
}

// EditNote saves a new version of a review note of the event; the old
// text is kept as an earlier version. base is the version the author
// edited. The caller has checked that the author may edit it
// (authz.EditReviewNote). Errors: apperr.Fields ("body"), NotFound,
// ErrNoteChangedMeanwhile.
func (s *Service) EditNote(ctx context.Context, eventID, noteID int64, base int, authorID int64, body string, c Client) error {
	body, err := checkNote("body", body)
	if err != nil {
		return err
	}
	if body == "" {
		return apperr.Fields{{Field: "body", Message: "Enter the note"}}
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var version int
		var current string
		err := tx.QueryRowContext(ctx, `SELECT version, body FROM review_notes WHERE id = $1 AND event_id = $2`, noteID, eventID).
			Scan(&version, &current)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "There is no such note.")
		}
		if err != nil {
			return fmt.Errorf("incident: review note: %w", err)
		}
		if version != base {
			return ErrNoteChangedMeanwhile
		}
		if current == body {
			return nil
		}
		version++
		if _, err := tx.ExecContext(ctx, `UPDATE review_notes SET version = $1, body = $2, updated_at = $3 WHERE id = $4`,
			version, body, tx.Now, noteID); err != nil {
			return fmt.Errorf("incident: edit review note: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO review_note_versions (note_id, version, author_id, created_at, body)
			VALUES ($1, $2, $3, $4, $5)`, noteID, version, db.NullID(authorID), tx.Now, body); err != nil {
			return fmt.Errorf("incident: review note version: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: authorID, Action: "event.review_note", SubjectType: "event",
			SubjectID: strconv.FormatInt(eventID, 10), IP: c.IP,
			Details: map[string]string{"note": strconv.FormatInt(noteID, 10), "version": strconv.Itoa(version)}})
	})
}

// ErrNoteChangedMeanwhile is the answer when a note was changed by another
// request while its author was editing it.
var ErrNoteChangedMeanwhile = apperr.New(apperr.Conflict, "This note was changed while you were editing it. Check it, then make your change again.")
