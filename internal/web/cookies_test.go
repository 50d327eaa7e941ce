package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/web"
)

const (
	bannerMark  = `aria-label="Cookies on PSIMS"`
	savedNotice = "Your cookie settings were saved"
)

// cookieRecorder is a transport that keeps every cookie the server sets
// (only host's, when host is set: a test that also visits another site).
type cookieRecorder struct {
	next http.RoundTripper
	host string
	set  []*http.Cookie
}

func (c *cookieRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err == nil && (c.host == "" || req.URL.Host == c.host) {
		c.set = append(c.set, resp.Cookies()...)
	}
	return resp, err
}

// recordCookies makes b keep every cookie the server sets it.
func recordCookies(b *browser) *cookieRecorder {
	rec := &cookieRecorder{next: http.DefaultTransport}
	b.c.Transport = rec
	return rec
}

var (
	tablePattern     = regexp.MustCompile(`(?s)<caption[^>]*>([^<]+)</caption>(.*?)</table>`)
	cookieRowPattern = regexp.MustCompile(`<th class="nhsuk-table__header" scope="row">([^<]+)</th>`)
)

// cookieCategories reads the cookies page, as a visitor would, and returns
// the caption of the table each cookie is listed in.
func cookieCategories(t *testing.T, site *apptest.Site) map[string]string {
	t.Helper()
	r := newBrowser(t, site).get("/cookies")
	categories := map[string]string{}
	for _, table := range tablePattern.FindAllStringSubmatch(r.body, -1) {
		for _, row := range cookieRowPattern.FindAllStringSubmatch(table[2], -1) {
			categories[row[1]] = table[1]
		}
	}
	if len(categories) == 0 {
		t.Fatal("the cookies page lists no cookies")
	}
	return categories
}

