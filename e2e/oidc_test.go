package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/mail/smtptest"
	"github.com/psims/psims/internal/oidclogin"
	"github.com/psims/psims/internal/oidctest"
)

// The provider of the journeys, as PSIMS is configured with it and as the
// provider knows PSIMS.
const (
	oidcProviderName  = "cis2"
	oidcProviderLabel = "NHS CIS2"
	oidcClientID      = "psims-e2e"
	oidcClientSecret  = "e2e client secret, never a real one"
)

// The pages and buttons of signing in through a provider, by their words.
const (
	signInWithProvider = "Sign in with " + oidcProviderLabel
	unlinkedHeading    = "Your " + oidcProviderLabel + " sign-in is not linked to a PSIMS account"
	linkHeading        = "Link " + oidcProviderLabel + " to your PSIMS account"
	signInsHeading     = "Sign in through another service"
	linkedMailSubject  = "Your PSIMS account can now be signed in to through " + oidcProviderLabel
)

// TestProviderSignInCreatesAnAccountForANewPersonWithoutAPassword walks
// signing in through an external OpenID Connect provider (P11, T3) as a
// person new to PSIMS meets it: on the sign-in page they choose "Sign in
// with NHS CIS2", sign in on the provider's own login page, and come back
// to a page saying their sign-in is not linked to a PSIMS account yet. They
// choose to create one, find their name, email address and organisation
// filled in from what the provider said and no password to choose, give
// their job role, and are signed in: the provider is trusted for
// organisations and named theirs (RM1), so the account is approved at
// once, and after accepting the terms they are home. Signed out, the
// provider alone signs them straight back in.
//
// The provider is a real one (zitadel's example provider, internal/oidctest)
// on another port of 127.0.0.1; its login page is its own, so it is not
// checked with axe-core, but every PSIMS page on the way is, and the
// console. The journey runs in Chromium with JavaScript on, then, for
// another person, with it off.
//
// With PSIMS_SCREENSHOTS set to a directory, the pages are saved there as
// oidc-new-JS-NN-NAME.png.
func TestProviderSignInCreatesAnAccountForANewPersonWithoutAPassword(t *testing.T) { // P11, T3
	chromium(t)
	site, idp, _ := startOIDCSite(t)
	for _, mode := range []struct {
		name string
		js   bool
		who  oidctest.User
		role string
	}{
		{"with JavaScript", true, oidctest.User{Subject: "cis2-555000111", Username: "nia.newcomer", Password: "provider password one",
			Email: "nia.newcomer@nhs.net", EmailVerified: true, GivenName: "Nia", FamilyName: "Newcomer", OrgCodes: []string{"RM1"}}, "Ward sister"},
		{"without JavaScript", false, oidctest.User{Subject: "cis2-555000222", Username: "noor.nojs", Password: "provider password two",
			Email: "noor.nojs@nhs.net", EmailVerified: true, GivenName: "Noor", FamilyName: "Nojs", OrgCodes: []string{"RM1"}}, "Pharmacist"},
	} {
		if !t.Run(mode.name, func(t *testing.T) {
			idp.AddUser(mode.who)
			name := mode.who.GivenName + " " + mode.who.FamilyName
			j := newOIDCJourney(t, site, idp, mode.js, "new")
			b := j.b

			// The sign-in page offers the provider; the provider asks
			// who they are on its own page and sends them back.
			b.open("/sign-in", 200)
			j.shot("sign-in")
			j.toProvider("a", signInWithProvider)
			j.shot("provider-login")
			j.signInAtProvider(mode.who, 200)

			// No account has that sign-in yet: PSIMS says so, and
			// signs nobody in.
			b.wantPath("/sign-in/not-linked")
			b.wantHeading(unlinkedHeading)
			if got := b.text("main"); !strings.Contains(got, mode.who.Email) {
				t.Errorf("the not-linked page does not show the address %s confirmed: %q", oidcProviderLabel, got)
			}
			j.wantSignedOut(name)
			j.shot("unlinked")

			// Creating an account: what the provider said is filled in,
			// and there is no password to choose.
			b.click("follow Create an account", inMain("a", "Create an account"), 200)
			b.wantPath("/register/oidc")
			b.wantHeading("Create an account")
			for id, want := range map[string]string{"name": name, "email": mode.who.Email, "org_query": "RM1", "job_role": ""} {
				if got := b.value(id); got != want {
					t.Errorf("the registration form's #%s holds %q, want %q", id, got, want)
				}
			}
			for _, sel := range []string{"#password", "#confirm_password", `input[type="password"]`} {
				if b.exists(sel) {
					t.Errorf("registering through %s the form has a password field (%s)", oidcProviderLabel, sel)
				}
			}
			if got := b.text("main"); !strings.Contains(got, "do not need a password") {
				t.Errorf("the registration form does not say no password is needed: %q", got)
			}
			j.shot("register")
			b.fill("job_role", mode.role)
			b.click("create the account", inMain("button", "Create account"), 200)

			// Signed in at once: a new person first accepts the terms
			// and is offered the consent options, then is home.
			b.wantPath("/review-terms?next=%2F")
			b.wantHeading("Accept the terms of use and privacy policy")
			j.shot("terms")
			b.click("accept the terms", inMain("button", "Accept and continue"), 200)
			b.wantPath("/consent?next=%2F")
			b.click("continue without consent", inMain("button", "Continue without giving consent"), 200)
			b.wantPath("/")
			b.wantHeading("Home")
			j.wantSignedIn(name)
			j.shot("home")

			// The account is theirs as the provider described them, and
			// the provider is listed as a way to sign in.
			b.open("/account", 200)
			got := b.text("main .nhsuk-summary-list")
			for _, want := range []string{name, mode.role, "(RM1)", mode.who.Email} {
				if !strings.Contains(got, want) {
					t.Errorf("the account page shows %q, want %q in it", got, want)
				}
			}
			// Approved because the provider, trusted for organisations,
			// named RM1, not (as nhs.net would also allow) by the domain.
			wantApprovedBy(t, site, mode.who.Email, "trusted identity provider")
			b.click("follow Sign in through another service", inMain("a", signInsHeading), 200)
			b.wantPath("/account/sign-ins")
			if rows := j.signIns(); len(rows) != 1 || rows[0].Service != oidcProviderLabel {
				t.Errorf("the account's sign-ins page lists %v, want %s", rows, oidcProviderLabel)
			}
			j.shot("sign-ins")

			// Signed out, the provider signs them straight in.
			j.signOut()
			b.open("/sign-in", 200)
			j.toProvider("a", signInWithProvider)
			j.signInAtProvider(mode.who, 200)
			b.wantPath("/")
			b.wantHeading("Home")
			j.wantSignedIn(name)
			t.Logf("pages checked with axe-core and the console: %s", strings.Join(b.checked, "; "))
		}) {
			return
		}
	}
}

