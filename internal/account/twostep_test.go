package account_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// totpCode computes the code of a base32 secret at a time as RFC 6238
// says (HMAC-SHA1, 30-second steps, 6 digits), written here from the RFC
// rather than with the library the service uses, so that the two check
// each other.
func totpCode(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(secret))
	if err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	return hotpCode(key, uint64(at.Unix()/30), 6)
}

func hotpCode(key []byte, counter uint64, digits int) string {
	mac := hmac.New(sha1.New, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

func TestTheTestsTOTPMatchesTheRFCVectors(t *testing.T) {
	key := []byte("12345678901234567890") // RFC 6238 appendix B, SHA1
	for _, v := range []struct {
		unix int64
		want string
	}{{59, "94287082"}, {1111111109, "07081804"}, {1234567890, "89005924"}, {2000000000, "69279037"}} {
		if got := hotpCode(key, uint64(v.unix/30), 8); got != v.want {
			t.Errorf("T=%d: %s, want %s", v.unix, got, v.want)
		}
	}
}

// admin makes an active org admin, whose role needs two-step verification
// by default, and signs them in with their password.
func (f *fixture) admin(t testing.TB, email string) (account.User, account.SignInResult) {
	t.Helper()
	ctx := context.Background()
	u, err := f.svc.Create(ctx, account.NewUser{Email: email, Name: "Sam Patel", JobRole: "Patient safety lead", OrgCode: "RM1",
		Role: account.RoleOrgAdmin, Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	return u, f.signIn(t, email)
}

func (f *fixture) signIn(t testing.TB, email string) account.SignInResult {
	t.Helper()
	res, err := f.svc.SignIn(context.Background(), email, goodPassword, account.Client{IP: "192.0.2.7", UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// authenticated is the user and session of a token, as a request sees them.
func (f *fixture) authenticated(t testing.TB, token string) (account.User, account.Session) {
	t.Helper()
	u, sess, err := f.svc.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	sess.Token = token
	return u, sess
}

// enrol sets up an authenticator app for the signed-in admin and returns
// its secret and recovery codes.
func (f *fixture) enrol(t testing.TB, token string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	u, sess := f.authenticated(t, token)
	setup, err := f.svc.StartTOTP(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	codes, _, err := f.svc.ConfirmTOTP(ctx, u, sess, totpCode(t, setup.Secret, f.clock.Now()), account.Client{})
	if err != nil {
		t.Fatal(err)
	}
	return setup.Secret, codes
}

func fieldMessage(err error, field string) string {
	var fields apperr.Fields
	if errors.As(err, &fields) {
		for _, fe := range fields {
			if fe.Field == field {
				return fe.Message
			}
		}
	}
	return ""
}

func (f *fixture) mailed(t testing.TB, to, subject string) bool {
	t.Helper()
	entries, err := f.outbox.List(context.Background(), to, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range entries {
		if strings.Contains(m.Subject, subject) {
			return true
		}
	}
	return false
}

func auditActions(t testing.TB, d *db.DB, userID int64) map[string]audit.Row {
	t.Helper()
	rows, err := audit.List(context.Background(), d, "user", fmt.Sprint(userID), 200)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]audit.Row{}
	for _, r := range rows {
		seen[r.Action] = r
	}
	return seen
}

var recoveryCodeShape = regexp.MustCompile(`^[a-hj-km-np-z2-9]{5}-[a-hj-km-np-z2-9]{5}$`)

func TestSettingUpAnAppTakesAFirstCodeAndGivesTenRecoveryCodes(t *testing.T) { // T3
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u, res := f.admin(t, "setup@nhs.net")
		if res.Step != account.StepEnrol {
			t.Fatalf("an org admin without an app: step %v, want StepEnrol", res.Step)
		}
		setup, err := f.svc.StartTOTP(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(setup.URL, "otpauth://totp/") || !strings.Contains(setup.URL, "secret="+setup.Secret) {
			t.Fatalf("setup address %q", setup.URL)
		}
		again, err := f.svc.PendingTOTP(ctx, u)
		if err != nil || again != setup {
			t.Fatalf("pending setup = %+v, %v; want %+v", again, err, setup)
		}
		_, sess := f.authenticated(t, res.Session.Token)

		wrong := totpCode(t, setup.Secret, f.clock.Now().Add(5*time.Minute))
		if _, _, err := f.svc.ConfirmTOTP(ctx, u, sess, wrong, account.Client{}); fieldMessage(err, "code") == "" {
			t.Fatalf("a wrong first code: %v, want a message on the code", err)
		}
		if _, _, err := f.svc.ConfirmTOTP(ctx, u, sess, "12345", account.Client{}); fieldMessage(err, "code") == "" {
			t.Fatalf("five digits: %v, want a message on the code", err)
		}
		codes, confirmed, err := f.svc.ConfirmTOTP(ctx, u, sess, totpCode(t, setup.Secret, f.clock.Now()), account.Client{IP: "192.0.2.7"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Authenticate(ctx, res.Session.Token); err == nil {
			t.Error("the token from before the app was set up still works")
		}
		res.Session.Token = confirmed.Token
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes, want 10", len(codes))
		}
		distinct := map[string]bool{}
		for _, c := range codes {
			if !recoveryCodeShape.MatchString(c) {
				t.Errorf("recovery code %q has the wrong shape", c)
			}
			distinct[c] = true
		}
		if len(distinct) != 10 {
			t.Errorf("recovery codes repeat: %v", codes)
		}

		// This session gave the code, so it has passed; the next sign-in
		// asks for one.
		u2, sess2 := f.authenticated(t, res.Session.Token)
		if step := f.svc.SecondStepFor(u2, sess2); step != account.StepDone {
			t.Errorf("the session that set up the app: step %v, want StepDone", step)
		}
		if res := f.signIn(t, "setup@nhs.net"); res.Step != account.StepVerify {
			t.Errorf("the next sign-in: step %v, want StepVerify", res.Step)
		}
		if _, err := f.svc.StartTOTP(ctx, u); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("setting up a second app over the first: %v, want Conflict", err)
		}
		st, err := f.svc.TwoStep(ctx, u)
		if err != nil || !st.On || st.RecoveryLeft != 10 || !st.Required {
			t.Errorf("status = %+v, %v", st, err)
		}
		pd, err := f.svc.PersonalData(ctx, u.ID)
		if err != nil || pd.TwoStep.AppSetUpAt == nil || pd.TwoStep.RecoveryCodesLeft != 10 { // P15
			t.Errorf("personal data's two-step record = %+v, %v", pd.TwoStep, err)
		}
		if !f.mailed(t, "setup@nhs.net", "Two-step verification is on") {
			t.Error("no email saying two-step verification is on")
		}
		if _, ok := auditActions(t, d, u.ID)["account.two_step_on"]; !ok {
			t.Error("no account.two_step_on audit entry")
		}

		// Neither the secret nor any recovery code is stored as it is.
		var sealed []byte
		if err := d.QueryRowContext(ctx, `SELECT sealed FROM totp_factors WHERE user_id = $1`, u.ID).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		raw, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(setup.Secret)
		if bytes.Contains(sealed, []byte(setup.Secret)) || bytes.Contains(sealed, raw) {
			t.Error("the authenticator secret is stored readable")
		}
		rows, err := d.QueryContext(ctx, `SELECT code_hash FROM recovery_codes WHERE user_id = $1`, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				t.Fatal(err)
			}
			for _, c := range codes {
				if strings.Contains(h, strings.ReplaceAll(c, "-", "")) {
					t.Errorf("recovery code %s stored as it is", c)
				}
			}
		}
	})
}

func TestACodeIsAcceptedOnlyOnceAndOnlyWithinOneStepOfNow(t *testing.T) { // T3
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u, res := f.admin(t, "replay@nhs.net")
		secret, _ := f.enrol(t, res.Session.Token)
		pass := func(code string) error {
			res := f.signIn(t, "replay@nhs.net")
			_, sess := f.authenticated(t, res.Session.Token)
			_, err := f.svc.PassSecondStep(ctx, u, sess, code, account.Client{})
			return err
		}
		now := f.clock.Now()
		if err := pass(totpCode(t, secret, now)); !strings.Contains(fieldMessage(err, "code"), "already been used") {
			t.Fatalf("the code used to set up, again: %v, want refused as used", err)
		}
		if err := pass(totpCode(t, secret, now.Add(-30*time.Second))); fieldMessage(err, "code") == "" {
			t.Fatalf("the step before the one used: %v, want refused", err)
		}
		if err := pass(totpCode(t, secret, now.Add(60*time.Second))); fieldMessage(err, "code") == "" {
			t.Fatalf("two steps ahead: %v, want refused", err)
		}
		// A clock a step fast is forgiven, once.
		ahead := totpCode(t, secret, now.Add(30*time.Second))
		if err := pass(ahead); err != nil {
			t.Fatalf("one step ahead: %v", err)
		}
		if err := pass(ahead); fieldMessage(err, "code") == "" {
			t.Fatalf("one step ahead, again: %v, want refused", err)
		}
		// Typed with spaces, or in fullwidth digits from a phone keyboard.
		f.clock.Advance(time.Minute)
		code := totpCode(t, secret, f.clock.Now())
		spaced := code[:3] + " " + code[3:]
		if err := pass(spaced); err != nil {
			t.Fatalf("%q: %v", spaced, err)
		}
		f.clock.Advance(30 * time.Second)
		var wide strings.Builder
		for _, r := range totpCode(t, secret, f.clock.Now()) {
			wide.WriteRune(r - '0' + '０')
		}
		if err := pass(wide.String()); err != nil {
			t.Fatalf("fullwidth %q: %v", wide.String(), err)
		}
	})
}

func TestTwoRequestsWithOneCodeGetOneSessionThrough(t *testing.T) { // T3
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u, res := f.admin(t, "race@nhs.net")
		secret, _ := f.enrol(t, res.Session.Token)
		f.clock.Advance(30 * time.Second)
		code := totpCode(t, secret, f.clock.Now())
		const n = 6
		sessions := make([]account.Session, n)
		for i := range sessions {
			_, sessions[i] = f.authenticated(t, f.signIn(t, "race@nhs.net").Session.Token)
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { _, errs[i] = f.svc.PassSecondStep(ctx, u, sessions[i], code, account.Client{}) })
		}
		wg.Wait()
		passed := 0
		for _, err := range errs {
			if err == nil {
				passed++
			} else if fieldMessage(err, "code") == "" {
				t.Errorf("unexpected error: %v", err)
			}
		}
		if passed != 1 {
			t.Fatalf("%d sessions passed with one code, want 1", passed)
		}
	})
}

func TestRecoveryCodesWorkOnceEachAndTellTheOwner(t *testing.T) { // T3
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u, res := f.admin(t, "recovery@nhs.net")
		_, codes := f.enrol(t, res.Session.Token)
		next := f.signIn(t, "recovery@nhs.net")
		_, sess := f.authenticated(t, next.Session.Token)
		typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))
		passed, err := f.svc.PassSecondStep(ctx, u, sess, typed, account.Client{})
		if err != nil {
			t.Fatalf("recovery code typed as %q: %v", typed, err)
		}
		if passed.Token == next.Session.Token || passed.Token == "" {
			t.Error("passing the second step kept the session's token")
		}
		if _, _, err := f.svc.Authenticate(ctx, next.Session.Token); err == nil {
			t.Error("the token from before the second step still works")
		}
		u2, sess2 := f.authenticated(t, passed.Token)
		if step := f.svc.SecondStepFor(u2, sess2); step != account.StepDone || sess2.SecondFactor != "recovery" {
			t.Errorf("after a recovery code: step %v, factor %q", step, sess2.SecondFactor)
		}
		if !f.mailed(t, "recovery@nhs.net", "A recovery code was used") {
			t.Error("no email about the recovery code")
		}
		again := f.signIn(t, "recovery@nhs.net")
		_, sess3 := f.authenticated(t, again.Session.Token)
		if _, err := f.svc.PassSecondStep(ctx, u, sess3, codes[3], account.Client{}); fieldMessage(err, "code") == "" {
			t.Fatalf("a spent recovery code: %v, want refused", err)
		}
		if st, _ := f.svc.TwoStep(ctx, u); st.RecoveryLeft != 9 {
			t.Errorf("%d recovery codes left, want 9", st.RecoveryLeft)
		}
		fresh, err := f.svc.NewRecoveryCodes(ctx, u, account.Client{})
		if err != nil || len(fresh) != 10 {
			t.Fatalf("new codes: %v, %v", fresh, err)
		}
		if _, err := f.svc.PassSecondStep(ctx, u, sess3, codes[4], account.Client{}); fieldMessage(err, "code") == "" {
			t.Fatalf("a code replaced by new ones: %v, want refused", err)
		}
		if _, err := f.svc.PassSecondStep(ctx, u, sess3, fresh[0], account.Client{}); err != nil {
			t.Fatalf("a new code: %v", err)
		}
	})
}

