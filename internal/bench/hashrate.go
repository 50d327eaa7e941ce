package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/psims/psims/internal/password"
)

// hashPlain is what the raw measurement hashes: as long as benchPassword,
// so both phases hash inputs of the same size.
const hashPlain = benchPassword

// measureHashRate runs concurrency goroutines calling HashRaw in a loop for
// warmup plus duration and counts the hashes that completed inside the
// measured window (the duration after warmup). HashRaw takes no slot, so
// this is the machine's raw limit with the params the site uses.
func measureHashRate(ctx context.Context, h *password.Hasher, concurrency int, warmup, duration time.Duration) (HashResult, error) {
	salt := make([]byte, password.SaltLen)
	start := time.Now()
	from, until := start.Add(warmup), start.Add(warmup+duration)
	counts := make([]int, concurrency)
	var wg sync.WaitGroup
	for i := range concurrency {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(until) {
				h.HashRaw(hashPlain, salt)
				if t := time.Now(); !t.Before(from) && !t.After(until) {
					counts[i]++
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return HashResult{}, fmt.Errorf("bench: hash measurement interrupted: %w", err)
	}
	res := HashResult{Window: duration}
	for _, n := range counts {
		res.Hashes += n
	}
	return res, nil
}

// measureSingleHash times singles sequential hashes and returns their
// median.
func measureSingleHash(ctx context.Context, h *password.Hasher, singles int) (time.Duration, error) {
	salt := make([]byte, password.SaltLen)
	times := make([]time.Duration, 0, singles)
	for range singles {
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("bench: hash measurement interrupted: %w", err)
		}
		t0 := time.Now()
		h.HashRaw(hashPlain, salt)
		times = append(times, time.Since(t0))
	}
	slices.Sort(times)
	if len(times) == 0 {
		return 0, nil
	}
	return times[len(times)/2], nil
}
