// Package ratelimit limits how often something may happen per key, such as
// sign-in attempts per client address, keeping the state in the database so
// that every process shares one limit.
//
// Each key has a token bucket that holds limit tokens and refills at limit
// tokens per window; a request takes one token. The bucket is stored as one
// number, the time it will be full again (the generic cell rate algorithm,
// GCRA), and each token is taken by one upsert that checks and moves that
// time, so concurrent requests in any number of processes can never
// together take more than the bucket holds. Unlike a fixed window, a burst
// at the end of one window leaves the bucket empty at the start of the
// next, so there is no double burst at the edge: at most limit requests at
// once, and at most limit + t*limit/window in any time t.
//
// The time is the caller's now, so the processes' clocks must agree (NTP);
// a clock running ahead refills its buckets early.
package ratelimit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/psims/psims/internal/db"
)

// Store decides requests against limits kept in the rate_limits table.
type Store struct {
	db *db.DB
	// hashKey keys the hash of stored keys; empty for plain SHA-256.
	hashKey []byte
}

// New returns a Store that stores each key as its SHA-256.
func New(d *db.DB) *Store {
	return &Store{db: d}
}

// NewKeyed returns a Store that stores each key as its HMAC-SHA-256 under
// hashKey. There are only 2^32 IPv4 addresses, so a plain SHA-256 of
// "signin:" and an address can be reversed in minutes; without the server's
// key it cannot. Every process must use the same hashKey (internal/secret
// gives one) or they will not share limits.
func NewKeyed(d *db.DB, hashKey []byte) *Store {
	return &Store{db: d, hashKey: hashKey}
}

// Decision is the answer to one request.
type Decision struct {
	// Allowed reports whether the request may go ahead; it has taken a token
	// if so.
	Allowed bool
	// Remaining is how many more requests would be allowed at the same
	// moment.
	Remaining int
	// RetryAfter is how long until one more request would be allowed: zero
	// while Remaining is above zero.
	RetryAfter time.Duration
}

// allowSQL takes tokens from the key's bucket in one statement. A new key
// gets a full bucket less the tokens ($2). Otherwise the time the bucket is
// full again, moved up to now if already past ($3), grows by the tokens'
// time ($4) unless that would put it beyond a whole bucket from now ($5);
// then nothing is written and no row is returned. PostgreSQL locks the row
// and re-checks the condition on its latest version, and SQLite has one
// writer, so concurrent callers are decided one after another.
const allowSQL = `INSERT INTO rate_limits (key_hash, full_at_ns) VALUES ($1, $2)
	ON CONFLICT (key_hash) DO UPDATE
	SET full_at_ns = CASE WHEN rate_limits.full_at_ns > $3 THEN rate_limits.full_at_ns ELSE $3 END + $4
	WHERE CASE WHEN rate_limits.full_at_ns > $3 THEN rate_limits.full_at_ns ELSE $3 END + $4 <= $5
	RETURNING full_at_ns`

// Allow takes one token from key's bucket if it has one. The bucket holds
// limit tokens and refills at limit per window. Keys share one table, so
// name each limit's keys apart, as in "signin:203.0.113.7".
func (s *Store) Allow(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (Decision, error) {
	return s.take(ctx, key, 1, limit, window, now)
}

// take takes n tokens (1 <= n <= limit) from key's bucket at once if it
// has them, and none otherwise.
func (s *Store) take(ctx context.Context, key string, n, limit int, window time.Duration, now time.Time) (Decision, error) {
	if limit < 1 || window < time.Duration(limit) || n < 1 || n > limit {
		return Decision{}, fmt.Errorf("ratelimit: %d of limit %d per %s is not a positive rate", n, limit, window)
	}
	// interval is the time one token takes to come back; capacity is the
	// time a whole bucket takes (window, less any rounding); cost is the
	// time the n tokens take.
	interval := int64(window) / int64(limit)
	capacity := interval * int64(limit)
	cost := interval * int64(n)
	t := now.UnixNano()
	h := s.hash(key)

	// Refuse from a read when the bucket is empty, so that a flood of
	// refused requests never waits for or takes the write connection (on
	// PostgreSQL even a refused upsert locks the row, which is a write).
	// A read that is out of date cannot refuse wrongly: the time a bucket
	// is full only moves later while it is in use.
	fullAt, found, err := s.read(ctx, h)
	if err != nil {
		return Decision{}, err
	}
	if found && fullAt-t > capacity-cost {
		return decide(false, fullAt, t, interval, limit), nil
	}
	err = s.db.WriteRowContext(ctx, allowSQL, h, t+cost, t, cost, t+capacity).Scan(&fullAt)
	if err == nil {
		return decide(true, fullAt, t, interval, limit), nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Decision{}, fmt.Errorf("ratelimit: allow: %w", err)
	}
	// Others took the last tokens since the read; read again to say when to
	// come back.
	fullAt, found, err = s.read(ctx, h)
	if err != nil {
		return Decision{}, err
	}
	if !found {
		// Swept in between; answer as for a bucket just emptied.
		fullAt = t + capacity
	}
	return decide(false, fullAt, t, interval, limit), nil
}

// read returns the time the bucket stored as h is full again, and whether
// there is one.
func (s *Store) read(ctx context.Context, h []byte) (int64, bool, error) {
	var fullAt int64
	err := s.db.QueryRowContext(ctx, `SELECT full_at_ns FROM rate_limits WHERE key_hash = $1`, h).Scan(&fullAt)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("ratelimit: read bucket: %w", err)
	}
	return fullAt, true, nil
}

// decide describes a bucket that will be full at fullAt, seen at now.
func decide(allowed bool, fullAt, now, interval int64, limit int) Decision {
	capacity := interval * int64(limit)
	// ahead is the time the tokens in use take to come back.
	ahead := max(fullAt-now, 0)
	d := Decision{Allowed: allowed, Remaining: int((capacity - ahead) / interval)}
	d.Remaining = min(max(d.Remaining, 0), limit)
	// One more is allowed once ahead has fallen to capacity less one token.
	if wait := ahead - (capacity - interval); wait > 0 {
		d.RetryAfter = time.Duration(wait)
	}
	return d
}

// DeleteIdle removes the buckets that have been full since before
// now-olderThan, and returns how many. A full bucket behaves exactly like
// no row, so this loses nothing; olderThan only spares rows of keys in
// steady use from being deleted and written again. Run it periodically so
// that addresses are not kept longer than they are needed.
func (s *Store) DeleteIdle(ctx context.Context, now time.Time, olderThan time.Duration) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM rate_limits WHERE full_at_ns < $1`, now.Add(-olderThan).UnixNano())
	if err != nil {
		return 0, fmt.Errorf("ratelimit: delete idle: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("ratelimit: delete idle: %w", err)
	}
	return n, nil
}

// hash is the stored form of key: never the key itself, which holds a
// client's address.
func (s *Store) hash(key string) []byte {
	if len(s.hashKey) == 0 {
		sum := sha256.Sum256([]byte(key))
		return sum[:]
	}
	m := hmac.New(sha256.New, s.hashKey)
	m.Write([]byte(key))
	return m.Sum(nil)
}
