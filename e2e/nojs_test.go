package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
)

// TestSignInWithoutJavaScript signs in and out with page scripts turned off,
// declining and then accepting the terms and choosing consents on the way:
// the forms, the error summary and the header's sign-out button must all
// work as plain HTML.
func TestSignInWithoutJavaScript(t *testing.T) {
	chromium(t)
	site, _ := startSite(t, dbtest.SQLite(t))
	const email, password = "sam.patel@nhs.net", "orange glacier pencil harvest"
	if _, err := site.App.Accounts.Create(context.Background(), account.NewUser{
		Email: email, Name: "Sam Patel", JobRole: "Pharmacist", OrgCode: "RM1",
		Role: account.RoleReporter, Password: password,
	}); err != nil {
		t.Fatalf("create account: %v", err)
	}
	b := newBrowser(t, site.URL, false)

	b.open("/sign-in", 200)
	b.wantHeading("Sign in")
	// app.js marks the body when it runs: it must not have.
	if b.exists("body.js-enabled") {
		t.Fatal("page scripts ran although JavaScript is disabled")
	}

	b.click("submit the empty sign-in form", inMain("button", "Sign in"), 422)
	wantErrorPage(t, b, "#email", "#password")

	signIn(b, email, "not the password at all", 401)
	wantErrorPage(t, b, "#email")

	// The terms come first (T1). Declining signs out with an explanation;
	// signing in again asks again; accepting leads to the consent offer
	// (P9), and choosing nothing goes on to the home.
	signIn(b, email, password, 200)
	b.wantPath("/review-terms?next=%2F")
	b.click("decline the terms", inMain("button", "I do not accept: sign me out"), 200)
	b.wantHeading("You have been signed out")
	b.open("/sign-in", 200)
	signIn(b, email, password, 200)
	b.wantPath("/review-terms?next=%2F")
	b.click("accept the terms", inMain("button", "Accept and continue"), 200)
	b.wantPath("/consent?next=%2F")
	b.click("save no choices", inMain("button", "Save my choices"), 200)
	b.wantPath("/")
	b.wantHeading("Home")
	b.open("/account/data-preferences", 200)
	b.step("consent to the newsletter", chromedp.Click(chromedp.ID("consent-newsletter")))
	b.click("save the preferences", inMain("button", "Save my choices"), 200)
	if got := b.text("main .nhsuk-notification-banner"); !strings.Contains(got, "Your data preferences were saved") {
		t.Errorf("after saving, the banner says %q", got)
	}

	b.click("sign out", inHeader("button", "Sign out"), 200)
	b.wantHeading("You have signed out")
	t.Logf("pages checked with axe-core and the console: %s", strings.Join(b.checked, "; "))
}

// TestChecksCatchProblems proves the per-page checks can fail: on a page
// that breaks its own Content-Security-Policy with an inline script and has
// an image with no text alternative, the browser must record a CSP
// violation and axe-core must report the image.
func TestChecksCatchProblems(t *testing.T) {
	chromium(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!DOCTYPE html><html lang="en"><head><title>Broken</title>` +
			`<script>document.title = 'inline ran'</script></head>` +
			`<body><main><h1>Broken</h1><img src="/nothing.png"></main></body></html>`))
	}))
	defer srv.Close()
	b := newBrowser(t, srv.URL, true)
	b.step("open the page", chromedp.Navigate(srv.URL))
	if title := run(b, "title", chromedp.Title()); title == "inline ran" {
		t.Fatal("the inline script ran despite the CSP")
	}

	res := b.runAxe("broken page")
	if !slices.ContainsFunc(res.Violations, func(r axeRule) bool { return r.ID == "image-alt" }) {
		t.Errorf("axe-core did not report image-alt; violations: %+v", res.Violations)
	}

	// Every console event before the reply to the last command has been
	// recorded by now.
	b.mu.Lock()
	msgs := b.console
	b.console = nil // the image's 404 is expected here
	b.mu.Unlock()
	if !slices.ContainsFunc(msgs, consoleEntry.isCSP) {
		t.Errorf("no CSP violation among the console messages %v", msgs)
	}
}