// TestProviderSignInLinksAnExistingAccountOnlyAfterItsPassword walks a
// person who already has a PSIMS account with a password meeting sign-in
// through a provider (P11, T3). The provider vouches for the very same
// email address, yet PSIMS does not sign them in to the account: it says
// the sign-in is not linked. They choose "Sign in to link your account",
// sign in with their password, confirm "Link NHS CIS2", and find it listed
// on "Sign in through another service", with an email telling them it was
// linked. Signed out, the provider alone then signs them in to their
// account, and the page shows it used.
//
// The provider is a real one on another port of 127.0.0.1; every PSIMS
// page is checked with axe-core and the console. The journey runs in
// Chromium with JavaScript on, then, for another person, with it off.
//
// With PSIMS_SCREENSHOTS set to a directory, the pages are saved there as
// oidc-link-JS-NN-NAME.png.
func TestProviderSignInLinksAnExistingAccountOnlyAfterItsPassword(t *testing.T) { // P11, T3
	chromium(t)
	site, idp, mail := startOIDCSite(t)
	for _, mode := range []struct {
		name     string
		js       bool
		who      oidctest.User
		password string // of the PSIMS account
	}{
		{"with JavaScript", true, oidctest.User{Subject: "cis2-666000111", Username: "esme.existing", Password: "provider password three",
			Email: "esme.existing@nhs.net", EmailVerified: true, GivenName: "Esme", FamilyName: "Existing", OrgCodes: []string{"RM1"}},
			"juniper compass kettle harbour"},
		{"without JavaScript", false, oidctest.User{Subject: "cis2-666000222", Username: "omar.older", Password: "provider password four",
			Email: "omar.older@nhs.net", EmailVerified: true, GivenName: "Omar", FamilyName: "Older", OrgCodes: []string{"RM1"}},
			"walnut signal ferry lantern"},
	} {
		if !t.Run(mode.name, func(t *testing.T) {
			name := mode.who.GivenName + " " + mode.who.FamilyName
			readyUser(t, site, account.NewUser{Email: mode.who.Email, Name: name, JobRole: "Matron",
				OrgCode: "RM1", Role: account.RoleReporter, Password: mode.password})
			idp.AddUser(mode.who)
			j := newOIDCJourney(t, site, idp, mode.js, "link")
			b := j.b

			// The provider vouches for the account's own address, but
			// that links nothing: they are not signed in.
			b.open("/sign-in", 200)
			j.toProvider("a", signInWithProvider)
			j.signInAtProvider(mode.who, 200)
			b.wantPath("/sign-in/not-linked")
			b.wantHeading(unlinkedHeading)
			j.wantSignedOut(name)
			j.shot("unlinked")

			// Signing in with the password leads to confirming the link.
			b.click("follow Sign in to link your account", inMain("a", "Sign in to link your account"), 200)
			b.wantPath("/sign-in?next=%2Faccount%2Fsign-ins%2Flink")
			b.wantHeading("Sign in")
			j.shot("sign-in-to-link")
			signIn(b, mode.who.Email, mode.password, 200)
			b.wantPath("/account/sign-ins/link")
			b.wantHeading(linkHeading)
			j.wantSignedIn(name)
			j.shot("link")
			b.click("link the provider", inMain("button", "Link "+oidcProviderLabel), 200)
			b.wantPath("/account/sign-ins?done=linked")
			b.wantHeading(signInsHeading)
			j.b.wantNotice("Linked.")
			rows := j.signIns()
			if len(rows) != 1 || rows[0].Service != oidcProviderLabel || rows[0].LastUsed != "Not yet" {
				t.Fatalf("after linking, the sign-ins page lists %v, want %s, not used yet", rows, oidcProviderLabel)
			}
			wantRecent(t, "the provider's Linked date", rows[0].Linked)
			if j.b.shown("button", "Link "+oidcProviderLabel) {
				t.Errorf("after linking %s the sign-ins page still offers to link it", oidcProviderLabel)
			}
			j.shot("linked")
			msg := waitForMail(t, mail, mode.who.Email, linkedMailSubject)
			if text := strings.Join(strings.Fields(msg.Text()), " "); !strings.Contains(text, site.URL+"/account") {
				t.Errorf("the email about the link says %q, want a link to the account page", text)
			}

			// Signed out, the provider signs them in to their account.
			j.signOut()
			b.open("/sign-in", 200)
			j.toProvider("a", signInWithProvider)
			j.signInAtProvider(mode.who, 200)
			b.wantPath("/")
			b.wantHeading("Home")
			j.wantSignedIn(name)
			b.open("/account/sign-ins", 200)
			rows = j.signIns()
			if len(rows) != 1 || rows[0].LastUsed == "Not yet" {
				t.Fatalf("after signing in through %s the sign-ins page lists %v, want it used today", oidcProviderLabel, rows)
			}
			wantRecent(t, "the provider's Last used date", rows[0].LastUsed)
			j.shot("used")

			// They remove the link (they have a password, so they may),
			// then link the provider again with the button on that page:
			// the form's answer sends the browser to the provider, which
			// the page's Content-Security-Policy must let through.
			b.click("remove the link", inMain("button", "Remove "+oidcProviderLabel), 200)
			b.wantPath("/account/sign-ins?done=removed")
			if rows := j.signIns(); len(rows) != 0 {
				t.Fatalf("after removing the link the sign-ins page lists %v", rows)
			}
			j.toProvider("button", "Link "+oidcProviderLabel)
			j.signInAtProvider(mode.who, 200)
			b.wantPath("/account/sign-ins?done=linked")
			if rows := j.signIns(); len(rows) != 1 {
				t.Fatalf("after linking again from the account the sign-ins page lists %v", rows)
			}
			j.shot("relinked")
			t.Logf("pages checked with axe-core and the console: %s", strings.Join(b.checked, "; "))
		}) {
			return
		}
	}
}

