package ratelimit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/ratelimit"
)

// base is a minute boundary, so that base+59s is the end of a fixed window.
var base = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// allowN calls Allow n times at now and returns how many were allowed.
func allowN(t *testing.T, s *ratelimit.Store, key string, limit int, window time.Duration, now time.Time, n int) int {
	t.Helper()
	allowed := 0
	for range n {
		dec, err := s.Allow(context.Background(), key, limit, window, now)
		if err != nil {
			t.Fatal(err)
		}
		if dec.Allowed {
			allowed++
		}
	}
	return allowed
}

func TestLimitExact(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := ratelimit.New(d)
		ctx := context.Background()
		for i := range 5 {
			dec, err := s.Allow(ctx, "signin:203.0.113.7", 5, time.Minute, base)
			if err != nil {
				t.Fatal(err)
			}
			want := ratelimit.Decision{Allowed: true, Remaining: 4 - i}
			if i == 4 {
				// The last token: one more only after a token's time.
				want.RetryAfter = 12 * time.Second
			}
			if dec != want {
				t.Fatalf("request %d: got %+v, want %+v", i+1, dec, want)
			}
		}
		for range 3 {
			dec, err := s.Allow(ctx, "signin:203.0.113.7", 5, time.Minute, base)
			if err != nil {
				t.Fatal(err)
			}
			want := ratelimit.Decision{Allowed: false, Remaining: 0, RetryAfter: 12 * time.Second}
			if dec != want {
				t.Fatalf("over the limit: got %+v, want %+v", dec, want)
			}
		}
		// A limit that does not divide the window evenly still allows
		// exactly that many at once.
		if got := allowN(t, s, "report:203.0.113.7", 7, time.Hour, base, 20); got != 7 {
			t.Fatalf("7 per hour: %d allowed at once", got)
		}
	})
}

func TestNoDoubleBurstAtWindowEdge(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := ratelimit.New(d)
		const key = "signin:198.51.100.1"
		// A fixed window would allow 10 at 0:59 and 10 more at 1:01.
		if got := allowN(t, s, key, 10, time.Minute, base.Add(59*time.Second), 15); got != 10 {
			t.Fatalf("at 0:59: %d allowed, want 10", got)
		}
		if got := allowN(t, s, key, 10, time.Minute, base.Add(61*time.Second), 15); got != 0 {
			t.Fatalf("at 1:01: %d allowed, want 0 (a token takes 6s to come back)", got)
		}
		// One token back every 6 seconds.
		if got := allowN(t, s, key, 10, time.Minute, base.Add(65*time.Second), 15); got != 1 {
			t.Fatalf("at 1:05: %d allowed, want 1", got)
		}
		if got := allowN(t, s, key, 10, time.Minute, base.Add(77*time.Second), 15); got != 2 {
			t.Fatalf("at 1:17: %d allowed, want 2", got)
		}
		// A whole window after the last request the bucket is full again.
		if got := allowN(t, s, key, 10, time.Minute, base.Add(137*time.Second), 15); got != 10 {
			t.Fatalf("at 2:17: %d allowed, want 10", got)
		}
	})
}

func TestFullAgainAfterWindow(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := ratelimit.New(d)
		const key = "signin:198.51.100.2"
		if got := allowN(t, s, key, 10, time.Minute, base.Add(59*time.Second), 10); got != 10 {
			t.Fatalf("at 0:59: %d allowed, want 10", got)
		}
		if got := allowN(t, s, key, 10, time.Minute, base.Add(61*time.Second), 10); got != 0 {
			t.Fatalf("at 1:01: %d allowed, want 0", got)
		}
		if got := allowN(t, s, key, 10, time.Minute, base.Add(120*time.Second), 15); got != 10 {
			t.Fatalf("at 2:00: %d allowed, want 10", got)
		}
	})
}

