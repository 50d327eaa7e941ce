package incident_test

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/incident/synth"
	"github.com/psims/psims/internal/incident/taxonomy"
	"github.com/psims/psims/internal/jobs"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/terms"
)

// recorderFixture is a Recorder on a migrated database with the real form,
// the default recording statement, one organisation and one reporter.
type recorderFixture struct {
	db       *db.DB
	events   *incident.Service
	rec      *incident.Recorder
	terms    *terms.Service
	outbox   *mail.Outbox
	forms    *form.Form
	gen      *synth.Generator
	reporter incident.Reporter
}

func newRecorderFixture(t *testing.T, d *db.DB) recorderFixture {
	t.Helper()
	ctx := context.Background()
	if err := jobs.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	runner, err := jobs.New(d, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	orgs := org.NewStore(d)
	if _, err := orgs.Import(ctx, strings.NewReader("ods_code,name,type,parent\nRM1,A TEST TRUST,trust,\n")); err != nil {
		t.Fatal(err)
	}
	ts := terms.NewService(d, runner)
	if err := ts.PublishDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	tax, err := taxonomy.Load()
	if err != nil {
		t.Fatal(err)
	}
	forms, err := form.New(tax)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := synth.New(forms, []string{"RM1"}, 7)
	if err != nil {
		t.Fatal(err)
	}
	f := recorderFixture{db: d, events: incident.NewService(d), terms: ts, outbox: mail.NewOutbox(d, runner, nil), forms: forms, gen: gen}
	f.rec = incident.NewRecorder(f.events, forms, ts, orgs, f.outbox, "https://psims.example/events")
	f.reporter = incident.Reporter{Email: "ann@nhs.net", Name: "Ann Example"}
	err = d.WriteRowContext(ctx, `INSERT INTO users (email, name, job_role, org_ods, status, password_hash, created_at, updated_at)
		VALUES ($1, $2, 'Nurse', 'RM1', 'active', 'x', $3, $3) RETURNING id`, f.reporter.Email, f.reporter.Name, time.Now().UTC()).Scan(&f.reporter.ID)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// draft saves a finished incident draft of the reporter's, changed by edit.
func (f recorderFixture) draft(t *testing.T, edit func(incident.Answers)) incident.Draft {
	t.Helper()
	ctx := context.Background()
	res, err := f.gen.Answers(incident.Incident, "RM1", f.db.Now())
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(res.Answers)
	}
	id, err := f.events.SaveDraft(ctx, f.reporter.ID, 0, incident.Incident, res.Answers)
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.events.Draft(ctx, f.reporter.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (f recorderFixture) statement(t *testing.T) int {
	t.Helper()
	doc, err := f.terms.Current(context.Background(), terms.RecordingStatement)
	if err != nil {
		t.Fatal(err)
	}
	return doc.Version
}

// TestSubmittingADraftIsOneCallThatChecksEverything: the recorder stores a
// finished draft with the statement version shown, deletes the draft and
// queues the receipt in the same transaction; it refuses, storing nothing,
// an unfinished draft, an organisation that does not exist and a statement
// that is no longer in force. // T7, T12
func TestSubmittingADraftIsOneCallThatChecksEverything(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRecorderFixture(t, d)
		ctx := context.Background()
		version := f.statement(t)

		unfinished := f.draft(t, func(a incident.Answers) { delete(a, "AdverseEvent.description") })
		_, err := f.rec.SubmitDraft(ctx, incident.DraftSubmission{Draft: unfinished, Reporter: f.reporter, StatementVersion: version}, incident.Client{})
		var problems apperr.Fields
		if !errors.As(err, &problems) || len(problems) == 0 {
			t.Fatalf("an unfinished draft: %v", err)
		}

		elsewhere := f.draft(t, func(a incident.Answers) {
			for k, v := range a {
				if len(v) == 1 && v[0] == "RM1" {
					a[k] = []string{"ZZZ99"}
				}
			}
		})
		_, err = f.rec.SubmitDraft(ctx, incident.DraftSubmission{Draft: elsewhere, Reporter: f.reporter, StatementVersion: version}, incident.Client{})
		if !errors.As(err, &problems) || problems[0].Field != "organisation" || !strings.Contains(problems[0].Message, "ZZZ99") {
			t.Fatalf("an organisation that does not exist: %v", err)
		}

		good := f.draft(t, nil)
		_, err = f.rec.SubmitDraft(ctx, incident.DraftSubmission{Draft: good, Reporter: f.reporter, StatementVersion: version + 1}, incident.Client{})
		if !errors.Is(err, incident.ErrStatementChanged) {
			t.Fatalf("a statement not in force: %v", err)
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d events stored by refused submissions (%v)", n, err)
		}

		ev, err := f.rec.SubmitDraft(ctx, incident.DraftSubmission{Draft: good, Reporter: f.reporter, StatementVersion: version, Receipt: true},
			incident.Client{IP: "192.0.2.4"})
		if err != nil {
			t.Fatal(err)
		}
		if ev.ReporterID != f.reporter.ID || ev.StatementVersion != version || ev.Source != incident.Staff || ev.OrgCode != "RM1" {
			t.Fatalf("event = %+v", ev)
		}
		if _, err := f.events.Draft(ctx, f.reporter.ID, good.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("the draft outlived its submission: %v", err)
		}
		sent, err := f.outbox.List(ctx, f.reporter.Email, 10)
		if err != nil || len(sent) != 1 || !strings.Contains(sent[0].Text, "https://psims.example/events/"+string(ev.Reference)) {
			t.Fatalf("receipt: %+v %v", sent, err)
		}
		if _, err := f.rec.SubmitDraft(ctx, incident.DraftSubmission{Draft: good, Reporter: f.reporter, StatementVersion: version}, incident.Client{}); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("submitting a draft twice: %v", err)
		}
	})
}