func TestWrongCodesLockTheAccountAsWrongPasswordsDo(t *testing.T) { // T3
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u, res := f.admin(t, "lock@nhs.net")
		secret, _ := f.enrol(t, res.Session.Token)
		next := f.signIn(t, "lock@nhs.net")
		_, sess := f.authenticated(t, next.Session.Token)
		f.clock.Advance(30 * time.Second)
		right := totpCode(t, secret, f.clock.Now())
		wrong := fmt.Sprintf("%06d", (atoi(right)+1)%1_000_000)
		for i := range f.settings.LockoutThreshold {
			if _, err := f.svc.PassSecondStep(ctx, u, sess, wrong, account.Client{}); fieldMessage(err, "code") == "" {
				t.Fatalf("wrong code %d: %v", i+1, err)
			}
		}
		if _, err := f.svc.PassSecondStep(ctx, u, sess, right, account.Client{}); !errors.Is(err, account.ErrSignInFailed) {
			t.Fatalf("the right code on a locked account: %v, want refused as locked", err)
		}
		if _, err := f.svc.SignIn(ctx, "lock@nhs.net", goodPassword, account.Client{}); !errors.Is(err, account.ErrSignInFailed) {
			t.Fatalf("the right password on a locked account: %v, want refused", err)
		}
		if !f.mailed(t, "lock@nhs.net", "locked") {
			t.Error("no email about the lock")
		}
		if _, ok := auditActions(t, d, u.ID)["account.lockout"]; !ok {
			t.Error("no account.lockout audit entry")
		}
		f.clock.Advance(f.settings.LockoutDuration + time.Second)
		after := f.signIn(t, "lock@nhs.net")
		_, sess = f.authenticated(t, after.Session.Token)
		if _, err := f.svc.PassSecondStep(ctx, u, sess, totpCode(t, secret, f.clock.Now()), account.Client{}); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
	})
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