// startOIDCSite runs PSIMS on SQLite with its mail going to a real SMTP
// server of the test's own, and a real OpenID Connect provider that PSIMS
// signs in with as "NHS CIS2", trusted for the organisations it names. The
// provider knows PSIMS as a client once the site is up, as the site's
// address (for the redirect URI) is known only then.
func startOIDCSite(t *testing.T) (*apptest.Site, *oidctest.Provider, *smtptest.Server) {
	t.Helper()
	idp := oidctest.Start(t, oidctest.Options{})
	mail := smtptest.Start(t)
	site := apptest.Start(t, dbtest.SQLite(t), func(cfg *config.Config) {
		cfg.SMTP = mail.URL()
		cfg.OIDCProviders = []oidclogin.Config{{Name: oidcProviderName, Label: oidcProviderLabel, Issuer: idp.Issuer(),
			ClientID: oidcClientID, ClientSecret: oidcClientSecret, Scopes: []string{"email", "profile"}, TrustOrgs: true}}
	})
	idp.AddClient(oidctest.Client{ID: oidcClientID, Secret: oidcClientSecret,
		RedirectURIs: []string{site.URL + oidclogin.CallbackPath(oidcProviderName)}})
	return site, idp, mail
}

// wantApprovedBy checks the audit log says how the account with the
// email address was approved.
func wantApprovedBy(t *testing.T, site *apptest.Site, email, how string) {
	t.Helper()
	ctx := context.Background()
	var id int64
	if err := site.App.DB.WritePool().QueryRowContext(ctx, `SELECT id FROM users WHERE email = $1`, email).Scan(&id); err != nil {
		t.Fatalf("find %s: %v", email, err)
	}
	var details string
	err := site.App.DB.WritePool().QueryRowContext(ctx, `SELECT details FROM audit_log WHERE action = 'account.approve' AND subject_type = 'user' AND subject_id = $1`,
		strconv.FormatInt(id, 10)).Scan(&details)
	if err != nil {
		t.Fatalf("the audit log's approval of %s: %v", email, err)
	}
	if !strings.Contains(details, how) {
		t.Errorf("the audit log says %s was approved with %s, want by %q", email, details, how)
	}
}

