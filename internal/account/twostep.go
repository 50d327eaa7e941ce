package account

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/text/unicode/norm"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/textcheck"
)

// Two-step verification (T3): a code from an authenticator app (TOTP, RFC
// 6238) after the password, or one of ten single-use recovery codes.

// Second factors a session can have passed, as stored in
// sessions.second_factor.
const (
	factorNone     = ""
	factorTOTP     = "totp"
	factorRecovery = "recovery"
)

// TOTP parameters: what every authenticator app supports.
const (
	totpPeriod = 30 // seconds a code lasts
	totpDigits = otp.DigitsSix
	// totpSkew is how many steps either side of now a code is accepted
	// for, for clocks that are a little out.
	totpSkew = 1
	// recoveryCodeCount codes are made at a time.
	recoveryCodeCount = 10
	// totpIssuer names the service in authenticator apps.
	totpIssuer = "PSIMS"
)

// SecondStep is what a signed-in session still needs before its person may
// use the service.
type SecondStep int

const (
	// StepDone: nothing more is needed.
	StepDone SecondStep = iota
	// StepVerify: the account has an authenticator app, and this session
	// has not yet given a code from it (or a recovery code).
	StepVerify
	// StepEnrol: the account's role needs two-step verification and the
	// account has no authenticator app yet: the person must set one up.
	StepEnrol
)

// Privileged reports whether the role reaches beyond one person's own
// work, to other people's accounts or several organisations' events: such
// sessions end sooner (Settings.PrivilegedIdle and PrivilegedAbsolute).
func (r Role) Privileged() bool {
	return r == RoleOrgAdmin || r == RoleReadOnly || r == RoleNationalAdmin
}

// PrivilegedRoles are the roles Privileged reports, the default of
// --mfa-required-roles.
func PrivilegedRoles() []Role {
	var out []Role
	for _, r := range Roles() {
		if r.Privileged() {
			out = append(out, r)
		}
	}
	return out
}

// RequiresTwoStep reports whether accounts of the role must use two-step
// verification (Settings.TwoStepRoles).
func (s *Service) RequiresTwoStep(r Role) bool { return slices.Contains(s.settings.TwoStepRoles, r) }

// SecondStepFor says what the session of u still needs. u must come from
// Authenticate, which reads whether the account has an authenticator app.
func (s *Service) SecondStepFor(u User, sess Session) SecondStep {
	switch {
	case sess.SecondFactor != factorNone:
		return StepDone
	case u.TwoStep:
		return StepVerify
	case s.RequiresTwoStep(u.Role):
		return StepEnrol
	}
	return StepDone
}

// TwoStepStatus is what a person's security settings page shows.
type TwoStepStatus struct {
	On           bool
	Since        time.Time // when the app was confirmed
	RecoveryLeft int       // unused recovery codes
	Required     bool      // the account's role needs it, so it cannot be turned off
}

// TwoStep returns the two-step verification status of u.
func (s *Service) TwoStep(ctx context.Context, u User) (TwoStepStatus, error) {
	st := TwoStepStatus{Required: s.RequiresTwoStep(u.Role)}
	var since sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT confirmed_at,
			(SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL)
		FROM totp_factors WHERE user_id = $1`, u.ID).Scan(&since, &st.RecoveryLeft)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return TwoStepStatus{}, fmt.Errorf("account: two-step status: %w", err)
	}
	st.On = since.Valid
	if st.On {
		st.Since = since.Time
	} else {
		st.RecoveryLeft = 0
	}
	return st, nil
}

// TOTPSetup is an authenticator app being set up: the secret to type in,
// and the otpauth:// address a QR code carries.
type TOTPSetup struct {
	Secret string // base32, as authenticator apps take it
	URL    string
}

// SecretGroups is the secret in groups of four, easier to type.
func (t TOTPSetup) SecretGroups() string {
	var b strings.Builder
	for i, r := range t.Secret {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// errTwoStepOn refuses to set up a second app over a working one.
var errTwoStepOn = apperr.New(apperr.Conflict, "Two-step verification is already on. Turn it off first to use a different authenticator app.")

// StartTOTP makes a new secret for u's authenticator app, replacing any
// that was being set up and never confirmed. Errors: Conflict when an app
// is already confirmed.
func (s *Service) StartTOTP(ctx context.Context, u User) (TOTPSetup, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: u.Email, Period: totpPeriod,
		Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return TOTPSetup{}, fmt.Errorf("account: new totp secret: %w", err)
	}
	sealed, err := s.seal(u.ID, key.Secret())
	if err != nil {
		return TOTPSetup{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO totp_factors (user_id, sealed, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (user_id) DO UPDATE SET sealed = excluded.sealed, created_at = excluded.created_at, last_step = 0
			WHERE totp_factors.confirmed_at IS NULL`, u.ID, sealed, tx.Now)
		if err != nil {
			return fmt.Errorf("account: store totp secret: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errTwoStepOn
		}
		return nil
	})
	if err != nil {
		return TOTPSetup{}, err
	}
	return TOTPSetup{Secret: key.Secret(), URL: key.URL()}, nil
}

