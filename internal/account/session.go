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
)

// Session is a signed-in browser. Only the hash of its token is stored.
type Session struct {
	Token      string // the cookie value; set only when the session is created
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end
	IP         string
	UserAgent  string
	// Idle is how long without a request ends the session, which depends
	// on its person's role; set by Authenticate.
	Idle time.Duration
	// SecondFactor is how the session passed the second step of signing
	// in ("totp" or "recovery"), or "" (see Service.SecondStepFor).
	SecondFactor string

	hash string
}

// touchEvery limits how often a session's last-seen time is written, so
// reading pages does not turn into a write per request. Idle timeouts are
// therefore exact to within this much.
const touchEvery = time.Minute

// maxUserAgent bounds the stored browser description.
const maxUserAgent = 300

// sessionLimits returns how long a session of the role lasts idle, and at
// most.
func (s *Service) sessionLimits(r Role) (idle, absolute time.Duration) {
	idle, absolute = s.settings.SessionIdle, s.settings.SessionAbsolute
	if r.Privileged() {
		if p := s.settings.PrivilegedIdle; p > 0 && p < idle {
			idle = p
		}
		if p := s.settings.PrivilegedAbsolute; p > 0 && p < absolute {
			absolute = p
		}
	}
	return idle, absolute
}

func createSession(ctx context.Context, tx *db.Tx, userID int64, c Client, absolute time.Duration, start sessionStart) (Session, error) {
	token, hash := newToken()
	ua := c.UserAgent
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	sess := Session{Token: token, UserID: userID, CreatedAt: tx.Now, LastSeenAt: tx.Now,
		ExpiresAt: tx.Now.Add(absolute), IP: c.IP, UserAgent: ua, SecondFactor: start.factor, hash: hash}
	_, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent, second_factor, oidc_issuer, oidc_sid)
		VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9)`, hash, userID, tx.Now, sess.ExpiresAt, c.IP, ua, start.factor, start.oidcIssuer, start.oidcSID)
	if err != nil {
		return Session{}, fmt.Errorf("account: create session: %w", err)
	}
	return sess, nil
}

// errNoSession is returned for a missing, expired or ended session.
var errNoSession = apperr.New(apperr.Unauthorized, "Your session has ended. Sign in again.")

// Authenticate returns the active user and session for a session token. A
// session ends after the idle timeout without requests, at its absolute
// expiry, and as soon as its user is no longer active. Errors: Unauthorized.
func (s *Service) Authenticate(ctx context.Context, token string) (User, Session, error) {
	if token == "" {
		return User{}, Session{}, errNoSession
	}
	now := s.db.Now()
	hash := hashToken(token)
	row := s.db.QueryRowContext(ctx, `SELECT s.created_at, s.last_seen_at, s.expires_at, s.ip, s.user_agent, s.second_factor, o.name,
		EXISTS (SELECT 1 FROM totp_factors t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL), `+userColumns+`
		FROM sessions s JOIN users u ON u.id = s.user_id JOIN organisations o ON o.ods_code = u.org_ods
		WHERE s.token_hash = $1`, hash)
	sess := Session{hash: hash}
	var orgName string
	var twoStep bool
	u, err := scanUser(prefixScanner{row, []any{&sess.CreatedAt, &sess.LastSeenAt, &sess.ExpiresAt, &sess.IP, &sess.UserAgent,
		&sess.SecondFactor, &orgName, &twoStep}})
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, Session{}, errNoSession
	}
	if err != nil {
		return User{}, Session{}, fmt.Errorf("account: authenticate: %w", err)
	}
	u.OrgName, u.TwoStep = orgName, twoStep
	sess.UserID = u.ID
	// The role's limits apply from the request after a change of role,
	// whatever they were when the session began.
	idle, absolute := s.sessionLimits(u.Role)
	sess.Idle = idle
	if ends := sess.CreatedAt.Add(absolute); ends.Before(sess.ExpiresAt) {
		sess.ExpiresAt = ends
	}
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(idle)) || u.Status != StatusActive {
		if err := s.db.InTx(ctx, func(tx *db.Tx) error { return deleteSession(ctx, tx, hash) }); err != nil {
			return User{}, Session{}, err
		}
		return User{}, Session{}, errNoSession
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2`, tx.Now, hash)
			return err
		})
		if err != nil {
			return User{}, Session{}, fmt.Errorf("account: touch session: %w", err)
		}
		sess.LastSeenAt = now
	}
	return u, sess, nil
}

// KeepAlive records activity on a session now, whenever it was last
// touched, and returns it with its new last-seen time: the person asked to
// stay signed in. Authenticate first; a session that has ended stays ended.
func (s *Service) KeepAlive(ctx context.Context, sess Session) (Session, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2`, tx.Now, sess.hash)
		sess.LastSeenAt = tx.Now
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("account: keep session alive: %w", err)
	}
	return sess, nil
}

// prefixScanner scans some leading columns into first, and the rest into
// what its caller asks for.
type prefixScanner struct {
	row   rowScanner
	first []any
}

func (p prefixScanner) Scan(dest ...any) error {
	return p.row.Scan(append(p.first, dest...)...)
}

func deleteSession(ctx context.Context, tx *db.Tx, hash string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash); err != nil {
		return fmt.Errorf("account: delete session: %w", err)
	}
	return nil
}

// SignOut ends one session.
func (s *Service) SignOut(ctx context.Context, sess Session, ip string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := deleteSession(ctx, tx, sess.hash); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: sess.UserID, Action: "account.sign_out", SubjectType: "user",
			SubjectID: strconv.FormatInt(sess.UserID, 10), IP: ip})
	})
}

// SignOutEverywhere ends every session of the user.
func (s *Service) SignOutEverywhere(ctx context.Context, userID int64, ip string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := endAllSessions(ctx, tx, userID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: userID, Action: "account.sign_out_everywhere", SubjectType: "user",
			SubjectID: strconv.FormatInt(userID, 10), IP: ip})
	})
}

// endAllSessions ends every session of the user and forgets every
// browser remembered for them, so that signing in again anywhere takes
// the second step too.
func endAllSessions(ctx context.Context, tx *db.Tx, userID int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("account: end sessions: %w", err)
	}
	return forgetDevices(ctx, tx, userID)
}

// Sessions lists the user's current sessions, newest first.
func (s *Service) Sessions(ctx context.Context, userID int64) ([]Session, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT created_at, last_seen_at, expires_at, ip, user_agent FROM sessions
		WHERE user_id = $1 AND expires_at > $2 AND last_seen_at > $3 ORDER BY created_at DESC`,
		userID, s.db.Now(), s.db.Now().Add(-s.settings.SessionIdle))
	if err != nil {
		return nil, fmt.Errorf("account: list sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		sess := Session{UserID: userID}
		if err := rows.Scan(&sess.CreatedAt, &sess.LastSeenAt, &sess.ExpiresAt, &sess.IP, &sess.UserAgent); err != nil {
			return nil, fmt.Errorf("account: list sessions: %w", err)
		}
		out = append(out, sess)
	}
	return out, rows.Err()
}
