package web_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
)

const passphrase = "violet harbour kettle marathon"

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see each response.
type browser struct {
	t    *testing.T
	site *apptest.Site
	c    *http.Client
}

func newBrowser(t *testing.T, site *apptest.Site) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, site: site, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type response struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (b *browser) get(path string) response {
	b.t.Helper()
	resp, err := b.c.Get(b.site.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	return read(b.t, resp)
}

var csrfPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// submit loads the page holding the form, then posts the form with the
// page's form token.
func (b *browser) submit(formPage, action string, form url.Values) response {
	b.t.Helper()
	page := b.get(formPage)
	m := csrfPattern.FindStringSubmatch(page.body)
	if m == nil {
		b.t.Fatalf("no form token on %s", formPage)
	}
	form.Set("csrf_token", html.UnescapeString(m[1]))
	return b.post(action, form)
}

func (b *browser) post(action string, form url.Values) response {
	b.t.Helper()
	resp, err := b.c.PostForm(b.site.URL+action, form)
	if err != nil {
		b.t.Fatal(err)
	}
	return read(b.t, resp)
}

func read(t *testing.T, resp *http.Response) response {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(body), header: resp.Header}
}

func registration(email string) url.Values {
	return url.Values{"name": {"Alex Morgan"}, "job_role": {"Staff nurse"}, "org_query": {"RM1"}, "email": {email},
		"password": {passphrase}, "confirm_password": {passphrase}, "action": {"register"}}
}

// registerAndVerify registers and confirms the address through the emailed link.
func registerAndVerify(t *testing.T, b *browser, email string) {
	t.Helper()
	if r := b.submit("/register", "/register", registration(email)); r.status != http.StatusSeeOther || r.location != "/register/check-email" {
		t.Fatalf("register: %d %s", r.status, r.location)
	}
	link, err := url.Parse(b.site.LatestLink(t, email, "Confirm"))
	if err != nil {
		t.Fatal(err)
	}
	r := b.submit(link.RequestURI(), "/verify-email", url.Values{"token": {link.Query().Get("token")}})
	if r.status != http.StatusOK && r.status != http.StatusSeeOther {
		t.Fatalf("verify: %d", r.status)
	}
}

// signIn signs in as someone who has accepted the current terms, as every
// test not about the acceptance gate wants.
func signIn(t *testing.T, b *browser, email, password string) response {
	t.Helper()
	b.site.AcceptTerms(t, email)
	return b.submit("/sign-in", "/sign-in", url.Values{"email": {email}, "password": {password}, "next": {"/account"}})
}

func TestRegisterVerifySignInAndSignOut(t *testing.T) { // P1, T3
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			b := newBrowser(t, site)
			registerAndVerify(t, b, "alex.morgan@nhs.net")
			r := signIn(t, b, "alex.morgan@nhs.net", passphrase)
			if r.status != http.StatusSeeOther || r.location != "/account" {
				t.Fatalf("sign in: %d %s", r.status, r.location)
			}
			if r := b.get("/account"); r.status != http.StatusOK || !strings.Contains(r.body, "Alex Morgan") || !strings.Contains(r.body, "NORFOLK AND NORWICH") {
				t.Fatalf("account page: %d", r.status)
			}
			if r := b.submit("/account", "/sign-out", url.Values{}); r.status != http.StatusOK || !strings.Contains(r.body, "You have signed out") {
				t.Fatalf("sign out: %d", r.status)
			}
			if r := b.get("/account"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/sign-in") {
				t.Fatalf("account after sign out: %d %s", r.status, r.location)
			}
		})
	}
}

func TestRegistrationErrorsKeepWhatWasTyped(t *testing.T) { // P1
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := newBrowser(t, site)
	form := registration("not-an-email")
	form.Set("confirm_password", "something different entirely")
	r := b.submit("/register", "/register", form)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", r.status)
	}
	for _, want := range []string{"There is a problem", `href="#email"`, `value="Alex Morgan"`, `value="Staff nurse"`, `value="not-an-email"`, "<title>Error: "} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(r.body, passphrase) {
		t.Error("the password was sent back to the browser")
	}
}

