package ratelimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/ratelimit"
)

// TestLeasesNeverLetProcessesTogetherPastTheLimit runs three processes'
// leases on one bucket of 200 a minute, all at once: together they are
// allowed at most 200, and with the bucket drained, none is allowed more
// until tokens come back. A lease's tokens are handed out without writing:
// the bucket moved by whole leases.
func TestLeasesNeverLetProcessesTogetherPastTheLimit(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		store := ratelimit.New(d)
		processes := []*ratelimit.Leased{ratelimit.NewLeased(store), ratelimit.NewLeased(store), ratelimit.NewLeased(store)}
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for _, p := range processes {
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 100 {
						dec, err := p.Allow(context.Background(), "apikey:7", 200, time.Minute, base)
						if err != nil {
							t.Error(err)
							return
						}
						if dec.Allowed {
							allowed.Add(1)
						}
					}
				}()
			}
		}
		wg.Wait()
		if n := allowed.Load(); n > 200 || n < 150 {
			t.Fatalf("%d allowed of a bucket of 200", n)
		}
		// A token comes back every 300ms.
		dec, err := processes[0].Allow(context.Background(), "apikey:7", 200, time.Minute, base.Add(100*time.Millisecond))
		if err != nil || dec.Allowed {
			t.Fatalf("drained bucket: %+v %v", dec, err)
		}
		dec, err = processes[1].Allow(context.Background(), "apikey:7", 200, time.Minute, base.Add(2*time.Second))
		if err != nil || !dec.Allowed {
			t.Fatalf("after 2s: %+v %v", dec, err)
		}
	})
}

// TestSmallLimitsLeaseOneTokenAtATime: with a limit of 3, leases are
// exact, as Store.Allow.
func TestSmallLimitsLeaseOneTokenAtATime(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		store := ratelimit.New(d)
		a, b := ratelimit.NewLeased(store), ratelimit.NewLeased(store)
		for i, p := range []*ratelimit.Leased{a, b, a, b} {
			dec, err := p.Allow(context.Background(), "apikey:9", 3, time.Minute, base)
			if err != nil {
				t.Fatal(err)
			}
			if dec.Allowed != (i < 3) {
				t.Fatalf("request %d: allowed %v", i+1, dec.Allowed)
			}
			if i == 3 && dec.RetryAfter <= 0 {
				t.Fatalf("refusal without RetryAfter: %+v", dec)
			}
		}
	})
}