// PendingTOTP returns the app u is setting up. Errors: NotFound when none
// is, Conflict when it is already confirmed.
func (s *Service) PendingTOTP(ctx context.Context, u User) (TOTPSetup, error) {
	var sealed []byte
	var confirmed sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT sealed, confirmed_at FROM totp_factors WHERE user_id = $1`, u.ID).Scan(&sealed, &confirmed)
	if errors.Is(err, sql.ErrNoRows) {
		return TOTPSetup{}, apperr.New(apperr.NotFound, "Start setting up your authenticator app again.")
	}
	if err != nil {
		return TOTPSetup{}, fmt.Errorf("account: pending totp: %w", err)
	}
	if confirmed.Valid {
		return TOTPSetup{}, errTwoStepOn
	}
	secret, err := s.unseal(u.ID, sealed)
	if err != nil {
		return TOTPSetup{}, err
	}
	return setupOf(u.Email, secret)
}

// setupOf is the setup of a secret this package made: the otpauth://
// address names the service and the person's email, as the app lists it.
func setupOf(email, secret string) (TOTPSetup, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return TOTPSetup{}, fmt.Errorf("account: totp secret: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: email, Period: totpPeriod,
		Digits: totpDigits, Algorithm: otp.AlgorithmSHA1, Secret: raw})
	if err != nil {
		return TOTPSetup{}, fmt.Errorf("account: totp address: %w", err)
	}
	return TOTPSetup{Secret: key.Secret(), URL: key.URL()}, nil
}

// ConfirmTOTP checks the first code from the app u is setting up and, when
// it is right, turns two-step verification on: it makes ten recovery
// codes, returned here once and stored only as hashes, counts the session
// as having passed the second step (with a new token, returned with it, as
// at any change of privilege), and emails u. Errors: Invalid (field
// "code") for a code that is missing, malformed or wrong; NotFound when no
// app is being set up.
func (s *Service) ConfirmTOTP(ctx context.Context, u User, sess Session, code string, c Client) ([]string, Session, error) {
	digits, ok := totpDigitsOf(code)
	if !ok {
		return nil, Session{}, codeProblem(code)
	}
	var codes []string
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var sealed []byte
		var confirmed sql.NullTime
		err := tx.QueryRowContext(ctx, `SELECT sealed, confirmed_at FROM totp_factors WHERE user_id = $1`, u.ID).Scan(&sealed, &confirmed)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "Start setting up your authenticator app again.")
		}
		if err != nil {
			return fmt.Errorf("account: read totp secret: %w", err)
		}
		if confirmed.Valid {
			return errTwoStepOn
		}
		secret, err := s.unseal(u.ID, sealed)
		if err != nil {
			return err
		}
		step, ok, _ := matchStep(secret, digits, tx.Now, 0)
		if !ok {
			return fieldError("code", "The code is not right. Enter the 6-digit code your app shows now; if it keeps failing, check the time on your phone is set automatically")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE totp_factors SET confirmed_at = $2, last_step = $3 WHERE user_id = $1`, u.ID, tx.Now, step); err != nil {
			return fmt.Errorf("account: confirm totp: %w", err)
		}
		if codes, err = replaceRecoveryCodes(ctx, tx, u.ID); err != nil {
			return err
		}
		if sess.hash != "" { // an app set up without a session (bench) marks none
			if sess, err = passSession(ctx, tx, sess, factorTOTP); err != nil {
				return err
			}
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.two_step_on", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), IP: c.IP}); err != nil {
			return err
		}
		_, err = s.mail.Enqueue(ctx, tx, mail.TwoStepOn(u.Email, u.Name, s.settings.BaseURL+"/account/two-step"))
		return err
	})
	if err != nil {
		return nil, Session{}, err
	}
	return codes, sess, nil
}

