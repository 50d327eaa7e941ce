package app_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/terms"
	"github.com/psims/psims/internal/usage"
)

func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	t.Parallel()
	e := dbtest.SQLite(t)
	cfg := config.Defaults()
	cfg.DataDir = filepath.Dir(e.SQLitePath)
	a, err := app.OpenServer(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()

	// A request whose handler is running: it waits for the rest of its body.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "email=a%40nhs.net&password=x"
	if _, err := io.WriteString(conn, "POST /sign-in HTTP/1.1\r\nHost: psims\r\nConnection: close\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\nemail="); err != nil {
		t.Fatal(err)
	}
	inFlight := regexp.MustCompile(`(?m)^psims_http_requests_in_flight (\d+)`)
	waitUntil(t, func() bool {
		// The scrape counts itself, so 2 means the sign-in is being served.
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		m := inFlight.FindSubmatch(b)
		return m != nil && string(m[1]) == "2"
	})

	stop()
	waitUntil(t, func() bool {
		// Shutdown closes the listener first.
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case err := <-done:
		t.Fatalf("serve returned (%v) with a request still in flight", err)
	default:
	}

	if _, err := io.WriteString(conn, strings.TrimPrefix(body, "email=")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the request in flight got no answer: %v", err)
	}
	resp.Body.Close()
	// The form has no token, so the answer is the "form expired" page: what
	// matters is that the request in flight was answered.
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d", resp.StatusCode)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return after the last request finished")
	}
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	// Long enough for a background job to get its turn when the whole
	// test suite loads the machine (10 s was not, on 7 December 2026).
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMetricsCanHaveAnAddressOfTheirOwn: with --metrics-addr, /metrics is
// served there and the service's own address answers it with 404.
func TestMetricsCanHaveAnAddressOfTheirOwn(t *testing.T) {
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := free.Addr().String()
	free.Close()
	site := apptest.Start(t, dbtest.SQLite(t), func(c *config.Config) { c.MetricsAddr = metricsAddr })
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var code int
	var body string
	waitUntil(t, func() bool {
		resp, err := http.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	if code, body = get("http://" + metricsAddr + "/metrics"); code != http.StatusOK || !strings.Contains(body, "psims_http_requests_in_flight") {
		t.Fatalf("metrics on their own address: %d", code)
	}
	if code, _ = get(site.URL + "/metrics"); code != http.StatusNotFound {
		t.Fatalf("metrics on the service's address: %d, want 404", code)
	}
}

// T9, P2, P4: every request of a signed-in person becomes a usage event,
// written off the request's path: the route pattern (not the address),
// the status, the person and organisation, a hash of the session that is
// neither its token nor the sessions table's key, the client's address
// and the browser's family and major version. A visitor who is not signed
// in is not recorded.
func TestSignedInRequestsAreRecordedAsUsage(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			ctx := context.Background()
			const email = "usage.reporter@nhs.net"
			u := activeReporter(t, site, email, "Usage Reporter")
			res, err := site.App.Accounts.SignIn(ctx, email, usagePassword, account.Client{IP: "127.0.0.1"})
			if err != nil || res.Outcome != account.OutcomeSuccess {
				t.Fatalf("sign in: %v %+v", err, res)
			}
			get := func(path string, signedIn bool) {
				req, err := http.NewRequest(http.MethodGet, site.URL+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
				if signedIn {
					req.AddCookie(&http.Cookie{Name: "psims_session", Value: res.Session.Token})
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				// Read to the end, so the connection is used again and the
				// next request waits for this one to finish (its usage
				// event is recorded when the handler returns): closing it
				// unread opens another connection, and the two may be
				// recorded in either order.
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			get("/sign-in", false)
			get("/?from=secret-query", true)
			get("/no-such-page/PSE-7K2M-9QXH", true)

			d := site.App.DB
			waitUntil(t, func() bool {
				var n int
				return d.QueryRowContext(ctx, `SELECT COUNT(*) FROM usage_events`).Scan(&n) == nil && n >= 2
			})
			rows, err := d.QueryContext(ctx, `SELECT route, status, user_id, org_ods, session_hash, ip, browser, browser_major, kind
				FROM usage_events ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []string
			for rows.Next() {
				var route, org, session, ip, browser, kind string
				var status, major int
				var userID int64
				if err := rows.Scan(&route, &status, &userID, &org, &session, &ip, &browser, &major, &kind); err != nil {
					t.Fatal(err)
				}
				if userID != u.ID || org != "RM1" || ip != "127.0.0.1" || browser != "Firefox" || major != 133 || kind != "page" {
					t.Errorf("row %s %d: user %d, org %s, ip %s, browser %s %d, kind %s", route, status, userID, org, ip, browser, major, kind)
				}
				if len(session) != 32 || strings.Contains(res.Session.Token, session) {
					t.Errorf("session hash %q", session)
				}
				var n int
				if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE token_hash = $1`, session).Scan(&n); err != nil || n != 0 {
					t.Errorf("the usage hash is a sessions key (%v, %d)", err, n)
				}
				got = append(got, route+" "+strconv.Itoa(status))
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			// An address no route has is served by the catch-all "/", with 404.
			want := []string{"GET /{$} 200", "/ 404"}
			if strings.Join(got, ", ") != strings.Join(want, ", ") {
				t.Fatalf("usage events %v, want %v", got, want)
			}
			// The metrics time what each recording added to its request,
			// two so far, and what writing them cost the database.
			resp, err := http.Get(site.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			metrics, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			written := regexp.MustCompile(`(?m)^psims_usage_write_seconds_total (\S+)$`).FindSubmatch(metrics)
			if !regexp.MustCompile(`(?m)^psims_usage_record_seconds_count 2$`).Match(metrics) ||
				written == nil || string(written[1]) == "0" {
				t.Fatalf("usage metrics:\n%s", metrics)
			}
		})
	}
}

// T9, P2: a sign-in through the form is a usage event of its own kind,
// in the session it starts; a wrong password is not.
func TestSignInsAreRecordedAsUsage(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			ctx := context.Background()
			const email = "usage.signin@nhs.net"
			u := activeReporter(t, site, email, "Usage Signin")
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			signIn := func(password string, want int) {
				resp, err := c.Get(site.URL + "/sign-in")
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(body)
				if m == nil {
					t.Fatal("no form token on /sign-in")
				}
				resp, err = c.PostForm(site.URL+"/sign-in", url.Values{"email": {email}, "password": {password}, "csrf_token": {string(m[1])}})
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Fatalf("sign in with %q: %d, want %d", password, resp.StatusCode, want)
				}
			}
			signIn("not the password at all", http.StatusUnauthorized)
			signIn(usagePassword, http.StatusSeeOther)
			var session string
			for _, ck := range jar.Cookies(&url.URL{Scheme: "http", Host: strings.TrimPrefix(site.URL, "http://")}) {
				if ck.Name == "psims_session" {
					session = ck.Value
				}
			}
			d := site.App.DB
			waitUntil(t, func() bool {
				var n int
				return d.QueryRowContext(ctx, `SELECT COUNT(*) FROM usage_events WHERE kind = 'sign-in'`).Scan(&n) == nil && n >= 1
			})
			// Give a wrongly recorded failure time to arrive too.
			time.Sleep(1500 * time.Millisecond)
			var n int
			var userID int64
			var route, hash string
			if err := d.QueryRowContext(ctx, `SELECT COUNT(*), MIN(user_id), MIN(route), MIN(session_hash) FROM usage_events
				WHERE kind = 'sign-in'`).Scan(&n, &userID, &route, &hash); err != nil {
				t.Fatal(err)
			}
			if n != 1 || userID != u.ID || route != "POST /sign-in" || session == "" || len(hash) != 32 || strings.Contains(session, hash) {
				t.Errorf("sign-in events: %d, user %d (want %d), route %q, hash %q", n, userID, u.ID, route, hash)
			}
		})
	}
}

