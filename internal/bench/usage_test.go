package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/password"
)

// TestRunUsage runs the usage scenario briefly on every engine. It checks
// behaviour, never timing: both servers answered the page every time, and
// the server that records usage wrote one event for each of its requests
// and the one without wrote none (T9, P2).
func TestRunUsage(t *testing.T) {
	// Not parallel: it counts what finishes within short time windows.
	if testing.Short() {
		t.Skip("runs the whole service")
	}
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			var progress bytes.Buffer
			r, err := RunUsage(context.Background(), UsageOptions{
				Database: e.Database, Concurrency: []int{1, 2}, Duration: testWindow, Warmup: 20 * time.Millisecond,
				Params: password.Params{MemoryKiB: 64, Time: 1, Threads: 1}, Progress: &progress,
			})
			if err != nil {
				t.Fatalf("RunUsage: %v\n%s", err, progress.String())
			}
			if r.Database != e.Name || len(r.Overhead) != 2 || len(r.Goals) != 2 {
				t.Fatalf("report %+v", r)
			}
			withRequests := 0
			for _, o := range r.Overhead {
				for _, p := range []GatePhase{o.With, o.Without} {
					if p.Calls == 0 || p.Errors != 0 || p.Latency.P50 <= 0 || p.Latency.P99 < p.Latency.P50 {
						t.Errorf("concurrency %d, %s: %+v", o.Concurrency, p.Name, p)
					}
				}
				if o.AddedP99 != o.With.Latency.P99-o.Without.Latency.P99 {
					t.Errorf("added p99 %v from %v and %v", o.AddedP99, o.With.Latency.P99, o.Without.Latency.P99)
				}
				// The server timed its recording of each measured request.
				// A page is sent before it is recorded, so the request of
				// each worker that ends a window may be timed in the next.
				rec := o.Recording
				if diff := int(rec.Requests) - o.With.Calls; diff < -o.Concurrency || diff > o.Concurrency ||
					rec.OverGoal < 0 || rec.OverGoal > 1 || (rec.P99 != 0 && rec.P99 < rec.P50) {
					t.Errorf("concurrency %d: recording %+v for %d requests", o.Concurrency, rec, o.With.Calls)
				}
				if o.AddedP99Interval[0] > o.AddedP99Interval[1] || o.AddedP50Interval[0] > o.AddedP50Interval[1] || o.WriterBusy < 0 {
					t.Errorf("concurrency %d: intervals %v %v, writer busy %v", o.Concurrency, o.AddedP50Interval, o.AddedP99Interval, o.WriterBusy)
				}
				withRequests += o.With.Calls
			}
			// Every request to the server that records usage, warm-up
			// included, is one event, and none to the other one is; so is
			// each of the two workers' sign-ins, made on that server.
			if r.Sent < withRequests || int(r.Written) != r.Sent+2 || r.Dropped != 0 {
				t.Errorf("%d usage events written and %d dropped for %d requests with usage (%d measured)",
					r.Written, r.Dropped, r.Sent, withRequests)
			}
			var text bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"GET /account", "without", "added p99", "recording usage adds < 0.200ms", "writer busy"} {
				if !strings.Contains(text.String(), want) {
					t.Errorf("text report lacks %q:\n%s", want, text.String())
				}
			}
			if _, err := json.Marshal(r); err != nil {
				t.Error(err)
			}
		})
	}
}

// The bootstrap interval holds a known difference: samples spread over
// 1–3 ms, the second set shifted up by 0.3 ms. With equal samples in each
// there is nothing to resample, and the interval is the difference itself.
func TestBootstrapAddedHoldsAKnownDifference(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	const shift = 300 * time.Microsecond
	without, with := make([]time.Duration, 20_000), make([]time.Duration, 20_000)
	for i := range without {
		without[i] = time.Millisecond + time.Duration(rng.Int64N(int64(2*time.Millisecond)))
		with[i] = time.Millisecond + time.Duration(rng.Int64N(int64(2*time.Millisecond))) + shift
	}
	p50, p99 := bootstrapAdded(with, without, 500, rng)
	for _, in := range [][2]time.Duration{p50, p99} {
		if in[0] > shift || in[1] < shift || in[1]-in[0] > 200*time.Microsecond {
			t.Errorf("interval %v does not hold %v narrowly", in, shift)
		}
	}
	same := []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}
	p50, p99 = bootstrapAdded([]time.Duration{3 * time.Millisecond, 3 * time.Millisecond}, same, 50, rng)
	if want := [2]time.Duration{2 * time.Millisecond, 2 * time.Millisecond}; p50 != want || p99 != want {
		t.Errorf("intervals %v %v, want %v", p50, p99, want)
	}
}

// The recording time is read from the histogram's buckets between two
// readings: the bounds that hold p50 and p99, and the exact share over
// the goal, which is one of the bounds.
func TestRecordingTimeReadsTheBuckets(t *testing.T) {
	t.Parallel()
	bounds := []float64{1e-6, 5e-6, 50e-6, 200e-6, 1e-3}
	before := histogramCounts{bounds: bounds, counts: []uint64{10, 10, 10, 10, 10}, total: 10}
	// 1,000 more: 600 within 1 µs, 390 more within 5 µs, 5 within 50 µs,
	// 3 within 200 µs, 1 within 1 ms and 1 beyond.
	after := histogramCounts{bounds: bounds, counts: []uint64{610, 1000, 1005, 1008, 1009}, total: 1010}
	got := recordingTime(before, after)
	want := RecordingTime{Requests: 1000, P50: time.Microsecond, P99: 5 * time.Microsecond, OverGoal: 0.002}
	if got.Requests != want.Requests || got.P50 != want.P50 || got.P99 != want.P99 || math.Abs(got.OverGoal-want.OverGoal) > 1e-12 {
		t.Errorf("recording time %+v, want %+v", got, want)
	}
	// Beyond the last bucket, a percentile has no bound.
	slow := histogramCounts{bounds: bounds, counts: []uint64{10, 10, 10, 10, 10}, total: 1010}
	if got := recordingTime(before, slow); got.P50 != 0 || got.P99 != 0 || got.OverGoal != 1 {
		t.Errorf("all beyond: %+v", got)
	}
}
