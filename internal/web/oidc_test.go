package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/oidclogin"
	"github.com/psims/psims/internal/oidctest"
)

// A PSIMS site that signs people in through a real OpenID Connect provider
// on loopback (zitadel's example provider, internal/oidctest), configured
// as NHS CIS2 would be: trusted for organisations, and with AAL3_ANY as
// the acr that shows a second factor.

const cis2ClientSecret = "psims-test-client-secret"

type providerSite struct {
	site *apptest.Site
	idp  *oidctest.Provider
}

func newProviderSite(t *testing.T, e dbtest.Engine, edit func(*config.Config)) *providerSite {
	t.Helper()
	idp := oidctest.Start(t, oidctest.Options{})
	site := apptest.Start(t, e, func(c *config.Config) {
		c.OIDCProviders = []oidclogin.Config{{Name: "cis2", Label: "NHS CIS2", Issuer: idp.Issuer(), ClientID: "psims",
			ClientSecret: cis2ClientSecret, Scopes: []string{"email", "profile"}, ACR: []string{"AAL3_ANY"}, AMR: []string{"hwk"}, TrustOrgs: true}}
		if edit != nil {
			edit(c)
		}
	})
	idp.AddClient(oidctest.Client{ID: "psims", Secret: cis2ClientSecret, RedirectURIs: []string{site.URL + oidclogin.CallbackPath("cis2")}})
	return &providerSite{site: site, idp: idp}
}

// start follows a provider's "Sign in with" link (a path), or presses its
// "Link" button on page (a form posting to action), and returns where
// PSIMS sends the browser.
func (p *providerSite) start(t *testing.T, b *browser, page, action string) *url.URL {
	t.Helper()
	var r response
	if page == "" {
		r = b.get(action)
	} else {
		r = b.submit(page, action, url.Values{})
	}
	if r.status != http.StatusSeeOther {
		t.Fatalf("%s: status %d, want a redirect to the provider:\n%s", action, r.status, r.body)
	}
	u, err := url.Parse(r.location)
	if err != nil || !strings.HasPrefix(r.location, p.idp.URL()) {
		t.Fatalf("%s: sent to %q, not the provider", action, r.location)
	}
	return u
}

// signInThrough signs in at the provider as u, starting from the sign-in
// page, and returns PSIMS's answer to the provider's callback.
func (p *providerSite) signInThrough(t *testing.T, b *browser, u oidctest.User) response {
	t.Helper()
	authURL := p.start(t, b, "", "/sign-in/oidc/cis2?next=%2Faccount")
	cb := p.idp.SignIn(t, b.c, authURL.String(), u.Username, u.Password)
	return b.get(cb.RequestURI())
}

func auditActions(t *testing.T, site *apptest.Site, userID int64) map[string]audit.Row {
	t.Helper()
	rows, err := audit.List(context.Background(), site.App.DB, "user", fmt.Sprint(userID), 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]audit.Row{}
	for _, r := range rows {
		if _, seen := out[r.Action]; !seen {
			out[r.Action] = r // the newest of each
		}
	}
	return out
}

