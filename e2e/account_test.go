package e2e

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/mail/smtptest"
)

// The person who registers in the journey. nhs.net is an auto-approved
// domain, so the account is active as soon as the address is confirmed.
const (
	personName  = "Alex Morgan"
	personRole  = "Staff nurse"
	personEmail = "alex.morgan@nhs.net"
	oldPassword = "violet harbour kettle marathon"
	newPassword = "copper lantern meadow bicycle"
)

// startSite runs PSIMS on the engine with its mail going to a real SMTP
// server of the test's own.
func startSite(t *testing.T, e dbtest.Engine) (*apptest.Site, *smtptest.Server) {
	t.Helper()
	mail := smtptest.Start(t)
	site := apptest.Start(t, e, func(cfg *config.Config) {
		cfg.SMTP = mail.URL()
	})
	return site, mail
}

// readyUser makes an active user who has done information governance
// training and accepted the current terms, as most journeys start with.
func readyUser(t *testing.T, site *apptest.Site, nu account.NewUser) account.User {
	t.Helper()
	ctx := context.Background()
	u, err := site.App.Accounts.Create(ctx, nu)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, time.Now().UTC(), u.ID); err != nil {
		t.Fatal(err)
	}
	site.AcceptTerms(t, nu.Email)
	return u
}

// TestAccountJourney registers, confirms the address from the real email,
// signs in and out, resets the password from the real email and signs in
// with the new one, in Chromium with JavaScript on, checking every page with
// axe-core and the console. It runs on SQLite, and on PostgreSQL too when
// PSIMS_TEST_POSTGRES_URL is set.
func TestAccountJourney(t *testing.T) {
	chromium(t)
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			site, mail := startSite(t, e)
			b := newBrowser(t, site.URL, true)
			// One screenshot, from the engine that always runs.
			shot := ""
			if e.Name == "sqlite" {
				shot = "/tmp/register-error.png"
			}
			accountJourney(t, b, mail, shot)
			t.Logf("pages checked with axe-core and the console: %s", strings.Join(b.checked, "; "))
		})
	}
}

// accountJourney walks the journey; screenshot, when not empty, is where to
// save a picture of the registration form refused with errors.
func accountJourney(t *testing.T, b *browser, mail *smtptest.Server, screenshot string) {
	// The home page leads to registration.
	b.open("/", 200)
	b.wantHeading("Record and learn from patient safety events")
	b.click("follow Create an account", inMain("a", "Create an account"), 200)
	b.wantPath("/register")
	b.wantHeading("Create an account")

	// A form with nothing in it is refused with the NHS.UK error summary,
	// each message linking to its field.
	b.click("submit the empty registration form", inMain("button", "Create account"), 422)
	wantErrorPage(t, b, "#name", "#job_role", "#org_query", "#email", "#password")
	if b.js {
		// NHS.UK frontend moves focus to the summary so screen readers
		// announce it.
		focused := run(b, "focus", chromedp.Evaluate[bool](`document.activeElement !== null && document.activeElement.classList.contains('nhsuk-error-summary')`))
		if !focused {
			t.Errorf("the error summary does not have the focus after a refused registration")
		}
	}

	// What was typed is kept when the form is refused; the password is not.
	// Enter in a box submits the form as "Create account", although the
	// Search button comes first on the page.
	b.fill("name", personName)
	b.fill("password", oldPassword)
	b.load("press Enter in the password box with only a name given", 422,
		chromedp.SendKeys(chromedp.ID("password"), kb.Enter))
	links := wantErrorPage(t, b, "#job_role", "#org_query", "#email")
	if slices.ContainsFunc(links, func(l summaryLink) bool { return l.Href == "#name" }) {
		t.Errorf("the error summary still complains about the name, which was given")
	}
	if got := b.value("name"); got != personName {
		t.Errorf("after the refusal the name box holds %q, want %q kept", got, personName)
	}
	if got := b.value("password"); got != "" {
		t.Errorf("after the refusal the password box holds %q; a password must never be sent back", got)
	}
	if screenshot != "" {
		b.screenshot(screenshot)
	}

	// Search finds the organisation without JavaScript-only widgets: it is a
	// second submit button of the same form, and keeps what was typed.
	b.fill("org_query", "RM1")
	b.click("search for RM1", inMain("button", "Search"), 200)
	b.wantPath("/register")
	if got := b.value("name"); got != personName {
		t.Errorf("after a search the name box holds %q, want %q kept", got, personName)
	}
	if got := b.text("fieldset .nhsuk-radios__label"); !strings.Contains(got, "(RM1)") {
		t.Errorf("search for RM1 shows %q, want the trust with code RM1", got)
	}
	if b.exists(".nhsuk-error-summary") {
		t.Errorf("a successful search still shows the error summary")
	}

	// Fill the rest and register with the "Create account" button, not
	// "Search".
	b.step("choose RM1", chromedp.Click(chromedp.CSS(`input[name="org"][value="RM1"]`)))
	b.fill("job_role", personRole)
	b.fill("email", personEmail)
	b.fill("password", oldPassword)
	b.fill("confirm_password", oldPassword)
	b.click("create the account", inMain("button", "Create account"), 200)
	b.wantPath("/register/check-email")
	b.wantHeading("Check your email")

	// The confirmation link arrives by real email; opening it asks for a
	// click, since confirming is a POST (mail scanners follow links).
	msg := waitForMail(t, mail, personEmail, "Confirm your email address")
	link := emailLink(t, b, msg, "/verify-email")
	b.open(link, 200)
	b.wantHeading("Confirm your email address")
	b.click("confirm the email address", inMain("button", "Confirm my email address"), 200)
	b.wantHeading("Your email address is confirmed")

	// Sign in: a new user first accepts the terms of use and the privacy
	// policy (T1), is then offered consent options, none of which is needed
	// (P9), and lands on the account page.
	b.click("follow Sign in after confirming", inMain("a", "Sign in"), 200)
	b.wantPath("/sign-in")
	signIn(b, personEmail, oldPassword, 200)
	b.wantPath("/review-terms?next=%2F")
	b.wantHeading("Accept the terms of use and privacy policy")
	b.click("accept the terms", inMain("button", "Accept and continue"), 200)
	b.wantPath("/consent?next=%2F")
	b.wantHeading("Choose how we may use your information")
	b.click("continue without consent", inMain("button", "Continue without giving consent"), 200)
	b.wantPath("/")
	b.wantHeading("Home")
	b.open("/account", 200)
	b.wantHeading("Your account")
	if got := b.text("main .nhsuk-summary-list"); !strings.Contains(got, personName) || !strings.Contains(got, personEmail) || !strings.Contains(got, "RM1") {
		t.Errorf("the account page shows %q, want the name, email and organisation", got)
	}
	if got := b.text("header"); !strings.Contains(got, personName) {
		t.Errorf("the header shows %q, want who is signed in", got)
	}

	// Sign out with the header's button (a POST form).
	b.click("sign out", inHeader("button", "Sign out"), 200)
	b.wantHeading("You have signed out")
	if b.exists(`header form[action="/sign-out"]`) {
		t.Errorf("the signed-out page still offers to sign out")
	}
	b.open("/account", 200)
	if p := b.path(); !strings.HasPrefix(p, "/sign-in") {
		t.Errorf("after signing out /account shows %s, want the sign-in page", p)
	}

	// Forgotten password: ask for a link, follow it from the email, choose
	// a new password.
	b.open("/sign-in", 200)
	b.click("follow I have forgotten my password", inMain("a", "I have forgotten my password"), 200)
	b.wantPath("/password-reset")
	b.wantHeading("Reset your password")
	b.fill("email", personEmail)
	b.click("ask for a reset link", inMain("button", "Send the link"), 200)
	b.wantPath("/password-reset/sent")
	b.wantHeading("Check your email")

	msg = waitForMail(t, mail, personEmail, "Reset your PSIMS password")
	link = emailLink(t, b, msg, "/password-reset/new")
	b.open(link, 200)
	b.wantHeading("Choose a new password")
	b.fill("password", newPassword)
	b.fill("confirm_password", newPassword)
	b.click("change the password", inMain("button", "Change password"), 200)
	b.wantHeading("Your password has been changed")

	// The old password no longer works...
	b.click("follow Sign in after the reset", inMain("a", "Sign in"), 200)
	signIn(b, personEmail, oldPassword, 401)
	wantErrorPage(t, b, "#email")
	if got := b.value("email"); got != personEmail {
		t.Errorf("after a failed sign-in the email box holds %q, want %q kept", got, personEmail)
	}

	// ...and the new one does.
	signIn(b, personEmail, newPassword, 200)
	b.wantPath("/")
	b.wantHeading("Home")
}

