package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/riverqueue/river"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/password"
)

// Settings are the rules the service applies; config.Config.AccountSettings
// gives them with their defaults.
type Settings struct {
	BaseURL            string   // where links in emails point
	AutoApproveDomains []string // verified addresses here are approved at once

	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	// PrivilegedIdle and PrivilegedAbsolute replace SessionIdle and
	// SessionAbsolute for the sessions of privileged roles
	// (Role.Privileged), when shorter.
	PrivilegedIdle     time.Duration
	PrivilegedAbsolute time.Duration

	// TwoStepRoles are the roles whose accounts must use two-step
	// verification; their people set an app up at their next sign-in.
	TwoStepRoles []Role
	// SealKey (32 bytes) seals authenticator secrets at rest; the
	// application gives it from the server's secrets.
	SealKey []byte

	LockoutThreshold int           // failures within LockoutWindow that lock the account
	LockoutWindow    time.Duration // how far back failures count
	LockoutDuration  time.Duration // how long a locked account stays locked

	VerifyTTL time.Duration // how long an email verification link works
	ResetTTL  time.Duration // how long a password reset link works

	// IGTrainingValidMonths is how long recorded IG training counts (T18).
	IGTrainingValidMonths int
}

// Mailer queues email inside a transaction; *mail.Outbox is one.
// EnqueueMany queues many at once, many to a statement, for the dormancy
// sweep, which queues hundreds of messages a transaction.
type Mailer interface {
	Enqueue(ctx context.Context, tx *db.Tx, m mail.Message) (int64, error)
	EnqueueMany(ctx context.Context, tx *db.Tx, ms []mail.Message) ([]int64, error)
}

// JobInserter queues background work inside a transaction; *jobs.Runner
// is one.
type JobInserter interface {
	InsertTx(ctx context.Context, tx *db.Tx, args river.JobArgs, opts *river.InsertOpts) error
}

// Organisations finds an organisation by its ODS code.
type Organisations interface {
	Get(ctx context.Context, code org.Code) (org.Organisation, error)
}

// Service is the account capability.
type Service struct {
	db       *db.DB
	hasher   *password.Hasher
	policy   *password.Policy
	orgs     Organisations
	mail     Mailer
	jobs     JobInserter
	settings Settings
}

// NewService returns the account service. It queues email through mailer
// and other background work (password reset links) through jobs.
func NewService(d *db.DB, hasher *password.Hasher, policy *password.Policy, orgs Organisations, mailer Mailer, jobs JobInserter, s Settings) *Service {
	return &Service{db: d, hasher: hasher, policy: policy, orgs: orgs, mail: mailer, jobs: jobs, settings: s}
}

// Settings returns the rules the service applies.
func (s *Service) Settings() Settings { return s.settings }

// Token purposes.
const (
	purposeVerify = "verify"
	purposeReset  = "reset"
)

// newToken returns a random token for a link or cookie and the hash that is
// stored in its place.
func newToken() (token, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand never fails on supported platforms.
		panic(fmt.Sprintf("account: random: %v", err))
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

// hashToken is how a token is stored: SHA-256, which is enough for 256
// random bits, and fast, so lookups by hash stay cheap.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// issueToken stores a new one-time token for the user, replacing any unused
// one of the same purpose, and returns it.
func issueToken(ctx context.Context, tx *db.Tx, userID int64, purpose string, ttl time.Duration) (string, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_tokens WHERE user_id = $1 AND purpose = $2`, userID, purpose); err != nil {
		return "", fmt.Errorf("account: replace %s token: %w", purpose, err)
	}
	token, hash := newToken()
	_, err := tx.ExecContext(ctx, `INSERT INTO user_tokens (token_hash, user_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		hash, userID, purpose, tx.Now, tx.Now.Add(ttl))
	if err != nil {
		return "", fmt.Errorf("account: store %s token: %w", purpose, err)
	}
	return token, nil
}

// issueTokensRows is how many tokens one INSERT carries (3 parameters
// each): small, as SQLite's driver looks up numbered parameters in time
// growing with the square of their number.
const issueTokensRows = 100

// issueTokens is issueToken for many users at once, many to a statement:
// it stores a new one-time token of the purpose for each of userIDs,
// lasting the ttl at the same index, replacing any of the same purpose,
// and returns the tokens in the order of userIDs.
func issueTokens(ctx context.Context, tx *db.Tx, userIDs []int64, purpose string, ttls []time.Duration) ([]string, error) {
	if len(ttls) != len(userIDs) {
		return nil, fmt.Errorf("account: store %s tokens: %d users but %d lifetimes", purpose, len(userIDs), len(ttls))
	}
	tokens := make([]string, 0, len(userIDs))
	for start := 0; start < len(userIDs); start += issueTokensRows {
		ids := userIDs[start:min(start+issueTokensRows, len(userIDs))]
		args := make([]any, 0, 2+3*len(ids))
		args = append(args, purpose)
		for _, id := range ids {
			args = append(args, id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_tokens WHERE purpose = $1 AND user_id IN `+db.Values(1, len(ids), 2, ""),
			args...); err != nil {
			return nil, fmt.Errorf("account: replace %s tokens: %w", purpose, err)
		}
		args = append(args[:1], tx.Now)
		for i, id := range ids {
			token, hash := newToken()
			tokens = append(tokens, token)
			args = append(args, hash, id, tx.Now.Add(ttls[start+i]))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_tokens (purpose, created_at, token_hash, user_id, expires_at) VALUES `+
			db.Values(len(ids), 3, 3, "$1, $2, "), args...); err != nil {
			return nil, fmt.Errorf("account: store %s tokens: %w", purpose, err)
		}
	}
	return tokens, nil
}

// errBadLink is what a user sees for a link that is wrong, used or expired.
var errBadLink = apperr.New(apperr.Invalid, "This link has expired or has already been used.")

// useToken marks the token used and returns its user. A token works once,
// before it expires; parallel uses cannot both succeed.
func useToken(ctx context.Context, tx *db.Tx, token, purpose string) (int64, error) {
	var userID int64
	err := tx.QueryRowContext(ctx, `UPDATE user_tokens SET used_at = $1
		WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1
		RETURNING user_id`, tx.Now, hashToken(token), purpose).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errBadLink
	}
	if err != nil {
		return 0, fmt.Errorf("account: use %s token: %w", purpose, err)
	}
	return userID, nil
}
