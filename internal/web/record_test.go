package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/terms"
)

// staff signs in a new user of RM1 with the role, terms accepted.
func staff(t *testing.T, site *apptest.Site, email string, role account.Role) (*browser, account.User) {
	t.Helper()
	u, err := site.App.Accounts.Create(context.Background(), account.NewUser{Email: email, Name: "Rowan Recorder",
		JobRole: "Staff nurse", OrgCode: "RM1", Role: role, Password: passphrase})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, site)
	if r := signIn(t, b, email, passphrase); r.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", r.status)
	}
	return b, u
}

var draftPathPattern = regexp.MustCompile(`^/drafts/(\d+)/([a-z0-9-]+)`)

// recording walks the staff form through the real pages.
type recording struct {
	t     *testing.T
	b     *browser
	site  *apptest.Site
	form  *form.Form
	user  account.User
	draft int64
	at    string // the page the browser is on
}

// start chooses the type of event and lands on the first question.
func start(t *testing.T, b *browser, site *apptest.Site, u account.User, typ incident.Type) *recording {
	t.Helper()
	f, err := form.New(site.App.Taxonomy)
	if err != nil {
		t.Fatal(err)
	}
	r := b.submit("/events/new", "/events/new", url.Values{"type": {string(typ)}})
	m := draftPathPattern.FindStringSubmatch(r.location)
	if r.status != http.StatusSeeOther || m == nil {
		t.Fatalf("start: %d %q", r.status, r.location)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return &recording{t: t, b: b, site: site, form: f, user: u, draft: id, at: r.location}
}

// step returns the question of the page the browser is on.
func (rc *recording) step() form.Step {
	rc.t.Helper()
	d, err := rc.site.App.Incidents.Draft(context.Background(), rc.user.ID, rc.draft)
	if err != nil {
		rc.t.Fatal(err)
	}
	m := draftPathPattern.FindStringSubmatch(rc.at)
	s, ok := form.Find(rc.form.Steps(d.Type, d.Answers, false), m[2])
	if !ok {
		rc.t.Fatalf("%s is not a step", rc.at)
	}
	return s
}

// answer posts values on the current page and returns the response.
func (rc *recording) answer(values url.Values) response {
	rc.t.Helper()
	path, _, _ := strings.Cut(rc.at, "?")
	if strings.Contains(rc.at, "return=check") {
		values.Set("return", "check")
	}
	return rc.b.submit(rc.at, path, values)
}

// through answers every page until "check your answers", with chosen
// answers by step slug and a plain one for the rest.
func (rc *recording) through(chosen map[string]url.Values) {
	rc.t.Helper()
	for range 100 {
		if strings.HasSuffix(rc.at, "/check") {
			return
		}
		s := rc.step()
		values, ok := chosen[s.Slug]
		if !ok {
			values = plainAnswer(s)
		}
		r := rc.answer(values)
		if r.status != http.StatusSeeOther {
			rc.t.Fatalf("%s: %d\n%s", rc.at, r.status, errorSummary(r.body))
		}
		rc.at = r.location
	}
	rc.t.Fatal("the form never reached check your answers")
}

func plainAnswer(s form.Step) url.Values {
	q := s.Question
	switch q.Kind {
	case form.Radios, form.Select, form.Checkboxes:
		return url.Values{"answer": {q.List.Codes[0].Code}}
	case form.YesNo:
		return url.Values{"answer": {"yes"}}
	case form.Org:
		return url.Values{"answer": {"RM1"}}
	case form.Text, form.Textarea:
		return url.Values{"answer": {"Given 5 mg at 14:00 on ward 7B instead of 2.5 mg."}}
	case form.Number:
		return url.Values{"answer": {"1"}}
	case form.Date:
		return url.Values{"answer-day": {"2"}, "answer-month": {"11"}, "answer-year": {"2026"}}
	case form.Month:
		return url.Values{"answer-month": {"10"}, "answer-year": {"2026"}}
	case form.Age:
		return url.Values{"answer-years": {"67"}, "answer-months": {"4"}}
	}
	return url.Values{}
}

var summaryPattern = regexp.MustCompile(`(?s)<div class="nhsuk-error-summary.*?</div>`)

func errorSummary(body string) string { return summaryPattern.FindString(body) }

// TestRecordingAnIncidentFromStartToFinish: one question per page, the
// identifier guard stopping an NHS number and keeping what was typed, check
// your answers, the recording statement and a durable submission with its
// version (T7, T12, T15).
func TestRecordingAnIncidentFromStartToFinish(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			b, u := staff(t, site, "rowan.recorder@nhs.net", account.RoleReporter)
			rc := start(t, b, site, u, incident.Incident)

			// Answer up to the description, then type an NHS number into it.
			for rc.step().Slug != "description" {
				r := rc.answer(plainAnswer(rc.step()))
				if r.status != http.StatusSeeOther {
					t.Fatalf("%s: %d %s", rc.at, r.status, errorSummary(r.body))
				}
				rc.at = r.location
			}
			typed := "Patient 943 476 5919 was given the wrong dose on ward 7B."
			r := rc.answer(url.Values{"answer": {typed}})
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("an NHS number was accepted: %d", r.status)
			}
			if !strings.Contains(errorSummary(r.body), "Remove the NHS number in ‘What happened’, after “Patient”") || strings.Contains(errorSummary(r.body), "943 476 5919") {
				t.Errorf("error summary: %s", errorSummary(r.body))
			}
			if !strings.Contains(r.body, ">"+typed+"</textarea>") {
				t.Error("the text typed was not kept in the form")
			}
			d, _ := site.App.Incidents.Draft(context.Background(), u.ID, rc.draft)
			if _, ok := d.Answers[form.Description]; ok {
				t.Fatal("the refused text reached the draft")
			}

			rc.through(map[string]url.Values{
				"agents":                  {"answer": {"4"}},
				"patients":                {"answer": {"2"}},
				"patient-2-physical-harm": {"answer": {"2"}},
				"sharing":                 {"answer": {"no"}},
			})
			check := b.get(rc.at)
			for _, want := range []string{"Check your answers", "Patient 2: physical harm", "Severe physical harm", "Medications", "Change"} {
				if !strings.Contains(check.body, want) {
					t.Errorf("check your answers lacks %q", want)
				}
			}

			statement := b.get(fmt.Sprintf("/drafts/%d/statement", rc.draft))
			doc, err := site.App.Terms.Current(context.Background(), terms.RecordingStatement)
			if err != nil {
				t.Fatal(err)
			}
			if statement.status != http.StatusOK || !strings.Contains(statement.body, fmt.Sprintf(`name="statement_version" value="%d"`, doc.Version)) {
				t.Fatalf("statement page: %d", statement.status)
			}
			submitPath := fmt.Sprintf("/drafts/%d/statement", rc.draft)
			if r := b.submit(submitPath, submitPath, url.Values{"statement_version": {strconv.Itoa(doc.Version + 1)}}); r.status != http.StatusConflict ||
				errorSummary(r.body) == "" || strings.Contains(r.body, "notification-banner--success") {
				t.Errorf("a statement version that was not shown: %d, or shown as a success", r.status)
			}
			r = b.submit(submitPath, submitPath, url.Values{"statement_version": {strconv.Itoa(doc.Version)}, "receipt": {"yes"}})
			if r.status != http.StatusSeeOther || !strings.HasSuffix(r.location, "/submitted") {
				t.Fatalf("submit: %d %s %s", r.status, r.location, errorSummary(r.body))
			}
			ref := strings.TrimSuffix(strings.TrimPrefix(r.location, "/events/"), "/submitted")
			done := b.get(r.location)
			if done.status != http.StatusOK || !strings.Contains(done.body, ref) {
				t.Fatalf("confirmation: %d", done.status)
			}

			ev, err := site.App.Incidents.ByReference(context.Background(), incident.Reference(ref))
			if err != nil {
				t.Fatal(err)
			}
			if ev.ReporterID != u.ID || ev.Source != incident.Staff || ev.OrgCode != "RM1" || ev.StatementVersion != doc.Version {
				t.Errorf("stored event %+v", ev)
			}
			if !ev.SharingOptOut || ev.Index.PhysicalHarm != "2" {
				t.Errorf("opt-out %v, worst harm %q", ev.SharingOptOut, ev.Index.PhysicalHarm)
			}
			if got := ev.Answers[form.Description]; len(got) != 1 || got[0] != "Given 5 mg at 14:00 on ward 7B instead of 2.5 mg." {
				t.Errorf("description %q", got)
			}
			// The receipt holds the reference and none of what was recorded.
			mails, err := site.App.Outbox.List(context.Background(), u.Email, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(mails) != 1 || !strings.Contains(mails[0].Subject+mails[0].Text, ref) || strings.Contains(mails[0].Text, "ward 7B") {
				t.Errorf("receipt: %+v", mails)
			}
			if _, err := site.App.Incidents.Draft(context.Background(), u.ID, rc.draft); err == nil {
				t.Error("the draft outlived its submission")
			}
			// Another user cannot see the confirmation.
			other, _ := staff(t, site, "someone.else@nhs.net", account.RoleReporter)
			if r := other.get("/events/" + ref + "/submitted"); r.status != http.StatusNotFound {
				t.Errorf("another reporter sees the confirmation: %d", r.status)
			}
		})
	}
}

