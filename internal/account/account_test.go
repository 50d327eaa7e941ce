package account_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/jobs"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/password"
)

const goodPassword = "correct horse battery staple lantern"

type fixture struct {
	d        *db.DB
	svc      *account.Service
	outbox   *mail.Outbox
	runner   *jobs.Runner
	clock    *clock
	settings account.Settings
}

// clock is a controllable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	if err := jobs.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	runner, err := jobs.New(d, logger, nil)
	if err != nil {
		t.Fatal(err)
	}
	orgs := org.NewStore(d)
	if _, err := orgs.Import(ctx, strings.NewReader("ods_code,name,type,parent\nRM1,NORFOLK AND NORWICH UNIVERSITY HOSPITALS NHS FOUNDATION TRUST,trust,\n")); err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	d.SetClock(c.Now)
	outbox := mail.NewOutbox(d, runner, logger)
	cfg := config.Defaults()
	cfg.BaseURL = "https://psims.example"
	settings := cfg.AccountSettings()
	settings.SealKey = []byte("a test key of thirty-two bytes!!")
	hasher := password.NewHasher(password.Params{MemoryKiB: 1024, Time: 1, Threads: 1}, 4)
	svc := account.NewService(d, hasher, password.NewPolicy(), orgs, outbox, runner, settings)
	return &fixture{d: d, svc: svc, outbox: outbox, runner: runner, clock: c, settings: settings}
}

func (f *fixture) register(t testing.TB, email string) {
	t.Helper()
	err := f.svc.Register(context.Background(), account.Registration{
		Name: "Alex Morgan", JobRole: "Staff nurse", OrgCode: "RM1", Email: email,
		Password: goodPassword, ConfirmPassword: goodPassword,
	}, "192.0.2.10")
	if err != nil {
		t.Fatalf("register: %v", err)
	}
}

var tokenPattern = regexp.MustCompile(`token=([A-Za-z0-9_%-]+)`)

// token returns the token of the newest link mailed to the address about subject.
func (f *fixture) token(t testing.TB, to, subject string) string {
	t.Helper()
	entries, err := f.outbox.List(context.Background(), to, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range entries {
		if strings.Contains(m.Subject, subject) {
			if sm := tokenPattern.FindStringSubmatch(m.Text); sm != nil {
				tok, err := url.QueryUnescape(sm[1])
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
		}
	}
	t.Fatalf("no email to %s about %q with a link", to, subject)
	return ""
}

func (f *fixture) activeUser(t testing.TB, email string) {
	t.Helper()
	f.register(t, email)
	if _, err := f.svc.VerifyEmail(context.Background(), f.token(t, email, "Confirm"), ""); err != nil {
		t.Fatal(err)
	}
}

func TestRegistrationCollectsOnlyNameRoleOrganisationAndEmail(t *testing.T) { // P1
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.register(t, "Alex.Morgan@NHS.net")
		u, err := f.svc.UserByEmail(context.Background(), "alex.morgan@nhs.net")
		if err != nil {
			t.Fatal(err)
		}
		if u.Name != "Alex Morgan" || u.JobRole != "Staff nurse" || u.OrgCode != "RM1" || u.Status != account.StatusUnverified || u.Role != account.RoleReporter {
			t.Fatalf("user = %+v", u)
		}
	})
}

func TestRegistrationReportsEveryProblemInFormOrder(t *testing.T) { // P1
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		err := f.svc.Register(context.Background(), account.Registration{OrgCode: "ZZZ99", Email: "not an email", Password: "short"}, "")
		var fields apperr.Fields
		if !errors.As(err, &fields) {
			t.Fatalf("err = %v, want field errors", err)
		}
		var got []string
		for _, fe := range fields {
			got = append(got, fe.Field)
		}
		if want := "name job_role org email password"; strings.Join(got, " ") != want {
			t.Fatalf("fields = %v, want %s", got, want)
		}
	})
}

func TestVerificationApprovesTrustedDomainsAndHoldsOthers(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.register(t, "trusted@nhs.net")
		u, err := f.svc.VerifyEmail(ctx, f.token(t, "trusted@nhs.net", "Confirm"), "")
		if err != nil || u.Status != account.StatusActive {
			t.Fatalf("nhs.net: status %s, err %v; want active", u.Status, err)
		}
		f.register(t, "someone@example.org")
		u, err = f.svc.VerifyEmail(ctx, f.token(t, "someone@example.org", "Confirm"), "")
		if err != nil || u.Status != account.StatusPending {
			t.Fatalf("example.org: status %s, err %v; want pending", u.Status, err)
		}
		if _, err := f.svc.Approve(ctx, "someone@example.org", 0); err != nil {
			t.Fatal(err)
		}
		res, err := f.svc.SignIn(ctx, "someone@example.org", goodPassword, account.Client{IP: "192.0.2.1"})
		if err != nil || res.Outcome != account.OutcomeSuccess {
			t.Fatalf("sign in after approval: %+v, %v", res.Outcome, err)
		}
	})
}

