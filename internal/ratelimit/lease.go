package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Leased decides requests against the Store's shared buckets, taking a
// busy key's tokens from the database a lease at a time and handing them
// out in this process: one write for many requests rather than one each.
// Tokens leased are taken from the shared bucket, so every process
// together still never exceeds the limit; a lease unused for a second is
// dropped (its tokens are spent), which can only make the limit stricter
// for a moment, never looser. Use it for limits of high rates, such as
// requests per API key; small limits lease one token at a time, exactly
// as Store.Allow.
type Leased struct {
	store *Store
	mu    sync.Mutex
	held  map[string]lease
}

type lease struct {
	tokens  int
	expires time.Time
}

// leaseLife is how long leased tokens stay usable.
const leaseLife = time.Second

// NewLeased returns a Leased on the store's buckets.
func NewLeased(s *Store) *Leased { return &Leased{store: s, held: map[string]lease{}} }

// leaseSize is how many tokens one lease of a limit takes: a twentieth of
// the bucket, from 1 to 50.
func leaseSize(limit int) int { return min(max(limit/20, 1), 50) }

// Allow takes one token of key's bucket, from this process's lease when it
// holds one, and otherwise by leasing more from the shared bucket. The
// bucket is limit tokens refilled over window, as for Store.Allow.
func (l *Leased) Allow(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (Decision, error) {
	l.mu.Lock()
	if ls, ok := l.held[key]; ok && ls.tokens > 0 && now.Before(ls.expires) {
		ls.tokens--
		l.held[key] = ls
		l.mu.Unlock()
		return Decision{Allowed: true, Remaining: ls.tokens}, nil
	}
	l.mu.Unlock()
	n := leaseSize(limit)
	d, err := l.store.take(ctx, key, n, limit, window, now)
	if err == nil && !d.Allowed && n > 1 {
		// The bucket may still hold a few: take one.
		n = 1
		d, err = l.store.take(ctx, key, n, limit, window, now)
	}
	if err != nil || !d.Allowed {
		return d, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n > 1 {
		l.held[key] = lease{tokens: n - 1, expires: now.Add(leaseLife)}
	}
	// Leases of keys no longer in use go, so the map stays small.
	for k, ls := range l.held {
		if !now.Before(ls.expires) {
			delete(l.held, k)
		}
	}
	return d, nil
}
