// Package apikey keeps organisation API keys (issue 16 item 4, T3): the
// credentials a local risk management system sends to the LFPSE-compatible
// API on behalf of one organisation.
//
// A key is "psims_" and 43 characters of base64url, 32 bytes from
// crypto/rand. It is shown once, when made; only its SHA-256 is stored,
// with its first 12 characters (the prefix) so people can tell keys apart.
// A password hash such as argon2 would add nothing: nobody guesses 256
// random bits, and every API request would pay for it.
//
// A key works until it expires or is revoked, judged by the database
// clock (the clock every transaction takes its time from) on each
// request, so a revoked key fails on the very next one. Creating and
// revoking are audited in the transaction that does them; using a key is
// not (the API layer audits refusals), and changes no user's activity,
// since a key belongs to an organisation, not a person. Who may manage an
// organisation's keys is for internal/authz to say.
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/pii"
	"github.com/psims/psims/internal/textcheck"
)

// The shape of a key.
const (
	// KeyPrefix starts every key, so a leaked one is easy to recognise
	// (secret scanners look for such prefixes).
	KeyPrefix = "psims_"
	// KeyLength is the length of a whole key: the prefix and 43
	// characters of base64url (32 bytes).
	KeyLength = len(KeyPrefix) + 43
	// PrefixLength is how many of a key's first characters are stored
	// and shown in lists.
	PrefixLength = 12
)

// Limits on what is typed and chosen.
const (
	MaxName   = 100  // characters of a key's name
	maxReason = 2000 // characters of a reason for revoking
	// MaxYears is how many years ahead an expiry may be.
	MaxYears = 2
	// lastUsedEvery is how stale last_used_at may grow before a request
	// writes it again: one write a minute per key, however busy.
	lastUsedEvery = time.Minute
)

// The statuses Key.Status returns.
const (
	Active  = "active"
	Expired = "expired"
	Revoked = "revoked"
)

// Key is an API key as stored, without its secret.
type Key struct {
	ID   int64
	Org  string // the organisation's ODS code
	Name string
	// Prefix is the first PrefixLength characters of the key.
	Prefix    string
	CreatedBy int64 // 0 for the command line, or once the person is erased
	CreatedAt time.Time
	// ExpiresAt, RevokedAt and LastUsedAt are zero when unset.
	ExpiresAt, RevokedAt, LastUsedAt time.Time
	RevokedBy                        int64
	RevokeReason                     string
}

// Status is where the key stands at now: "active", "expired" or
// "revoked".
func (k Key) Status(now time.Time) string {
	switch {
	case !k.RevokedAt.IsZero():
		return Revoked
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return Expired
	}
	return Active
}

// NewKey is a key to make.
type NewKey struct {
	Org  string // an ODS code
	Name string // what the key is for, such as "Datix at RM1"
	// ExpiresAt is when the key stops working; zero means never.
	ExpiresAt time.Time
	// CreatedBy is the user making it; 0 for the operator's command.
	CreatedBy int64
}

// Client is where a change came from, for the audit log.
type Client struct {
	IP string // empty for the command line
}

// Service keeps the keys.
type Service struct {
	db *db.DB
}

// New returns a Service on d.
func New(d *db.DB) *Service { return &Service{db: d} }

// Create makes a key for nk.Org and returns it with its secret, which is
// not kept and cannot be shown again. Audited as "apikey.create", without
// the secret or its hash. Errors: as Check.
func (s *Service) Create(ctx context.Context, nk NewKey, c Client) (Key, string, error) {
	secret, err := newSecret()
	if err != nil {
		return Key{}, "", err
	}
	var k Key
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if k, err = check(ctx, tx, tx.Now, nk); err != nil {
			return err
		}
		k.Prefix, k.CreatedAt = secret[:PrefixLength], tx.Now
		err = tx.QueryRowContext(ctx, `INSERT INTO api_keys (org_ods, name, prefix, key_hash, created_by, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			k.Org, k.Name, k.Prefix, hashOf(secret), db.NullID(k.CreatedBy), k.CreatedAt, nullTime(k.ExpiresAt)).Scan(&k.ID)
		if err != nil {
			return fmt.Errorf("apikey: insert: %w", err)
		}
		expires := "never"
		if !k.ExpiresAt.IsZero() {
			expires = k.ExpiresAt.Format(time.RFC3339)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: k.CreatedBy, Action: "apikey.create", SubjectType: "api_key",
			SubjectID: strconv.FormatInt(k.ID, 10), IP: c.IP,
			Details: map[string]string{"org": k.Org, "name": k.Name, "prefix": k.Prefix, "expires": expires}})
	})
	if err != nil {
		return Key{}, "", err
	}
	return k, secret, nil
}

// Check reports what Create would find wrong with nk, making nothing, for
// a form that has problems of its own (a date typed wrongly) to show
// alongside. Errors: Invalid with field errors "org" (not an ODS code, or
// no such organisation), "name" (empty, over MaxName characters, holding
// characters that cannot be stored, or an identifier the guard finds:
// T12) and "expires" (not after now, or over MaxYears ahead).
func (s *Service) Check(ctx context.Context, nk NewKey) error {
	_, err := check(ctx, s.db, s.db.Now(), nk)
	return err
}

// check checks nk at now and returns the key to store, without its
// prefix.
func check(ctx context.Context, q querier, now time.Time, nk NewKey) (Key, error) {
	k := Key{Name: strings.TrimSpace(nk.Name), CreatedBy: nk.CreatedBy}
	var problems apperr.Fields
	code, err := org.ParseCode(nk.Org)
	if err != nil {
		problems.Add("org", "Enter the ODS code of an organisation")
	} else {
		k.Org = code.String()
		var n int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM organisations WHERE ods_code = $1`, k.Org).Scan(&n); err != nil {
			return Key{}, fmt.Errorf("apikey: look up organisation: %w", err)
		}
		if n == 0 {
			problems.Add("org", "No organisation has the ODS code "+k.Org)
		}
	}
	switch {
	case k.Name == "":
		problems.Add("name", "Enter a name for the key")
	case !textcheck.Valid(k.Name):
		problems.Add("name", textcheck.Message("The name"))
	case utf8.RuneCountInString(k.Name) > MaxName:
		problems.Add("name", fmt.Sprintf("The name must be %d characters or fewer", MaxName))
	default:
		guard(&problems, "name", "Name", k.Name)
	}
	if !nk.ExpiresAt.IsZero() {
		k.ExpiresAt = nk.ExpiresAt.UTC().Truncate(time.Microsecond)
		switch {
		case !k.ExpiresAt.After(now):
			problems.Add("expires", "The expiry date must be in the future")
		case k.ExpiresAt.After(now.AddDate(MaxYears, 0, 0)):
			problems.Add("expires", fmt.Sprintf("The expiry date must be within %d years", MaxYears))
		}
	}
	return k, problems.Err()
}

