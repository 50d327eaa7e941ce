package incident

import (
	"context"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
)

// Alerts finds who is emailed when an event needing early attention is
// recorded for an organisation; *account.Service is one. It runs in the
// submission's transaction, so the alerts are queued with the event or not
// at all.
type Alerts interface {
	AlertRecipients(ctx context.Context, tx *db.Tx, orgCode string, except int64, severeHarm, neverEvent, public bool) ([]mail.Addressee, error)
}

// WithAlerts makes the recorder email the organisation's reviewers through
// the outbox when an event with severe or fatal physical harm, a never
// event, or a concern from the public is recorded, and returns it.
func (r *Recorder) WithAlerts(a Alerts) *Recorder {
	r.alerts = a
	return r
}

// neverEventElement is the governance question "Is this a never event?".
const neverEventElement = "AdverseEventGovernance.NeverEvent"

// alertReasons says why an event is alerted on: severe or fatal physical
// harm to any patient, a never event, a concern from the public.
func alertReasons(ev Event) (severe, never, public bool) {
	severe = ev.Index.PhysicalHarm == "1" || ev.Index.PhysicalHarm == "2"
	never = len(ev.Answers[neverEventElement]) == 1 && ev.Answers[neverEventElement][0] == "yes"
	public = ev.Source == Public
	return severe, never, public
}

// alerting returns then followed by queuing the event's alerts, in the same
// transaction; then may be nil. Without alerts configured it is then.
func (r *Recorder) alerting(then func(ctx context.Context, tx *db.Tx, ev Event) error) func(ctx context.Context, tx *db.Tx, ev Event) error {
	if r.alerts == nil || r.outbox == nil {
		return then
	}
	return func(ctx context.Context, tx *db.Tx, ev Event) error {
		if then != nil {
			if err := then(ctx, tx, ev); err != nil {
				return err
			}
		}
		severe, never, public := alertReasons(ev)
		// The reporter has their receipt; they are not alerted to their own event.
		return r.queueAlerts(ctx, tx, ev, ev.ReporterID, severe, never, public)
	}
}

// alertAmendment queues the alerts an amendment calls for, in its
// transaction: when it makes the event one of severe or fatal harm, or a
// never event, and it was not before (its first version, or an earlier
// change, already alerted on that). The author of the change is not
// alerted to it.
func (r *Recorder) alertAmendment(ctx context.Context, tx *db.Tx, before, after Event, authorID int64) error {
	if r.alerts == nil || r.outbox == nil {
		return nil
	}
	wasSevere, wasNever, _ := alertReasons(before)
	severe, never, _ := alertReasons(after)
	return r.queueAlerts(ctx, tx, after, authorID, severe && !wasSevere, never && !wasNever, false)
}

// queueAlerts emails the organisation's reviewers who chose to hear of the
// reasons given (none given: nobody), except the person except, through
// the outbox in tx.
func (r *Recorder) queueAlerts(ctx context.Context, tx *db.Tx, ev Event, except int64, severe, never, public bool) error {
	if !severe && !never && !public {
		return nil
	}
	to, err := r.alerts.AlertRecipients(ctx, tx, ev.OrgCode, except, severe, never, public)
	if err != nil || len(to) == 0 {
		return err
	}
	var reasons []string
	if severe {
		reasons = append(reasons, "a patient came to severe or fatal physical harm")
	}
	if never {
		reasons = append(reasons, "it is recorded as a never event")
	}
	if public {
		reasons = append(reasons, "a patient or member of the public reported it")
	}
	for _, a := range to {
		m := mail.EventAlert(a, string(ev.Reference), ev.Type.Label(), r.forms.PhysicalHarmLabel(ev.Index.PhysicalHarm), reasons,
			ev.SubmittedAt, r.eventsURL+"/"+string(ev.Reference))
		if _, err := r.outbox.Enqueue(ctx, tx, m); err != nil {
			return err
		}
	}
	return nil
}