func TestOrganisationSearchWorksWithoutJavaScript(t *testing.T) { // P1
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := newBrowser(t, site)
	form := registration("searcher@nhs.net")
	form.Set("org_query", "norwich")
	form.Set("action", "search")
	r := b.submit("/register", "/register", form)
	if r.status != http.StatusOK || !strings.Contains(r.body, `value="RM1"`) || !strings.Contains(r.body, `value="Alex Morgan"`) {
		t.Fatalf("search: %d, results or typed name missing", r.status)
	}
	form.Set("action", "register")
	form.Set("org", "RM1")
	if r := b.submit("/register", "/register", form); r.status != http.StatusSeeOther {
		t.Fatalf("register with the chosen organisation: %d", r.status)
	}
}

func TestSignInShowsOneMessageForUnknownEmailAndWrongPassword(t *testing.T) { // T3
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := newBrowser(t, site)
	registerAndVerify(t, b, "known@nhs.net")
	unknown := signIn(t, b, "nobody@nhs.net", passphrase)
	wrong := signIn(t, b, "known@nhs.net", "not the right password at all")
	if unknown.status != http.StatusUnauthorized || wrong.status != http.StatusUnauthorized {
		t.Fatalf("statuses %d and %d, want 401", unknown.status, wrong.status)
	}
	msg := regexp.MustCompile(`(?s)<span class="nhsuk-error-message"[^>]*>.*?</span>(.*?)</span>`)
	if msg.FindString(unknown.body) != msg.FindString(wrong.body) || msg.FindString(unknown.body) == "" {
		t.Fatal("unknown email and wrong password show different messages")
	}
}

func TestPendingAccountsWaitForApproval(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := newBrowser(t, site)
	registerAndVerify(t, b, "agency@example.org")
	if r := signIn(t, b, "agency@example.org", passphrase); r.status != http.StatusSeeOther || r.location != "/pending-approval" {
		t.Fatalf("sign in while pending: %d %s", r.status, r.location)
	}
	if _, err := site.App.Accounts.Approve(context.Background(), "agency@example.org", 0); err != nil {
		t.Fatal(err)
	}
	if r := signIn(t, b, "agency@example.org", passphrase); r.status != http.StatusSeeOther || r.location != "/account" {
		t.Fatalf("sign in after approval: %d %s", r.status, r.location)
	}
}

func TestPasswordResetChangesThePasswordAndEndsSessions(t *testing.T) { // T3
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	other := newBrowser(t, site)
	registerAndVerify(t, other, "forgetful@nhs.net")
	signIn(t, other, "forgetful@nhs.net", passphrase)

	b := newBrowser(t, site)
	for _, email := range []string{"forgetful@nhs.net", "stranger@nhs.net"} {
		r := b.submit("/password-reset", "/password-reset", url.Values{"email": {email}})
		if r.status != http.StatusSeeOther || r.location != "/password-reset/sent" {
			t.Fatalf("reset request for %s: %d %s (must be the same for every address)", email, r.status, r.location)
		}
	}
	link, err := url.Parse(site.LatestLink(t, "forgetful@nhs.net", "Reset"))
	if err != nil {
		t.Fatal(err)
	}
	newPassword := "lighthouse pepper orchard sleeve"
	r := b.submit(link.RequestURI(), "/password-reset/new", url.Values{"token": {link.Query().Get("token")},
		"password": {newPassword}, "confirm_password": {newPassword}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "Your password has been changed") {
		t.Fatalf("reset: %d", r.status)
	}
	if r := other.get("/account"); r.status != http.StatusSeeOther {
		t.Fatalf("a session from before the reset still works: %d", r.status)
	}
	if r := signIn(t, b, "forgetful@nhs.net", passphrase); r.status != http.StatusUnauthorized {
		t.Fatalf("old password: %d", r.status)
	}
	if r := signIn(t, b, "forgetful@nhs.net", newPassword); r.status != http.StatusSeeOther {
		t.Fatalf("new password: %d", r.status)
	}
	if r := b.get(link.RequestURI()); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("used reset link: %d, want 422 'expired' page", r.status)
	}
}