// jarCookie returns the value of the cookie b's jar holds, and whether it
// holds one.
func jarCookie(b *browser, name string) (string, bool) {
	u, _ := url.Parse(b.site.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// chooseFromBanner answers the banner on the page at path.
func chooseFromBanner(b *browser, path, analytics string) response {
	b.t.Helper()
	if r := b.get(path); !strings.Contains(r.body, bannerMark) {
		b.t.Fatalf("%s shows no cookie banner", path)
	}
	return b.submit(path, "/cookies", url.Values{"analytics": {analytics}, "next": {path}})
}

func TestFreshVisitorsGetOnlyStrictlyNecessaryCookies(t *testing.T) { // P5
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	categories := cookieCategories(t, site)
	b := newBrowser(t, site)
	rec := recordCookies(b)
	for _, path := range []string{"/", "/terms", "/privacy", "/cookies", "/accessibility", "/sign-in", "/no-such-page"} {
		b.get(path)
	}
	registerAndVerify(t, b, "fresh.visitor@nhs.net")
	if r := signIn(t, b, "fresh.visitor@nhs.net", passphrase); r.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", r.status)
	}
	b.get("/account")

	seen := map[string]bool{}
	for _, c := range rec.set {
		seen[c.Name] = true
		if got := categories[c.Name]; got != "Strictly necessary cookies" {
			t.Errorf("cookie %s was set without consent; the cookies page lists it as %q", c.Name, got)
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
			t.Errorf("cookie %s is not HttpOnly, SameSite=Lax and Path=/", c.Name)
		}
	}
	for _, name := range []string{"psims_csrf", "psims_session"} {
		if !seen[name] {
			t.Errorf("%s was never set, so the check above proves little", name)
		}
	}
}

func TestCookiesPageListsEveryCookieTheServiceSets(t *testing.T) { // P5
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	categories := cookieCategories(t, site)
	want := map[string]string{
		"psims_session":       "Strictly necessary cookies",
		"psims_csrf":          "Strictly necessary cookies",
		"psims_cookie_policy": "Strictly necessary cookies",
		"psims_cleaned":       "Strictly necessary cookies",
		"psims_device":        "Strictly necessary cookies",
		"psims_oidc_state":    "Strictly necessary cookies",
		"psims_oidc_held":     "Strictly necessary cookies",
		"psims_analytics":     "Cookies that measure website use",
	}
	for name, category := range want {
		if categories[name] != category {
			t.Errorf("the cookies page lists %s as %q, want %q", name, categories[name], category)
		}
	}
	if len(categories) != len(want) {
		t.Errorf("the cookies page lists %v, want %v", categories, want)
	}

	// Accepting sets every cookie; each must be one the page lists.
	b := newBrowser(t, site)
	rec := recordCookies(b)
	registerAndVerify(t, b, "every.cookie@nhs.net")
	signIn(t, b, "every.cookie@nhs.net", passphrase)
	chooseFromBanner(b, "/account", "yes")
	for _, c := range rec.set {
		if _, ok := categories[c.Name]; !ok {
			t.Errorf("cookie %s is not on the cookies page", c.Name)
		}
	}
}

func TestCookieBanner(t *testing.T) { // P5
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)

	t.Run("shows on every page until the visitor chooses, except the cookies page", func(t *testing.T) {
		b := newBrowser(t, site)
		for _, path := range []string{"/", "/sign-in", "/privacy", "/no-such-page"} {
			if r := b.get(path); !strings.Contains(r.body, bannerMark) {
				t.Errorf("%s shows no cookie banner", path)
			}
		}
		if r := b.get("/cookies"); strings.Contains(r.body, bannerMark) {
			t.Error("the cookies page shows the banner as well as its own form")
		}
		chooseFromBanner(b, "/", "no")
		for _, path := range []string{"/", "/sign-in", "/privacy"} {
			if r := b.get(path); strings.Contains(r.body, bannerMark) {
				t.Errorf("%s still shows the banner after the choice", path)
			}
		}
	})

	t.Run("brings the visitor back to the page with its query, such as an emailed link's token", func(t *testing.T) {
		b := newBrowser(t, site)
		r := b.get("/verify-email?token=abc123")
		if !strings.Contains(r.body, `name="next" value="/verify-email?token=abc123"`) {
			t.Fatal("the banner would not return to the emailed link with its token")
		}
	})

	t.Run("accepting sets the policy and an anonymous analytics cookie for a year", func(t *testing.T) {
		b := newBrowser(t, site)
		rec := recordCookies(b)
		r := chooseFromBanner(b, "/privacy", "yes")
		if r.status != http.StatusSeeOther || r.location != "/privacy" {
			t.Fatalf("accept: %d %s, want 303 back to /privacy", r.status, r.location)
		}
		if v, _ := jarCookie(b, "psims_cookie_policy"); v != "accepted" {
			t.Errorf("psims_cookie_policy = %q, want accepted", v)
		}
		id, ok := jarCookie(b, "psims_analytics")
		if !ok || !regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`).MatchString(id) {
			t.Fatalf("psims_analytics = %q, want 128 random bits in base64url", id)
		}
		for _, c := range rec.set {
			if (c.Name == "psims_cookie_policy" || c.Name == "psims_analytics") && c.MaxAge != 365*24*60*60 {
				t.Errorf("%s lasts %d seconds, want a year", c.Name, c.MaxAge)
			}
		}
		b.submit("/cookies", "/cookies", url.Values{"analytics": {"yes"}})
		if again, _ := jarCookie(b, "psims_analytics"); again != id {
			t.Errorf("accepting again changed the identifier from %q to %q", id, again)
		}
		other := newBrowser(t, site)
		chooseFromBanner(other, "/", "yes")
		if v, _ := jarCookie(other, "psims_analytics"); v == id {
			t.Error("two browsers got the same identifier")
		}
	})

	t.Run("rejecting sets the policy and deletes the analytics cookie", func(t *testing.T) {
		b := newBrowser(t, site)
		rec := recordCookies(b)
		r := chooseFromBanner(b, "/terms", "no")
		if r.status != http.StatusSeeOther || r.location != "/terms" {
			t.Fatalf("reject: %d %s, want 303 back to /terms", r.status, r.location)
		}
		if v, _ := jarCookie(b, "psims_cookie_policy"); v != "rejected" {
			t.Errorf("psims_cookie_policy = %q, want rejected", v)
		}
		if _, ok := jarCookie(b, "psims_analytics"); ok {
			t.Error("psims_analytics is set after rejecting")
		}
		deleted := false
		for _, c := range rec.set {
			deleted = deleted || (c.Name == "psims_analytics" && c.MaxAge < 0)
		}
		if !deleted {
			t.Error("rejecting did not tell the browser to delete psims_analytics")
		}
	})

	t.Run("changing from accept to reject on the cookies page deletes the analytics cookie", func(t *testing.T) {
		b := newBrowser(t, site)
		chooseFromBanner(b, "/", "yes")
		if r := b.get("/cookies"); !strings.Contains(r.body, `value="yes" checked`) {
			t.Error("the cookies page does not show the choice already made")
		}
		r := b.submit("/cookies", "/cookies", url.Values{"analytics": {"no"}})
		if r.status != http.StatusSeeOther || r.location != "/cookies?saved=1" {
			t.Fatalf("save: %d %s, want 303 to /cookies?saved=1", r.status, r.location)
		}
		page := b.get(r.location)
		if !strings.Contains(page.body, savedNotice) || !strings.Contains(page.body, `value="no" checked`) {
			t.Error("the cookies page does not say the new choice was saved")
		}
		if _, ok := jarCookie(b, "psims_analytics"); ok {
			t.Error("psims_analytics is still set")
		}
		if v, _ := jarCookie(b, "psims_cookie_policy"); v != "rejected" {
			t.Errorf("psims_cookie_policy = %q, want rejected", v)
		}
	})

	t.Run("works for signed-in users too", func(t *testing.T) {
		b := newBrowser(t, site)
		registerAndVerify(t, b, "banner.user@nhs.net")
		signIn(t, b, "banner.user@nhs.net", passphrase)
		r := chooseFromBanner(b, "/account", "yes")
		if r.status != http.StatusSeeOther || r.location != "/account" {
			t.Fatalf("accept: %d %s, want 303 back to /account", r.status, r.location)
		}
		if r := b.get("/account"); r.status != http.StatusOK || strings.Contains(r.body, bannerMark) {
			t.Errorf("account page after choosing: %d, banner shown %v", r.status, strings.Contains(r.body, bannerMark))
		}
	})

	t.Run("refuses a missing or unknown choice with the error summary, keeping the page to go back to", func(t *testing.T) {
		for _, choice := range []string{"", "maybe"} {
			b := newBrowser(t, site)
			r := b.submit("/", "/cookies", url.Values{"analytics": {choice}, "next": {"/privacy"}})
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("choice %q: %d, want 422", choice, r.status)
			}
			for _, want := range []string{"<title>Error: ", "There is a problem", `href="#analytics"`, `id="analytics-error"`, `name="next" value="/privacy"`} {
				if !strings.Contains(r.body, want) {
					t.Errorf("choice %q: page lacks %q", choice, want)
				}
			}
			if _, ok := jarCookie(b, "psims_cookie_policy"); ok {
				t.Errorf("choice %q was saved", choice)
			}
		}
	})

	t.Run("goes back only to pages of this site", func(t *testing.T) {
		b := newBrowser(t, site)
		for next, want := range map[string]string{
			"/privacy?from=banner":  "/privacy?from=banner",
			"":                      "/cookies?saved=1",
			"/cookies":              "/cookies?saved=1",
			"https://evil.example/": "/cookies?saved=1",
			"//evil.example/":       "/cookies?saved=1",
			`/\evil.example/`:       "/cookies?saved=1",
			"javascript:alert(1)":   "/cookies?saved=1",
		} {
			r := b.submit("/cookies", "/cookies", url.Values{"analytics": {"no"}, "next": {next}})
			if r.status != http.StatusSeeOther || r.location != want {
				t.Errorf("next %q: %d %s, want 303 to %s", next, r.status, r.location, want)
			}
		}
	})
}

// logLines is a log destination the test can wait on.
type logLines struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	written chan struct{} // receives after a write, when nobody has yet noticed the last one
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case l.written <- struct{}{}:
	default:
	}
	return l.buf.Write(p)
}

// request waits for the log line of the request with the ID, as the server
// may write it after the client has read the response.
func (l *logLines) request(t *testing.T, id string) map[string]any {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		l.mu.Lock()
		lines := strings.Split(l.buf.String(), "\n")
		l.mu.Unlock()
		for _, line := range lines {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "request" && rec["request_id"] == id {
				return rec
			}
		}
		select {
		case <-l.written:
		case <-deadline:
			t.Fatalf("no log line for request %s", id)
		}
	}
}

func TestRequestLogCountsOnlyVisitorsWhoAgreed(t *testing.T) { // P5
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	logs := &logLines{written: make(chan struct{}, 1)}
	deps := site.App.WebDeps(web.NewMetrics(prometheus.NewRegistry(), nil))
	deps.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	srv, err := web.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	logged := &apptest.Site{App: site.App, URL: ts.URL}

	visitorOf := func(t *testing.T, b *browser, path string) (string, bool) {
		t.Helper()
		r := b.get(path)
		v, ok := logs.request(t, r.header.Get("X-Request-ID"))["visitor"]
		s, _ := v.(string)
		return s, ok
	}

	t.Run("leaves the visitor out before a choice", func(t *testing.T) {
		b := newBrowser(t, logged)
		if v, ok := visitorOf(t, b, "/"); ok {
			t.Errorf("visitor %q logged without consent", v)
		}
	})
	t.Run("logs the analytics identifier after accepting", func(t *testing.T) {
		b := newBrowser(t, logged)
		chooseFromBanner(b, "/", "yes")
		id, _ := jarCookie(b, "psims_analytics")
		if v, ok := visitorOf(t, b, "/privacy"); !ok || v != id {
			t.Errorf("visitor = %q (logged %v), want the cookie's %q", v, ok, id)
		}
	})
	t.Run("leaves the visitor out after rejecting", func(t *testing.T) {
		b := newBrowser(t, logged)
		chooseFromBanner(b, "/", "yes")
		b.submit("/cookies", "/cookies", url.Values{"analytics": {"no"}})
		if v, ok := visitorOf(t, b, "/privacy"); ok {
			t.Errorf("visitor %q logged after rejecting", v)
		}
	})
	t.Run("ignores an analytics cookie the service did not set with consent", func(t *testing.T) {
		for name, cookies := range map[string]string{
			"without a policy":  "psims_analytics=AAAAAAAAAAAAAAAAAAAAAA",
			"with a rejection":  "psims_cookie_policy=rejected; psims_analytics=AAAAAAAAAAAAAAAAAAAAAA",
			"that is malformed": "psims_cookie_policy=accepted; psims_analytics=not-an-identifier",
		} {
			req, err := http.NewRequest(http.MethodGet, ts.URL+"/privacy", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Cookie", cookies)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if v, ok := logs.request(t, resp.Header.Get("X-Request-ID"))["visitor"]; ok {
				t.Errorf("%s: visitor %v logged", name, v)
			}
		}
	})
}
