package incident

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/terms"
)

// This file is recording by an organisation's local risk management system
// through the API (issue 16): the same checks, rules and store as the
// pages, so an event recorded either way is one record that both show and
// both change.

// OrganisationField names the organisation in the problems of a record
// sent by a system: the element that holds it.
const OrganisationField = "LocationDetails.Organisation"

// SystemRecord is an event sent whole by an organisation's local risk
// management system, with one of the organisation's API keys.
type SystemRecord struct {
	Type    Type
	Answers Answers
	// Org is the organisation whose key sent it: the only one whose
	// events it may record or change.
	Org   string
	KeyID int64
}

// ErrOtherOrganisation is the answer when a key of one organisation sends
// an event of another.
var ErrOtherOrganisation = apperr.Fields{{Field: OrganisationField,
	Message: "An API key records events only for its own organisation. Use the key of the organisation the event happened in"}}

// SubmitSystem records an event sent by a system, checked as a whole with
// form.CompleteRecord. The recording statement in force is the one it is
// recorded under: the organisation accepted it when its admin created the
// key. Errors: apperr.Fields keyed by element (form.FieldOf), "type", or
// OrganisationField.
//
// The checks run before the transaction, by the database's clock, and
// only the writes inside it: SQLite has one writer, and every event's
// checks would otherwise wait in line for it. Nothing they read can change
// the answer meanwhile but the clock, and a record valid a moment earlier
// is valid now (no date may be in the future).
func (r *Recorder) SubmitSystem(ctx context.Context, rec SystemRecord, c Client) (Event, error) {
	if rec.KeyID == 0 || rec.Org == "" {
		return Event{}, fmt.Errorf("incident: a system record needs its key and organisation")
	}
	res, problems := r.forms.CompleteRecord(rec.Type, rec.Answers, r.events.db.Now())
	if problems != nil {
		return Event{}, problems
	}
	if res.OrgCode != rec.Org {
		return Event{}, ErrOtherOrganisation
	}
	if err := r.checkOrg(ctx, res); err != nil {
		return Event{}, err
	}
	current, err := r.statements.Current(ctx, terms.RecordingStatement)
	if err != nil {
		return Event{}, err
	}
	sub := Submission{Type: rec.Type, OrgCode: res.OrgCode, Source: System, KeyID: rec.KeyID,
		OccurredFrom: res.OccurredFrom, OccurredTo: res.OccurredTo, Answers: res.Answers, Index: res.Index,
		StatementVersion: current.Version, SharingOptOut: res.SharingOptOut}
	if err := validateSubmission(sub); err != nil {
		return Event{}, err
	}
	sub.validated = true
	return r.events.submit(ctx, func(context.Context, *db.Tx) (Submission, error) { return sub, nil }, r.alerting(nil), c)
}

// SystemAmendment is a system's new version of an event: the whole record
// again.
type SystemAmendment struct {
	EventID int64
	// Base, when not 0, is the version the system changed (HTTP
	// If-Match): when another version was saved since, nothing is
	// stored and the answer is ErrChangedMeanwhile.
	Base   int
	Record SystemRecord
}

// ErrPublicWords is the answer when a system tries to change an event a
// member of the public recorded: their words are theirs (T8), and its
// questions are not the staff form's.
var ErrPublicWords = apperr.New(apperr.Conflict,
	"This event was recorded by a patient or member of the public. Change it on PSIMS's pages, where their own words are kept as they are")

// SystemReason is the reason kept with a version a system sent.
const SystemReason = "Sent again by the organisation's local risk management system"

// AmendSystem saves a system's new version of one of its organisation's
// events, however it was recorded, with the checks of SubmitSystem. The
// type and organisation of an event do not change. Errors: as
// SubmitSystem, and NotFound (no such event, or another organisation's),
// ErrChangedMeanwhile, ErrPublicWords.
func (r *Recorder) AmendSystem(ctx context.Context, am SystemAmendment, c Client) (Event, error) {
	rec := am.Record
	if err := checkShape(rec.Answers); err != nil {
		return Event{}, err
	}
	err := r.events.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := currentAnswers(ctx, tx, am.EventID)
		if err != nil {
			return err
		}
		if cur.OrgCode != rec.Org {
			return apperr.New(apperr.NotFound, "There is no such event.")
		}
		if am.Base != 0 && am.Base != cur.Version {
			return ErrChangedMeanwhile
		}
		if cur.Source == Public {
			return ErrPublicWords
		}
		if rec.Type != cur.Type {
			return apperr.Fields{{Field: "type", Message: fmt.Sprintf(
				"This event was recorded as %s, and the type of a recorded event cannot be changed. Record it again as a new event", cur.Type.Label())}}
		}
		res, problems := r.forms.CompleteRecord(cur.Type, rec.Answers, tx.Now)
		if problems != nil {
			return problems
		}
		if res.OrgCode != cur.OrgCode {
			return apperr.Fields{{Field: OrganisationField, Message: "The organisation of a recorded event cannot be changed. Record it again at the right organisation"}}
		}
		ch := Change{Answers: res.Answers, Index: res.Index, OccurredFrom: res.OccurredFrom, OccurredTo: res.OccurredTo,
			SharingOptOut: res.SharingOptOut}
		if maps.EqualFunc(cur.Answers, res.Answers, slices.Equal[[]string]) {
			// Nothing changed: no new version, as FHIR asks of an
			// update that changes nothing.
			return nil
		}
		return r.saveAmendment(ctx, tx, am.EventID, cur, Author{KeyID: rec.KeyID}, SystemReason, ch, c)
	})
	if err != nil {
		return Event{}, err
	}
	return r.events.Get(ctx, am.EventID)
}