func TestSignOutEverywhereEndsOtherSessions(t *testing.T) { // T3
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	laptop, phone := newBrowser(t, site), newBrowser(t, site)
	registerAndVerify(t, laptop, "two.devices@nhs.net")
	signIn(t, laptop, "two.devices@nhs.net", passphrase)
	signIn(t, phone, "two.devices@nhs.net", passphrase)
	if r := laptop.get("/account"); strings.Count(r.body, `<tr class="nhsuk-table__row"><td`) != 2 {
		t.Fatal("the account page does not list both sessions")
	}
	if r := laptop.submit("/account", "/account/sign-out-everywhere", url.Values{}); r.status != http.StatusOK {
		t.Fatalf("sign out everywhere: %d", r.status)
	}
	if r := phone.get("/account"); r.status != http.StatusSeeOther {
		t.Fatalf("the other device is still signed in: %d", r.status)
	}
}

func TestSessionOfASuspendedUserStopsOnTheNextRequest(t *testing.T) { // T6
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := newBrowser(t, site)
	registerAndVerify(t, b, "suspended@nhs.net")
	signIn(t, b, "suspended@nhs.net", passphrase)
	_, err := site.App.DB.WritePool().Exec(`UPDATE users SET status = $1 WHERE email = 'suspended@nhs.net'`, account.StatusSuspended)
	if err != nil {
		t.Fatal(err)
	}
	if r := b.get("/account"); r.status != http.StatusSeeOther {
		t.Fatalf("suspended user's session still works: %d", r.status)
	}
	if r := signIn(t, b, "suspended@nhs.net", passphrase); r.status != http.StatusForbidden || !strings.Contains(r.body, "administrator") {
		t.Fatalf("suspended sign in: %d", r.status)
	}
}

func TestFormsNeedTheirToken(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := newBrowser(t, site)
	b.get("/sign-in")
	r := b.post("/sign-in", url.Values{"email": {"a@nhs.net"}, "password": {"whatever"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("post without token: %d, want 403", r.status)
	}
	req, err := http.NewRequest(http.MethodPost, site.URL+"/sign-in", strings.NewReader("email=a%40nhs.net"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site post: %d, want 403", resp.StatusCode)
	}
}

func TestSignInIsRateLimitedPerIP(t *testing.T) { // T3
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), func(c *config.Config) { c.SignInRate = 3 })
	b := newBrowser(t, site)
	var last int
	for range 4 {
		last = signIn(t, b, "someone@nhs.net", "a wrong password here").status
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("4th attempt in a minute: %d, want 429", last)
	}
}

// forwardedFor makes b's requests arrive as if through a proxy that says
// they came from ip.
func forwardedFor(b *browser, ip string) *browser {
	b.c.Transport = headerTransport{name: "X-Forwarded-For", value: ip}
	return b
}

type headerTransport struct{ name, value string }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.name, h.value)
	return http.DefaultTransport.RoundTrip(r)
}

// TestSignInLimitsAreSharedByEveryProcess: two servers on one database
// (two processes) count one limit per address between them; an address a
// trusted proxy forwards for is limited on its own; and without trusted
// proxies X-Forwarded-For is ignored, so changing it gets no new limit.
// // T3
func TestSignInLimitsAreSharedByEveryProcess(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			proxied := func(c *config.Config) {
				c.SignInRate = 3
				c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
			}
			one, two := apptest.Start(t, e, proxied), apptest.Start(t, e, proxied)
			wrong := func(b *browser) int { return signIn(t, b, "someone@nhs.net", "a wrong password here").status }
			for i, site := range []*apptest.Site{one, two, one} {
				if got := wrong(forwardedFor(newBrowser(t, site), "203.0.113.7")); got == http.StatusTooManyRequests {
					t.Fatalf("attempt %d from one address across two processes refused early", i+1)
				}
			}
			if got := wrong(forwardedFor(newBrowser(t, two), "203.0.113.7")); got != http.StatusTooManyRequests {
				t.Fatalf("4th attempt from one address across two processes: %d, want 429", got)
			}
			if got := wrong(forwardedFor(newBrowser(t, one), "203.0.113.8")); got == http.StatusTooManyRequests {
				t.Fatal("another address behind the trusted proxy shares the first one's limit")
			}

			direct := apptest.Start(t, e, func(c *config.Config) { c.SignInRate = 3 })
			for i := range 3 {
				if got := wrong(forwardedFor(newBrowser(t, direct), fmt.Sprintf("198.51.100.%d", i+1))); got == http.StatusTooManyRequests {
					t.Fatalf("attempt %d refused early", i+1)
				}
			}
			if got := wrong(forwardedFor(newBrowser(t, direct), "198.51.100.99")); got != http.StatusTooManyRequests {
				t.Fatalf("an untrusted X-Forwarded-For got a new limit: %d", got)
			}
		})
	}
}