func TestTurningTwoStepOffNeedsACodeAndIsRefusedWhereTheRoleNeedsIt(t *testing.T) { // T3
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		admin, res := f.admin(t, "keep@nhs.net")
		secret, _ := f.enrol(t, res.Session.Token)
		f.clock.Advance(30 * time.Second)
		if err := f.svc.TurnOffTwoStep(ctx, admin, totpCode(t, secret, f.clock.Now()), account.Client{}); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("an org admin turning it off: %v, want Forbidden", err)
		}

		reporter, err := f.svc.Create(ctx, account.NewUser{Email: "choice@nhs.net", Name: "Jo Reed", OrgCode: "RM1",
			Role: account.RoleReporter, Password: goodPassword})
		if err != nil {
			t.Fatal(err)
		}
		first := f.signIn(t, "choice@nhs.net")
		if first.Step != account.StepDone {
			t.Fatalf("a reporter without an app: step %v, want StepDone", first.Step)
		}
		secret, _ = f.enrol(t, first.Session.Token)
		if err := f.svc.TurnOffTwoStep(ctx, reporter, "000000", account.Client{}); fieldMessage(err, "code") == "" && totpCode(t, secret, f.clock.Now()) != "000000" {
			t.Fatalf("turning off with a wrong code: %v, want refused", err)
		}
		f.clock.Advance(30 * time.Second)
		if err := f.svc.TurnOffTwoStep(ctx, reporter, totpCode(t, secret, f.clock.Now()), account.Client{}); err != nil {
			t.Fatal(err)
		}
		if st, _ := f.svc.TwoStep(ctx, reporter); st.On {
			t.Error("still on after turning off")
		}
		if res := f.signIn(t, "choice@nhs.net"); res.Step != account.StepDone {
			t.Errorf("signing in after turning off: step %v", res.Step)
		}
		if !f.mailed(t, "choice@nhs.net", "Two-step verification is off") {
			t.Error("no email saying it is off")
		}
	})
}

