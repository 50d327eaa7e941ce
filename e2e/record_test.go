package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
)

// recordingAnswers are the choices of the incident journey by page; a page
// not named gets its first option, and optional boxes stay empty.
var recordingAnswers = map[string]string{
	"date-known":              "exact",
	"agents":                  "4", // medications
	"patients":                "2",
	"patient-1-age-known":     "exact",
	"patient-2-age-known":     "estimated",
	"patient-1-physical-harm": "4", // low
	"patient-2-physical-harm": "2", // severe
	"sharing":                 "yes",
}

const cleanDescription = "During the evening drug round the patient in bay 3 was given 10 mg of morphine instead of 1 mg. A second patient had the same chart error."

// TestAReporterRecordsAnIncidentAndAReviewerFindsIt: a reporter records an
// incident with two patients one question per page, is stopped by an NHS
// number in the description, takes it out, checks the answers, reads the
// recording statement and submits; a reviewer of the organisation then finds
// the event in the list and opens it. Every page of the form is checked with
// axe-core and the console. // T7, T12, T14
func TestAReporterRecordsAnIncidentAndAReviewerFindsIt(t *testing.T) {
	chromium(t)
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			recordAndFind(t, e)
		})
	}
}

// recordAndFind is the journey of TestAReporterRecordsAnIncidentAndAReviewerFindsIt
// on one engine.
func recordAndFind(t *testing.T, e dbtest.Engine) {
	site, _ := startSite(t, e)
	ctx := context.Background()
	const password = "saffron kettle harbour violin"
	people := map[account.Role]string{account.RoleReporter: "rhys.reporter@nhs.net", account.RoleReviewer: "rae.reviewer@nhs.net"}
	for role, email := range people {
		if _, err := site.App.Accounts.Create(ctx, account.NewUser{Email: email, Name: "Person " + string(role),
			JobRole: "Staff nurse", OrgCode: "RM1", Role: role, Password: password}); err != nil {
			t.Fatal(err)
		}
		site.AcceptTerms(t, email)
	}
	if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1`, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, site.URL, true)
	b.open("/sign-in", 200)
	signIn(b, people[account.RoleReporter], password, 200)
	b.open("/events/new", 200)
	b.step("choose incident", chromedp.Click(chromedp.CSS(`input[name="type"][value="incident"]`)))
	b.click("start", inMain("button", "Start"), 200)

	stopped := false
	for range 60 {
		path := b.path()
		if strings.HasSuffix(path, "/check") {
			break
		}
		slug := path[strings.LastIndex(path, "/")+1:]
		if slug == "description" && !stopped {
			b.fill("answer", "The patient with NHS number 943 476 5919 was given 10 mg of morphine instead of 1 mg.")
			b.click("continue with an NHS number", inMain("button", "Continue"), 422)
			links := wantErrorPage(t, b, "#answer")
			if want := "Remove the NHS number in ‘What happened’, after “The patient with NHS”. Nothing that could identify a person can be recorded"; links[0].Text != want {
				t.Errorf("the error says %q, want %q", links[0].Text, want)
			}
			if got := b.value("answer"); !strings.Contains(got, "943 476 5919") {
				t.Fatalf("the text typed was lost: %q", got)
			}
			stopped = true
		}
		answerPage(b, slug)
		b.click("continue from "+slug, inMain("button", "Continue"), 200)
	}
	if !stopped {
		t.Fatal("the journey never reached the description")
	}
	wantHeadingWords(b, "Record an incident - Check your answers")
	for _, want := range []string{"Patient 2: physical harm", "Severe physical harm", "Medications", cleanDescription} {
		if !strings.Contains(b.text("main"), want) {
			t.Errorf("check your answers lacks %q", want)
		}
	}
	b.click("continue to the statement", inMain("a", "Continue"), 200)
	wantHeadingWords(b, "Record an incident - Before you submit")
	b.click("submit", inMain("button", "Submit"), 200)
	b.wantHeading("Incident recorded")
	ref := b.text(".nhsuk-panel__body strong")
	if !strings.HasPrefix(ref, "PSE-") {
		t.Fatalf("reference %q", ref)
	}

	// A reviewer of the organisation finds it in the list and opens it.
	rb := newBrowser(t, site.URL, true)
	rb.open("/sign-in", 200)
	signIn(rb, people[account.RoleReviewer], password, 200)
	rb.open("/events", 200)
	rb.click("open "+ref, inMain("a", ref), 200)
	if got := rb.text("main"); !strings.Contains(got, ref) || !strings.Contains(got, cleanDescription) {
		t.Errorf("the reviewer's page of the event lacks its reference or description")
	}
	t.Logf("pages checked with axe-core and the console: %s; %s", strings.Join(b.checked, "; "), strings.Join(rb.checked, "; "))
}

// answerPage answers the question on the page as recordingAnswers says.
func answerPage(b *browser, slug string) {
	b.t.Helper()
	choice := recordingAnswers[slug]
	switch {
	case slug == "description":
		b.fill("answer", cleanDescription)
	case b.exists(`input[name="answer"][type="radio"]`) || b.exists(`input[name="answer"][type="checkbox"]`):
		sel := `input[name="answer"]`
		if choice != "" {
			sel = fmt.Sprintf(`input[name="answer"][value=%q]`, choice)
		}
		if !b.exists(sel + ":checked") {
			b.step("choose on "+slug, chromedp.Click(chromedp.CSS(sel)))
		}
	case b.exists("#answer-day"):
		d := time.Now().AddDate(0, 0, -2)
		b.fill("answer-day", strconv.Itoa(d.Day()))
		b.fill("answer-month", strconv.Itoa(int(d.Month())))
		b.fill("answer-year", strconv.Itoa(d.Year()))
	case b.exists("#answer-years"):
		b.fill("answer-years", "67")
		b.fill("answer-months", "4")
	case choice != "":
		b.fill("answer", choice)
	}
}

// wantHeadingWords checks the page's h1, caption included, word by word.
func wantHeadingWords(b *browser, want string) {
	b.t.Helper()
	if got := strings.Join(strings.Fields(b.text("main h1")), " "); got != want {
		b.t.Fatalf("on %s the heading is %q, want %q", b.path(), got, want)
	}
}

// TestAMemberOfThePublicRecordsAConcern: the public route without an
// account and without JavaScript: the identifier guard stops a phone
// number, the organisation is found by name, and a reference comes at the
// end. Every page is checked with axe-core. // T8, T12
func TestAMemberOfThePublicRecordsAConcern(t *testing.T) {
	chromium(t)
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			recordAConcern(t, e)
		})
	}
}

// recordAConcern is the journey of TestAMemberOfThePublicRecordsAConcern on
// one engine.
func recordAConcern(t *testing.T, e dbtest.Engine) {
	site, _ := startSite(t, e)
	b := newBrowser(t, site.URL, false)
	b.open("/report", 200)
	b.wantHeading("Tell us about a patient safety concern")
	// Without JavaScript every revealed question shows, each saying which
	// answer it is for.
	for _, want := range []string{"Answer this only if you chose “Yes, I know the date”", "Answer this only if you chose “No, but I know roughly when”"} {
		if !strings.Contains(b.text("main"), want) {
			t.Errorf("the form without JavaScript does not say %q", want)
		}
	}
	b.fill("description", "My mother waited 6 hours for pain relief. Call me on 07700 900123 if you need more.")
	choose := func(name, value string) {
		b.step("choose "+name, chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name=%q][value=%q]`, name, value))))
	}
	choose("date-known", "approximate")
	b.fill("month-month", "10")
	b.fill("month-year", "2026")
	b.fill("org_query", "norwich")
	b.click("search for the organisation", inMain("button", "Search"), 200)
	choose("org", "RM1")
	choose("harm", "4")
	choose("relationship", "2")
	choose("sharing", "yes")
	b.step("take time over the form", chromedp.Sleep(3*time.Second))
	b.click("submit with a phone number", inMain("button", "Submit"), 422)
	links := wantErrorPage(t, b, "#description")
	if want := "Remove the phone number in the 2nd sentence of ‘What happened’, which starts “Call me on”. Nothing that could identify a person can be recorded"; links[0].Text != want {
		t.Errorf("the error says %q", links[0].Text)
	}
	if got := b.value("month-year"); got != "2026" {
		t.Errorf("the year typed was lost: %q", got)
	}
	b.fill("description", "My mother waited 6 hours for pain relief on the ward.")
	b.step("take time over the form", chromedp.Sleep(3*time.Second))
	b.click("submit", inMain("button", "Submit"), 200)
	b.wantHeading("Thank you for telling us")
	ref := b.text(".nhsuk-panel__body strong")
	if !strings.HasPrefix(ref, "PSE-") {
		t.Fatalf("reference %q", ref)
	}
	t.Logf("pages checked with axe-core and the console: %s", strings.Join(b.checked, "; "))
}