func TestOnlyStrictlyNecessaryCookiesAreSet(t *testing.T) { // P5
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := newBrowser(t, site)
	registerAndVerify(t, b, "cookies@nhs.net")
	signIn(t, b, "cookies@nhs.net", passphrase)
	u, _ := url.Parse(site.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name != "psims_session" && c.Name != "psims_csrf" {
			t.Errorf("unexpected cookie %s", c.Name)
		}
	}
	r := b.get("/cookies")
	for _, name := range []string{"psims_session", "psims_csrf"} {
		if !strings.Contains(r.body, name) {
			t.Errorf("the cookies page does not list %s", name)
		}
	}
	resp, err := http.Get(site.URL + "/sign-in")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie %s is not HttpOnly and SameSite=Lax", c.Name)
		}
	}
}

func TestOperationsEndpoints(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := newBrowser(t, site)
	if r := b.get("/healthz"); r.status != http.StatusOK {
		t.Fatalf("healthz: %d", r.status)
	}
	if r := b.get("/readyz"); r.status != http.StatusOK {
		t.Fatalf("readyz: %d", r.status)
	}
	signIn(t, b, "nobody@nhs.net", "some wrong password")
	r := b.get("/metrics")
	for _, want := range []string{`psims_http_requests_total{method="GET",route="GET /sign-in"`, `psims_signins_total{outcome="failed"} 1`, "psims_mail_queue_depth"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if r := b.get("/no-such-page"); r.status != http.StatusNotFound || !strings.Contains(r.body, "Page not found") {
		t.Fatalf("404 page: %d", r.status)
	}
}

func TestOpeningAVerificationLinkChangesNothingUntilConfirmed(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := newBrowser(t, site)
	if r := b.submit("/register", "/register", registration("scanned@nhs.net")); r.status != http.StatusSeeOther {
		t.Fatalf("register: %d", r.status)
	}
	link, err := url.Parse(site.LatestLink(t, "scanned@nhs.net", "Confirm"))
	if err != nil {
		t.Fatal(err)
	}
	// A mail scanner following the link twice must not use it up.
	b.get(link.RequestURI())
	b.get(link.RequestURI())
	u, err := site.App.Accounts.UserByEmail(context.Background(), "scanned@nhs.net")
	if err != nil || u.Status != account.StatusUnverified {
		t.Fatalf("after GETs: status %s, err %v; want unverified", u.Status, err)
	}
	if r := signIn(t, b, "scanned@nhs.net", passphrase); r.status != http.StatusForbidden || !strings.Contains(r.body, "Send a new link") {
		t.Fatalf("unverified sign in: %d", r.status)
	}
	r := b.submit(link.RequestURI(), "/verify-email", url.Values{"token": {link.Query().Get("token")}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "Your email address is confirmed") {
		t.Fatalf("confirm: %d", r.status)
	}
	r = b.submit(link.RequestURI(), "/verify-email", url.Values{"token": {link.Query().Get("token")}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "This link has expired") {
		t.Fatalf("second confirm: %d", r.status)
	}
}

// TestAnOversizedFormIsTooLargeNotExpired: a post over the size limit gets
// 413 and a page saying what was too large, not the "form has expired"
// page a missing form token gives.
func TestAnOversizedFormIsTooLargeNotExpired(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := newBrowser(t, site)
	r := b.submit("/report", "/report", url.Values{"description": {strings.Repeat("The pump alarmed. ", 70000)}})
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "What you sent was too large") ||
		!strings.Contains(r.body, "1 MB") {
		t.Fatalf("oversized form: %d %q", r.status, r.body[:min(len(r.body), 300)])
	}
	if strings.Contains(r.body, "expired") {
		t.Fatal("an oversized form is called expired")
	}
}
