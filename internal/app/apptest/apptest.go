// Package apptest runs the whole of PSIMS for tests: the real server on a
// free port of 127.0.0.1, with its background jobs, on a fresh database of
// the chosen engine.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/terms"
)

// Site is a running PSIMS.
type Site struct {
	App *app.App
	URL string // base URL, such as http://127.0.0.1:41234
	// Addr is where the server listens, as an http URL: the same as URL
	// unless the test configured another base URL (such as an https one
	// that only appears in links).
	Addr string
}

// Organisations are imported into every test site.
const Organisations = `ods_code,name,type,parent
QMM,NHS NORFOLK AND WAVENY INTEGRATED CARE BOARD,icb,
RM1,NORFOLK AND NORWICH UNIVERSITY HOSPITALS NHS FOUNDATION TRUST,trust,QMM
D82044,UNIVERSITY MEDICAL PARTNERSHIP,gp-practice,QMM
`

// Start runs PSIMS on the engine until the test ends. edit, when not nil,
// changes the configuration first (the defaults are those of psims serve,
// with quick password hashing unless edit sets otherwise, no per-IP limit
// that a test would trip by accident, and two-step verification required
// of no role, so that tests of other things sign admins in with a password
// alone; tests of two-step verification set cfg.TwoStepRoles).
func Start(tb testing.TB, e dbtest.Engine, edit func(*config.Config)) *Site {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.DataDir = tb.TempDir()
	if e.Database == "" {
		cfg.DataDir = filepath.Dir(e.SQLitePath)
	}
	cfg.Database = e.Database
	cfg.BaseURL = "http://" + ln.Addr().String()
	cfg.HashMemoryKiB, cfg.HashTime = 1024, 1
	cfg.SignInRate = 100000
	cfg.TwoStepRoles = nil
	if edit != nil {
		edit(&cfg)
	}
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewJSONHandler(testWriter{tb}, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.OpenServer(ctx, cfg, logger)
	if err != nil {
		cancel()
		tb.Fatalf("open: %v", err)
	}
	if _, err := a.Orgs.Import(ctx, strings.NewReader(Organisations)); err != nil {
		cancel()
		tb.Fatalf("import organisations: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			tb.Errorf("server did not stop within 30s")
		}
		a.Close()
	})
	return &Site{App: a, URL: cfg.BaseURL, Addr: "http://" + ln.Addr().String()}
}

type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

var linkPattern = regexp.MustCompile(`https?://[^\s"<>]+`)

// LatestLink returns the first link in the newest email to the address
// whose subject contains subject, as the outbox holds it, waiting up to five
// seconds for it to be queued.
func (s *Site) LatestLink(tb testing.TB, to, subject string) string {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		entries, err := s.App.Outbox.List(context.Background(), to, 20)
		if err != nil {
			tb.Fatal(err)
		}
		for _, m := range entries {
			if strings.Contains(m.Subject, subject) {
				if link := linkPattern.FindString(m.Text); link != "" {
					return link
				}
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no email to %s about %q with a link", to, subject)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// AcceptTerms records that the user with the email accepted the current
// terms of use and privacy policy, as tests about other things need: the
// service shows nothing else until they are accepted. It does nothing for
// an address without an account.
func (s *Site) AcceptTerms(tb testing.TB, email string) {
	tb.Helper()
	ctx := context.Background()
	u, err := s.App.Accounts.UserByEmail(ctx, email)
	if apperr.CodeOf(err) == apperr.NotFound {
		return
	}
	if err != nil {
		tb.Fatal(err)
	}
	versions := map[terms.Kind]int{}
	for _, k := range terms.AcceptedKinds() {
		d, err := s.App.Terms.Current(ctx, k)
		if err != nil {
			tb.Fatal(err)
		}
		versions[k] = d.Version
	}
	if err := s.App.Terms.Accept(ctx, u.ID, terms.Client{IP: "127.0.0.1", UserAgent: "apptest"}, versions); err != nil {
		tb.Fatal(err)
	}
}