func TestVerificationLinksWorkOnceAndExpireAfter24Hours(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.register(t, "once@nhs.net")
		tok := f.token(t, "once@nhs.net", "Confirm")
		if _, err := f.svc.VerifyEmail(ctx, tok, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.VerifyEmail(ctx, tok, ""); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("second use: err = %v, want Invalid", err)
		}

		f.register(t, "late@nhs.net")
		tok = f.token(t, "late@nhs.net", "Confirm")
		f.clock.Advance(24*time.Hour + time.Second)
		if _, err := f.svc.VerifyEmail(ctx, tok, ""); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("expired link: err = %v, want Invalid", err)
		}
	})
}

func TestTokensAreStoredOnlyAsHashes(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.register(t, "hashes@nhs.net")
		tok := f.token(t, "hashes@nhs.net", "Confirm")
		var n int
		if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM user_tokens WHERE token_hash = $1`, tok).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatal("the raw token is stored in user_tokens")
		}
	})
}

func TestRegisteringATakenAddressChangesNothingAndTellsTheOwner(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.activeUser(t, "taken@nhs.net")
		err := f.svc.Register(ctx, account.Registration{Name: "Someone Else", JobRole: "Porter", OrgCode: "RM1",
			Email: "taken@nhs.net", Password: "another long passphrase for testing", ConfirmPassword: "another long passphrase for testing"}, "")
		if err != nil {
			t.Fatalf("registering a taken address must look like success, got %v", err)
		}
		u, err := f.svc.UserByEmail(ctx, "taken@nhs.net")
		if err != nil || u.Name != "Alex Morgan" {
			t.Fatalf("the existing account changed: %+v %v", u, err)
		}
		entries, err := f.outbox.List(ctx, "taken@nhs.net", 1)
		if err != nil || len(entries) != 1 || !strings.Contains(entries[0].Subject, "already") {
			t.Fatalf("newest email = %+v, %v; want the already-registered notice", entries, err)
		}
	})
}

func TestSignInGivesOneMessageForUnknownEmailAndWrongPassword(t *testing.T) { // T3
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.activeUser(t, "known@nhs.net")
		_, errUnknown := f.svc.SignIn(ctx, "unknown@nhs.net", goodPassword, account.Client{})
		_, errWrong := f.svc.SignIn(ctx, "known@nhs.net", "the wrong password entirely", account.Client{})
		if !errors.Is(errUnknown, account.ErrSignInFailed) || !errors.Is(errWrong, account.ErrSignInFailed) {
			t.Fatalf("unknown: %v; wrong: %v; want the same error", errUnknown, errWrong)
		}
	})
}

func TestParallelWrongPasswordsLockTheAccountCountingNoMoreThanTheLimit(t *testing.T) { // T3
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.activeUser(t, "target@nhs.net")
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				_, err := f.svc.SignIn(ctx, "target@nhs.net", "not the password at all", account.Client{IP: "198.51.100.7"})
				if !errors.Is(err, account.ErrSignInFailed) {
					t.Errorf("err = %v", err)
				}
			})
		}
		wg.Wait()
		var attempts int
		var locked *time.Time
		if err := d.QueryRowContext(ctx, `SELECT failed_attempts, locked_until FROM users WHERE email = 'target@nhs.net'`).Scan(&attempts, &locked); err != nil {
			t.Fatal(err)
		}
		if attempts != f.settings.LockoutThreshold {
			t.Fatalf("counted %d attempts, want exactly %d", attempts, f.settings.LockoutThreshold)
		}
		if locked == nil {
			t.Fatal("account is not locked")
		}
		// Even the right password is refused while locked.
		if _, err := f.svc.SignIn(ctx, "target@nhs.net", goodPassword, account.Client{}); !errors.Is(err, account.ErrSignInFailed) {
			t.Fatalf("right password while locked: err = %v", err)
		}
		rows, err := audit.List(ctx, d, "user", "", 200)
		if err != nil {
			t.Fatal(err)
		}
		lockouts := 0
		for _, r := range rows {
			if r.Action == "account.lockout" {
				lockouts++
			}
		}
		if lockouts != 1 {
			t.Fatalf("%d lockout audit entries, want 1", lockouts)
		}
		// After the lockout ends, the right password works again.
		f.clock.Advance(f.settings.LockoutDuration + time.Second)
		if res, err := f.svc.SignIn(ctx, "target@nhs.net", goodPassword, account.Client{}); err != nil || res.Outcome != account.OutcomeSuccess {
			t.Fatalf("after lockout: %v %v", res.Outcome, err)
		}
	})
}

func TestSessionsEndWhenIdleAndAtTheirAbsoluteLimit(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.activeUser(t, "sessions@nhs.net")
		signIn := func() string {
			res, err := f.svc.SignIn(ctx, "sessions@nhs.net", goodPassword, account.Client{IP: "192.0.2.2", UserAgent: "test"})
			if err != nil {
				t.Fatal(err)
			}
			return res.Session.Token
		}
		idle := signIn()
		f.clock.Advance(f.settings.SessionIdle - time.Minute)
		if _, _, err := f.svc.Authenticate(ctx, idle); err != nil {
			t.Fatalf("within the idle timeout: %v", err)
		}
		f.clock.Advance(f.settings.SessionIdle + time.Second)
		if _, _, err := f.svc.Authenticate(ctx, idle); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("after the idle timeout: err = %v", err)
		}

		busy := signIn()
		for elapsed := time.Duration(0); elapsed < f.settings.SessionAbsolute-20*time.Minute; elapsed += 20 * time.Minute {
			f.clock.Advance(20 * time.Minute)
			if _, _, err := f.svc.Authenticate(ctx, busy); err != nil {
				t.Fatalf("active session ended early after %s: %v", elapsed, err)
			}
		}
		f.clock.Advance(20 * time.Minute)
		if _, _, err := f.svc.Authenticate(ctx, busy); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("after the absolute limit: err = %v", err)
		}
	})
}

// TestAResetRequestDoesTheSameWorkForEveryAddress: asking for a reset link
// only queues a job, the same one write whether or not the address has an
// account, so the time the answer takes reveals nothing; the job sends the
// link to the account holder and nothing to anyone else. // T3
func TestAResetRequestDoesTheSameWorkForEveryAddress(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.activeUser(t, "known@nhs.net")
		count := func(table string) int {
			t.Helper()
			var n int
			if err := d.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := map[string]int{}
		tables := []string{"user_tokens", "audit_log", "outbox"}
		for _, tb := range tables {
			before[tb] = count(tb)
		}
		var args []account.ResetArgs
		for _, email := range []string{"known@nhs.net", "unknown@nhs.net"} {
			if err := f.svc.RequestReset(ctx, email, "192.0.2.7"); err != nil {
				t.Fatalf("%s: %v", email, err)
			}
			for _, tb := range tables {
				if n := count(tb); n != before[tb] {
					t.Fatalf("a reset request for %s wrote to %s before its job ran", email, tb)
				}
			}
			jobs, err := f.runner.Client().JobList(ctx, river.NewJobListParams().Kinds(account.ResetArgs{}.Kind()).OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(1))
			if err != nil || len(jobs.Jobs) != 1 {
				t.Fatalf("%s: no job queued: %v", email, err)
			}
			var a account.ResetArgs
			if err := json.Unmarshal(jobs.Jobs[0].EncodedArgs, &a); err != nil {
				t.Fatal(err)
			}
			if a.Email != email {
				t.Fatalf("job for %q, want %q", a.Email, email)
			}
			args = append(args, a)
		}
		for _, a := range args {
			if err := f.svc.SendResetLink(ctx, a.Email, a.IP); err != nil {
				t.Fatal(err)
			}
		}
		if f.token(t, "known@nhs.net", "Reset") == "" {
			t.Fatal("the account holder got no link")
		}
		if got, err := f.outbox.List(ctx, "unknown@nhs.net", 10); err != nil || len(got) != 0 {
			t.Fatalf("mail to an address without an account: %v %v", got, err)
		}
		if err := f.svc.RequestReset(ctx, "not an address", ""); !account.IsInvalid(err) {
			t.Fatalf("a malformed address: %v", err)
		}
	})
}

func TestPasswordResetIsSingleUseExpiresAndEndsEverySession(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.activeUser(t, "reset@nhs.net")
		res, err := f.svc.SignIn(ctx, "reset@nhs.net", goodPassword, account.Client{})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SendResetLink(ctx, "nobody@nhs.net", ""); err != nil {
			t.Fatalf("unknown address must look the same: %v", err)
		}
		if err := f.svc.SendResetLink(ctx, "reset@nhs.net", ""); err != nil {
			t.Fatal(err)
		}
		tok := f.token(t, "reset@nhs.net", "Reset")
		newPassword := "a completely new passphrase for alex"
		if err := f.svc.ResetPassword(ctx, tok, newPassword, newPassword, ""); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Authenticate(ctx, res.Session.Token); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("old session still works after reset: %v", err)
		}
		if err := f.svc.ResetPassword(ctx, tok, newPassword+" again", newPassword+" again", ""); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("second use: %v", err)
		}
		if _, err := f.svc.SignIn(ctx, "reset@nhs.net", newPassword, account.Client{}); err != nil {
			t.Fatalf("new password: %v", err)
		}

		if err := f.svc.SendResetLink(ctx, "reset@nhs.net", ""); err != nil {
			t.Fatal(err)
		}
		tok = f.token(t, "reset@nhs.net", "Reset")
		f.clock.Advance(time.Hour + time.Second)
		if err := f.svc.ResetPassword(ctx, tok, "yet another long passphrase here", "yet another long passphrase here", ""); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("expired reset link: %v", err)
		}
	})
}

func TestSignInRehashesWhenTheParametersChange(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.activeUser(t, "rehash@nhs.net")
		var before string
		if err := d.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE email = 'rehash@nhs.net'`).Scan(&before); err != nil {
			t.Fatal(err)
		}
		stronger := password.NewHasher(password.Params{MemoryKiB: 2048, Time: 2, Threads: 1}, 2)
		orgs := org.NewStore(d)
		svc := account.NewService(d, stronger, password.NewPolicy(), orgs, f.outbox, f.runner, f.settings)
		if _, err := svc.SignIn(ctx, "rehash@nhs.net", goodPassword, account.Client{}); err != nil {
			t.Fatal(err)
		}
		var after string
		if err := d.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE email = 'rehash@nhs.net'`).Scan(&after); err != nil {
			t.Fatal(err)
		}
		if after == before || !strings.Contains(after, "m=2048,t=2,p=1") {
			t.Fatalf("hash not upgraded: %s", after)
		}
	})
}

func TestEveryAccountEventIsAudited(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.register(t, "audit@example.org")
		if _, err := f.svc.VerifyEmail(ctx, f.token(t, "audit@example.org", "Confirm"), ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Approve(ctx, "audit@example.org", 0); err != nil {
			t.Fatal(err)
		}
		f.svc.SignIn(ctx, "audit@example.org", "wrong wrong wrong wrong", account.Client{})
		res, err := f.svc.SignIn(ctx, "audit@example.org", goodPassword, account.Client{})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SignOut(ctx, res.Session, ""); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SendResetLink(ctx, "audit@example.org", ""); err != nil {
			t.Fatal(err)
		}
		tok := f.token(t, "audit@example.org", "Reset")
		if err := f.svc.ResetPassword(ctx, tok, "brand new long passphrase here", "brand new long passphrase here", ""); err != nil {
			t.Fatal(err)
		}
		rows, err := audit.List(ctx, d, "user", "", 100)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, r := range rows {
			seen[r.Action] = true
		}
		for _, want := range []string{"account.register", "account.verify_email", "account.approve", "account.sign_in_failed",
			"account.sign_in", "account.sign_out", "account.password_reset_requested", "account.password_reset"} {
			if !seen[want] {
				t.Errorf("no %s audit entry", want)
			}
		}
		if _, problem, err := audit.Verify(ctx, d); err != nil || problem != nil {
			t.Fatalf("audit chain: %v %+v", err, problem)
		}
	})
}

func TestParallelRegistrationsOfOneAddressMakeOneAccountAndNoError(t *testing.T) { // P1
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				err := f.svc.Register(context.Background(), account.Registration{
					Name: "Alex Morgan", JobRole: "Staff nurse", OrgCode: "RM1", Email: "twice@nhs.net",
					Password: goodPassword, ConfirmPassword: goodPassword,
				}, "")
				if err != nil {
					t.Errorf("register: %v", err)
				}
			})
		}
		wg.Wait()
		var n int
		if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM users WHERE email = 'twice@nhs.net'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("%d accounts, want 1", n)
		}
	})
}

// TestTheSignInMessageStatesTheLockoutRulesInForce: the message shown for
// a failed sign-in and a wrong current password says the threshold and
// duration configured, not the defaults. // T3
func TestTheSignInMessageStatesTheLockoutRulesInForce(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.activeUser(t, "rules@nhs.net")
		settings := f.settings
		settings.LockoutThreshold, settings.LockoutDuration = 4, 2*time.Hour
		hasher := password.NewHasher(password.Params{MemoryKiB: 1024, Time: 1, Threads: 1}, 4)
		svc := account.NewService(d, hasher, password.NewPolicy(), org.NewStore(d), f.outbox, f.runner, settings)
		_, err := svc.SignIn(ctx, "rules@nhs.net", "not the password at all", account.Client{})
		if !errors.Is(err, account.ErrSignInFailed) || !strings.Contains(apperr.MessageOf(err), "After 4 wrong tries your account is locked for 2 hours") {
			t.Fatalf("sign-in message: %q", apperr.MessageOf(err))
		}
		_, err = f.svc.SignIn(ctx, "nobody@nhs.net", "not the password at all", account.Client{})
		if !strings.Contains(apperr.MessageOf(err), "After 10 wrong tries your account is locked for 15 minutes") {
			t.Fatalf("default sign-in message: %q", apperr.MessageOf(err))
		}
	})
}
