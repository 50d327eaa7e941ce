package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/password"
)

// testWindow is the measured window of the tests that run a scenario: long
// enough for requests to finish inside it on a loaded machine with the race
// detector, short enough to keep the suite quick. The tests check that a
// scenario runs and reports; the figures come from psims bench, with
// windows of seconds (docs/benchmarks.md).
const testWindow = 300 * time.Millisecond

func TestPercentile(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, ms(i))
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"none", nil, 50, 0},
		{"one", []time.Duration{ms(7)}, 99, ms(7)},
		{"median of 100", hundred, 50, ms(50)},
		{"p95 of 100", hundred, 95, ms(95)},
		{"p99 of 100", hundred, 99, ms(99)},
		{"p100 of 100", hundred, 100, ms(100)},
		{"p1 of 100", hundred, 1, ms(1)},
		{"median of 4 is the second", []time.Duration{ms(1), ms(2), ms(3), ms(4)}, 50, ms(2)},
		{"p99 of 10 is the largest", []time.Duration{ms(1), ms(2), ms(3), ms(4), ms(5), ms(6), ms(7), ms(8), ms(9), ms(10)}, 99, ms(10)},
		{"p95 of 20 is the 19th", hundred[:20], 95, ms(19)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%d samples, %v) = %v, want %v", len(tt.sorted), tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarizeSortsACopy(t *testing.T) {
	samples := []time.Duration{5, 1, 4, 2, 3}
	l := Summarize(samples)
	if l.P50 != 3 || l.P95 != 5 || l.P99 != 5 || l.Max != 5 {
		t.Errorf("Summarize = %+v, want p50 3, p95 5, p99 5, max 5", l)
	}
	if samples[0] != 5 {
		t.Errorf("Summarize changed its argument: %v", samples)
	}
}

func TestFill(t *testing.T) {
	r := Report{Scenario: ScenarioSignIn}
	samples := make([]time.Duration, 0, 90)
	for range 90 {
		samples = append(samples, 100*time.Millisecond)
	}
	r.Fill(LoadResult{Samples: samples, Window: 10 * time.Second},
		HashResult{Hashes: 100, Window: 10 * time.Second, Single: 50 * time.Millisecond})
	if r.RequestsPerSec != 9 || r.RawHashesPerSec != 10 {
		t.Errorf("rates %v and %v, want 9 and 10", r.RequestsPerSec, r.RawHashesPerSec)
	}
	if r.RateRatio != 0.9 || r.LatencyRatio != 2 {
		t.Errorf("ratios %v and %v, want 0.9 and 2", r.RateRatio, r.LatencyRatio)
	}
	if !r.Met() || len(r.Goals) != 2 {
		t.Errorf("goals %+v, want both met", r.Goals)
	}

	r.Fill(LoadResult{Samples: samples, Errors: map[string]int{"HTTP 500": 1}, Window: 10 * time.Second},
		HashResult{Hashes: 100, Window: 10 * time.Second, Single: 50 * time.Millisecond})
	if r.Errors != 1 || r.Met() {
		t.Errorf("with an error: errors %d, met %v; want 1 and false", r.Errors, r.Met())
	}

	reg := Report{Scenario: ScenarioRegister}
	reg.Fill(LoadResult{Samples: samples, Window: 10 * time.Second}, HashResult{Hashes: 100, Window: 10 * time.Second, Single: time.Millisecond})
	if len(reg.Goals) != 0 || !reg.Met() {
		t.Errorf("register goals %+v, want none", reg.Goals)
	}
}

// TestRun runs each scenario against PSIMS in this process for about a
// second, with quick hashing, on every engine. It checks behaviour (every
// request succeeds, something was counted), never timing.
func TestRun(t *testing.T) {
	// Not parallel: it counts what finishes within short time windows,
	// which tests running alongside could leave empty.
	if testing.Short() {
		t.Skip("runs the whole service")
	}
	for _, e := range dbtest.Engines(t) {
		for _, scenario := range Scenarios() {
			t.Run(e.Name+"/"+scenario, func(t *testing.T) {
				var progress bytes.Buffer
				r, err := Run(context.Background(), Options{
					Scenario:    scenario,
					Concurrency: 2,
					Duration:    testWindow,
					Warmup:      100 * time.Millisecond,
					Params:      password.Params{MemoryKiB: 64, Time: 1, Threads: 1},
					Database:    e.Database,
					Rounds:      2,
					Singles:     3,
					Progress:    &progress,
				})
				if err != nil {
					t.Fatalf("Run: %v\n%s", err, progress.String())
				}
				if r.Errors != 0 {
					t.Errorf("%d errors (%v), first: %s", r.Errors, r.ErrorKinds, r.FirstError)
				}
				if r.Requests == 0 || r.RawHashes == 0 || r.SingleHash <= 0 || r.Latency.P99 <= 0 {
					t.Errorf("nothing measured: %+v", r)
				}
				if r.Database != e.Name {
					t.Errorf("database %q, want %q", r.Database, e.Name)
				}
				var text bytes.Buffer
				if err := r.WriteText(&text); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(text.String(), "raw hashes/s") {
					t.Errorf("text report lacks the raw hash rate:\n%s", text.String())
				}
				b, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				var back Report
				if err := json.Unmarshal(b, &back); err != nil || back.Requests != r.Requests {
					t.Errorf("JSON round trip: %v, %d requests, want %d", err, back.Requests, r.Requests)
				}
			})
		}
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	ctx := context.Background()
	if _, err := Run(ctx, Options{Scenario: "nope", Duration: time.Second}); err == nil {
		t.Error("unknown scenario accepted")
	}
	if _, err := Run(ctx, Options{Scenario: ScenarioSignIn}); err == nil {
		t.Error("zero duration accepted")
	}
	if _, err := Run(ctx, Options{Scenario: ScenarioSignIn, Duration: time.Second, Target: "http://127.0.0.1:1"}); err == nil {
		t.Error("signin against a target without credentials accepted")
	}
}
