package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/emailaddr"
	"github.com/psims/psims/internal/mail"
)

// Sign-in outcomes, as counted in metrics and returned to the web layer.
const (
	OutcomeSuccess    = "success"
	OutcomeFailed     = "failed"     // unknown email, wrong password or locked: one message for all
	OutcomeUnverified = "unverified" // right password, email not verified
	OutcomePending    = "pending"    // right password, waiting for approval
	OutcomeBarred     = "barred"     // right password, suspended or deactivated
)

// ErrSignInFailed is the one error for an unknown email, a wrong password
// and a locked account, so sign-in never reveals who has an account. The
// error SignIn returns wraps it with a message that states the lockout
// rules in force (see lockoutRule).
var ErrSignInFailed = errors.New("account: sign-in failed")

// lockoutRule says in words when an account is locked and for how long,
// from the settings in force, such as "After 10 wrong tries your account
// is locked for 15 minutes".
func (s *Service) lockoutRule() string {
	return fmt.Sprintf("After %d wrong tries your account is locked for %s", s.settings.LockoutThreshold, durationWords(s.settings.LockoutDuration))
}

// signInFailed is ErrSignInFailed with the message people see.
func (s *Service) signInFailed() error {
	return apperr.Wrap(apperr.Unauthorized,
		"Your email address or password is wrong. "+s.lockoutRule()+": reset your password if you cannot remember it.", ErrSignInFailed)
}

// durationWords says a duration as people do: "15 minutes", "1 hour",
// "2 days"; whole units only, the largest that fits exactly.
func durationWords(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	default:
		return unit(max(int64(d/time.Second), 1), "second")
	}
}

// SignInResult is what a sign-in attempt came to.
type SignInResult struct {
	Outcome string
	User    User    // set unless Outcome is OutcomeFailed
	Session Session // set when Outcome is OutcomeSuccess
	// Step is what the new session still needs: a code from the
	// person's authenticator app, or setting one up (see SecondStepFor).
	Step SecondStep
	// Held is the token of an identity held for linking or registering,
	// when Outcome is OutcomeUnlinked (SignInExternal).
	Held string
}

// Client is where a request came from.
type Client struct {
	IP        string
	UserAgent string
	// DeviceToken is the token of a browser remembered after the second
	// step of signing in (RememberDevice), or "".
	DeviceToken string
}

// SignIn checks the email and password and, for an active account, starts a
// session. Every attempt on an existing account is counted before the
// password is checked, in one statement, so parallel attempts cannot get
// past the lockout threshold. Errors: ErrSignInFailed.
func (s *Service) SignIn(ctx context.Context, email, plain string, c Client) (SignInResult, error) {
	addr, err := emailaddr.Parse(email)
	if err != nil {
		_ = s.hasher.VerifyDummy(ctx, plain) // equal work whatever the outcome
		return s.failed(ctx, 0, "bad_email", c)
	}
	u, err := userByEmail(ctx, s.db, addr.String())
	if apperr.CodeOf(err) == apperr.NotFound {
		_ = s.hasher.VerifyDummy(ctx, plain) // equal work whatever the outcome
		return s.failed(ctx, 0, "unknown_email", c)
	}
	if err != nil {
		return SignInResult{}, err
	}
	attempt, err := s.claimAttempt(ctx, u.ID)
	if err != nil {
		return SignInResult{}, err
	}
	if attempt == 0 {
		_ = s.hasher.VerifyDummy(ctx, plain) // equal work whatever the outcome
		return s.failed(ctx, u.ID, "locked", c)
	}
	ok, rehash, err := s.hasher.Verify(ctx, plain, u.passwordHash)
	if err != nil {
		return SignInResult{}, fmt.Errorf("account: sign in: %w", err)
	}
	if !ok {
		if attempt >= s.settings.LockoutThreshold {
			if err := s.lock(ctx, u, c); err != nil {
				return SignInResult{}, err
			}
		}
		return s.failed(ctx, u.ID, "wrong_password", c)
	}
	newHash := ""
	if rehash {
		if newHash, err = s.hasher.Hash(ctx, plain); err != nil {
			return SignInResult{}, fmt.Errorf("account: rehash: %w", err)
		}
	}
	return s.succeed(ctx, u, newHash, sessionStart{}, c)
}

// claimAttempt counts an attempt for the user and returns its number within
// the current window, or 0 when the account is locked or the window is full.
func (s *Service) claimAttempt(ctx context.Context, userID int64) (int, error) {
	// One statement, committed at once: it needs no audit row (failures are
	// audited when they are known), and a sign-in saves a transaction.
	return claimAttemptOn(ctx, s.db.WriteRowContext, s.db.Now(), userID, s.settings)
}

