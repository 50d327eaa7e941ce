package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/terms"
)

// TestInterruptedAnswersAreKept (issue 11 items 1 and 4): a reporter types
// a description; new terms are published before they press Continue, so
// they are shown the review page, accept, and are offered to send their
// answer on, which lands in the draft. Then their session ends while they
// type again: the sign-in page keeps the answer, and after signing in they
// send it on. In Chromium with JavaScript on, every page checked with
// axe-core and the console.
func TestInterruptedAnswersAreKept(t *testing.T) {
	chromium(t)
	site, _ := startSite(t, dbtest.SQLite(t))
	ctx := context.Background()
	const email, password = "kit.kept@nhs.net", "amber lantern orchard violin"
	u, err := site.App.Accounts.Create(ctx, account.NewUser{Email: email, Name: "Kit Kept", JobRole: "Staff nurse",
		OrgCode: "RM1", Role: account.RoleReporter, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	site.AcceptTerms(t, email)

	b := newBrowser(t, site.URL, true)
	b.open("/sign-in", 200)
	signIn(b, email, password, 200)
	b.open("/events/new", 200)
	b.step("choose incident", chromedp.Click(chromedp.CSS(`input[name="type"][value="incident"]`)))
	b.click("start", inMain("button", "Start"), 200)
	for range 30 {
		path := b.path()
		if strings.HasSuffix(path, "/description") {
			break
		}
		slug := path[strings.LastIndex(path, "/")+1:]
		answerPage(b, slug)
		b.click("continue from "+slug, inMain("button", "Continue"), 200)
	}
	descriptionPath := b.path()
	if !strings.HasSuffix(descriptionPath, "/description") {
		t.Fatalf("the journey never reached the description: %s", descriptionPath)
	}
	id, err := strconv.ParseInt(strings.Split(descriptionPath, "/")[2], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	saved := func() string {
		d, err := site.App.Incidents.Draft(ctx, u.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(d.Answers[form.Description], "")
	}

	// Item 1: the terms change while they type.
	const first = "The syringe driver stopped twice during the night and the alarm was not heard."
	b.fill("answer", first)
	cur, err := site.App.Terms.Current(ctx, terms.Terms)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := site.App.Terms.Publish(ctx, 0, terms.Client{}, terms.Draft{Kind: terms.Terms,
		Body: cur.Body + "\n\n## Breaches\n\nTell us about a breach within 24 hours.", Summary: "Breaches within 24 hours.", Material: true}); err != nil {
		t.Fatal(err)
	}
	b.click("continue as the terms change", inMain("button", "Continue"), 200)
	b.wantHeading("Review the changes to our terms")
	if got := b.text("#held-notice"); !strings.Contains(got, "has not been saved yet") {
		t.Errorf("the review page says %q about the answer", got)
	}
	if got := b.text("main .psims-diff"); strings.Contains(got, "## ") || !strings.Contains(got, "Breaches") {
		t.Errorf("what changed shows %q", got)
	}
	b.click("accept", inMain("button", "Accept and continue"), 200)
	b.wantHeading("Continue where you left off")
	if got := saved(); got != "" {
		t.Fatalf("the answer was saved before they chose to send it: %q", got)
	}
	b.click("send the answer on", inMain("button", "Continue"), 200)
	if got := saved(); got != first {
		t.Fatalf("the draft holds %q, want the answer typed before the terms changed", got)
	}
	if b.path() == descriptionPath {
		t.Fatal("the answer was sent but the form did not move on")
	}

	// Item 4: the session ends while they type.
	b.open(descriptionPath, 200)
	const second = "The syringe driver stopped three times; the alarm volume was turned down."
	b.fill("answer", second)
	if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1`, time.Now().UTC().Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	b.click("continue after the session ended", inMain("button", "Continue"), 401)
	b.wantHeading("Sign in")
	if got := b.text("#sign-in-needed"); !strings.Contains(got, "You were signed out") {
		t.Errorf("the sign-in page says %q", got)
	}
	signIn(b, email, password, 200)
	b.wantHeading("Continue where you left off")
	b.click("send the answer on", inMain("button", "Continue"), 200)
	if got := saved(); got != second {
		t.Fatalf("the draft holds %q, want the answer typed as the session ended", got)
	}
	t.Logf("pages checked with axe-core and the console: %s", strings.Join(b.checked, "; "))
}

// TestStaySignedInPrompt (issue 11 item 4): shortly before an idle session
// ends, a dialog offers to stay signed in, with focus on its button; it
// passes axe-core while open, and choosing it keeps the session going.
// Without JavaScript the page says when the session ends instead.
func TestStaySignedInPrompt(t *testing.T) {
	chromium(t)
	site := apptest.Start(t, dbtest.SQLite(t), func(cfg *config.Config) { cfg.SessionIdle = 12 * time.Second })
	ctx := context.Background()
	const email, password = "sam.stay@nhs.net", "copper harbour violin meadow"
	if _, err := site.App.Accounts.Create(ctx, account.NewUser{Email: email, Name: "Sam Stay", JobRole: "Staff nurse",
		OrgCode: "RM1", Role: account.RoleReporter, Password: password}); err != nil {
		t.Fatal(err)
	}
	site.AcceptTerms(t, email)

	nojs := newBrowser(t, site.URL, false)
	nojs.open("/sign-in", 200)
	signIn(nojs, email, password, 200)
	if got := nojs.text("#session-timeout"); !strings.Contains(got, "you will be signed out at") || !strings.Contains(got, "12 seconds after your last action") {
		t.Errorf("without JavaScript the page says %q", got)
	}

	b := newBrowser(t, site.URL, true)
	b.open("/sign-in", 200)
	signIn(b, email, password, 200)
	b.wantPath("/")
	signedIn := time.Now().UTC()
	// The prompt comes 6 seconds before the end: about 6 seconds from now.
	b.step("wait for the prompt", chromedp.WaitVisible(chromedp.ID("session-timeout-dialog")))
	if got := b.text("#session-timeout-title"); got != "You will be signed out soon" {
		t.Errorf("the prompt says %q", got)
	}
	if focused := run(b, "focus", chromedp.Evaluate[string](`document.activeElement.id`)); focused != "session-timeout-stay" {
		t.Errorf("focus is on %q, want the Stay signed in button", focused)
	}
	b.checkAxe("the stay signed in prompt")
	b.step("stay signed in", chromedp.Click(chromedp.ID("session-timeout-stay")),
		chromedp.WaitNotVisible(chromedp.ID("session-timeout-dialog")))

	var last time.Time
	deadline := time.Now().Add(stepTimeout)
	for {
		if err := site.App.DB.WritePool().QueryRowContext(ctx, `SELECT last_seen_at FROM sessions ORDER BY last_seen_at DESC LIMIT 1`).Scan(&last); err != nil {
			t.Fatal(err)
		}
		if last.After(signedIn.Add(3 * time.Second)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the session was last seen at %s, signed in at %s: staying signed in did not extend it", last, signedIn)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.open("/account", 200)
	b.wantHeading("Your account")

	// Left alone this time, the dialog says they were signed out and that
	// what they typed is still there.
	b.step("wait for the end", chromedp.WaitVisible(chromedp.ID("session-timeout-ended-title")))
	if focused := run(b, "focus", chromedp.Evaluate[string](`document.activeElement.id`)); focused != "session-timeout-ended-title" {
		t.Errorf("focus is on %q, want the heading saying they were signed out", focused)
	}
	if got := b.text("#session-timeout-dialog [data-state=ended]"); !strings.Contains(got, "What you typed on this page is still here") {
		t.Errorf("the dialog says %q", got)
	}
	b.checkAxe("the signed out dialog")
	b.step("close", chromedp.Click(chromedp.ID("session-timeout-close")), chromedp.WaitNotVisible(chromedp.ID("session-timeout-dialog")))
	b.checkConsole("after the session ended")
}