// P4: the privacy policy published on a new database says how long IP
// addresses are kept whole, as configured, not a placeholder.
func TestDefaultPrivacyPolicyStatesTheConfiguredIPRetention(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			cfg := config.Defaults()
			cfg.DataDir = filepath.Dir(e.SQLitePath)
			cfg.Database = e.Database
			cfg.UsageIPRetention = usage.Retention{Days: 45}
			a, err := app.Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			doc, err := a.Terms.Current(context.Background(), terms.Privacy)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(doc.Body, "After 45 days, we remove the last part of the IP address") || strings.Contains(doc.Body, "[IP retention period]") {
				t.Fatalf("the default privacy policy does not state 45 days:\n%s", doc.Body)
			}
		})
	}
}

// usagePassword is the password of the people the usage tests create.
const usagePassword = "orange glacier pencil harvest"

// activeReporter creates an active reporter of RM1 with usagePassword who
// has accepted the terms.
func activeReporter(t *testing.T, site *apptest.Site, email, name string) account.User {
	t.Helper()
	u, err := site.App.Accounts.Create(context.Background(), account.NewUser{Email: email, Name: name, JobRole: "Nurse",
		OrgCode: "RM1", Role: account.RoleReporter, Password: usagePassword})
	if err != nil {
		t.Fatal(err)
	}
	site.AcceptTerms(t, email)
	return u
}
