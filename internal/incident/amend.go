package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
)

// This file is amending a submitted event as one use case: the whole
// amended answer set is checked with the rules of a first submission, and
// the new version, its index and the audit entry are written in one
// transaction.

// Amendment is a request to change a submitted event's answers.
type Amendment struct {
	EventID int64
	// Base is the version the author changed; when another version has
	// been saved since, the amendment is refused with ErrChangedMeanwhile
	// rather than silently undoing it.
	Base     int
	AuthorID int64
	// Reviewer is true when the author answers governance questions
	// (authz.Reviews); others may not change those answers.
	Reviewer bool
	// Reason says why the event is changed; it is kept with the version.
	Reason string
	// Answers is the whole amended answer set, not only what changed.
	Answers Answers
}

// MoreAnswers is the answer to an amendment that makes questions
// necessary which have no answer yet (harm changed to severe asks how
// strongly the event was linked to it): nothing is stored, and the author
// answers Steps, the pages of those questions in the form's order, before
// the amendment is saved.
type MoreAnswers struct {
	Steps []string
}

// Error says what is missing, for logs.
func (m *MoreAnswers) Error() string {
	return fmt.Sprintf("incident: the change needs more answers (%d questions)", len(m.Steps))
}

// ErrChangedMeanwhile is the answer when someone saved another version of
// the event while the author was changing it.
var ErrChangedMeanwhile = apperr.New(apperr.Conflict,
	"Someone else changed this event while you were changing it. Check the event as it is now, then make your change again.")

// AmendForm checks an amended answer set; *form.Form is one.
type AmendForm interface {
	Amend(t Type, public bool, a Answers, now time.Time) (Completed, []string, apperr.Fields)
	Protected(t Type, public, reviewer bool) []string
}

// Amend saves an amendment as the event's new version. The answers are
// checked as a whole, in the transaction and with its clock, with the
// completeness rules of a first submission: a change that makes a new
// question necessary returns *MoreAnswers and stores nothing. The
// organisation is not changed this way (it decides who sees the event);
// the words of a member of the public are theirs, and governance answers
// are changed only by those who review. The caller has checked that the
// author may amend the event (authz.AmendRecord). Errors: apperr.Fields
// (pages of the form, "reason", or the identifier guard's findings),
// *MoreAnswers, ErrChangedMeanwhile, NotFound.
func (r *Recorder) Amend(ctx context.Context, am Amendment, c Client) (Event, error) {
	f := r.forms
	reason, err := checkReason(am.Reason)
	if err != nil {
		return Event{}, err
	}
	if err := checkShape(am.Answers); err != nil {
		return Event{}, err
	}
	err = r.events.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := currentAnswers(ctx, tx, am.EventID)
		if err != nil {
			return err
		}
		if am.Base != 0 && am.Base != cur.Version {
			return ErrChangedMeanwhile
		}
		public := cur.Source == Public
		res, missing, problems := f.Amend(cur.Type, public, am.Answers, tx.Now)
		if problems != nil {
			return problems
		}
		if missing != nil {
			return &MoreAnswers{Steps: missing}
		}
		if res.OrgCode != cur.OrgCode {
			return apperr.Fields{{Field: "organisation", Message: "The organisation of a recorded event cannot be changed. Record it again at the right organisation"}}
		}
		var refused apperr.Fields
		for _, el := range f.Protected(cur.Type, public, am.Reviewer) {
			if !slices.Equal(cur.Answers[el], res.Answers[el]) {
				msg := "Only reviewers can change this answer"
				if public {
					msg = "These are the words of the member of the public who told us, and cannot be changed. Add a review note instead"
				}
				refused.Add(el, msg)
			}
		}
		if refused != nil {
			return refused
		}
		ch := Change{Answers: res.Answers, Index: res.Index, OccurredFrom: res.OccurredFrom, OccurredTo: res.OccurredTo,
			SharingOptOut: res.SharingOptOut}
		return r.saveAmendment(ctx, tx, am.EventID, cur, Author{UserID: am.AuthorID}, reason, ch, c)
	})
	if err != nil {
		return Event{}, err
	}
	return r.events.Get(ctx, am.EventID)
}

// saveAmendment writes a checked change as the event's next version, in
// tx, and queues the alerts the change calls for (to everyone but its
// author).
func (r *Recorder) saveAmendment(ctx context.Context, tx *db.Tx, eventID int64, cur current, by Author, reason string, ch Change, c Client) error {
	reason, body, err := checkChange(reason, ch)
	if err != nil {
		return err
	}
	if err := amendTx(ctx, tx, eventID, cur.Version, by, reason, body, ch, c); err != nil {
		return err
	}
	after, err := scanEvent(tx.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events e WHERE e.id = $1`, eventID))
	if err != nil {
		return fmt.Errorf("incident: read amended event %d: %w", eventID, err)
	}
	after.Answers = ch.Answers
	before := Event{Source: cur.Source, Answers: cur.Answers}
	before.Index.PhysicalHarm = cur.PhysicalHarm
	return r.alertAmendment(ctx, tx, before, after, by.UserID)
}

// current is what an amendment is checked against.
type current struct {
	Type         Type
	Source       Source
	OrgCode      string
	Version      int
	PhysicalHarm string // the most severe of its patients', as indexed
	Answers      Answers
}

// currentAnswers reads the event's current version in tx.
func currentAnswers(ctx context.Context, tx *db.Tx, eventID int64) (current, error) {
	var cur current
	var answers string
	err := tx.QueryRowContext(ctx, `SELECT e.event_type, e.source, e.org_ods, e.version, e.physical_harm, v.answers FROM events e
		JOIN event_versions v ON v.event_id = e.id AND v.version = e.version WHERE e.id = $1`, eventID).
		Scan(&cur.Type, &cur.Source, &cur.OrgCode, &cur.Version, &cur.PhysicalHarm, &answers)
	if errors.Is(err, sql.ErrNoRows) {
		return current{}, apperr.New(apperr.NotFound, "There is no such event.")
	}
	if err != nil {
		return current{}, fmt.Errorf("incident: read event %d: %w", eventID, err)
	}
	if err := json.Unmarshal([]byte(answers), &cur.Answers); err != nil {
		return current{}, fmt.Errorf("incident: decode answers of event %d: %w", eventID, err)
	}
	return cur, nil
}