func TestAnAdminResetRemovesTheAppEndsSessionsAndIsAuditedAndEmailed(t *testing.T) { // T3, T13
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u, res := f.admin(t, "lost@nhs.net")
		f.enrol(t, res.Session.Token)
		if err := f.svc.ResetTwoStep(ctx, 99, u, "  ", account.Client{}); fieldMessage(err, "reason") == "" {
			t.Fatalf("no reason: %v, want a message on the reason", err)
		}
		if err := f.svc.ResetTwoStep(ctx, 99, u, "Lost phone; checked by a video call", account.Client{IP: "192.0.2.9"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Authenticate(ctx, res.Session.Token); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Errorf("their session after the reset: %v, want ended", err)
		}
		if st, _ := f.svc.TwoStep(ctx, u); st.On || st.RecoveryLeft != 0 {
			t.Errorf("status after the reset: %+v", st)
		}
		if next := f.signIn(t, "lost@nhs.net"); next.Step != account.StepEnrol {
			t.Errorf("signing in after the reset: step %v, want StepEnrol", next.Step)
		}
		row, ok := auditActions(t, d, u.ID)["account.two_step_reset"]
		if !ok || row.ActorID != 99 || row.Details["reason"] != "Lost phone; checked by a video call" {
			t.Errorf("audit entry %+v (found %v)", row, ok)
		}
		if !f.mailed(t, "lost@nhs.net", "two-step verification has been reset") {
			t.Error("no email about the reset")
		}
	})
}