func TestSteadyRate(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := ratelimit.New(d)
		// A client trying every second for ten minutes gets its burst (11:
		// a token comes back while it spends them) and then one every 6
		// seconds, so once the burst is over no 60 seconds hold more than 10.
		// (A token bucket allows limit at once and limit+t*limit/window in
		// any time t; the 60 seconds that start with the burst hold 19.)
		var allowedAt []int
		for sec := range 600 {
			if allowN(t, s, "signin:192.0.2.9", 10, time.Minute, base.Add(time.Duration(sec)*time.Second), 1) == 1 {
				allowedAt = append(allowedAt, sec)
			}
		}
		if want := 11 + (594-12)/6 + 1; len(allowedAt) != want {
			t.Fatalf("%d allowed in ten minutes, want %d", len(allowedAt), want)
		}
		for i, sec := range allowedAt {
			if sec < 70 {
				continue
			}
			n := 0
			for _, other := range allowedAt[:i+1] {
				if other > sec-60 {
					n++
				}
			}
			if n > 10 {
				t.Fatalf("%d allowed in the 60 seconds to %ds", n, sec)
			}
		}
	})
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := ratelimit.New(d)
		ctx := context.Background()
		const key = "reset:192.0.2.10"
		now := base.Add(123456789 * time.Nanosecond)
		if got := allowN(t, s, key, 3, time.Hour, now, 3); got != 3 {
			t.Fatalf("%d allowed, want 3", got)
		}
		now = now.Add(5 * time.Minute)
		dec, err := s.Allow(ctx, key, 3, time.Hour, now)
		if err != nil {
			t.Fatal(err)
		}
		if dec.Allowed || dec.RetryAfter != 15*time.Minute {
			t.Fatalf("got %+v, want refused with RetryAfter 15m", dec)
		}
		if dec, err := s.Allow(ctx, key, 3, time.Hour, now.Add(dec.RetryAfter-time.Nanosecond)); err != nil || dec.Allowed {
			t.Fatalf("just before RetryAfter: %+v, %v; want refused", dec, err)
		}
		dec, err = s.Allow(ctx, key, 3, time.Hour, now.Add(dec.RetryAfter))
		if err != nil || !dec.Allowed {
			t.Fatalf("at RetryAfter: %+v, %v; want allowed", dec, err)
		}
	})
}

func TestKeysIsolated(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := ratelimit.New(d)
		if got := allowN(t, s, "signin:192.0.2.1", 2, time.Minute, base, 5); got != 2 {
			t.Fatalf("signin:192.0.2.1: %d allowed, want 2", got)
		}
		for _, key := range []string{"signin:192.0.2.2", "register:192.0.2.1", "signin:192.0.2.10", "signin:192.0.2.1 "} {
			if got := allowN(t, s, key, 2, time.Minute, base, 5); got != 2 {
				t.Fatalf("%q: %d allowed, want 2", key, got)
			}
		}
		// A keyed store names the same key differently.
		keyed := ratelimit.NewKeyed(d, []byte("0123456789abcdef0123456789abcdef"))
		if got := allowN(t, keyed, "signin:192.0.2.1", 2, time.Minute, base, 5); got != 2 {
			t.Fatalf("keyed: %d allowed, want 2", got)
		}
	})
}

func TestStoresHashNotKey(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const key = "signin:203.0.113.77"
		if _, err := ratelimit.New(d).Allow(ctx, key, 5, time.Minute, base); err != nil {
			t.Fatal(err)
		}
		rows, err := d.QueryContext(ctx, `SELECT key_hash FROM rate_limits`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var hashes [][]byte
		for rows.Next() {
			var h []byte
			if err := rows.Scan(&h); err != nil {
				t.Fatal(err)
			}
			hashes = append(hashes, h)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(key))
		if len(hashes) != 1 || !bytes.Equal(hashes[0], sum[:]) {
			t.Fatalf("stored %x, want only SHA-256 %x", hashes, sum)
		}
	})
}