// NewRecoveryCodes replaces u's recovery codes with ten new ones, returned
// here once. Errors: Conflict when two-step verification is off.
func (s *Service) NewRecoveryCodes(ctx context.Context, u User, c Client) ([]string, error) {
	var codes []string
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var on bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL)`, u.ID).Scan(&on); err != nil {
			return fmt.Errorf("account: read totp: %w", err)
		}
		if !on {
			return apperr.New(apperr.Conflict, "Set up an authenticator app first: recovery codes stand in for it.")
		}
		var err error
		if codes, err = replaceRecoveryCodes(ctx, tx, u.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.recovery_codes_new", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), IP: c.IP})
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// TurnOffTwoStep removes u's authenticator app and recovery codes, after a
// code from the app (or a recovery code) proves the person has it; the
// code counts towards the lockout as a password does. Errors: Forbidden
// when the account's role needs two-step verification; Invalid (field
// "code") for a wrong code; Unauthorized when the account is locked.
func (s *Service) TurnOffTwoStep(ctx context.Context, u User, code string, c Client) error {
	if s.RequiresTwoStep(u.Role) {
		return apperr.New(apperr.Forbidden, "Your account type needs two-step verification, so it cannot be turned off.")
	}
	var refusal error
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if _, refusal, err = s.spendCode(ctx, tx, u, code, c); err != nil || refusal != nil {
			return err // a refused code's try is kept
		}
		if err := removeFactors(ctx, tx, u.ID); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.two_step_off", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), IP: c.IP}); err != nil {
			return err
		}
		_, err = s.mail.Enqueue(ctx, tx, mail.TwoStepOff(u.Email, u.Name))
		return err
	})
	if err != nil {
		return err
	}
	return refusal
}

// ResetTwoStep removes target's authenticator app and recovery codes, for
// a person who has lost them, and ends their sessions; they set an app up
// again at their next sign-in if their role needs one. The caller checks
// that actor may (authz.ResetTwoStep). It is audited with reason and
// emailed to target. Errors: Invalid (field "reason") without a reason.
func (s *Service) ResetTwoStep(ctx context.Context, actorID int64, target User, reason string, c Client) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return fieldError("reason", "Enter why you are resetting their two-step verification, for example how you checked who asked")
	}
	if len([]rune(reason)) > maxStatusReasonLength {
		return fieldError("reason", fmt.Sprintf("Reason must be %d characters or fewer", maxStatusReasonLength))
	}
	if !textcheck.Valid(reason) {
		return fieldError("reason", textcheck.Message("Reason"))
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := removeFactors(ctx, tx, target.ID); err != nil {
			return err
		}
		if err := endAllSessions(ctx, tx, target.ID); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: actorID, Action: "account.two_step_reset", SubjectType: "user",
			SubjectID: strconv.FormatInt(target.ID, 10), IP: c.IP, Details: map[string]string{"reason": reason}}); err != nil {
			return err
		}
		_, err := s.mail.Enqueue(ctx, tx, mail.TwoStepReset(target.Email, target.Name, s.settings.BaseURL+"/sign-in"))
		return err
	})
}

func removeFactors(ctx context.Context, tx *db.Tx, userID int64) error {
	if err := forgetDevices(ctx, tx, userID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("account: remove recovery codes: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM totp_factors WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("account: remove totp: %w", err)
	}
	return nil
}

// PassSecondStep checks a code from u's authenticator app, or one of
// their recovery codes, for a session that has passed the password but
// not the second step. Every try counts towards the lockout, as a wrong
// password does. When the code is right the session is replaced by a new
// one (a new token, as at any change of privilege) that has passed, and
// returned with its token. A used recovery code is spent, and u is
// emailed. All of it is one transaction. Errors: Invalid (field "code")
// for a wrong or malformed code; Unauthorized when the account is locked.
func (s *Service) PassSecondStep(ctx context.Context, u User, sess Session, code string, c Client) (Session, error) {
	var refusal error
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		factor, r, err := s.spendCode(ctx, tx, u, code, c)
		if refusal = r; err != nil || refusal != nil {
			return err // a refused code's try is kept
		}
		if sess, err = passSession(ctx, tx, sess, factor); err != nil {
			return err
		}
		if factor == factorRecovery {
			var left int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL`, u.ID).Scan(&left); err != nil {
				return fmt.Errorf("account: count recovery codes: %w", err)
			}
			if _, err := s.mail.Enqueue(ctx, tx, mail.RecoveryCodeUsed(u.Email, u.Name, left, s.settings.BaseURL+"/account/two-step")); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.second_step", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), IP: c.IP, Details: map[string]string{"factor": factor}})
	})
	if err != nil {
		return Session{}, err
	}
	if refusal != nil {
		return Session{}, refusal
	}
	return sess, nil
}

