package incident_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
)

const (
	elPhysicalHarm      = "PatientInformation.PhysicalHarm"
	elPsychologicalHarm = "PatientInformation.PsychologicalHarm"
	elAssociation       = "PatientInformation.StrengthOfAssociation"
	elNeverEvent        = "AdverseEventGovernance.NeverEvent"
	elNeverEventType    = "AdverseEventGovernance.NeverEventType"
)

// onePatientLowHarm submits an incident of the reporter's with one
// patient whose harm asks no strength of association.
func (f recorderFixture) onePatientLowHarm(t *testing.T) incident.Event {
	t.Helper()
	d := f.draft(t, func(a incident.Answers) {
		a["PSIMS.PatientCount"] = []string{"1"}
		a[elPhysicalHarm] = []string{"4"}
		a[elPsychologicalHarm] = []string{"3"}
		for k, v := range a {
			if len(v) > 1 && k != "AdverseEventAgent.InvolvedAgents" && k != "AdverseEventSafetyChallenges.SafetyChallenges" {
				a[k] = v[:1]
			}
		}
		delete(a, elAssociation)
	})
	ev, err := f.rec.SubmitDraft(context.Background(), incident.DraftSubmission{Draft: d, Reporter: f.reporter, StatementVersion: f.statement(t)}, incident.Client{})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func with(a incident.Answers, edits map[string][]string) incident.Answers {
	out := incident.Answers{}
	for k, v := range a {
		out[k] = slices.Clone(v)
	}
	for k, v := range edits {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

func (f recorderFixture) firstCode(t *testing.T, ev incident.Event, a incident.Answers, slug string) string {
	t.Helper()
	for _, s := range f.forms.Steps(ev.Type, a, true) {
		if s.Slug == slug {
			return s.Question.List.Codes[0].Code
		}
	}
	t.Fatalf("no page %s", slug)
	return ""
}

// TestAnAmendmentIsCheckedLikeAFirstSubmission: harm changed to severe
// with no strength of association, and "never event: yes" with no type,
// are not saved: the recorder names the questions to ask, and saves the
// amendment once they are answered, as one new version. The organisation,
// a stale version and governance answers changed by a reporter are refused.
func TestAnAmendmentIsCheckedLikeAFirstSubmission(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRecorderFixture(t, d)
		ctx := context.Background()
		ev := f.onePatientLowHarm(t)
		amend := func(a incident.Answers, reviewer bool, base int) (incident.Event, error) {
			return f.rec.Amend(ctx, incident.Amendment{EventID: ev.ID, Base: base, AuthorID: f.reporter.ID, Reviewer: reviewer,
				Reason: "Harm was worse than first thought", Answers: a}, incident.Client{IP: "192.0.2.9"})
		}

		severe := with(ev.Answers, map[string][]string{elPhysicalHarm: {"2"}})
		_, err := amend(severe, true, ev.Version)
		var more *incident.MoreAnswers
		if !errors.As(err, &more) || !slices.Equal(more.Steps, []string{"patient-1-association"}) {
			t.Fatalf("severe harm with no strength of association: %v", err)
		}
		if got, _ := f.events.Get(ctx, ev.ID); got.Version != 1 {
			t.Fatalf("an incomplete amendment was saved as version %d", got.Version)
		}

		severe[elAssociation] = []string{f.firstCode(t, ev, severe, "patient-1-association")}
		got, err := amend(severe, true, ev.Version)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 2 || got.Index.PhysicalHarm != "2" || !slices.Equal(got.Answers[elAssociation], severe[elAssociation]) {
			t.Fatalf("amended event = version %d, harm %q, association %v", got.Version, got.Index.PhysicalHarm, got.Answers[elAssociation])
		}

		if _, err := amend(with(got.Answers, map[string][]string{elPhysicalHarm: {"4"}}), true, 1); !errors.Is(err, incident.ErrChangedMeanwhile) {
			t.Fatalf("an amendment of version 1 after version 2: %v", err)
		}

		never := with(got.Answers, map[string][]string{elNeverEvent: {"yes"}})
		if _, err := amend(never, true, 2); !errors.As(err, &more) || !slices.Equal(more.Steps, []string{"never-event-type"}) {
			t.Fatalf("a never event with no type: %v", err)
		}
		var problems apperr.Fields
		if _, err := amend(with(got.Answers, map[string][]string{elNeverEvent: {"no"}}), false, 2); !errors.As(err, &problems) || problems[0].Field != elNeverEvent {
			t.Fatalf("a governance answer changed by a reporter: %v", err)
		}
		moved := with(got.Answers, map[string][]string{"LocationDetails.Organisation": {"ZZZ99"}})
		if _, err := amend(moved, true, 2); !errors.As(err, &problems) || problems[0].Field != "organisation" {
			t.Fatalf("a change of organisation: %v", err)
		}
		if _, err := f.rec.Amend(ctx, incident.Amendment{EventID: ev.ID, Base: 2, AuthorID: f.reporter.ID, Reviewer: true,
			Reason: " ", Answers: got.Answers}, incident.Client{}); !errors.As(err, &problems) || problems[0].Field != "reason" {
			t.Fatalf("an amendment with no reason: %v", err)
		}
		if v, _ := f.events.Versions(ctx, ev.ID); len(v) != 2 {
			t.Fatalf("%d versions after refused amendments, want 2", len(v))
		}
		var audited int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'event.amend'`).Scan(&audited); err != nil || audited != 1 {
			t.Fatalf("%d amendments audited (%v), want 1", audited, err)
		}
	})
}

// TestThePublicsOwnWordsCannotBeAmended: a reviewer may change the
// answers of a public report that describe it, but not what the member
// of the public wrote.
func TestThePublicsOwnWordsCannotBeAmended(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRecorderFixture(t, d)
		ctx := context.Background()
		ev, err := f.rec.SubmitPublic(ctx, incident.PublicReport{Answers: f.public(t, "RM1"), StatementVersion: f.statement(t)}, incident.Client{})
		if err != nil {
			t.Fatal(err)
		}
		reworded := with(ev.Answers, map[string][]string{"AdverseEvent.description": {"He waited a long time."}})
		_, err = f.rec.Amend(ctx, incident.Amendment{EventID: ev.ID, Base: ev.Version, AuthorID: f.reporter.ID, Reviewer: true,
			Reason: "Shorter", Answers: reworded}, incident.Client{})
		var problems apperr.Fields
		if !errors.As(err, &problems) || problems[0].Field != "AdverseEvent.description" {
			t.Fatalf("rewording a public report: %v", err)
		}
		worse := with(ev.Answers, map[string][]string{elPhysicalHarm: {"3"}})
		got, err := f.rec.Amend(ctx, incident.Amendment{EventID: ev.ID, Base: ev.Version, AuthorID: f.reporter.ID, Reviewer: true,
			Reason: "Harm graded by the ward", Answers: worse}, incident.Client{})
		if err != nil || got.Version != 2 || got.Answers["AdverseEvent.description"][0] != ev.Answers["AdverseEvent.description"][0] {
			t.Fatalf("grading the harm of a public report: %+v %v", got.Answers, err)
		}
	})
}