// TestSomeoneNewSignsInThroughTheirProviderAndRegistersFromWhatItSaid: the
// first sign-in of an identity no account has signs nobody in; the
// registration form is filled in from the provider's verified claims and
// asks for no password; the provider's trusted organisation claim approves
// the account at once; after that the provider signs straight in, no
// password works, the linked sign-in is in "download my data", the only
// sign-in cannot be removed, and the provider's back-channel logout ends
// the session. // P11, T3, P1
func TestSomeoneNewSignsInThroughTheirProviderAndRegistersFromWhatItSaid(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			p := newProviderSite(t, e, nil)
			ctx := context.Background()
			alice := oidctest.User{Subject: "cis2-alice-0001", Username: "alice", Password: "provider password 1",
				Email: "alice.example@nhs.net", EmailVerified: true, GivenName: "Alice", FamilyName: "Example", OrgCodes: []string{"RM1"}}
			p.idp.AddUser(alice)
			b := newBrowser(t, p.site)
			rec := recordCookies(b)
			rec.host = mustURL(t, p.site.URL).Host
			defer func() {
				listed := cookieCategories(t, p.site)
				seen := map[string]bool{}
				for _, c := range rec.set {
					seen[c.Name] = true
					if listed[c.Name] != "Strictly necessary cookies" {
						t.Errorf("signing in through a provider set cookie %s, which the cookies page lists as %q", c.Name, listed[c.Name])
					}
				}
				if !seen["psims_oidc_state"] || !seen["psims_oidc_held"] {
					t.Errorf("the provider's cookies were not seen: %v", seen)
				}
			}()

			if r := b.get("/sign-in"); !strings.Contains(r.body, "Sign in with NHS CIS2") {
				t.Fatal("the sign-in page offers no provider")
			}
			authURL := p.start(t, b, "", "/sign-in/oidc/cis2?next=%2Faccount")
			q := authURL.Query()
			if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || len(q.Get("state")) < 40 ||
				q.Get("acr_values") != "AAL3_ANY" || q.Get("redirect_uri") != p.site.URL+"/sign-in/oidc/cis2/callback" {
				t.Fatalf("the request to the provider lacks PKCE, nonce, state or acr_values: %s", authURL)
			}
			cb := p.idp.SignIn(t, b.c, authURL.String(), alice.Username, alice.Password)
			r := b.get(cb.RequestURI())
			if r.status != http.StatusSeeOther || r.location != "/sign-in/not-linked" {
				t.Fatalf("first sign-in: %d %q, want the not-linked page", r.status, r.location)
			}
			r = b.get(r.location)
			if !strings.Contains(r.body, "Your NHS CIS2 sign-in is not linked to a PSIMS account") || !strings.Contains(r.body, `href="/register/oidc"`) {
				t.Fatalf("the not-linked page:\n%s", r.body)
			}
			if r := b.get("/account"); r.status != http.StatusSeeOther {
				t.Fatalf("an unlinked sign-in signed someone in: /account %d", r.status)
			}

			form := b.get("/register/oidc")
			for _, want := range []string{`value="Alice Example"`, `value="alice.example@nhs.net"`, `value="RM1" checked`, "NORFOLK AND NORWICH", "NHS CIS2 confirmed this address"} {
				if !strings.Contains(form.body, want) {
					t.Errorf("the registration form lacks %s", want)
				}
			}
			if strings.Contains(form.body, `name="password"`) {
				t.Error("the registration form asks for a password")
			}
			sent := url.Values{"name": {"Alice Example"}, "job_role": {""}, "org_query": {"RM1"}, "email": {"alice.example@nhs.net"}, "action": {"register"}}
			r = b.submit("/register/oidc", "/register/oidc", sent)
			wantStatus(t, "no job role", r, http.StatusUnprocessableEntity)
			if !strings.Contains(r.body, `href="#job_role"`) || !strings.Contains(r.body, `value="Alice Example"`) {
				t.Fatalf("no job role: the error or what was typed is missing:\n%s", r.body)
			}
			sent.Set("job_role", "Staff nurse")
			r = b.submit("/register/oidc", "/register/oidc", sent)
			if r.status != http.StatusSeeOther || r.location != "/" {
				t.Fatalf("registering: %d %q, want signed in", r.status, r.location)
			}
			u, err := p.site.App.Accounts.UserByEmail(ctx, "alice.example@nhs.net")
			if err != nil {
				t.Fatal(err)
			}
			if u.Status != account.StatusActive || u.EmailVerifiedAt == nil || u.OrgCode != "RM1" {
				t.Fatalf("the new account: status %s, verified %v, org %s", u.Status, u.EmailVerifiedAt, u.OrgCode)
			}
			acts := auditActions(t, p.site, u.ID)
			if acts["account.register"].Details["provider"] != "cis2" || acts["account.approve"].Details["how"] != "trusted identity provider" ||
				acts["account.sign_in"].Details["provider"] != "cis2" {
				t.Errorf("audit: register %v, approve %v, sign in %v", acts["account.register"].Details, acts["account.approve"].Details, acts["account.sign_in"].Details)
			}
			p.site.AcceptTerms(t, u.Email)
			if r := b.get("/account"); r.status != http.StatusOK || !strings.Contains(r.body, "Alice Example") {
				t.Fatalf("signed in after registering: /account %d", r.status)
			}

			// No password signs in to it.
			for _, pw := range []string{"", alice.Password, "correct horse battery staple"} {
				if res, err := p.site.App.Accounts.SignIn(ctx, u.Email, pw, account.Client{}); err == nil || res.Outcome != account.OutcomeFailed {
					t.Errorf("password %q signed in to an account that has none: %v", pw, res.Outcome)
				}
			}

			// Its only way in cannot be removed: the page offers no
			// button, and the server refuses a post.
			page := b.get("/account/sign-ins")
			if !strings.Contains(page.body, "Your only way to sign in") || strings.Contains(page.body, "/remove") {
				t.Fatalf("the only sign-in is offered for removal:\n%s", page.body)
			}
			ids, err := p.site.App.Accounts.Identities(ctx, u.ID)
			if err != nil || len(ids) != 1 {
				t.Fatalf("linked sign-ins: %+v %v", ids, err)
			}
			r = b.submit("/account/sign-ins", fmt.Sprintf("/account/sign-ins/%d/remove", ids[0].ID), url.Values{})
			wantStatus(t, "removing the only sign-in", r, http.StatusConflict)
			if !strings.Contains(r.body, "This is the only way you have to sign in") {
				t.Fatalf("removing the only sign-in:\n%s", r.body)
			}

			pd, err := p.site.App.Accounts.PersonalData(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if raw, _ := json.Marshal(pd); len(pd.Identities) != 1 || pd.Identities[0].Provider != "cis2" || strings.Contains(string(raw), alice.Subject) {
				t.Errorf("download my data: linked sign-ins %+v (the subject is the provider's, not shown)", pd.Identities)
			}

			// Signing in again goes straight in; the provider's logout
			// ends that session, and only that one.
			b.submit("/account", "/sign-out", url.Values{})
			r = p.signInThrough(t, b, alice)
			if r.status != http.StatusSeeOther || r.location != "/account" {
				t.Fatalf("second sign-in: %d %q, want straight in", r.status, r.location)
			}
			other := newBrowser(t, p.site)
			if r := p.signInThrough(t, other, alice); r.status != http.StatusSeeOther {
				t.Fatalf("sign-in in another browser: %d", r.status)
			}
			logoutURL := p.site.URL + oidclogin.BackChannelLogoutPath("cis2")
			post := func(token string) int {
				resp, err := http.PostForm(logoutURL, url.Values{"logout_token": {token}})
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			for what, token := range map[string]string{
				"garbage":                "not.a.token",
				"for another client":     p.idp.LogoutToken(t, "someone-else", alice.Subject, ""),
				"from another provider":  oidctest.Start(t, oidctest.Options{Issuer: p.idp.Issuer()}).LogoutToken(t, "psims", alice.Subject, ""),
				"none":                   "",
				"no subject, no session": p.idp.LogoutToken(t, "psims", "", ""),
			} {
				if code := post(token); code != http.StatusBadRequest {
					t.Errorf("logout token %s: %d, want 400", what, code)
				}
			}
			if r := b.get("/account"); r.status != http.StatusOK {
				t.Fatalf("a refused logout token ended the session: %d", r.status)
			}
			sid := p.idp.SID(t, alice.Subject) // the other browser's, the newest
			if code := post(p.idp.LogoutToken(t, "psims", "", sid)); code != http.StatusOK {
				t.Fatalf("logout by session: %d", code)
			}
			if r := other.get("/account"); r.status != http.StatusSeeOther {
				t.Errorf("the provider's session ended but PSIMS's did not: %d", r.status)
			}
			if r := b.get("/account"); r.status != http.StatusOK {
				t.Errorf("logout of one provider session ended another: %d", r.status)
			}
			if code := post(p.idp.LogoutToken(t, "psims", alice.Subject, "")); code != http.StatusOK {
				t.Fatalf("logout by subject: %d", code)
			}
			if r := b.get("/account"); r.status != http.StatusSeeOther {
				t.Errorf("logout of every session of the subject left one: %d", r.status)
			}
			if acts := auditActions(t, p.site, u.ID); acts["account.provider_sign_out"].Action == "" {
				t.Error("the provider's logout is not audited")
			}
		})
	}
}