// signIn fills the sign-in form on the page and submits it.
func signIn(b *browser, email, password string, wantStatus int) {
	b.t.Helper()
	b.fill("email", email)
	b.fill("password", password)
	b.click("sign in as "+email, inMain("button", "Sign in"), wantStatus)
}

// wantErrorPage checks the page shows a form with errors as NHS.UK pages do:
// "Error: " before the title, an error summary whose links each point at a
// field of the page, and at least the links in want. It returns the links.
func wantErrorPage(t *testing.T, b *browser, want ...string) []summaryLink {
	t.Helper()
	title := run(b, "title", chromedp.Title())
	if !strings.HasPrefix(title, "Error: ") {
		t.Errorf("page with errors is titled %q, want it to start \"Error: \"", title)
	}
	links := b.errorSummary()
	if len(links) == 0 {
		t.Fatalf("the error summary on %s has no links", b.path())
	}
	for _, l := range links {
		if l.Text == "" || !l.Target {
			t.Errorf("error summary link %q (%s) does not lead to a field of the page", l.Text, l.Href)
		}
		field := strings.TrimPrefix(l.Href, "#")
		if !b.exists("#" + field + "-error") {
			t.Errorf("field %s has a summary link %q but no error message of its own", field, l.Text)
		}
	}
	for _, w := range want {
		if !slices.ContainsFunc(links, func(l summaryLink) bool { return l.Href == w }) {
			t.Errorf("the error summary has %v, want a link to %s", links, w)
		}
	}
	return links
}

// waitForMail returns the first email the SMTP server accepted for the
// address whose subject contains subject, waiting for it to be delivered
// (other mail, such as the notice that the account was approved, may come
// in between).
func waitForMail(t *testing.T, mail *smtptest.Server, to, subject string) smtptest.Message {
	t.Helper()
	for n := 1; ; n++ {
		m := mail.WaitFor(t, to, n)
		if strings.Contains(m.Subject(), subject) {
			return m
		}
	}
}

// emailLink returns the first link in the email, checking that it leads to
// the site's path.
func emailLink(t *testing.T, b *browser, m smtptest.Message, path string) string {
	t.Helper()
	link := m.FirstURL()
	if link == "" {
		t.Fatalf("email %q has no link:\n%s", m.Subject(), m.Text())
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("email link %q: %v", link, err)
	}
	if !strings.HasPrefix(link, b.base+"/") || u.Path != path || u.Query().Get("token") == "" {
		t.Fatalf("email %q links to %s, want %s%s?token=...", m.Subject(), link, b.base, path)
	}
	return link
}