// TestDraftsAreSavedAndResumed: "save and come back later", "Your drafts",
// resuming at the first unanswered question, and deleting. A draft is its
// author's alone.
func TestDraftsAreSavedAndResumed(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			b, u := staff(t, site, "dana.draft@nhs.net", account.RoleReporter)
			rc := start(t, b, site, u, incident.GoodCare)
			r := rc.answer(url.Values{"answer": {"exact"}})
			rc.at = r.location
			r = rc.answer(url.Values{"answer-day": {"1"}, "answer-month": {"11"}, "answer-year": {"2026"}, "action": {"save"}})
			if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/drafts?saved=") {
				t.Fatalf("save and come back: %d %s", r.status, r.location)
			}
			list := b.get(r.location)
			resume := fmt.Sprintf("/drafts/%d/organisation", rc.draft)
			if !strings.Contains(list.body, "Your draft has been saved") || !strings.Contains(list.body, `href="`+resume+`"`) {
				t.Fatalf("drafts page does not resume at the organisation:\n%s", list.body)
			}
			if page := b.get(resume); !strings.Contains(page.body, `value="RM1"`) {
				t.Error("the organisation question is not filled in with the user's own")
			}

			other, _ := staff(t, site, "olly.other@nhs.net", account.RoleReporter)
			if r := other.get(resume); r.status != http.StatusNotFound {
				t.Errorf("another user opens the draft: %d", r.status)
			}
			deletePath := fmt.Sprintf("/drafts/%d/delete", rc.draft)
			if r := other.submit("/drafts", deletePath, url.Values{}); r.status != http.StatusNotFound {
				t.Errorf("another user deletes the draft: %d", r.status)
			}
			if r := b.submit(deletePath, deletePath, url.Values{}); r.status != http.StatusSeeOther {
				t.Fatalf("delete: %d", r.status)
			}
			if ds, _ := site.App.Incidents.Drafts(context.Background(), u.ID); len(ds) != 0 {
				t.Errorf("%d drafts left", len(ds))
			}
		})
	}
}