// spendCode checks code inside tx, for a step that needs proof of u's
// app: six digits are a code from the app, accepted for one step either
// side of now and never for a step already used; anything else of the
// right shape is a recovery code, spent when right. Each try of a
// well-formed code counts towards the lockout, and a wrong one is audited
// and may lock the account, all in tx. It returns which kind was right,
// or the refusal to give the person once tx has committed the try; err is
// a failure that must roll tx back.
func (s *Service) spendCode(ctx context.Context, tx *db.Tx, u User, code string, c Client) (factor string, refusal, err error) {
	digits, isTOTP := totpDigitsOf(code)
	recovery, isRecovery := recoveryCodeOf(code)
	if !isTOTP && !isRecovery {
		return "", codeProblem(code), nil
	}
	attempt, err := claimAttemptOn(ctx, tx.QueryRowContext, tx.Now, u.ID, s.settings)
	if err != nil {
		return "", nil, err
	}
	if attempt == 0 {
		if err := s.auditCodeFailed(ctx, tx, u, "locked", c); err != nil {
			return "", nil, err
		}
		return "", apperr.Wrap(apperr.Unauthorized, "Your account is locked. "+s.lockoutRule()+".", ErrSignInFailed), nil
	}
	used := false
	if isTOTP {
		ok, u2, err := s.useTOTP(ctx, tx, u.ID, digits)
		if err != nil {
			return "", nil, err
		}
		if ok {
			factor = factorTOTP
		}
		used = u2
	} else {
		res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`,
			u.ID, hashToken(recovery), tx.Now)
		if err != nil {
			return "", nil, fmt.Errorf("account: spend recovery code: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			factor = factorRecovery
		}
	}
	if factor == "" {
		if attempt >= s.settings.LockoutThreshold {
			if err := s.lockTx(ctx, tx, u, c); err != nil {
				return "", nil, err
			}
		}
		if used {
			if err := s.auditCodeFailed(ctx, tx, u, "code_reused", c); err != nil {
				return "", nil, err
			}
			return "", fieldError("code", "That code has already been used. Wait for your app to show a new one, then enter it"), nil
		}
		if err := s.auditCodeFailed(ctx, tx, u, "wrong_code", c); err != nil {
			return "", nil, err
		}
		return "", fieldError("code", "The code is not right. "+s.lockoutRule()+"."), nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET failed_attempts = 0, failed_window_start = NULL WHERE id = $1`, u.ID); err != nil {
		return "", nil, fmt.Errorf("account: clear attempts: %w", err)
	}
	return factor, nil, nil
}

// passSession gives a session that has just passed the second step with
// factor a new token (as at any change of privilege) and records the
// factor, inside tx. Errors: Unauthorized when the session has ended.
func passSession(ctx context.Context, tx *db.Tx, sess Session, factor string) (Session, error) {
	token, hash := newToken()
	res, err := tx.ExecContext(ctx, `UPDATE sessions SET token_hash = $2, second_factor = $3, last_seen_at = $4 WHERE token_hash = $1`,
		sess.hash, hash, factor, tx.Now)
	if err != nil {
		return Session{}, fmt.Errorf("account: pass second step: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return Session{}, errNoSession
	}
	sess.Token, sess.hash, sess.SecondFactor, sess.LastSeenAt = token, hash, factor, tx.Now
	return sess, nil
}

// auditCodeFailed audits a wrong code, or one refused as the account is
// locked.
func (s *Service) auditCodeFailed(ctx context.Context, tx *db.Tx, u User, reason string, c Client) error {
	return audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.second_step_failed", SubjectType: "user",
		SubjectID: strconv.FormatInt(u.ID, 10), IP: c.IP, Details: map[string]string{"reason": reason}})
}

