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

// Remembered devices: after the second step a person may have their
// browser remembered for RememberFor, so that there a right password
// needs no code. The browser keeps a random token (Client.DeviceToken);
// only its hash is stored.

// RememberFor is how long a remembered browser skips the second step.
const RememberFor = 30 * 24 * time.Hour

// factorRemembered marks a session whose second step a remembered browser
// stood in for.
const factorRemembered = "remembered"

// Device is a remembered browser, as its owner's session list shows it.
type Device struct {
	ID        int64     `json:"id"`
	CreatedAt time.Time `json:"remembered_at"`
	ExpiresAt time.Time `json:"until"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"browser"`
}

// RememberDevice remembers the browser of c for u, whose session has just
// passed the second step, and returns the token for its cookie. It is
// audited.
func (s *Service) RememberDevice(ctx context.Context, u User, sess Session, c Client) (string, error) {
	if sess.SecondFactor == factorNone {
		return "", apperr.New(apperr.Forbidden, "Only a browser that has passed the second step of signing in can be remembered.")
	}
	token, hash := newToken()
	ua := c.UserAgent
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM remembered_devices WHERE user_id = $1 AND expires_at <= $2`, u.ID, tx.Now); err != nil {
			return fmt.Errorf("account: clear devices: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO remembered_devices (user_id, token_hash, created_at, expires_at, ip, user_agent)
			VALUES ($1, $2, $3, $4, $5, $6)`, u.ID, hash, tx.Now, tx.Now.Add(RememberFor), c.IP, ua); err != nil {
			return fmt.Errorf("account: remember device: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.device_remember", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), IP: c.IP})
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// rememberedFactor is factorRemembered when c comes from a browser
// remembered for u, and factorNone otherwise.
func rememberedFactor(ctx context.Context, tx *db.Tx, u User, c Client) (string, error) {
	if c.DeviceToken == "" {
		return factorNone, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM remembered_devices WHERE token_hash = $1 AND user_id = $2 AND expires_at > $3`,
		hashToken(c.DeviceToken), u.ID, tx.Now).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return factorNone, nil
	}
	if err != nil {
		return "", fmt.Errorf("account: read device: %w", err)
	}
	return factorRemembered, nil
}

// Devices lists the browsers remembered for the user, newest first.
func (s *Service) Devices(ctx context.Context, userID int64) ([]Device, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, created_at, expires_at, ip, user_agent FROM remembered_devices
		WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC, id DESC`, userID, s.db.Now())
	if err != nil {
		return nil, fmt.Errorf("account: list devices: %w", err)
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		var d Device
		if err := rows.Scan(&d.ID, &d.CreatedAt, &d.ExpiresAt, &d.IP, &d.UserAgent); err != nil {
			return nil, fmt.Errorf("account: list devices: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ForgetDevice forgets one of the user's remembered browsers. Errors:
// NotFound when they have no such one.
func (s *Service) ForgetDevice(ctx context.Context, userID, id int64, c Client) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM remembered_devices WHERE id = $1 AND user_id = $2`, id, userID)
		if err != nil {
			return fmt.Errorf("account: forget device: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "That browser is not remembered.")
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: userID, Action: "account.device_forget", SubjectType: "user",
			SubjectID: strconv.FormatInt(userID, 10), IP: c.IP})
	})
}

// forgetDevices forgets every browser remembered for the user, inside tx:
// when they sign out everywhere, reset their password, or lose or turn off
// their second factor.
func forgetDevices(ctx context.Context, tx *db.Tx, userID int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM remembered_devices WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("account: forget devices: %w", err)
	}
	return nil
}