// TestAProviderSignInIsLinkedOnlyBySomeoneSignedInToTheAccount: a
// provider identity with the same verified address as an account is not
// signed in to it, and registering with that address changes nothing but
// an email to its owner; signing in to the account with its password
// links it, after a confirmation, and tells the owner; an identity linked
// to one account cannot be linked to another; removing it is emailed.
// // P11, T3
func TestAProviderSignInIsLinkedOnlyBySomeoneSignedInToTheAccount(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			linkOnlyWhenSignedIn(t, newProviderSite(t, e, nil))
		})
	}
}

func linkOnlyWhenSignedIn(t *testing.T, p *providerSite) {
	ctx := context.Background()
	olive, err := p.site.App.Accounts.Create(ctx, account.NewUser{Email: "olive@nhs.net", Name: "Olive Owner", JobRole: "Matron",
		OrgCode: "RM1", Role: account.RoleReporter, Password: passphrase})
	if err != nil {
		t.Fatal(err)
	}
	p.site.AcceptTerms(t, olive.Email)
	oliveAtIdP := oidctest.User{Subject: "cis2-olive", Username: "olive", Password: "provider password 2",
		Email: "olive@nhs.net", EmailVerified: true, GivenName: "Olive", FamilyName: "Owner"}
	p.idp.AddUser(oliveAtIdP)

	b := newBrowser(t, p.site)
	if r := p.signInThrough(t, b, oliveAtIdP); r.location != "/sign-in/not-linked" {
		t.Fatalf("a matching address signed in: %d %q", r.status, r.location)
	}
	r := b.submit("/register/oidc", "/register/oidc", url.Values{"name": {"Olive Owner"}, "job_role": {"Matron"}, "org_query": {"RM1"},
		"email": {"olive@nhs.net"}, "action": {"register"}})
	if r.status != http.StatusSeeOther || r.location != "/register/check-email" {
		t.Fatalf("registering with a taken address: %d %q, want the same answer as for any", r.status, r.location)
	}
	if link := p.site.LatestLink(t, "olive@nhs.net", "already has a PSIMS account"); !strings.HasSuffix(link, "/sign-in") {
		t.Fatalf("the owner's email links to %q", link)
	}
	if ids, _ := p.site.App.Accounts.Identities(ctx, olive.ID); len(ids) != 0 {
		t.Fatalf("registering with a taken address linked the identity: %+v", ids)
	}

	// The way that links: sign in to the account, then confirm.
	r = p.signInThrough(t, b, oliveAtIdP)
	if r.location != "/sign-in/not-linked" {
		t.Fatalf("after the refused registration: %q", r.location)
	}
	r = b.submit("/sign-in", "/sign-in", url.Values{"email": {olive.Email}, "password": {passphrase}, "next": {"/account/sign-ins/link"}})
	if r.status != http.StatusSeeOther || r.location != "/account/sign-ins/link" {
		t.Fatalf("signing in to link: %d %q", r.status, r.location)
	}
	if r := b.get(r.location); !strings.Contains(r.body, "Link NHS CIS2 to your PSIMS account") || !strings.Contains(r.body, "olive@nhs.net") {
		t.Fatalf("the confirmation:\n%s", r.body)
	}
	r = b.submit("/account/sign-ins/link", "/account/sign-ins/link", url.Values{})
	if r.status != http.StatusSeeOther || r.location != "/account/sign-ins?done=linked" {
		t.Fatalf("linking: %d %q", r.status, r.location)
	}
	if r := b.get(r.location); !strings.Contains(r.body, "Linked. You can now sign in") || !strings.Contains(r.body, "NHS CIS2") {
		t.Fatalf("the list after linking:\n%s", r.body)
	}
	if link := p.site.LatestLink(t, olive.Email, "can now be signed in to through NHS CIS2"); !strings.HasSuffix(link, "/account") {
		t.Errorf("the linking email links to %q", link)
	}
	if acts := auditActions(t, p.site, olive.ID); acts["account.identity_link"].Details["provider"] != "cis2" {
		t.Error("linking is not audited")
	}
	if r := b.get("/account/sign-ins/link"); r.status != http.StatusBadRequest || !strings.Contains(r.body, "Start signing in again") {
		t.Errorf("the held identity was not used up: %d", r.status)
	}
	b.submit("/account", "/sign-out", url.Values{})
	if r := p.signInThrough(t, b, oliveAtIdP); r.status != http.StatusSeeOther || r.location != "/account" {
		t.Fatalf("signing in through the provider after linking: %d %q", r.status, r.location)
	}

	// Someone else, signed in to their own account, cannot link Olive's
	// identity to it.
	mallory, err := p.site.App.Accounts.Create(ctx, account.NewUser{Email: "mallory@nhs.net", Name: "Mallory Other", JobRole: "Porter",
		OrgCode: "RM1", Role: account.RoleReporter, Password: passphrase})
	if err != nil {
		t.Fatal(err)
	}
	m := newBrowser(t, p.site)
	signIn(t, m, mallory.Email, passphrase)
	if r := m.get("/account"); !strings.Contains(r.body, `href="/account/sign-ins"`) {
		t.Fatal("the account page does not link to its sign-ins")
	}
	authURL := p.start(t, m, "/account/sign-ins", "/account/sign-ins/cis2/link")
	cb := p.idp.SignIn(t, m.c, authURL.String(), oliveAtIdP.Username, oliveAtIdP.Password)
	r = m.get(cb.RequestURI())
	wantStatus(t, "linking an identity another account has", r, http.StatusConflict)
	if !strings.Contains(r.body, "already linked to another PSIMS account") {
		t.Fatalf("linking another's identity:\n%s", r.body)
	}
	if ids, _ := p.site.App.Accounts.Identities(ctx, mallory.ID); len(ids) != 0 {
		t.Fatalf("Mallory got Olive's identity: %+v", ids)
	}

	// Olive has a password, so she may remove the link.
	page := b.get("/account/sign-ins")
	remove := regexp.MustCompile(`action="(/account/sign-ins/\d+/remove)"`).FindStringSubmatch(page.body)
	if remove == nil {
		t.Fatal("no remove button")
	}
	if r := b.submit("/account/sign-ins", remove[1], url.Values{}); r.status != http.StatusSeeOther || r.location != "/account/sign-ins?done=removed" {
		t.Fatalf("removing: %d %q", r.status, r.location)
	}
	if r := m.submit("/account/sign-ins", remove[1], url.Values{}); r.status != http.StatusNotFound {
		t.Errorf("someone else removing a sign-in: %d, want 404", r.status)
	}
	mails, err := p.site.App.Outbox.List(ctx, olive.Email, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(mails) == 0 || mails[0].Subject != "Your PSIMS account is no longer linked to NHS CIS2" {
		t.Errorf("removing the link was not emailed: %+v", mails)
	}
	b.submit("/account", "/sign-out", url.Values{})
	if r := p.signInThrough(t, b, oliveAtIdP); r.location != "/sign-in/not-linked" {
		t.Fatalf("after removing the link: %q", r.location)
	}
}

// TestTamperedStaleAndRefusedProviderSignInsSignNobodyIn: a callback whose
// state differs from the browser's, one from another browser, one used
// twice, one whose nonce does not match the ID token, a forged code, the
// provider's own refusal, an expired ID token and a provider that names
// another issuer each get a clear page and no session. // P11, T3
func TestTamperedStaleAndRefusedProviderSignInsSignNobodyIn(t *testing.T) {
	t.Parallel()
	elsewhere := oidctest.Start(t, oidctest.Options{Issuer: "http://127.0.0.1:1/not-this-one"})
	idp := oidctest.Start(t, oidctest.Options{})
	idpIssuer := idp.Issuer()
	site := apptest.Start(t, dbtest.SQLite(t), func(c *config.Config) {
		c.OIDCProviders = []oidclogin.Config{
			{Name: "cis2", Label: "NHS CIS2", Issuer: idpIssuer, ClientID: "psims", ClientSecret: cis2ClientSecret, Scopes: []string{"email"}},
			{Name: "stale", Label: "Stale ID", Issuer: idpIssuer, ClientID: "expired-tokens", ClientSecret: cis2ClientSecret, Scopes: []string{"email"}},
			{Name: "elsewhere", Label: "Elsewhere", Issuer: elsewhere.URL(), ClientID: "psims", ClientSecret: cis2ClientSecret},
		}
	})
	idp.AddClient(oidctest.Client{ID: "psims", Secret: cis2ClientSecret, RedirectURIs: []string{site.URL + oidclogin.CallbackPath("cis2")}})
	idp.AddClient(oidctest.Client{ID: "expired-tokens", Secret: cis2ClientSecret, RedirectURIs: []string{site.URL + oidclogin.CallbackPath("stale")},
		IDTokenLifetime: -2 * time.Minute})
	p := &providerSite{site: site, idp: idp}
	ctx := context.Background()
	ruth, err := site.App.Accounts.Create(ctx, account.NewUser{Email: "ruth@nhs.net", Name: "Ruth Reporter", JobRole: "Nurse",
		OrgCode: "RM1", Role: account.RoleReporter, Password: passphrase})
	if err != nil {
		t.Fatal(err)
	}
	site.AcceptTerms(t, ruth.Email)
	ruthAtIdP := oidctest.User{Subject: "cis2-ruth", Username: "ruth", Password: "provider password 3", Email: ruth.Email, EmailVerified: true}
	idp.AddUser(ruthAtIdP)
	if err := site.App.Accounts.LinkIdentity(ctx, ruth, oidclogin.Identity{Provider: "cis2", Issuer: idp.Issuer(), Subject: ruthAtIdP.Subject},
		"NHS CIS2", account.Client{}); err != nil {
		t.Fatal(err)
	}

	refused := func(what string, b *browser, r response, status int, message string) {
		t.Helper()
		if r.status != status || !strings.Contains(r.body, message) {
			t.Errorf("%s: %d, want %d with %q:\n%s", what, r.status, status, message, r.body)
		}
		if r := b.get("/account"); r.status != http.StatusSeeOther {
			t.Errorf("%s: signed in", what)
		}
	}
	const stale = "This sign-in has expired or was started in another browser"
	const unconfirmed = "PSIMS could not confirm your sign-in at NHS CIS2"

	b := newBrowser(t, site)
	authURL := p.start(t, b, "", "/sign-in/oidc/cis2?next=%2Faccount")
	cb := idp.SignIn(t, b.c, authURL.String(), ruthAtIdP.Username, ruthAtIdP.Password)
	q := cb.Query()
	q.Set("state", q.Get("state")+"x")
	refused("a changed state", b, b.get(cb.Path+"?"+q.Encode()), http.StatusBadRequest, stale)
	refused("the state cookie cleared by the refusal", b, b.get(cb.RequestURI()), http.StatusBadRequest, stale)

	b = newBrowser(t, site)
	authURL = p.start(t, b, "", "/sign-in/oidc/cis2?next=%2Faccount")
	cb = idp.SignIn(t, b.c, authURL.String(), ruthAtIdP.Username, ruthAtIdP.Password)
	thief := newBrowser(t, site)
	refused("the callback in another browser", thief, thief.get(cb.RequestURI()), http.StatusBadRequest, stale)
	if r := b.get(cb.RequestURI()); r.status != http.StatusSeeOther || r.location != "/account" {
		t.Fatalf("the right browser: %d %q", r.status, r.location)
	}
	// The same callback again, with the state cookie put back by hand:
	// the sign-in it names was used up.
	replay := newBrowser(t, site)
	replay.c.Jar.SetCookies(mustURL(t, site.URL+"/sign-in/oidc/"), []*http.Cookie{{Name: "psims_oidc_state", Value: cb.Query().Get("state"), Path: "/sign-in/oidc/"}})
	refused("a callback used twice", replay, replay.get(cb.RequestURI()), http.StatusBadRequest, stale)

	b = newBrowser(t, site)
	authURL = p.start(t, b, "", "/sign-in/oidc/cis2?next=%2Faccount")
	if _, err := site.App.DB.ExecContext(ctx, `UPDATE oidc_logins SET nonce = 'not-the-nonce-sent'`); err != nil {
		t.Fatal(err)
	}
	cb = idp.SignIn(t, b.c, authURL.String(), ruthAtIdP.Username, ruthAtIdP.Password)
	refused("a nonce that does not match", b, b.get(cb.RequestURI()), http.StatusUnauthorized, unconfirmed)

	b = newBrowser(t, site)
	authURL = p.start(t, b, "", "/sign-in/oidc/cis2?next=%2Faccount")
	cb = idp.SignIn(t, b.c, authURL.String(), ruthAtIdP.Username, ruthAtIdP.Password)
	q = cb.Query()
	q.Set("code", "forged-code")
	refused("a forged code", b, b.get(cb.Path+"?"+q.Encode()), http.StatusUnauthorized, unconfirmed)

	b = newBrowser(t, site)
	authURL = p.start(t, b, "", "/sign-in/oidc/cis2?next=%2Faccount")
	refused("the provider's refusal", b, b.get(oidclogin.CallbackPath("cis2")+"?error=access_denied&state="+url.QueryEscape(authURL.Query().Get("state"))),
		http.StatusUnauthorized, "You did not finish signing in at NHS CIS2")

	b = newBrowser(t, site)
	authURL = p.start(t, b, "", "/sign-in/oidc/stale?next=%2Faccount")
	cb = idp.SignIn(t, b.c, authURL.String(), ruthAtIdP.Username, ruthAtIdP.Password)
	refused("an expired ID token", b, b.get(cb.RequestURI()), http.StatusUnauthorized, "PSIMS could not confirm your sign-in at Stale ID")

	b = newBrowser(t, site)
	r := b.get("/sign-in/oidc/elsewhere")
	refused("a provider naming another issuer", b, r, http.StatusServiceUnavailable, "PSIMS could not reach Elsewhere")

	if r := b.get("/sign-in/oidc/nobody"); r.status != http.StatusNotFound {
		t.Errorf("an unknown provider: %d, want 404", r.status)
	}
	if r := b.get("/sign-in/not-linked"); r.status != http.StatusBadRequest || !strings.Contains(r.body, "Start signing in again") {
		t.Errorf("the not-linked page with nothing held: %d", r.status)
	}
	if r := b.get("/register/oidc"); r.status != http.StatusBadRequest {
		t.Errorf("registering through a provider with nothing held: %d", r.status)
	}
}

// TestAProvidersSecondFactorStandsInForTwoStepOnlyWhenItShowsOne: for a
// role that needs two-step verification, a provider sign-in whose acr is
// one configured to show a second factor, or with such an amr, is let in;
// one without either is sent to set up an app, as after a password.
// // P11, T3
func TestAProvidersSecondFactorStandsInForTwoStepOnlyWhenItShowsOne(t *testing.T) {
	t.Parallel()
	p := newProviderSite(t, dbtest.SQLite(t), func(c *config.Config) { c.TwoStepRoles = account.PrivilegedRoles() })
	ctx := context.Background()
	for i, c := range []struct {
		acr     string
		amr     []string
		twoStep bool // the provider showed a second factor
	}{
		{acr: "AAL3_ANY", twoStep: true},
		{acr: "AAL1_USERPASS", amr: []string{"pwd", "hwk"}, twoStep: true},
		{acr: "AAL1_USERPASS", amr: []string{"pwd"}},
		{},
	} {
		email := fmt.Sprintf("admin%d@nhs.net", i)
		u, err := p.site.App.Accounts.Create(ctx, account.NewUser{Email: email, Name: "Org Admin", JobRole: "Lead",
			OrgCode: "RM1", Role: account.RoleOrgAdmin, Password: passphrase})
		if err != nil {
			t.Fatal(err)
		}
		p.site.AcceptTerms(t, email)
		at := oidctest.User{Subject: fmt.Sprintf("cis2-admin-%d", i), Username: fmt.Sprintf("admin%d", i), Password: "provider password 4",
			Email: email, EmailVerified: true, ACR: c.acr, AMR: c.amr}
		p.idp.AddUser(at)
		if err := p.site.App.Accounts.LinkIdentity(ctx, u, oidclogin.Identity{Provider: "cis2", Issuer: p.idp.Issuer(), Subject: at.Subject},
			"NHS CIS2", account.Client{}); err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, p.site)
		r := p.signInThrough(t, b, at)
		if c.twoStep {
			if r.status != http.StatusSeeOther || r.location != "/account" {
				t.Fatalf("acr %q amr %q: %d %q, want straight in", c.acr, c.amr, r.status, r.location)
			}
			if r := b.get("/account"); r.status != http.StatusOK {
				t.Fatalf("acr %q amr %q: /account %d", c.acr, c.amr, r.status)
			}
			continue
		}
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/account/two-step/set-up") {
			t.Fatalf("acr %q amr %q: %d %q, want sent to set up an app", c.acr, c.amr, r.status, r.location)
		}
		if r := b.get("/account"); r.status != http.StatusSeeOther {
			t.Fatalf("acr %q amr %q: reached /account without a second factor", c.acr, c.amr)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestRegisteringThroughAProviderFollowsTheApprovalRules: an organisation
// the trusted provider did not name, on an address outside the trusted
// domains, waits for approval; an address other than the one the provider
// verified is confirmed by a link first. // P11, P1
func TestRegisteringThroughAProviderFollowsTheApprovalRules(t *testing.T) {
	t.Parallel()
	p := newProviderSite(t, dbtest.SQLite(t), nil)
	ctx := context.Background()
	for _, c := range []struct {
		user     oidctest.User
		org      string
		email    string
		location string
		status   account.Status
	}{
		{oidctest.User{Subject: "cis2-bob", Username: "bob", Password: "provider password 5", Email: "bob@gp.example.org", EmailVerified: true,
			GivenName: "Bob", FamilyName: "Builder", OrgCodes: []string{"RM1"}}, "D82044", "bob@gp.example.org", "/pending-approval", account.StatusPending},
		{oidctest.User{Subject: "cis2-cat", Username: "cat", Password: "provider password 6", Email: "cat.personal@example.com", EmailVerified: true,
			GivenName: "Cat", FamilyName: "Other", OrgCodes: []string{"RM1"}}, "RM1", "cat.work@nhs.net", "/register/check-email", account.StatusUnverified},
	} {
		p.idp.AddUser(c.user)
		b := newBrowser(t, p.site)
		if r := p.signInThrough(t, b, c.user); r.location != "/sign-in/not-linked" {
			t.Fatalf("%s: %d %q", c.user.Username, r.status, r.location)
		}
		r := b.submit("/register/oidc", "/register/oidc", url.Values{"name": {c.user.GivenName + " " + c.user.FamilyName}, "job_role": {"GP"},
			"org_query": {c.org}, "email": {c.email}, "action": {"register"}})
		if r.status != http.StatusSeeOther || r.location != c.location {
			t.Fatalf("%s: registering: %d %q, want %q", c.user.Username, r.status, r.location, c.location)
		}
		u, err := p.site.App.Accounts.UserByEmail(ctx, c.email)
		if err != nil {
			t.Fatal(err)
		}
		if u.Status != c.status || u.OrgCode != c.org {
			t.Errorf("%s: status %s at %s, want %s at %s", c.user.Username, u.Status, u.OrgCode, c.status, c.org)
		}
		if r := b.get("/account"); r.status != http.StatusSeeOther {
			t.Errorf("%s: signed in before approval or confirmation", c.user.Username)
		}
	}
	link := p.site.LatestLink(t, "cat.work@nhs.net", "Confirm")
	if !strings.Contains(link, "/verify-email?token=") {
		t.Fatalf("the confirmation link: %q", link)
	}
}
