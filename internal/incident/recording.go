package incident

import (
	"context"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/terms"
)

// This file is recording as a whole: the checks and the write that make a
// finished draft, or a concern from the public, a submitted event. Web
// pages, the API and commands parse what they were sent, make one call
// here, and show the result.

// Completed is a finished set of answers with what the store derives from
// them; the form package's Complete returns it.
type Completed struct {
	OrgCode string
	// OccurredFrom and OccurredTo are the first and last day it can have
	// happened on: the same day when the date is known, the month when it
	// is roughly known.
	OccurredFrom, OccurredTo time.Time
	Index                    Index
	// SharingOptOut is true when the person answered that the record may
	// not be shared beyond the organisation and the national team (T15).
	SharingOptOut bool
	// Answers are the answers to the questions asked, and nothing else:
	// answers to questions a later change made irrelevant are dropped.
	Answers Answers
}

// Form checks a finished set of answers against the questions and national
// rules of the recording form; *form.Form is one.
type Form interface {
	Complete(t Type, a Answers, now time.Time) (Completed, apperr.Fields)
	CompletePublic(a Answers, now time.Time) (Completed, apperr.Fields)
	// CompleteRecord checks a whole record sent by another system: the
	// problems name answers by element (and patient), as
	// form.FieldOf does.
	CompleteRecord(t Type, a Answers, now time.Time) (Completed, apperr.Fields)
	// PhysicalHarmLabel names a code of the physical harm list as the
	// taxonomy does, "" for none (for alerts).
	PhysicalHarmLabel(code string) string
	AmendForm
}

// Statements gives the recording statement in force; *terms.Service is one.
type Statements interface {
	Current(ctx context.Context, kind terms.Kind) (terms.Document, error)
}

// Organisations finds an organisation by its ODS code; *org.Store is one.
type Organisations interface {
	Get(ctx context.Context, code org.Code) (org.Organisation, error)
}

// Recorder records events: it owns the use cases that span the form, the
// recording statement, organisations, the store and the receipt email.
type Recorder struct {
	events     *Service
	forms      Form
	statements Statements
	orgs       Organisations
	outbox     Outbox
	eventsURL  string
	alerts     Alerts // nil: no event alerts (see WithAlerts)
}

// NewRecorder returns a Recorder that stores events in events and links
// receipts to eventsURL + "/" + reference.
func NewRecorder(events *Service, forms Form, statements Statements, orgs Organisations, outbox Outbox, eventsURL string) *Recorder {
	return &Recorder{events: events, forms: forms, statements: statements, orgs: orgs, outbox: outbox, eventsURL: eventsURL}
}

// ErrStatementChanged is the answer when the recording statement the
// person was shown is no longer the one in force (T7): nothing is stored,
// and they should read the new one before submitting.
var ErrStatementChanged = apperr.New(apperr.Conflict, "The recording statement changed while you were reading it. Read this version, then submit.")

// Reporter is the member of staff submitting, as their receipt names them.
type Reporter struct {
	ID          int64
	Email, Name string
}

// DraftSubmission is a member of staff's request to submit their draft.
type DraftSubmission struct {
	Draft    Draft
	Reporter Reporter
	// StatementVersion is the version of the recording statement they were
	// shown (T7).
	StatementVersion int
	// Receipt asks for an email with the reference, queued with the event.
	Receipt bool
}

