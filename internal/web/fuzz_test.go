package web_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/web"
)

// FuzzFormPosts sends arbitrary form bodies, with a valid form token, to
// every form of the account pages: whatever arrives, the answer is a page
// (2xx, 3xx, 4xx), never a 500 or a panic.
func FuzzFormPosts(f *testing.F) {
	site := apptest.Start(f, dbtest.Engines(f)[0], nil)
	srv, err := web.New(web.Deps{
		Accounts: site.App.Accounts, Orgs: site.App.Orgs, Ready: site.App.DB.Ping,
		Metrics: web.NewMetrics(prometheus.NewRegistry(), func() float64 { return 0 }),
		Logger:  slog.New(slog.NewJSONHandler(io.Discard, nil)), SignInRate: 1 << 30,
	})
	if err != nil {
		f.Fatal(err)
	}
	// A visitor's cookie and the form token that goes with it.
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/sign-in", nil))
	var cookie *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == "psims_csrf" {
			cookie = c
		}
	}
	m := csrfPattern.FindStringSubmatch(w.Body.String())
	if cookie == nil || m == nil {
		f.Fatal("no visitor cookie or form token")
	}
	token := html.UnescapeString(m[1])

	actions := []string{"/register", "/sign-in", "/password-reset", "/password-reset/new", "/verify-email", "/verify-email/resend", "/sign-out"}
	f.Add(uint8(0), "name=A&job_role=B&org_query=RM1&email=a%40nhs.net&password=x&confirm_password=y&action=register")
	f.Add(uint8(0), "org_query=%25%5F%27&action=search")
	f.Add(uint8(1), "email=%00%ff&password=%zz&next=//evil.example")
	f.Add(uint8(3), "token=;;;&password=&confirm_password=")
	f.Add(uint8(4), "token="+strings.Repeat("A", 5000))
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		action := actions[int(which)%len(actions)]
		req := httptest.NewRequest(http.MethodPost, action, strings.NewReader(body+"&csrf_token="+token))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("POST %s %q: status %d", action, body, w.Code)
		}
		if loc := w.Header().Get("Location"); loc != "" && (!strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\")) {
			t.Fatalf("POST %s %q: redirect off the site to %q", action, body, loc)
		}
	})
}

// FuzzSignedInFormPosts does the same for the forms of a signed-in national
// admin: the terms review, consent, data preferences, cookies and document
// publishing.
func FuzzSignedInFormPosts(f *testing.F) {
	site := apptest.Start(f, dbtest.Engines(f)[0], nil)
	srv, err := web.New(web.Deps{
		Accounts: site.App.Accounts, Terms: site.App.Terms, Orgs: site.App.Orgs, Ready: site.App.DB.Ping,
		Metrics: web.NewMetrics(prometheus.NewRegistry(), func() float64 { return 0 }),
		Logger:  slog.New(slog.NewJSONHandler(io.Discard, nil)), SignInRate: 1 << 30,
	})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	admin, err := site.App.Accounts.Create(ctx, account.NewUser{Email: "fuzz.admin@nhs.net", Name: "Fuzz Admin",
		JobRole: "Operator", OrgCode: "RM1", Role: account.RoleNationalAdmin, Password: passphrase})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, site.App.DB.Now(), admin.ID); err != nil {
		f.Fatal(err)
	}
	site.AcceptTerms(f, admin.Email)
	c := client(f, srv, admin.Email)

	actions := []string{"/review-terms", "/consent", "/account/data-preferences", "/cookies",
		"/admin/documents/terms/new", "/admin/documents/recording-statement/new", "/admin/documents/nonsense/new"}
	f.Add(uint8(0), "action=accept&version-terms=1&version-privacy=1&next=/account")
	f.Add(uint8(0), "action=accept&version-terms=-1&version-privacy=99999999999999999999")
	f.Add(uint8(1), "action=save&consent=newsletter&consent=%ff&next=//evil.example")
	f.Add(uint8(2), "consent=usage-analysis&consent=research")
	f.Add(uint8(3), "analytics=maybe&next=https://evil.example")
	f.Add(uint8(4), "action=preview&body=%3Cscript%3Ealert(1)%3C%2Fscript%3E&summary=x&base=1")
	f.Add(uint8(5), "action=publish&body="+strings.Repeat("%5B", 3000)+"&summary=deep&base=1")
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		action := actions[int(which)%len(actions)]
		w := c.post(action, body)
		if w.Code >= 500 {
			t.Fatalf("POST %s %q: status %d", action, body, w.Code)
		}
		if loc := w.Header().Get("Location"); loc != "" && (!strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\")) {
			t.Fatalf("POST %s %q: redirect off the site to %q", action, body, loc)
		}
	})
}

// fuzzClient posts forms to a server as one signed-in user.
type fuzzClient struct {
	srv     http.Handler
	cookies []*http.Cookie
	token   string
}

// client signs in as email and takes the form token of the session.
func client(tb testing.TB, srv http.Handler, email string) *fuzzClient {
	tb.Helper()
	c := &fuzzClient{srv: srv}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/sign-in", nil))
	c.cookies = w.Result().Cookies()
	c.token = html.UnescapeString(csrfPattern.FindStringSubmatch(w.Body.String())[1])
	w = c.post("/sign-in", "email="+url.QueryEscape(email)+"&password="+url.QueryEscape(passphrase))
	if w.Code != http.StatusSeeOther {
		tb.Fatalf("sign in: %d", w.Code)
	}
	c.cookies = w.Result().Cookies()
	req := httptest.NewRequest(http.MethodGet, "/cookies", nil)
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	w = httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	m := csrfPattern.FindStringSubmatch(w.Body.String())
	if m == nil {
		tb.Fatal("no form token for the session")
	}
	c.token = html.UnescapeString(m[1])
	return c
}

func (c *fuzzClient) post(action, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, action, strings.NewReader(body+"&csrf_token="+url.QueryEscape(c.token)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	w := httptest.NewRecorder()
	c.srv.ServeHTTP(w, req)
	return w
}