// TestIncompleteDraftsCannotBeSubmitted: the check page marks what is
// missing, and the statement and submission send people back to it.
func TestIncompleteDraftsCannotBeSubmitted(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b, u := staff(t, site, "ivy.incomplete@nhs.net", account.RoleReporter)
	rc := start(t, b, site, u, incident.Risk)
	check := b.get(fmt.Sprintf("/drafts/%d/check", rc.draft))
	if !strings.Contains(check.body, "Some questions still need an answer") || strings.Contains(check.body, "/statement") {
		t.Error("the check page of an empty draft offers to submit")
	}
	statement := fmt.Sprintf("/drafts/%d/statement", rc.draft)
	if r := b.get(statement); r.status != http.StatusSeeOther {
		t.Errorf("statement of an incomplete draft: %d", r.status)
	}
	if r := b.submit("/drafts", statement, url.Values{"statement_version": {"1"}}); r.status != http.StatusUnprocessableEntity || errorSummary(r.body) == "" {
		t.Errorf("submitting an incomplete draft: %d", r.status)
	}
	if n := countRows(t, site, "events"); n != 0 {
		t.Errorf("%d events stored", n)
	}
}

// TestBadAnswersAreExplained: unknown organisations, impossible dates and
// foreign codes get NHS.UK errors and keep what was typed; nothing is a 500.
func TestBadAnswersAreExplained(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b, u := staff(t, site, "bea.bad@nhs.net", account.RoleReporter)
	rc := start(t, b, site, u, incident.Incident)
	rc.through(nil)
	id := rc.draft
	cases := []struct {
		step   string
		values url.Values
		want   string
	}{
		{"organisation", url.Values{"answer": {"ZZ9"}}, "No organisation has the ODS code ZZ9"},
		{"organisation", url.Values{"answer": {"R"}}, "Enter an ODS code of 3 to 7 letters and numbers"},
		{"date", url.Values{"answer-day": {"30"}, "answer-month": {"2"}, "answer-year": {"2026"}}, "Date it happened must be a real date"},
		{"service", url.Values{"answer": {"<b>99</b>"}}, "Select one of the options"},
		{"no-such-step", url.Values{"answer": {"1"}}, ""},
	}
	for _, c := range cases {
		path := fmt.Sprintf("/drafts/%d/%s", id, c.step)
		r := b.submit("/drafts", path, c.values)
		if c.want == "" {
			if r.status != http.StatusNotFound {
				t.Errorf("%s: %d", c.step, r.status)
			}
			continue
		}
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(errorSummary(r.body), c.want) {
			t.Errorf("%s: %d %s", c.step, r.status, errorSummary(r.body))
		}
		for _, v := range c.values {
			if !strings.Contains(r.body, `value="`+strings.ReplaceAll(v[0], "<", "&lt;")) && c.step != "service" {
				t.Errorf("%s: %q was not kept", c.step, v[0])
			}
		}
	}
}