// SubmitDraft submits a finished draft: the answers are checked again as a
// whole against the form and the organisation list, the statement shown
// must still be the one in force, and the event, the draft's deletion, the
// audit entry and the receipt (when asked for) are one transaction, durable
// before it returns. Every check runs in that transaction, with its clock.
// The caller has checked that the reporter may record and that the draft
// is theirs. Errors: apperr.Fields naming the pages to go back to (the
// identifier guard's findings among them; nothing is stored),
// ErrStatementChanged, NotFound when the draft is gone.
func (r *Recorder) SubmitDraft(ctx context.Context, ds DraftSubmission, c Client) (Event, error) {
	d := ds.Draft
	var then func(ctx context.Context, tx *db.Tx, ev Event) error
	if ds.Receipt && r.outbox != nil {
		// The receipt holds the reference, nothing recorded.
		u := ds.Reporter
		then = func(ctx context.Context, tx *db.Tx, ev Event) error {
			_, err := r.outbox.Enqueue(ctx, tx, mail.EventReceipt(u.Email, u.Name, string(ev.Reference), ev.Type.Label(),
				ev.SubmittedAt, r.eventsURL+"/"+string(ev.Reference)))
			return err
		}
	}
	then = r.alerting(then)
	return r.events.submit(ctx, func(ctx context.Context, tx *db.Tx) (Submission, error) {
		res, problems := r.forms.Complete(d.Type, d.Answers, tx.Now)
		if err := r.check(ctx, ds.StatementVersion, res, problems); err != nil {
			return Submission{}, err
		}
		return Submission{Type: d.Type, OrgCode: res.OrgCode, Source: Staff, ReporterID: ds.Reporter.ID,
			OccurredFrom: res.OccurredFrom, OccurredTo: res.OccurredTo, Answers: res.Answers, Index: res.Index,
			StatementVersion: ds.StatementVersion, SharingOptOut: res.SharingOptOut, DraftID: d.ID}, nil
	}, then, c)
}

// PublicReport is a concern from a patient or member of the public (T8).
type PublicReport struct {
	Answers Answers
	// StatementVersion is the version of the statement they were shown.
	StatementVersion int
}

// SubmitPublic records a concern from the public route as an incident of
// the chosen organisation, with no reporter. The checks are those of
// SubmitDraft, with the public form's questions. Errors: apperr.Fields
// (a problem with the organisation is named "organisation"),
// ErrStatementChanged.
func (r *Recorder) SubmitPublic(ctx context.Context, p PublicReport, c Client) (Event, error) {
	return r.events.submit(ctx, func(ctx context.Context, tx *db.Tx) (Submission, error) {
		res, problems := r.forms.CompletePublic(p.Answers, tx.Now)
		if err := r.check(ctx, p.StatementVersion, res, problems); err != nil {
			return Submission{}, err
		}
		return Submission{Type: Incident, OrgCode: res.OrgCode, Source: Public,
			OccurredFrom: res.OccurredFrom, OccurredTo: res.OccurredTo, Answers: res.Answers, Index: res.Index,
			StatementVersion: p.StatementVersion, SharingOptOut: res.SharingOptOut}, nil
	}, r.alerting(nil), c)
}

// check finishes the checks of a submission inside its transaction, in
// the order people fix them: the form's problems (found with the
// transaction's clock), then the organisation chosen, then the statement
// shown (T7).
func (r *Recorder) check(ctx context.Context, shown int, res Completed, problems apperr.Fields) error {
	if problems != nil {
		return problems
	}
	if err := r.checkOrg(ctx, res); err != nil {
		return err
	}
	current, err := r.statements.Current(ctx, terms.RecordingStatement)
	if err != nil {
		return err
	}
	if shown != current.Version {
		return ErrStatementChanged
	}
	return nil
}

// checkOrg checks the organisation chosen exists.
func (r *Recorder) checkOrg(ctx context.Context, res Completed) error {
	code, err := org.ParseCode(res.OrgCode)
	if err != nil {
		return apperr.Fields{{Field: "organisation", Message: apperr.MessageOf(err)}}
	}
	if _, err := r.orgs.Get(ctx, code); apperr.CodeOf(err) == apperr.NotFound {
		return apperr.Fields{{Field: "organisation", Message: "No organisation has the ODS code " + res.OrgCode +
			". Check the code, or ask your organisation's PSIMS administrator"}}
	} else if err != nil {
		return err
	}
	return nil
}