// oidcJourney is one person in one browser, signing in through the
// provider.
type oidcJourney struct {
	t      *testing.T
	b      *browser
	idp    *oidctest.Provider
	shots  string // directory for screenshots, or "" for none
	prefix string // start of the screenshots' names
	n      int    // screenshots taken
}

func newOIDCJourney(t *testing.T, site *apptest.Site, idp *oidctest.Provider, js bool, prefix string) *oidcJourney {
	t.Helper()
	if js {
		prefix += "-js"
	} else {
		prefix += "-nojs"
	}
	return &oidcJourney{t: t, b: newBrowser(t, site.URL, js), idp: idp, shots: os.Getenv("PSIMS_SCREENSHOTS"), prefix: prefix}
}

// shot saves a screenshot of the page when screenshots were asked for.
func (j *oidcJourney) shot(name string) {
	j.t.Helper()
	if j.shots == "" {
		return
	}
	j.n++
	j.b.screenshot(filepath.Join(j.shots, fmt.Sprintf("oidc-%s-%02d-%s.png", j.prefix, j.n, name)))
}

// toProvider clicks the PSIMS link or button (kind "a" or "button") with
// the text, which must send the
// browser to the provider's login page. That page is the provider's, not
// PSIMS's, so it is not checked with axe-core.
func (j *oidcJourney) toProvider(kind, button string) {
	j.t.Helper()
	b := j.b
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(inMain(kind, button)))
	if err != nil {
		j.t.Fatalf("click %q: %v", button, err)
	}
	if resp == nil || resp.Status != 200 || !strings.HasPrefix(resp.URL, j.idp.URL()+"/") {
		j.t.Fatalf("click %q: want the provider's login page at %s, got %+v", button, j.idp.URL(), resp)
	}
	if !b.exists("#username") || !b.exists("#password") {
		j.t.Fatalf("the provider's page at %s has no username and password boxes", resp.URL)
	}
}