// TestReadOnlyUsersDoNotRecord: read-only accounts read; they do not
// record. // T14
func TestReadOnlyUsersDoNotRecord(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b, _ := staff(t, site, "reed.only@nhs.net", account.RoleReadOnly)
	if r := b.get("/events/new"); r.status != http.StatusForbidden {
		t.Errorf("read-only user starts recording: %d", r.status)
	}
}

func countRows(t *testing.T, site *apptest.Site, table string) int {
	t.Helper()
	var n int
	if err := site.App.DB.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestChangesAreNewVersions: a reporter corrects their own event and a
// reviewer answers the governance questions; each change is a version with
// its author and reason, and a change that asks a new question leads to it.
func TestChangesAreNewVersions(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			b, u := staff(t, site, "cora.changer@nhs.net", account.RoleReporter)
			rc := start(t, b, site, u, incident.Incident)
			rc.through(nil)
			statement := fmt.Sprintf("/drafts/%d/statement", rc.draft)
			r := b.submit(statement, statement, url.Values{"statement_version": {"1"}})
			ref := strings.TrimSuffix(strings.TrimPrefix(r.location, "/events/"), "/submitted")

			change := "/events/" + ref + "/change/description"
			if r := b.submit(change, change, url.Values{"answer": {"A corrected account of the fall."}}); r.status != http.StatusUnprocessableEntity ||
				!strings.Contains(errorSummary(r.body), "Enter why you are changing the record") {
				t.Errorf("a change without a reason: %d", r.status)
			}
			r = b.submit(change, change, url.Values{"answer": {"A corrected account of the fall."}, "reason": {"The first account was incomplete"}})
			if r.status != http.StatusSeeOther || r.location != "/events/"+ref+"?changed=2" {
				t.Fatalf("change: %d %s %s", r.status, r.location, errorSummary(r.body))
			}
			if b.get("/events/"+ref+"/change/organisation").status != http.StatusNotFound {
				t.Error("the organisation can be changed")
			}

			setIG(t, site, "vera.reviewer@nhs.net", account.RoleReviewer)
			rb := newBrowser(t, site)
			signIn(t, rb, "vera.reviewer@nhs.net", passphrase)
			page := rb.get("/events/" + ref)
			if !strings.Contains(page.body, "/events/"+ref+"/change/never-event") {
				t.Fatal("the reviewer is not offered the governance questions")
			}
			never := "/events/" + ref + "/change/never-event"
			r = rb.submit(never, never, url.Values{"answer": {"yes"}, "reason": {"Decided at the weekly panel"}})
			if r.status != http.StatusOK || !strings.Contains(r.body, "Which never event was it?") {
				t.Fatalf("never event: %d %s", r.status, r.location)
			}
			ev, err := site.App.Incidents.ByReference(context.Background(), incident.Reference(ref))
			if err != nil {
				t.Fatal(err)
			}
			if ev.Version != 2 {
				t.Fatal("a never event with no type was saved")
			}
			r = rb.post("/events/"+ref+"/change/never-event-type", pendingForm(t, r.body, url.Values{"answer": {firstChoice(t, r.body)}}))
			if r.status != http.StatusSeeOther || r.location != "/events/"+ref+"?changed=3" {
				t.Fatalf("never event type: %d %s %s", r.status, r.location, errorSummary(r.body))
			}
			versions, err := site.App.Incidents.Versions(context.Background(), ev.ID)
			if err != nil || len(versions) != 3 {
				t.Fatalf("versions %d, %v", len(versions), err)
			}
			if versions[1].AuthorID != u.ID || versions[2].Reason != "Decided at the weekly panel" || versions[0].Answers[form.Description][0] == "A corrected account of the fall." {
				t.Errorf("versions %+v", versions)
			}
			history := rb.get("/events/" + ref + "/history")
			if !strings.Contains(history.body, "The first account was incomplete") || !strings.Contains(history.body, "Never event") {
				t.Error("the history lacks a version")
			}
		})
	}
}

var (
	choicePattern = regexp.MustCompile(`name="answer" type="radio" value="([^"]+)"`)
	reasonPattern = regexp.MustCompile(`(?s)<textarea[^>]*name="reason"[^>]*>(.*?)</textarea>`)
)