// useTOTP checks digits against u's confirmed app and, when they match a
// step later than the last one used, records that step, so the same code
// (or an earlier one) is never accepted again, even by two requests at
// once: the update moves the step only forward, and only one of them
// finds it still behind.
func (s *Service) useTOTP(ctx context.Context, tx *db.Tx, userID int64, digits string) (ok, used bool, err error) {
	var sealed []byte
	var last int64
	err = tx.QueryRowContext(ctx, `SELECT sealed, last_step FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL`, userID).Scan(&sealed, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("account: read totp: %w", err)
	}
	secret, err := s.unseal(userID, sealed)
	if err != nil {
		return false, false, err
	}
	step, ok, used := matchStep(secret, digits, tx.Now, last)
	if !ok {
		return false, used, nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE totp_factors SET last_step = $2 WHERE user_id = $1 AND last_step < $2`, userID, step)
	if err != nil {
		return false, false, fmt.Errorf("account: use totp step: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, n == 0, nil
}

// matchStep returns the time step, within totpSkew of now and after last,
// whose code is digits; used is true when digits are instead the code of
// a step within reach that was already used.
func matchStep(secret, digits string, now time.Time, last int64) (step int64, ok, used bool) {
	current := now.Unix() / totpPeriod
	for _, st := range []int64{current, current - 1, current + 1} {
		if st < 0 || st < current-totpSkew || st > current+totpSkew {
			continue
		}
		want, err := hotp.GenerateCodeCustom(secret, uint64(st), hotp.ValidateOpts{Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(digits)) == 1 {
			if st <= last {
				return 0, false, true
			}
			return st, true, false
		}
	}
	return 0, false, false
}

// cleanCode folds what was typed into plain ASCII letters and digits:
// compatibility forms (fullwidth digits) become ordinary ones, spaces,
// hyphens and invisible characters go, and letters are lower-cased.
func cleanCode(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(unicode.ToLower(r))
		case r == '-' || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r):
			// separators people type or paste
		default:
			b.WriteRune('?') // never a valid code
		}
	}
	return b.String()
}

// totpDigitsOf returns the six digits of a code from an app.
func totpDigitsOf(code string) (string, bool) {
	c := cleanCode(code)
	if len(c) != 6 || strings.Trim(c, "0123456789") != "" {
		return "", false
	}
	return c, true
}

// Recovery codes are ten characters from an alphabet without look-alikes
// (no 0, 1, i, l or o), about 50 bits each, shown as two groups of five.
const (
	recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	recoveryLength   = 10
)

// recoveryCodeOf returns a typed recovery code in its stored form.
func recoveryCodeOf(code string) (string, bool) {
	c := cleanCode(code)
	if len(c) != recoveryLength {
		return "", false
	}
	for _, r := range c {
		if !strings.ContainsRune(recoveryAlphabet, r) {
			return "", false
		}
	}
	return c, true
}

// codeProblem says what is wrong with a code that is neither six digits
// nor a recovery code.
func codeProblem(code string) error {
	if cleanCode(code) == "" {
		return fieldError("code", "Enter the 6-digit code from your authenticator app")
	}
	return fieldError("code", "Enter the 6-digit code from your authenticator app, or a 10-character recovery code")
}

func fieldError(field, message string) error {
	var f apperr.Fields
	f.Add(field, message)
	return f.Err()
}

// replaceRecoveryCodes replaces the user's recovery codes with new ones and
// returns them, formatted as shown.
func replaceRecoveryCodes(ctx context.Context, tx *db.Tx, userID int64) ([]string, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return nil, fmt.Errorf("account: remove recovery codes: %w", err)
	}
	codes := make([]string, 0, recoveryCodeCount)
	for range recoveryCodeCount {
		raw := make([]byte, recoveryLength)
		var b [recoveryLength]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("account: random: %w", err)
		}
		for i := range raw {
			// 256 is not a multiple of the alphabet's 31 letters; the
			// slight bias costs well under a bit of the code's 50.
			raw[i] = recoveryAlphabet[int(b[i])%len(recoveryAlphabet)]
		}
		code := string(raw)
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
			userID, hashToken(code)); err != nil {
			return nil, fmt.Errorf("account: store recovery code: %w", err)
		}
		codes = append(codes, code[:5]+"-"+code[5:])
	}
	return codes, nil
}

// seal encrypts an authenticator secret with the server's key (AES-GCM),
// bound to the user it belongs to, so a copy of the table alone gives
// nobody working codes, and a sealed secret moved to another account does
// not open.
func (s *Service) seal(userID int64, secret string) ([]byte, error) {
	aead, err := s.sealer()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("account: random: %w", err)
	}
	return aead.Seal(nonce, nonce, []byte(secret), sealData(userID)), nil
}

func (s *Service) unseal(userID int64, sealed []byte) (string, error) {
	aead, err := s.sealer()
	if err != nil {
		return "", err
	}
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("account: sealed totp secret too short")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], sealData(userID))
	if err != nil {
		return "", fmt.Errorf("account: unseal totp secret: %w", err)
	}
	return string(plain), nil
}

func sealData(userID int64) []byte { return []byte("psims-totp:" + strconv.FormatInt(userID, 10)) }

func (s *Service) sealer() (cipher.AEAD, error) {
	if len(s.settings.SealKey) != 32 {
		return nil, errors.New("account: no key to seal authenticator secrets (Settings.SealKey)")
	}
	block, err := aes.NewCipher(s.settings.SealKey)
	if err != nil {
		return nil, fmt.Errorf("account: seal key: %w", err)
	}
	return cipher.NewGCM(block)
}