// claimAttemptOn is claimAttempt through query, which runs it on the
// database or in a transaction.
func claimAttemptOn(ctx context.Context, query func(ctx context.Context, q string, args ...any) *sql.Row, now time.Time, userID int64, set Settings) (int, error) {
	windowStart := now.Add(-set.LockoutWindow)
	var n int
	err := query(ctx, `UPDATE users SET
			failed_attempts = CASE WHEN failed_window_start IS NULL OR failed_window_start <= $2 THEN 1 ELSE failed_attempts + 1 END,
			failed_window_start = CASE WHEN failed_window_start IS NULL OR failed_window_start <= $2 THEN $3 ELSE failed_window_start END
		WHERE id = $1
			AND (locked_until IS NULL OR locked_until <= $3)
			AND (failed_window_start IS NULL OR failed_window_start <= $2 OR failed_attempts < $4)
		RETURNING failed_attempts`,
		userID, windowStart, now, set.LockoutThreshold).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("account: count attempt: %w", err)
	}
	return n, nil
}

// lock locks the account after the attempt that reached the threshold, and
// tells its owner.
func (s *Service) lock(ctx context.Context, u User, c Client) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error { return s.lockTx(ctx, tx, u, c) })
}

// lockTx is lock inside the caller's transaction.
func (s *Service) lockTx(ctx context.Context, tx *db.Tx, u User, c Client) error {
	res, err := tx.ExecContext(ctx, `UPDATE users SET locked_until = $1 WHERE id = $2 AND (locked_until IS NULL OR locked_until <= $3)`,
		tx.Now.Add(s.settings.LockoutDuration), u.ID, tx.Now)
	if err != nil {
		return fmt.Errorf("account: lock: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if err := audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.lockout", SubjectType: "user",
		SubjectID: strconv.FormatInt(u.ID, 10), IP: c.IP}); err != nil {
		return err
	}
	_, err = s.mail.Enqueue(ctx, tx, mail.AccountLocked(u.Email, u.Name))
	return err
}

func (s *Service) failed(ctx context.Context, userID int64, reason string, c Client) (SignInResult, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		subject := ""
		if userID != 0 {
			subject = strconv.FormatInt(userID, 10)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: userID, Action: "account.sign_in_failed", SubjectType: "user",
			SubjectID: subject, Details: map[string]string{"reason": reason}, IP: c.IP})
	})
	if err != nil {
		return SignInResult{}, err
	}
	return SignInResult{Outcome: OutcomeFailed}, s.signInFailed()
}

// sessionStart is how a session began: the second factor it passed
// (factorNone when only a password was given), and for a sign-in through
// an OpenID Connect provider, which one and the provider's session.
type sessionStart struct {
	factor     string
	provider   string
	oidcIssuer string
	oidcSID    string
}

// succeed records a sign-in that proved who u is, and for an active
// account starts a session as start says.
func (s *Service) succeed(ctx context.Context, u User, newHash string, start sessionStart, c Client) (SignInResult, error) {
	res := SignInResult{User: u}
	switch u.Status {
	case StatusActive:
		res.Outcome = OutcomeSuccess
	case StatusUnverified:
		res.Outcome = OutcomeUnverified
	case StatusPending:
		res.Outcome = OutcomePending
	default:
		res.Outcome = OutcomeBarred
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		// The attempt counter restarts; last_sign_in_at moves only for a
		// sign-in that gets a session.
		_, err := tx.ExecContext(ctx, `UPDATE users SET failed_attempts = 0, failed_window_start = NULL,
			last_sign_in_at = CASE WHEN $2 THEN $3 ELSE last_sign_in_at END WHERE id = $1`,
			u.ID, res.Outcome == OutcomeSuccess, tx.Now)
		if err != nil {
			return fmt.Errorf("account: record sign in: %w", err)
		}
		if newHash != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`, newHash, tx.Now, u.ID); err != nil {
				return fmt.Errorf("account: store rehash: %w", err)
			}
		}
		action := "account.sign_in"
		if res.Outcome != OutcomeSuccess {
			action = "account.sign_in_refused"
		}
		details := map[string]string{"status": string(u.Status)}
		if start.provider != "" {
			details["provider"] = start.provider
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: action, SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), Details: details, IP: c.IP}); err != nil {
			return err
		}
		if res.Outcome != OutcomeSuccess {
			return nil
		}
		// A sign-in is the person's own activity: it restarts the dormancy
		// clock and cancels any countdown (P13).
		if err := markActive(ctx, tx, u.ID, "sign_in", c.IP); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL)`,
			u.ID).Scan(&res.User.TwoStep); err != nil {
			return fmt.Errorf("account: read two-step: %w", err)
		}
		if start.factor == factorNone && res.User.TwoStep {
			// A browser remembered after an earlier second step stands
			// in for it.
			if start.factor, err = rememberedFactor(ctx, tx, u, c); err != nil {
				return err
			}
		}
		_, absolute := s.sessionLimits(u.Role)
		sess, err := createSession(ctx, tx, u.ID, c, absolute, start)
		if err != nil {
			return err
		}
		res.Session, res.Step = sess, s.SecondStepFor(res.User, sess)
		return nil
	})
	if err != nil {
		return SignInResult{}, err
	}
	return res, nil
}