func TestPrivilegedSessionsEndSooner(t *testing.T) { // T3
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		_, res := f.admin(t, "short@nhs.net")
		if _, err := f.svc.Create(ctx, account.NewUser{Email: "long@nhs.net", Name: "Jo Reed", OrgCode: "RM1",
			Role: account.RoleReporter, Password: goodPassword}); err != nil {
			t.Fatal(err)
		}
		reporter := f.signIn(t, "long@nhs.net")
		_, adminSess := f.authenticated(t, res.Session.Token)
		if adminSess.Idle != f.settings.PrivilegedIdle || f.settings.PrivilegedIdle >= f.settings.SessionIdle {
			t.Fatalf("admin idle %s, privileged %s, everyone %s", adminSess.Idle, f.settings.PrivilegedIdle, f.settings.SessionIdle)
		}
		f.clock.Advance(f.settings.PrivilegedIdle + time.Second)
		if _, _, err := f.svc.Authenticate(ctx, res.Session.Token); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Errorf("an admin's session idle past %s: %v, want ended", f.settings.PrivilegedIdle, err)
		}
		if _, _, err := f.svc.Authenticate(ctx, reporter.Session.Token); err != nil {
			t.Errorf("a reporter's session idle %s: %v, want alive", f.settings.PrivilegedIdle, err)
		}
	})
}

