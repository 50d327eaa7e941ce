package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/password"
)

// siteOrganisation is imported into the in-process site; registrations and
// the bench accounts belong to it.
const (
	siteOrganisation = "ods_code,name,type,parent\nRM1,NORFOLK AND NORWICH UNIVERSITY HOSPITALS NHS FOUNDATION TRUST,trust,\n"
	siteOrgCode      = "RM1"
)

// benchPassword is the password of every account the bench creates and
// registers: long enough for the policy and made of unrelated words.
const benchPassword = "lamp orbit cactus river quartz"

// unlimitedRate is the per-IP sign-in limit of the in-process site: high
// enough that the bench measures hashing, not the limiter.
const unlimitedRate = 1 << 30

// credentials are an account to sign in to.
type credentials struct {
	Email    string
	Password string
	// TOTPSecret is the account's authenticator app secret, when the
	// sign-in is measured with two-step verification (--mfa), and
	// TOTPStep the last time step a code of it was used for.
	TOTPSecret string
	TOTPStep   int64
}

// site is PSIMS running in this process on 127.0.0.1 with its background
// jobs, on a scratch database.
type site struct {
	URL      string
	Engine   string        // sqlite or postgres
	Accounts []credentials // active accounts, one per sign-in worker
	App      *app.App      // the application, for measuring its parts directly
	close    func() error
}

// startSite runs PSIMS with the real server and jobs, using argon2id
// params, on database ("" for SQLite in a new temporary directory, or a
// postgres:// URL used as is: an empty scratch database or schema). It
// imports one organisation and creates accounts active reporter accounts
// with emails made from runID. Logs are discarded. Close the site with
// site.Close.
func startSite(ctx context.Context, database string, params password.Params, accounts int, mfa bool, runID string) (*site, error) {
	return startApp(ctx, database, params, func(ctx context.Context, a *app.App, s *site) error {
		if _, err := a.Orgs.Import(ctx, strings.NewReader(siteOrganisation)); err != nil {
			return fmt.Errorf("bench: import organisation: %w", err)
		}
		s.Accounts = make([]credentials, accounts)
		// Each account costs a password hash: made by every CPU at once.
		var wg sync.WaitGroup
		errs := make([]error, runtime.NumCPU())
		for w := range errs {
			wg.Go(func() {
				for i := w; i < accounts && errs[w] == nil; i += len(errs) {
					s.Accounts[i], errs[w] = makeAccount(ctx, a, fmt.Sprintf("bench-%s-signin-%d@example.invalid", runID, i), mfa)
				}
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	})
}

// makeAccount creates an active reporter's account and, with mfa, sets up
// its authenticator app.
func makeAccount(ctx context.Context, a *app.App, email string, mfa bool) (credentials, error) {
	c := credentials{Email: email, Password: benchPassword}
	u, err := a.Accounts.Create(ctx, account.NewUser{Email: c.Email, Name: "Bench Reporter", JobRole: "Nurse",
		OrgCode: siteOrgCode, Role: account.RoleReporter, Password: c.Password})
	if err != nil {
		return c, fmt.Errorf("bench: create account %s: %w", c.Email, err)
	}
	if !mfa {
		return c, nil
	}
	setup, err := a.Accounts.StartTOTP(ctx, u)
	if err != nil {
		return c, fmt.Errorf("bench: set up app of %s: %w", c.Email, err)
	}
	now := a.DB.Now()
	code, err := totp.GenerateCode(setup.Secret, now)
	if err != nil {
		return c, fmt.Errorf("bench: code of %s: %w", c.Email, err)
	}
	if _, _, err := a.Accounts.ConfirmTOTP(ctx, u, account.Session{}, code, account.Client{}); err != nil {
		return c, fmt.Errorf("bench: confirm app of %s: %w", c.Email, err)
	}
	c.TOTPSecret, c.TOTPStep = setup.Secret, now.Unix()/totpPeriod
	return c, nil
}

// startApp runs PSIMS as startSite says, calling prepare with the open
// application before the server starts, to fill the database.
func startApp(ctx context.Context, database string, params password.Params, prepare func(ctx context.Context, a *app.App, s *site) error) (*site, error) {
	dir, err := os.MkdirTemp("", "psims-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: temporary data dir: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("bench: listen: %w", err)
	}
	cfg := config.Defaults()
	cfg.DataDir = dir
	cfg.Database = database
	cfg.BaseURL = "http://" + ln.Addr().String()
	cfg.HashMemoryKiB, cfg.HashTime, cfg.HashThreads = params.MemoryKiB, params.Time, params.Threads
	cfg.SignInRate = unlimitedRate
	// The scenarios that sign admins in measure the pages behind the
	// sign-in, so no role is made to set up an app first; signing in with
	// a code is what bench signin --mfa measures.
	cfg.TwoStepRoles = nil
	// The API's per-key limit is measured as it works (a write a
	// request), at a rate the bench does not reach.
	cfg.APIRate = 1_000_000
	cfg.AutoApproveDomains = nil

	// cleanup undoes what has been done so far; it grows as startSite goes.
	cleanup := func() error {
		ln.Close()
		return os.RemoveAll(dir)
	}
	fail := func(err error) (*site, error) {
		return nil, errors.Join(err, cleanup())
	}

	serveCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a, err := app.OpenServer(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		return fail(fmt.Errorf("bench: open: %w", err))
	}
	closeApp := cleanup
	cleanup = func() error {
		cancel()
		return errors.Join(a.Close(), closeApp())
	}
	s := &site{URL: cfg.BaseURL, Engine: a.DB.Dialect().Name, App: a}
	if err := prepare(ctx, a, s); err != nil {
		return fail(err)
	}

	done := make(chan error, 1)
	go func() { done <- a.Serve(serveCtx, ln) }()
	s.close = func() error {
		cancel()
		var serveErr error
		select {
		case serveErr = <-done:
		case <-time.After(time.Minute):
			serveErr = errors.New("bench: server did not stop within a minute")
		}
		return errors.Join(serveErr, a.Close(), os.RemoveAll(dir))
	}
	return s, nil
}

// Close stops the server, closes the database and removes the temporary
// data directory.
func (s *site) Close() error { return s.close() }