// Revoke stops key id working at once, for reason (which may be empty),
// audited as "apikey.revoke" done by the user by (0 for the command line).
// When org is not "" the key must belong to it. Revoking a key twice is a
// Conflict, so nobody believes they revoked a key someone else already
// had. Errors: NotFound (no such key, or not org's); Invalid with field
// "reason"; Conflict.
func (s *Service) Revoke(ctx context.Context, id int64, org string, by int64, reason string, c Client) error {
	reason = strings.TrimSpace(reason)
	var problems apperr.Fields
	switch {
	case !textcheck.Valid(reason):
		problems.Add("reason", textcheck.Message("The reason"))
	case utf8.RuneCountInString(reason) > maxReason:
		problems.Add("reason", fmt.Sprintf("The reason must be %d characters or fewer", maxReason))
	default:
		guard(&problems, "reason", "Reason", reason)
	}
	if err := problems.Err(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		k, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		if org != "" && k.Org != org {
			return notFound()
		}
		if !k.RevokedAt.IsZero() {
			return apperr.New(apperr.Conflict, "This API key has already been revoked.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $1, revoked_by = $2, revoke_reason = $3
			WHERE id = $4 AND revoked_at IS NULL`, tx.Now, db.NullID(by), reason, id); err != nil {
			return fmt.Errorf("apikey: revoke %d: %w", id, err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: by, Action: "apikey.revoke", SubjectType: "api_key",
			SubjectID: strconv.FormatInt(id, 10), IP: c.IP,
			Details: map[string]string{"org": k.Org, "name": k.Name, "prefix": k.Prefix, "reason": reason}})
	})
}

// Authenticate returns the key whose secret is presented, when it is
// active. Unknown, revoked, expired and malformed keys are all refused
// with the same Unauthorized error, after the same hashing, so neither the
// message nor the time taken says which. A well-formed key is looked up by
// its hash alone, in one indexed query. Its last use is written when the
// stored one is a minute old or more.
func (s *Service) Authenticate(ctx context.Context, secret string) (Key, error) {
	hash := hashOf(secret)
	if !wellFormed(secret) {
		return Key{}, refused()
	}
	k, err := scan(s.db.QueryRowContext(ctx, `SELECT `+columns+` FROM api_keys WHERE key_hash = $1`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, refused()
	}
	if err != nil {
		return Key{}, fmt.Errorf("apikey: authenticate: %w", err)
	}
	// The clock transactions take their time from, read now rather than
	// in a write transaction: most requests write nothing.
	now := s.db.Now()
	if k.Status(now) != Active {
		return Key{}, refused()
	}
	if k.LastUsedAt.IsZero() || now.Sub(k.LastUsedAt) >= lastUsedEvery {
		// One statement with no audit row: the condition keeps a burst of
		// requests from several processes to one write.
		if _, err := s.db.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $1
			WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)`, now, k.ID, now.Add(-lastUsedEvery)); err != nil {
			return Key{}, fmt.Errorf("apikey: record use of %d: %w", k.ID, err)
		}
		k.LastUsedAt = now
	}
	return k, nil
}

// newSecret is a new key.
func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("apikey: random: %w", err)
	}
	return KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// hashOf is the stored form of a key: its SHA-256, in hex.
func hashOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// wellFormed reports whether s has the shape of a key: the prefix, then
// 43 characters of the base64url alphabet.
func wellFormed(s string) bool {
	if len(s) != KeyLength || !strings.HasPrefix(s, KeyPrefix) {
		return false
	}
	for _, c := range []byte(s[len(KeyPrefix):]) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// refused is the one answer to a key that does not work.
func refused() error {
	return apperr.New(apperr.Unauthorized, "The API key is not valid. It may have been revoked or have expired.")
}

func notFound() error {
	return apperr.New(apperr.NotFound, "There is no such API key.")
}

// guard adds a problem for each identifier the guard finds in text (T12),
// naming where it is, never what it is.
func guard(problems *apperr.Fields, field, label, text string) {
	found := pii.Scan(text)
	for _, f := range found {
		problems.Add(field, pii.Message(text, f, found, label))
	}
}

func nullTime(t time.Time) sql.NullTime {
	return sql.NullTime{Time: t, Valid: !t.IsZero()}
}