// pendingForm is the form a page of an amendment in progress posts: its
// hidden fields and the reason typed, with values.
func pendingForm(t *testing.T, body string, values url.Values) url.Values {
	t.Helper()
	for _, m := range hiddenPattern.FindAllStringSubmatch(body, -1) {
		values.Set(m[1], html.UnescapeString(m[2]))
	}
	if values.Get("pending") == "" {
		t.Fatal("the page keeps no pending change")
	}
	if m := reasonPattern.FindStringSubmatch(body); m != nil {
		values.Set("reason", html.UnescapeString(m[1]))
	}
	return values
}

// firstChoice is the first radio button's value on the page.
func firstChoice(t *testing.T, body string) string {
	t.Helper()
	m := choicePattern.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no choices on the page")
	}
	return m[1]
}

// TestAChangeThatNeedsANewQuestionAsksItBeforeSaving: harm changed to
// severe asks how strongly the event was linked to it, with the change and
// its reason kept and nothing saved; the answer saves both as one version.
// A forged pending change is ignored.
func TestAChangeThatNeedsANewQuestionAsksItBeforeSaving(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			b, u := staff(t, site, "hari.harm@nhs.net", account.RoleReporter)
			rc := start(t, b, site, u, incident.Incident)
			rc.through(map[string]url.Values{"patient-1-psychological-harm": {"answer": {"3"}}})
			statement := fmt.Sprintf("/drafts/%d/statement", rc.draft)
			r := b.submit(statement, statement, url.Values{"statement_version": {"1"}})
			ref := strings.TrimSuffix(strings.TrimPrefix(r.location, "/events/"), "/submitted")

			harm := "/events/" + ref + "/change/patient-1-physical-harm"
			r = b.submit(harm, harm, url.Values{"answer": {"2"}, "reason": {"Harm was worse than first thought"}})
			if r.status != http.StatusOK || !strings.Contains(r.body, "How strongly was the event linked to the harm?") ||
				!strings.Contains(r.body, "Harm was worse than first thought") {
				t.Fatalf("severe harm: %d %s\n%s", r.status, r.location, errorSummary(r.body))
			}
			ev, err := site.App.Incidents.ByReference(context.Background(), incident.Reference(ref))
			if err != nil || ev.Version != 1 || ev.Index.PhysicalHarm == "2" {
				t.Fatalf("severe harm with no strength of association was saved: version %d (%v)", ev.Version, err)
			}

			association := "/events/" + ref + "/change/patient-1-association"
			forged := pendingForm(t, r.body, url.Values{"answer": {firstChoice(t, r.body)}})
			forged.Set("pending", strings.Replace(forged.Get("pending"), `"2"`, `"1"`, 1))
			forged.Set("csrf_token", csrfPattern.FindStringSubmatch(r.body)[1])
			if f := b.post(association, forged); f.status != http.StatusNotFound {
				t.Fatalf("a forged pending change: %d %s", f.status, f.location)
			}

			values := pendingForm(t, r.body, url.Values{"answer": {firstChoice(t, r.body)}})
			values.Set("csrf_token", html.UnescapeString(csrfPattern.FindStringSubmatch(r.body)[1]))
			r = b.post(association, values)
			if r.status != http.StatusSeeOther || r.location != "/events/"+ref+"?changed=2" {
				t.Fatalf("association: %d %s %s", r.status, r.location, errorSummary(r.body))
			}
			ev, err = site.App.Incidents.ByReference(context.Background(), incident.Reference(ref))
			if err != nil || ev.Version != 2 || ev.Index.PhysicalHarm != "2" || len(ev.Answers["PatientInformation.StrengthOfAssociation"]) != 1 {
				t.Fatalf("saved: version %d harm %q association %v (%v)", ev.Version, ev.Index.PhysicalHarm, ev.Answers["PatientInformation.StrengthOfAssociation"], err)
			}
		})
	}
}

// setIG creates a user of RM1 with the role and current IG training.
func setIG(t *testing.T, site *apptest.Site, email string, role account.Role) account.User {
	t.Helper()
	u, err := site.App.Accounts.Create(context.Background(), account.NewUser{Email: email, Name: "Vera Reviewer",
		JobRole: "Patient safety lead", OrgCode: "RM1", Role: role, Password: passphrase})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := site.App.DB.WritePool().ExecContext(context.Background(), `UPDATE users SET ig_training_at = $1 WHERE id = $2`, site.App.DB.Now(), u.ID); err != nil {
		t.Fatal(err)
	}
	return u
}
