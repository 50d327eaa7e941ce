package web_test

import (
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

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