// TestTheFormIsCheckedWithTheTransactionsClock: a date that is in the
// future by the database's clock is refused, whatever the caller's clock
// said when the answers were typed.
func TestTheFormIsCheckedWithTheTransactionsClock(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRecorderFixture(t, d)
		good := f.draft(t, nil)
		d.SetClock(func() time.Time { return time.Date(2001, 1, 1, 9, 0, 0, 0, time.UTC) })
		_, err := f.rec.SubmitDraft(context.Background(), incident.DraftSubmission{Draft: good, Reporter: f.reporter, StatementVersion: f.statement(t)}, incident.Client{})
		var problems apperr.Fields
		if !errors.As(err, &problems) {
			t.Fatalf("an event after the transaction's today: %v", err)
		}
	})
}

// public answers the public form's questions as a person would, page by
// page, naming the organisation code.
func (f recorderFixture) public(t *testing.T, code string) incident.Answers {
	t.Helper()
	answer := func(v string) url.Values { return url.Values{form.FieldAnswer: {v}} }
	last := f.db.Now().AddDate(0, -1, 0)
	values := map[string]url.Values{
		"description":  answer("My father waited nine hours in the corridor without his heart tablets."),
		"date-known":   answer("approximate"),
		"month":        {form.FieldMonth: {strconv.Itoa(int(last.Month()))}, form.FieldYear: {strconv.Itoa(last.Year())}},
		"organisation": answer(code),
		"harm":         answer("4"),
		"relationship": answer("2"),
		"sharing":      answer("yes"),
	}
	a := incident.Answers{}
	done := map[string]bool{}
	for progressed := true; progressed; {
		progressed = false
		for _, st := range f.forms.PublicSteps(a) {
			if done[st.Slug] {
				continue
			}
			done[st.Slug], progressed = true, true
			next, problems := f.forms.Apply(a, st, values[st.Slug], f.db.Now())
			if problems != nil {
				t.Fatalf("public page %s: %v", st.Slug, problems)
			}
			a = next
			break
		}
	}
	return a
}

// TestAPublicReportHasNoReporterAndTheSameChecks: a concern from the public
// is stored as an incident of the chosen organisation with no reporter; an
// organisation that does not exist and a statement no longer in force are
// refused, storing nothing. // T7, T8
func TestAPublicReportHasNoReporterAndTheSameChecks(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRecorderFixture(t, d)
		ctx := context.Background()
		version := f.statement(t)
		var problems apperr.Fields
		_, err := f.rec.SubmitPublic(ctx, incident.PublicReport{Answers: f.public(t, "ZZZ99"), StatementVersion: version}, incident.Client{})
		if !errors.As(err, &problems) || problems[0].Field != "organisation" {
			t.Fatalf("an organisation that does not exist: %v", err)
		}
		answers := f.public(t, "RM1")
		if _, err := f.rec.SubmitPublic(ctx, incident.PublicReport{Answers: answers, StatementVersion: version - 1}, incident.Client{}); !errors.Is(err, incident.ErrStatementChanged) {
			t.Fatalf("a statement not in force: %v", err)
		}
		delete(answers, "AdverseEvent.description")
		if _, err := f.rec.SubmitPublic(ctx, incident.PublicReport{Answers: answers, StatementVersion: version}, incident.Client{}); !errors.As(err, &problems) {
			t.Fatalf("a report without what happened: %v", err)
		}
		ev, err := f.rec.SubmitPublic(ctx, incident.PublicReport{Answers: f.public(t, "RM1"), StatementVersion: version}, incident.Client{})
		if err != nil {
			t.Fatal(err)
		}
		if ev.Source != incident.Public || ev.ReporterID != 0 || ev.OrgCode != "RM1" || ev.Type != incident.Incident {
			t.Fatalf("event = %+v", ev)
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d events stored (%v)", n, err)
		}
	})
}