// signInAtProvider fills the provider's login page (the example
// provider's form: username, password and a Login button) as the user,
// which must bring the browser back to PSIMS, to a page served with
// wantStatus, which is checked.
func (j *oidcJourney) signInAtProvider(u oidctest.User, wantStatus int) {
	j.t.Helper()
	b := j.b
	b.fill("username", u.Username)
	b.fill("password", u.Password)
	what := "sign in at " + oidcProviderLabel + " as " + u.Username
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	// The provider's page has no main landmark.
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.Search(`//form//button[normalize-space()="Login"]`)))
	if err != nil {
		j.t.Fatalf("%s: %v", what, err)
	}
	if resp == nil || !strings.HasPrefix(resp.URL, b.base+"/") {
		j.t.Fatalf("%s: want to be back at PSIMS (%s), got %+v", what, b.base, resp)
	}
	if int(resp.Status) != wantStatus {
		j.t.Errorf("%s: %s answered %d, want %d", what, resp.URL, resp.Status, wantStatus)
	}
	j.dropProviderConsole()
	b.check(what, wantStatus)
}

// dropProviderConsole takes the console messages about the provider's
// own page out of those check fails the test for, logging them: the
// provider is not PSIMS (the example provider has no favicon.ico, say).
func (j *oidcJourney) dropProviderConsole() {
	j.t.Helper()
	b := j.b
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := b.console[:0]
	for _, m := range b.console {
		if strings.HasPrefix(m.URL, j.idp.URL()+"/") {
			j.t.Logf("the provider's page (not PSIMS's, so not a failure): %s", m)
			continue
		}
		kept = append(kept, m)
	}
	b.console = kept
}

// wantSignedIn checks the header shows the person signed in.
func (j *oidcJourney) wantSignedIn(name string) {
	j.t.Helper()
	if !j.b.exists(`header form[action="/sign-out"]`) {
		j.t.Errorf("on %s the header offers no Sign out: nobody is signed in, want %s", j.b.path(), name)
	}
	if got := j.b.text("header"); !strings.Contains(got, name) {
		j.t.Errorf("on %s the header shows %q, want %s signed in", j.b.path(), got, name)
	}
}

// wantSignedOut checks nobody is signed in.
func (j *oidcJourney) wantSignedOut(name string) {
	j.t.Helper()
	if j.b.exists(`header form[action="/sign-out"]`) || strings.Contains(j.b.text("header"), name) {
		j.t.Errorf("on %s someone is signed in (the header shows %q), want nobody", j.b.path(), j.b.text("header"))
	}
}

// signOut signs out with the header's button.
func (j *oidcJourney) signOut() {
	j.t.Helper()
	j.b.click("sign out", inHeader("button", "Sign out"), 200)
	j.b.wantHeading("You have signed out")
}

// signInRow is one service as "Sign in through another service" lists it.
type signInRow struct{ Service, Linked, LastUsed string }

// signIns returns the services the sign-ins page lists.
func (j *oidcJourney) signIns() []signInRow {
	j.t.Helper()
	return run(j.b, "the services listed", chromedp.Evaluate[[]signInRow](
		`[...document.querySelectorAll('main table tbody tr')].map(tr => {
			const c = [...tr.querySelectorAll('td')].map(td => td.textContent.trim())
			return {Service: c[0], Linked: c[1], LastUsed: c[2]}
		})`))
}
