// Package secret keeps the server's own secrets, such as the key that signs
// form values, in the database: created at random on first use, so that
// every process, and every restart, uses the same value without an operator
// having to make and distribute one.
package secret

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/psims/psims/internal/db"
)

// Size is the length of every secret in bytes.
const Size = 32

// Store gives out the secrets kept in the server_secrets table.
type Store struct {
	db *db.DB
}

// New returns a Store on d.
func New(d *db.DB) *Store {
	return &Store{db: d}
}

// Get returns the secret called name, creating it on first use. Processes
// calling it together for a new name all get the one value that was stored
// first. It reads the database each time: call it once at start and keep the
// value rather than call it on every request.
func (s *Store) Get(ctx context.Context, name string) ([]byte, error) {
	if name == "" {
		return nil, errors.New("secret: empty name")
	}
	value, err := s.read(ctx, name)
	if err == nil {
		return value, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	fresh := make([]byte, Size)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("secret: generate %s: %w", name, err)
	}
	// Whoever inserts first wins; the others' values are dropped and they
	// read the winner's.
	_, err = s.db.ExecContext(ctx, `INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO NOTHING`, name, fresh, s.db.Now())
	if err != nil {
		return nil, fmt.Errorf("secret: create %s: %w", name, err)
	}
	return s.read(ctx, name)
}

// read returns the stored secret, or an error wrapping sql.ErrNoRows when
// there is none yet.
func (s *Store) read(ctx context.Context, name string) ([]byte, error) {
	var value []byte
	err := s.db.QueryRowContext(ctx, `SELECT value FROM server_secrets WHERE name = $1`, name).Scan(&value)
	if err != nil {
		return nil, fmt.Errorf("secret: read %s: %w", name, err)
	}
	if len(value) != Size {
		// A short or empty value would make every signature weak; refuse it.
		return nil, fmt.Errorf("secret: %s is %d bytes, want %d", name, len(value), Size)
	}
	return value, nil
}

// Sign returns the HMAC-SHA-256 of parts under key, base64url without
// padding, for a value a form sends back, such as a form's expiry time. Put
// the purpose first ("report-form", ...) so that a value signed for one use
// cannot stand for another. Each part is prefixed with its length, so
// ("a", "bc") and ("ab", "c") sign differently. key must be secret and
// long (Get gives one); Sign panics on an empty key, which would make every
// signature forgeable.
func Sign(key []byte, parts ...string) string {
	return base64.RawURLEncoding.EncodeToString(sum(key, parts))
}

// Verify reports whether mac is Sign(key, parts...), in time that does not
// depend on where they differ. It is false for an empty key.
func Verify(key []byte, mac string, parts ...string) bool {
	if len(key) == 0 {
		return false
	}
	return hmac.Equal([]byte(mac), []byte(Sign(key, parts...)))
}

// sum is the raw HMAC of the length-prefixed parts.
func sum(key []byte, parts []string) []byte {
	if len(key) == 0 {
		panic("secret: signing with an empty key")
	}
	m := hmac.New(sha256.New, key)
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		m.Write(n[:])
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}