func TestARememberedBrowserStandsInForTheSecondStepFor30Days(t *testing.T) { // T3
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u, res := f.admin(t, "remember@nhs.net")
		secret, _ := f.enrol(t, res.Session.Token)
		browser := account.Client{IP: "192.0.2.7", UserAgent: "Firefox"}
		_, fresh := f.authenticated(t, f.signIn(t, "remember@nhs.net").Session.Token)
		if _, err := f.svc.RememberDevice(ctx, u, fresh, browser); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("remembering a browser before the second step: %v, want Forbidden", err)
		}
		f.clock.Advance(30 * time.Second)
		passed, err := f.svc.PassSecondStep(ctx, u, fresh, totpCode(t, secret, f.clock.Now()), browser)
		if err != nil {
			t.Fatal(err)
		}
		token, err := f.svc.RememberDevice(ctx, u, passed, browser)
		if err != nil {
			t.Fatal(err)
		}
		signInFrom := func(c account.Client) account.SignInResult {
			t.Helper()
			res, err := f.svc.SignIn(ctx, "remember@nhs.net", goodPassword, c)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		browser.DeviceToken = token
		if res := signInFrom(browser); res.Step != account.StepDone || res.Session.SecondFactor != "remembered" {
			t.Errorf("from the remembered browser: step %v, factor %q; want no second step", res.Step, res.Session.SecondFactor)
		}
		if res := signInFrom(account.Client{DeviceToken: "not-the-token"}); res.Step != account.StepVerify {
			t.Errorf("with a made-up token: step %v, want StepVerify", res.Step)
		}
		other, otherRes := f.admin(t, "other@nhs.net")
		f.enrol(t, otherRes.Session.Token)
		if res, err := f.svc.SignIn(ctx, other.Email, goodPassword, browser); err != nil || res.Step != account.StepVerify {
			t.Errorf("someone else from the remembered browser: step %v (%v), want StepVerify", res.Step, err)
		}
		devices, err := f.svc.Devices(ctx, u.ID)
		if err != nil || len(devices) != 1 || devices[0].UserAgent != "Firefox" {
			t.Fatalf("devices = %+v, %v", devices, err)
		}

		f.clock.Advance(account.RememberFor)
		if res := signInFrom(browser); res.Step != account.StepVerify {
			t.Errorf("30 days on: step %v, want StepVerify", res.Step)
		}

		// Forgetting it, or signing out everywhere, takes it back.
		f.clock.Advance(time.Minute)
		_, sess := f.authenticated(t, signInFrom(browser).Session.Token)
		passed, err = f.svc.PassSecondStep(ctx, u, sess, totpCode(t, secret, f.clock.Now()), browser)
		if err != nil {
			t.Fatal(err)
		}
		if browser.DeviceToken, err = f.svc.RememberDevice(ctx, u, passed, browser); err != nil {
			t.Fatal(err)
		}
		devices, _ = f.svc.Devices(ctx, u.ID)
		if err := f.svc.ForgetDevice(ctx, other.ID, devices[0].ID, account.Client{}); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("someone else forgetting it: %v, want NotFound", err)
		}
		if err := f.svc.ForgetDevice(ctx, u.ID, devices[0].ID, account.Client{}); err != nil {
			t.Fatal(err)
		}
		if res := signInFrom(browser); res.Step != account.StepVerify {
			t.Errorf("after forgetting it: step %v, want StepVerify", res.Step)
		}
		f.clock.Advance(30 * time.Second)
		_, sess = f.authenticated(t, signInFrom(browser).Session.Token)
		passed, err = f.svc.PassSecondStep(ctx, u, sess, totpCode(t, secret, f.clock.Now()), browser)
		if err != nil {
			t.Fatal(err)
		}
		if browser.DeviceToken, err = f.svc.RememberDevice(ctx, u, passed, browser); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SignOutEverywhere(ctx, u.ID, ""); err != nil {
			t.Fatal(err)
		}
		if res := signInFrom(browser); res.Step != account.StepVerify {
			t.Errorf("after signing out everywhere: step %v, want StepVerify", res.Step)
		}
		if pd, err := f.svc.PersonalData(ctx, u.ID); err != nil || pd.Devices == nil { // P15
			t.Errorf("personal data's remembered browsers: %+v, %v", pd.Devices, err)
		}
	})
}