func TestBadRate(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := ratelimit.New(d)
		for _, c := range []struct {
			limit  int
			window time.Duration
		}{{0, time.Minute}, {-1, time.Minute}, {5, 0}, {5, -time.Second}, {10, 9 * time.Nanosecond}} {
			if _, err := s.Allow(context.Background(), "k", c.limit, c.window, base); err == nil {
				t.Errorf("limit %d per %s: no error", c.limit, c.window)
			}
		}
	})
}

func TestDeleteIdle(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := ratelimit.New(d)
		ctx := context.Background()
		allowN(t, s, "signin:a", 10, time.Minute, base, 10)                  // full at 1:00
		allowN(t, s, "signin:b", 10, time.Minute, base.Add(time.Minute), 10) // full at 2:00
		allowN(t, s, "report:c", 60, time.Hour, base, 1)                     // full at 1:00
		n, err := s.DeleteIdle(ctx, base.Add(3*time.Minute), 90*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Fatalf("deleted %d, want 2 (full before 1:30)", n)
		}
		var left int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM rate_limits`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 1 {
			t.Fatalf("%d rows left, want 1", left)
		}
		// A swept key starts again with a full bucket, as it would have.
		if got := allowN(t, s, "signin:a", 10, time.Minute, base.Add(3*time.Minute), 12); got != 10 {
			t.Fatalf("after sweep: %d allowed, want 10", got)
		}
	})
}

// TestConcurrentProcesses has 50 goroutines on two handles of one database,
// as two processes would be, ask at the same moment: together they must get
// exactly the limit.
func TestConcurrentProcesses(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			handles := []*ratelimit.Store{ratelimit.New(dbtest.Open(t, e)), ratelimit.New(dbtest.Open(t, e))}
			const limit, goroutines, tries = 20, 50, 4
			for round, key := range []string{"signin:192.0.2.50", "signin:192.0.2.51"} {
				var allowed, refused atomic.Int64
				var wg sync.WaitGroup
				errs := make(chan error, goroutines)
				start := make(chan struct{})
				for g := range goroutines {
					wg.Go(func() {
						<-start
						s := handles[g%2]
						for range tries {
							dec, err := s.Allow(context.Background(), key, limit, time.Minute, base)
							if err != nil {
								errs <- err
								return
							}
							if dec.Allowed {
								allowed.Add(1)
							} else {
								refused.Add(1)
							}
						}
					})
				}
				close(start)
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Fatal(err)
				}
				if allowed.Load() != limit || refused.Load() != goroutines*tries-limit {
					t.Fatalf("round %d: %d allowed and %d refused, want %d and %d", round, allowed.Load(), refused.Load(), limit, goroutines*tries-limit)
				}
			}
		})
	}
}

func BenchmarkAllow(b *testing.B) {
	for _, e := range dbtest.Engines(b) {
		s := ratelimit.New(dbtest.Open(b, e))
		ctx := context.Background()
		// Allowed: a different key each time, as for many clients.
		b.Run(e.Name+"/allowed", func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				dec, err := s.Allow(ctx, fmt.Sprintf("signin:10.0.%d.%d", i/256%256, i%256), 10, time.Minute, base)
				if err != nil || !dec.Allowed {
					b.Fatal(dec, err)
				}
			}
		})
		// Refused: one key with its bucket empty, as in a flood.
		b.Run(e.Name+"/refused", func(b *testing.B) {
			if _, err := s.Allow(ctx, "signin:flood", 1, time.Hour, base); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				dec, err := s.Allow(ctx, "signin:flood", 1, time.Hour, base)
				if err != nil || dec.Allowed {
					b.Fatal(dec, err)
				}
			}
		})
		// Parallel: many clients at once, each with its own key.
		b.Run(e.Name+"/parallel", func(b *testing.B) {
			var n atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if _, err := s.Allow(ctx, fmt.Sprintf("register:%d", i), 1000, time.Minute, base); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
