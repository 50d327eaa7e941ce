package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/mail/smtptest"
)

// The reporter and the org admin of the passkey journeys, and the names
// they give their passkeys.
const (
	passkeyReporterEmail    = "rhian.passkey@nhs.net"
	passkeyReporterName     = "Rhian Passkey"
	passkeyReporterPassword = "tangerine orbit ladder meadow"
	passkeyAdminEmail       = "odile.passkey@nhs.net"
	passkeyAdminName        = "Odile Passkey"
	passkeyAdminPassword    = "granite puffin saucer violin"
	laptopPasskey           = "Test laptop"
	phonePasskey            = "Work phone"
)

// The pages and buttons of passkeys, by their words.
const (
	passkeysHeading    = "Passkeys"
	addPasskeyButton   = "Add a passkey"
	signInPasskey      = "Sign in with a passkey"
	passkeyInstead     = "Use a passkey instead"
	needsJavaScript    = "Adding a passkey needs JavaScript"
	passkeyAddedMail   = "A passkey was added"
	passkeyRefusedText = "That passkey did not work"
)

// TestPasskeyAddedByAReporterSignsThemInUntilItIsRemoved walks passkeys
// (issue 17, T3) as a reporter meets them: signed in with a password,
// they name and add a passkey on the passkeys page (the browser's
// authenticator first failing to verify them, which the ceremony page
// says, and offers to try again), are emailed about it, and later sign in
// with the passkey alone, which the page then shows as last used. Without
// JavaScript the page lists the passkey but says adding one needs
// JavaScript, and the sign-in page offers no passkey. Once they remove
// it, the passkey their device still holds no longer signs them in.
//
// The browser is Chromium with a virtual authenticator of its DevTools
// protocol (a platform authenticator that keeps passkeys and verifies its
// user), so the WebAuthn ceremonies are the browser's own, not imitated.
// WebAuthn refuses an IP address as the relying party, so the site is
// reached as localhost. Every page is checked with axe-core and the
// console. It runs on SQLite, and on PostgreSQL too when
// PSIMS_TEST_POSTGRES_URL is set.
//
// With PSIMS_SCREENSHOTS set to a directory, the pages of the SQLite run
// are saved there as passkey-reporter-NN-NAME.png.
func TestPasskeyAddedByAReporterSignsThemInUntilItIsRemoved(t *testing.T) { // T3
	chromium(t)
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			site, mail := startPasskeySite(t, e)
			readyUser(t, site, account.NewUser{Email: passkeyReporterEmail, Name: passkeyReporterName, JobRole: "Midwife",
				OrgCode: "RM1", Role: account.RoleReporter, Password: passkeyReporterPassword})
			shots := ""
			if e.Name == "sqlite" {
				shots = os.Getenv("PSIMS_SCREENSHOTS")
			}
			j := newPasskeyJourney(t, site, true, shots, "reporter")
			b := j.b

			// Signed in with the password, the account page leads to the
			// passkeys page, which has none yet and, with JavaScript,
			// offers to add one.
			b.open("/sign-in", 200)
			signIn(b, passkeyReporterEmail, passkeyReporterPassword, 200)
			b.wantPath("/")
			b.open("/account", 200)
			b.click("follow Passkeys", inMain("a", "Passkeys"), 200)
			b.wantPath("/account/passkeys")
			b.wantHeading(passkeysHeading)
			if got := j.rows(); len(got) != 0 {
				t.Errorf("a new account's passkeys page lists %v, want none", got)
			}
			if !strings.Contains(b.text("main"), "You have no passkeys") {
				t.Errorf("a new account's passkeys page does not say there are none: %q", b.text("main"))
			}
			if !j.b.shown("button", addPasskeyButton) || j.b.shown("p", needsJavaScript) {
				t.Errorf("with JavaScript the passkeys page shows the %q button: %v, the sentence that it needs JavaScript: %v; want the button only",
					addPasskeyButton, j.b.shown("button", addPasskeyButton), j.b.shown("p", needsJavaScript))
			}
			j.shot("none")

			// A passkey needs a name, which is asked for before the browser
			// is: a passkey the browser made for a form then refused would
			// stay on the device, unknown to PSIMS, and fail to sign in.
			b.click("add a passkey with no name", inMain("button", addPasskeyButton), 422)
			b.wantPath("/account/passkeys/new")
			wantErrorPage(t, b, "#name")
			if got := b.text("#name-error"); !strings.Contains(got, "Enter a name for the passkey") {
				t.Errorf("a passkey with no name says %q, want \"Enter a name for the passkey...\"", got)
			}
			if n := len(j.credentials()); n != 0 {
				t.Errorf("after a passkey with no name was refused the authenticator holds %d passkeys, want none", n)
			}
			j.shot("no-name")

			// The authenticator fails to verify them the first time: the
			// ceremony page says so, with the focus on what it says, and
			// offers to try again, which then adds the passkey.
			b.fill("name", laptopPasskey)
			j.verifies(false)
			b.click("add a passkey, not verified", inMain("button", addPasskeyButton), 200)
			b.wantPath("/account/passkeys/new")
			b.wantHeading("Add a passkey")
			b.step("the ceremony's problem", chromedp.WaitVisible(chromedp.ID("passkey-problem")))
			b.check("the ceremony page after the authenticator failed", 200)
			if got := b.text("#passkey-problem"); !strings.Contains(got, "That did not work") {
				t.Errorf("the ceremony page's problem says %q, want \"That did not work\"", got)
			}
			focus := run(b, "focus", chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ''`))
			if focus != "passkey-problem" {
				t.Errorf("after the authenticator failed the focus is on %q, want the problem (#passkey-problem)", focus)
			}
			if creds := j.credentials(); len(creds) != 0 {
				t.Errorf("the authenticator holds %d passkeys after failing to verify its user, want none", len(creds))
			}
			j.shot("ceremony-problem")
			j.verifies(true)
			b.step("try again", chromedp.Click(inMain("button", "Try again")))
			j.arrive("the passkey added", "/account/passkeys?done=added", 200)
			b.wantHeading(passkeysHeading)
			j.b.wantNotice("Passkey added")
			rows := j.rows()
			if len(rows) != 1 || rows[0].Name != laptopPasskey || rows[0].LastUsed != "Not yet" {
				t.Fatalf("after adding a passkey the page lists %v, want %q, not used yet", rows, laptopPasskey)
			}
			wantRecent(t, "the passkey's Added date", rows[0].Added)
			j.shot("added")

			// The browser's authenticator keeps it, for PSIMS at localhost,
			// under the account's email address.
			creds := j.credentials()
			if len(creds) != 1 {
				t.Fatalf("the authenticator holds %d passkeys, want 1", len(creds))
			}
			if c := creds[0]; !c.IsResidentCredential || c.RpID != "localhost" || c.UserName != passkeyReporterEmail {
				t.Errorf("the authenticator's passkey is resident %v, for %q, named %q; want a resident passkey for localhost named %s",
					c.IsResidentCredential, c.RpID, c.UserName, passkeyReporterEmail)
			}
			msg := waitForMail(t, mail, passkeyReporterEmail, passkeyAddedMail)
			if text := strings.Join(strings.Fields(msg.Text()), " "); !strings.Contains(text, `"`+laptopPasskey+`"`) ||
				!strings.Contains(text, site.URL+"/account/passkeys") {
				t.Errorf("the email about the new passkey says %q, want its name and a link to the passkeys page", text)
			}

			// Signed out, the passkey alone signs them in.
			b.click("sign out after adding", inHeader("button", "Sign out"), 200)
			b.wantHeading("You have signed out")
			b.open("/sign-in", 200)
			if !j.b.shown("button", signInPasskey) {
				t.Errorf("with JavaScript the sign-in page does not show %q", signInPasskey)
			}
			j.shot("sign-in")
			b.step("sign in with a passkey", chromedp.Click(inMain("button", signInPasskey)))
			j.arrive("signed in with the passkey", "/", 200)
			b.wantHeading("Home")
			if got := b.text("header"); !strings.Contains(got, passkeyReporterName) {
				t.Errorf("after signing in with a passkey the header shows %q, want who is signed in", got)
			}
			b.open("/account/passkeys", 200)
			rows = j.rows()
			if len(rows) != 1 || rows[0].LastUsed == "Not yet" {
				t.Fatalf("after signing in with the passkey the page lists %v, want it last used today", rows)
			}
			wantRecent(t, "the passkey's Last used date", rows[0].LastUsed)
			j.shot("used")

			// Without JavaScript: the passkey is listed, but adding one
			// says it needs JavaScript and the sign-in page offers none.
			t.Run("without JavaScript", func(t *testing.T) {
				n := newPasskeyJourney(t, site, false, shots, "reporter-nojs")
				n.b.open("/sign-in", 200)
				if n.b.shown("button", signInPasskey) {
					t.Errorf("without JavaScript the sign-in page shows %q", signInPasskey)
				}
				n.shot("sign-in")
				signIn(n.b, passkeyReporterEmail, passkeyReporterPassword, 200)
				n.b.wantPath("/")
				n.b.open("/account/passkeys", 200)
				n.b.wantHeading(passkeysHeading)
				if got := n.rows(); len(got) != 1 || got[0].Name != laptopPasskey {
					t.Errorf("without JavaScript the passkeys page lists %v, want %q", got, laptopPasskey)
				}
				if !n.b.shown("p", needsJavaScript) {
					t.Errorf("without JavaScript the passkeys page does not say %q: %q", needsJavaScript, n.b.text("main"))
				}
				if n.b.shown("button", addPasskeyButton) || n.b.shown("label", "Name of the passkey") {
					t.Errorf("without JavaScript the passkeys page shows the form to add a passkey, which cannot work")
				}
				n.shot("passkeys")
				n.b.click("sign out without JavaScript", inHeader("button", "Sign out"), 200)
				n.b.wantHeading("You have signed out")
				t.Logf("pages checked with axe-core and the console: %s", strings.Join(n.b.checked, "; "))
			})

			// Removed, the passkey goes from the page; the device still
			// holds it, but it no longer signs in.
			b.click("remove the passkey", inMain("button", "Remove "+laptopPasskey), 200)
			b.wantPath("/account/passkeys?done=removed")
			b.wantHeading(passkeysHeading)
			j.b.wantNotice("Passkey removed")
			if got := j.rows(); len(got) != 0 {
				t.Errorf("after removing the passkey the page lists %v, want none", got)
			}
			if !strings.Contains(b.text("main"), "You have no passkeys") {
				t.Errorf("after removing the passkey the page does not say there are none: %q", b.text("main"))
			}
			j.shot("removed")
			b.click("sign out after removing", inHeader("button", "Sign out"), 200)
			b.open("/sign-in", 200)
			b.step("sign in with the removed passkey", chromedp.Click(inMain("button", signInPasskey)))
			j.arrive("refused the removed passkey", "/sign-in/passkey/finish", 401)
			b.wantHeading("Sign in")
			wantErrorPage(t, b, "#email")
			if got := b.text("#email-error"); !strings.Contains(got, passkeyRefusedText) {
				t.Errorf("a removed passkey's sign-in says %q, want %q", got, passkeyRefusedText)
			}
			if n := len(j.credentials()); n != 1 {
				t.Errorf("the authenticator holds %d passkeys, want the removed one still", n)
			}
			j.shot("refused")
			b.open("/account", 200)
			if p := b.path(); !strings.HasPrefix(p, "/sign-in?") {
				t.Errorf("after the removed passkey was refused /account shows %s, want the sign-in page", p)
			}
			t.Logf("pages checked with axe-core and the console: %s", strings.Join(b.checked, "; "))
		})
	}
}

// TestPasskeyTakesTheCodesPlaceAtAnOrgAdminsSecondStep walks passkeys as
// an org admin, whose role needs two-step verification, meets them: with
// an authenticator app set up, they add a passkey; after their password
// the code page then offers "Use a passkey instead", which signs them in
// and on to where they were going without a code; and the passkey alone,
// from the sign-in page, signs them in with no code asked, as it is both
// factors. Without JavaScript the code page does not offer it.
//
// As TestPasskeyAddedByAReporterSignsThemInUntilItIsRemoved, in Chromium
// with a virtual authenticator, at localhost, every page checked with
// axe-core and the console, on SQLite and on PostgreSQL when asked. The
// codes of the app are worked out here (see totpCode).
//
// With PSIMS_SCREENSHOTS set to a directory, the pages of the SQLite run
// are saved there as passkey-admin-NN-NAME.png.
func TestPasskeyTakesTheCodesPlaceAtAnOrgAdminsSecondStep(t *testing.T) { // T3
	chromium(t)
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			site, mail := startPasskeySite(t, e)
			readyUser(t, site, account.NewUser{Email: passkeyAdminEmail, Name: passkeyAdminName, JobRole: "Patient safety lead",
				OrgCode: "RM1", Role: account.RoleOrgAdmin, Password: passkeyAdminPassword})
			shots := ""
			if e.Name == "sqlite" {
				shots = os.Getenv("PSIMS_SCREENSHOTS")
			}
			j := newPasskeyJourney(t, site, true, shots, "admin")
			b := j.b

			// The first sign-in sets up the authenticator app the role
			// needs.
			b.open("/sign-in", 200)
			signIn(b, passkeyAdminEmail, passkeyAdminPassword, 200)
			b.wantPath("/account/two-step/set-up?next=%2F")
			b.click("continue to set up the app", inMain("button", "Continue"), 200)
			shown := b.text("#totp-secret")
			if !secretPattern.MatchString(shown) {
				t.Fatalf("the key on the set-up page is %q, want base32 in groups of four", shown)
			}
			app := &authenticator{key: decodeSecret(t, shown)}
			b.fill("code", app.codeNow())
			b.click("turn on two-step verification", inMain("button", "Turn on two-step verification"), 200)
			b.wantHeading(codesHeading)
			b.click("say the codes are saved", inMain("a", "I have saved my codes"), 200)
			b.wantPath("/")

			// They add a passkey.
			b.open("/account/passkeys", 200)
			b.fill("name", phonePasskey)
			b.step("add a passkey", chromedp.Click(inMain("button", addPasskeyButton)))
			j.arrive("the passkey added", "/account/passkeys?done=added", 200)
			j.b.wantNotice("Passkey added")
			if rows := j.rows(); len(rows) != 1 || rows[0].Name != phonePasskey {
				t.Fatalf("after adding a passkey the page lists %v, want %q", rows, phonePasskey)
			}
			waitForMail(t, mail, passkeyAdminEmail, passkeyAddedMail)
			b.click("sign out after adding", inHeader("button", "Sign out"), 200)
			b.wantHeading("You have signed out")

			// After the password, the code page (reached on the way to the
			// security settings) offers the passkey instead, which goes on
			// to the settings without a code.
			b.open("/sign-in", 200)
			signIn(b, passkeyAdminEmail, passkeyAdminPassword, 200)
			b.wantHeading(codePageHeading)
			b.open("/account/two-step", 200)
			b.wantPath("/sign-in/two-step?next=%2Faccount%2Ftwo-step")
			b.wantHeading(codePageHeading)
			if !j.b.shown("button", passkeyInstead) {
				t.Fatalf("the code page of an admin with a passkey does not show %q", passkeyInstead)
			}
			j.shot("code-page")

			// When the passkey does not work, "Use another way" goes back
			// to the code page, still on the way to the settings.
			j.verifies(false)
			b.click("use a passkey, not verified", inMain("button", passkeyInstead), 200)
			b.wantPath("/sign-in/two-step/passkey")
			b.wantHeading("Use your passkey")
			b.step("the ceremony's problem", chromedp.WaitVisible(chromedp.ID("passkey-problem")))
			b.check("the second step's ceremony page after the authenticator failed", 200)
			j.shot("second-step-problem")
			b.click("use another way", inMain("a", "Use another way"), 200)
			b.wantPath("/sign-in/two-step?next=%2Faccount%2Ftwo-step")
			b.wantHeading(codePageHeading)
			j.verifies(true)
			b.step("use a passkey instead of a code", chromedp.Click(inMain("button", passkeyInstead)))
			j.arrive("the second step passed with the passkey", "/account/two-step", 200)
			b.wantHeading("Two-step verification")
			if rows := j.listedAt("/account/passkeys"); len(rows) != 1 || rows[0].LastUsed == "Not yet" {
				t.Errorf("after the second step with the passkey the page lists %v, want it used", rows)
			} else {
				wantRecent(t, "the passkey's Last used date", rows[0].LastUsed)
			}
			j.shot("passkeys")
			b.click("sign out after the second step", inHeader("button", "Sign out"), 200)

			// The passkey alone is both steps: no code is asked.
			b.open("/sign-in", 200)
			b.step("sign in with a passkey", chromedp.Click(inMain("button", signInPasskey)))
			j.arrive("signed in with the passkey", "/", 200)
			b.wantHeading("Home")
			b.open("/account/two-step", 200)
			b.wantPath("/account/two-step")
			b.wantHeading("Two-step verification")
			b.click("sign out after the passkey", inHeader("button", "Sign out"), 200)
			t.Logf("pages checked with axe-core and the console: %s", strings.Join(b.checked, "; "))

			t.Run("without JavaScript", func(t *testing.T) {
				n := newPasskeyJourney(t, site, false, shots, "admin-nojs")
				n.b.open("/sign-in", 200)
				signIn(n.b, passkeyAdminEmail, passkeyAdminPassword, 200)
				n.b.wantHeading(codePageHeading)
				if n.b.shown("button", passkeyInstead) {
					t.Errorf("without JavaScript the code page shows %q", passkeyInstead)
				}
				n.shot("code-page")
				n.b.click("sign out at the code page", pageSignOut, 200)
				n.b.wantHeading("You have signed out")
				t.Logf("pages checked with axe-core and the console: %s", strings.Join(n.b.checked, "; "))
			})
		})
	}
}

// startPasskeySite runs PSIMS on the engine as startTwoStepSite does, but
// at http://localhost:PORT rather than 127.0.0.1: the relying party of
// WebAuthn is the base URL's host, which browsers refuse to be an IP
// address.
func startPasskeySite(t *testing.T, e dbtest.Engine) (*apptest.Site, *smtptest.Server) {
	t.Helper()
	mail := smtptest.Start(t)
	site := apptest.Start(t, e, func(cfg *config.Config) {
		cfg.SMTP = mail.URL()
		cfg.TwoStepRoles = []account.Role{account.RoleOrgAdmin, account.RoleReadOnly, account.RoleNationalAdmin}
		cfg.BaseURL = strings.Replace(cfg.BaseURL, "127.0.0.1", "localhost", 1)
	})
	if !strings.HasPrefix(site.URL, "http://localhost:") {
		t.Fatalf("the site is at %s, want http://localhost:PORT", site.URL)
	}
	return site, mail
}

// passkeyJourney is one person in one browser, which with JavaScript has a
// virtual authenticator.
type passkeyJourney struct {
	t      *testing.T
	b      *browser
	auth   webauthn.AuthenticatorID // "" without JavaScript
	shots  string                   // directory for screenshots, or "" for none
	prefix string                   // start of the screenshots' names
	n      int                      // screenshots taken
}

// newPasskeyJourney opens a browser on the site; with JavaScript, it
// gives it a virtual authenticator as a phone or laptop has: it keeps
// passkeys (resident keys), verifies its user (as by a fingerprint), and
// needs no touch.
func newPasskeyJourney(t *testing.T, site *apptest.Site, js bool, shots, prefix string) *passkeyJourney {
	t.Helper()
	j := &passkeyJourney{t: t, b: newBrowser(t, site.URL, js), shots: shots, prefix: prefix}
	if !js {
		return j
	}
	ctx, cancel := context.WithTimeout(j.b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("enable WebAuthn's virtual authenticators: %v", err)
	}
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		t.Fatalf("add a virtual authenticator: %v", err)
	}
	j.auth = res.AuthenticatorID
	return j
}

// shot saves a screenshot of the page when screenshots were asked for.
func (j *passkeyJourney) shot(name string) {
	j.t.Helper()
	if j.shots == "" {
		return
	}
	j.n++
	j.b.screenshot(filepath.Join(j.shots, fmt.Sprintf("passkey-%s-%02d-%s.png", j.prefix, j.n, name)))
}

// verifies makes the authenticator's check of its user succeed or fail.
func (j *passkeyJourney) verifies(ok bool) {
	j.t.Helper()
	ctx, cancel := context.WithTimeout(j.b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: j.auth, IsUserVerified: ok}); err != nil {
		j.t.Fatalf("make the authenticator's user verification succeed=%v: %v", ok, err)
	}
}

// credentials returns the passkeys the authenticator holds.
func (j *passkeyJourney) credentials() []*webauthn.Credential {
	j.t.Helper()
	ctx, cancel := context.WithTimeout(j.b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: j.auth})
	if err != nil {
		j.t.Fatalf("the authenticator's passkeys: %v", err)
	}
	return res.Credentials
}

// pageState is where the tab is and how far its page has loaded.
type pageState struct {
	URL, Ready string
	Status     int // of the document's response, after any redirects
}

// arrive waits for the tab to load the page at path, to which a ceremony
// page's script goes on by itself once the browser has answered, then
// checks it was served with wantStatus and checks the page. (The ceremony
// page cannot be waited for as a click's page, as it leaves at once.)
func (j *passkeyJourney) arrive(what, path string, wantStatus int) {
	j.t.Helper()
	b := j.b
	want := b.base + path
	deadline := time.Now().Add(stepTimeout)
	var st pageState
	for {
		// The tab may be between pages, when nothing can be asked of it.
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](`({URL: location.href, Ready: document.readyState,
			Status: (performance.getEntriesByType('navigation')[0] || {}).responseStatus || 0})`))
		cancel()
		if err == nil {
			st = got
			if st.URL == want && st.Ready == "complete" {
				break
			}
		}
		if time.Now().After(deadline) {
			j.t.Fatalf("%s: the tab is at %s (%s), want %s", what, st.URL, st.Ready, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st.Status != wantStatus {
		j.t.Errorf("%s: %s answered %d, want %d", what, st.URL, st.Status, wantStatus)
	}
	b.check(what, wantStatus)
}

// passkeyRow is one passkey as the passkeys page lists it.
type passkeyRow struct{ Name, Added, LastUsed string }

// rows returns the passkeys the page lists.
func (j *passkeyJourney) rows() []passkeyRow {
	j.t.Helper()
	return run(j.b, "the passkeys listed", chromedp.Evaluate[[]passkeyRow](
		`[...document.querySelectorAll('main table tbody tr')].map(tr => {
			const c = [...tr.querySelectorAll('td')].map(td => td.textContent.trim())
			return {Name: c[0], Added: c[1], LastUsed: c[2]}
		})`))
}

// listedAt opens the page at path and returns the passkeys it lists.
func (j *passkeyJourney) listedAt(path string) []passkeyRow {
	j.t.Helper()
	j.b.open(path, 200)
	j.b.wantHeading(passkeysHeading)
	return j.rows()
}

// wantRecent checks a date the passkeys page shows ("2 Jan 2006") is
// today's, allowing a day either way for time zones and midnight.
func wantRecent(t *testing.T, what, shown string) {
	t.Helper()
	d, err := time.Parse("2 Jan 2006", shown)
	if err != nil {
		t.Errorf("%s is %q, want a date such as 2 Jan 2006", what, shown)
		return
	}
	if diff := time.Since(d); diff < -24*time.Hour || diff > 48*time.Hour {
		t.Errorf("%s is %s, want today", what, shown)
	}
}
