package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/incident/synth"
	"github.com/psims/psims/internal/mail/smtptest"
	"github.com/psims/psims/internal/terms"
)

// alertSite is a running PSIMS that sends email to a test SMTP server, with
// a generator of finished events.
type alertSite struct {
	site      *apptest.Site
	smtp      *smtptest.Server
	forms     *form.Form
	gen       *synth.Generator
	statement int
}

func startAlertSite(t *testing.T, e dbtest.Engine) *alertSite {
	t.Helper()
	srv := smtptest.Start(t)
	site := apptest.Start(t, e, func(c *config.Config) { c.SMTP = srv.URL() })
	forms, err := form.New(site.App.Taxonomy)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := synth.New(forms, []string{"RM1"}, 11)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := site.App.Terms.Current(context.Background(), terms.RecordingStatement)
	if err != nil {
		t.Fatal(err)
	}
	return &alertSite{site: site, smtp: srv, forms: forms, gen: gen, statement: doc.Version}
}

// submit records, as the reporter, the first generated incident that want
// accepts, and returns it with its answers.
// edit, when not nil, changes the answers before they are saved.
func (s *alertSite) submit(t *testing.T, by account.User, want func(form.Result) bool, edit func(incident.Answers)) (incident.Event, incident.Answers) {
	t.Helper()
	ctx := context.Background()
	for range 2000 {
		res, err := s.gen.Answers(incident.Incident, "RM1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if !want(res) {
			continue
		}
		if edit != nil {
			edit(res.Answers)
		}
		id, err := s.site.App.Incidents.SaveDraft(ctx, by.ID, 0, incident.Incident, res.Answers)
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.site.App.Incidents.Draft(ctx, by.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := s.site.App.Recorder.SubmitDraft(ctx, incident.DraftSubmission{Draft: d, StatementVersion: s.statement,
			Reporter: incident.Reporter{ID: by.ID, Email: by.Email, Name: by.Name}}, incident.Client{})
		if err != nil {
			t.Fatal(err)
		}
		return ev, res.Answers
	}
	t.Fatal("the generator made no event of the kind wanted")
	return incident.Event{}, nil
}

// submitPublic records a concern from the public for RM1.
func (s *alertSite) submitPublic(t *testing.T, description string) incident.Event {
	t.Helper()
	answer := func(v string) url.Values { return url.Values{form.FieldAnswer: {v}} }
	last := time.Now().UTC().AddDate(0, -1, 0)
	values := map[string]url.Values{
		"description":  answer(description),
		"date-known":   answer("approximate"),
		"month":        {form.FieldMonth: {strconv.Itoa(int(last.Month()))}, form.FieldYear: {strconv.Itoa(last.Year())}},
		"organisation": answer("RM1"),
		"harm":         answer("4"),
		"relationship": answer("2"),
		"sharing":      answer("yes"),
	}
	a := incident.Answers{}
	done := map[string]bool{}
	for progressed := true; progressed; {
		progressed = false
		for _, st := range s.forms.PublicSteps(a) {
			if done[st.Slug] {
				continue
			}
			done[st.Slug], progressed = true, true
			next, problems := s.forms.Apply(a, st, values[st.Slug], time.Now())
			if problems != nil {
				t.Fatalf("public page %s: %v", st.Slug, problems)
			}
			a = next
			break
		}
	}
	ev, err := s.site.App.Recorder.SubmitPublic(context.Background(), incident.PublicReport{Answers: a, StatementVersion: s.statement}, incident.Client{})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// alertsTo counts the event alerts the outbox holds for the address about
// the reference: they are queued with the event, so this is exact at once.
func (s *alertSite) alertsTo(t *testing.T, to, reference string) int {
	t.Helper()
	var n int
	if err := s.site.App.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox WHERE to_addr = $1 AND subject LIKE $2`,
		to, "%"+reference+" for review").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func severeOrFatal(res form.Result) bool {
	return res.Index.PhysicalHarm == "1" || res.Index.PhysicalHarm == "2"
}

func neverEvent(res form.Result) bool {
	return slices.Equal(res.Answers["AdverseEventGovernance.NeverEvent"], []string{"yes"})
}

// The organisation's reviewers and admins with current IG training are
// emailed, as each chose, when an event with severe or fatal harm, a never
// event or a public report arrives, with nothing anyone wrote; nobody else
// is (issue 11 item 18).
func TestReviewersAreEmailedAboutSeriousEventsAsTheyChose(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := startAlertSite(t, e)
			now := time.Now()
			reviewer := approvalsUser(t, s.site, "reviewer@rm1.example", "RM1", account.RoleReviewer, now)
			publicOnly := approvalsUser(t, s.site, "public.only@rm1.example", "RM1", account.RoleReviewer, now)
			admin := approvalsUser(t, s.site, "admin@rm1.example", "RM1", account.RoleOrgAdmin, now)
			untrained := approvalsUser(t, s.site, "untrained@rm1.example", "RM1", account.RoleReviewer, time.Time{})
			lapsed := approvalsUser(t, s.site, "lapsed@rm1.example", "RM1", account.RoleReviewer, now.AddDate(-2, 0, 0))
			suspended := approvalsUser(t, s.site, "suspended@rm1.example", "RM1", account.RoleReviewer, now)
			elsewhere := approvalsUser(t, s.site, "reviewer@gp.example", "D82044", account.RoleReviewer, now)
			national := approvalsUser(t, s.site, "national@nhs.example", "RM1", account.RoleNationalAdmin, now)
			reporter := approvalsUser(t, s.site, "reporter@rm1.example", "RM1", account.RoleReporter, now)
			if _, err := s.site.App.DB.WritePool().Exec(`UPDATE users SET status = 'suspended' WHERE id = $1`, suspended.ID); err != nil {
				t.Fatal(err)
			}

			// One reviewer chooses, on their profile, public reports only.
			b := signedInAs(t, s.site, publicOnly.Email)
			s.site.AcceptTerms(t, publicOnly.Email)
			page := b.get("/account/alerts")
			if page.status != http.StatusOK || strings.Count(page.body, `type="checkbox"`) != 3 || strings.Count(page.body, " checked") != 3 {
				t.Fatalf("alerts page: %d, want three boxes ticked by default", page.status)
			}
			if r := b.submit("/account/alerts", "/account/alerts", url.Values{"alerts": {"public-report"}}); r.status != http.StatusSeeOther {
				t.Fatalf("saving alert choices: %d", r.status)
			}
			if profile := b.get("/account/profile"); !strings.Contains(profile.body, "Reports from patients and the public") || strings.Contains(profile.body, "Never events") {
				t.Fatal("the profile does not show the choice made")
			}

			severe, severeAnswers := s.submit(t, reporter, func(r form.Result) bool { return severeOrFatal(r) && !neverEvent(r) }, nil)
			never, _ := s.submit(t, reporter, func(r form.Result) bool { return !neverEvent(r) && !severeOrFatal(r) }, func(a incident.Answers) {
				a["AdverseEventGovernance.NeverEvent"] = []string{"yes"}
				a["AdverseEventGovernance.NeverEventType"] = []string{"3"}
			})
			quiet, _ := s.submit(t, reporter, func(r form.Result) bool { return !neverEvent(r) && !severeOrFatal(r) }, nil)
			const words = "My mother was left on a trolley in the corridor for most of the night."
			public := s.submitPublic(t, words)

			everyone := []account.User{reviewer, publicOnly, admin, untrained, lapsed, suspended, elsewhere, national, reporter}
			want := map[incident.Reference][]account.User{
				severe.Reference: {reviewer, admin},
				never.Reference:  {reviewer, admin},
				quiet.Reference:  nil,
				public.Reference: {reviewer, publicOnly, admin},
			}
			for ref, to := range want {
				for _, u := range everyone {
					wanted := 0
					if slices.ContainsFunc(to, func(v account.User) bool { return v.ID == u.ID }) {
						wanted = 1
					}
					if got := s.alertsTo(t, u.Email, string(ref)); got != wanted {
						t.Errorf("%s: %d alerts to %s, want %d", ref, got, u.Email, wanted)
					}
				}
			}

			// Delivered by SMTP, holding the reference, type and harm and a
			// link to the event, and nothing anyone wrote.
			s.smtp.WaitFor(t, admin.Email, 3)
			var severeMail smtptest.Message
			for _, m := range s.smtp.Messages() {
				if slices.Contains(m.To, admin.Email) && strings.Contains(m.Subject(), string(severe.Reference)) {
					severeMail = m
				}
			}
			body := severeMail.Text() + severeMail.HTML()
			for _, want := range []string{string(severe.Reference), "Type of event: Incident", "Physical harm: " + s.forms.PhysicalHarmLabel(severe.Index.PhysicalHarm),
				s.site.URL + "/events/" + string(severe.Reference)} {
				if !strings.Contains(body, want) {
					t.Errorf("the alert lacks %q:\n%s", want, severeMail.Text())
				}
			}
			// The link asks a visitor to sign in first, and leads back to the event.
			if r := newBrowser(t, s.site).get("/events/" + string(severe.Reference)); r.status != http.StatusSeeOther ||
				!strings.HasPrefix(r.location, "/sign-in") || !strings.Contains(r.location, url.QueryEscape("/events/"+string(severe.Reference))) {
				t.Errorf("the alert's link, signed out: %d %s", r.status, r.location)
			}
			for el, vs := range severeAnswers {
				for _, v := range vs {
					if len(v) > 12 && strings.Contains(body, v) {
						t.Errorf("the alert holds the answer to %s: %q", el, v)
					}
				}
			}
			for _, m := range s.smtp.Messages() {
				if strings.Contains(m.Text()+m.HTML(), "trolley") {
					t.Errorf("an email to %v holds the public's words", m.To)
				}
			}
		})
	}
}

// TestAnAmendmentThatMakesAnEventSeriousAlertsOnce: an event recorded with
// nothing to alert on, then changed into a never event, is alerted on when
// the change is saved, to the organisation's reviewers but not to the
// person who made the change; a later change that keeps it a never event
// alerts nobody again.
func TestAnAmendmentThatMakesAnEventSeriousAlertsOnce(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := startAlertSite(t, e)
			ctx := context.Background()
			now := time.Now()
			reviewer := approvalsUser(t, s.site, "reviewer@rm1.example", "RM1", account.RoleReviewer, now)
			admin := approvalsUser(t, s.site, "admin@rm1.example", "RM1", account.RoleOrgAdmin, now)
			reporter := approvalsUser(t, s.site, "reporter@rm1.example", "RM1", account.RoleReporter, now)

			quiet, answers := s.submit(t, reporter, func(r form.Result) bool { return !neverEvent(r) && !severeOrFatal(r) }, nil)
			if n := s.alertsTo(t, admin.Email, string(quiet.Reference)); n != 0 {
				t.Fatalf("%d alerts for an event with nothing to alert on", n)
			}
			answers["AdverseEventGovernance.NeverEvent"] = []string{"yes"}
			answers["AdverseEventGovernance.NeverEventType"] = []string{"3"}
			amend := func(base int, reason string) {
				t.Helper()
				if _, err := s.site.App.Recorder.Amend(ctx, incident.Amendment{EventID: quiet.ID, Base: base, AuthorID: reviewer.ID,
					Reviewer: true, Reason: reason, Answers: answers}, incident.Client{}); err != nil {
					t.Fatal(err)
				}
			}
			amend(1, "The review found the wrong site was operated on.")
			for _, c := range []struct {
				u    account.User
				want int
			}{{admin, 1}, {reviewer, 0}, {reporter, 0}} {
				if got := s.alertsTo(t, c.u.Email, string(quiet.Reference)); got != c.want {
					t.Errorf("after the change into a never event: %d alerts to %s, want %d", got, c.u.Email, c.want)
				}
			}
			amend(2, "Corrected the wording of the reason.")
			if got := s.alertsTo(t, admin.Email, string(quiet.Reference)); got != 1 {
				t.Errorf("after a second change that keeps it a never event: %d alerts to the org admin, want still 1", got)
			}
		})
	}
}
