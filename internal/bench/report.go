package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// The goals of the sign-in scenario, from the issue that asked for psims
// bench: sign-ins per second at least 90% of the raw hash rate, and p99
// latency under 4 times the time of one hash.
const (
	GoalRateRatio    = 0.90
	GoalLatencyRatio = 4.0
)

// Latency summarises the latencies of the successful requests.
type Latency struct {
	P50 time.Duration `json:"p50_ns"`
	P95 time.Duration `json:"p95_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted, which
// must be in ascending order, by the nearest-rank method: the smallest
// sample that at least p% of the samples are less than or equal to. It
// returns 0 for no samples.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[percentileRank(len(sorted), p)-1]
}

// percentileRank is the rank, from 1 to n, of the p-th percentile of n
// samples by the nearest-rank method: ceil(p/100 × n), computed in
// integers to avoid rounding 0.95×100 = 95.00000000000001 up to 96.
func percentileRank(n int, p float64) int {
	perMille := int(p*1000 + 0.5)
	rank := (perMille*n + 100*1000 - 1) / (100 * 1000)
	return max(1, min(rank, n))
}

// Summarize returns the percentiles of samples, from all of them. It sorts
// a copy, leaving samples as they are.
func Summarize(samples []time.Duration) Latency {
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	var l Latency
	if len(sorted) == 0 {
		return l
	}
	l.P50 = Percentile(sorted, 50)
	l.P95 = Percentile(sorted, 95)
	l.P99 = Percentile(sorted, 99)
	l.Max = sorted[len(sorted)-1]
	return l
}

// Goal is one target the report checks.
type Goal struct {
	Name  string  `json:"name"`  // "rate_ratio" or "p99_ratio"
	Value float64 `json:"value"` // what was measured
	Want  string  `json:"want"`  // the target, such as ">= 0.90"
	Met   bool    `json:"met"`
}

// Report is the outcome of one run of psims bench.
type Report struct {
	Scenario    string        `json:"scenario"`
	MFA         bool          `json:"mfa,omitempty"`    // signin with a code from an authenticator app
	Database    string        `json:"database"`         // sqlite, postgres, or "remote" with --target
	Target      string        `json:"target,omitempty"` // set with --target
	Concurrency int           `json:"concurrency"`
	CPUs        int           `json:"cpus"`
	Started     time.Time     `json:"started"`
	Warmup      time.Duration `json:"warmup_ns"`
	Duration    time.Duration `json:"duration_ns"` // of each phase, over all rounds
	Rounds      int           `json:"rounds"`

	HashMemoryKiB uint32 `json:"hash_memory_kib"`
	HashTime      uint32 `json:"hash_time"`
	HashThreads   uint8  `json:"hash_threads"`

	Requests       int            `json:"requests"` // successful requests completed in the measured window
	Errors         int            `json:"errors"`   // failed requests completed in the measured window
	ErrorKinds     map[string]int `json:"error_kinds,omitempty"`
	FirstError     string         `json:"first_error,omitempty"`
	RequestsPerSec float64        `json:"requests_per_sec"`
	Latency        Latency        `json:"latency"`

	RawHashes       int           `json:"raw_hashes"`
	RawHashesPerSec float64       `json:"raw_hashes_per_sec"`
	SingleHash      time.Duration `json:"single_hash_ns"` // median of sequential hashes

	RateRatio    float64 `json:"rate_ratio"` // RequestsPerSec / RawHashesPerSec
	LatencyRatio float64 `json:"p99_ratio"`  // Latency.P99 / SingleHash
	Goals        []Goal  `json:"goals"`      // empty for scenarios without goals
}

// LoadResult is what the load phase measured.
type LoadResult struct {
	Samples    []time.Duration // latency of each successful request
	Errors     map[string]int  // failed requests by kind ("HTTP 500", "transport")
	FirstError string          // a description of the first failure
	Window     time.Duration   // the measured window
}

// HashResult is what the raw hashing phase measured.
type HashResult struct {
	Hashes int           // hashes completed in the window by all goroutines
	Window time.Duration // the measured window
	Single time.Duration // median time of one hash, computed alone
}

// Fill completes r from the two measurements: counts, rates, latency
// percentiles, ratios and, for the sign-in scenario, the goals. It does no
// measuring of its own.
func (r *Report) Fill(load LoadResult, hash HashResult) {
	r.Requests = len(load.Samples)
	r.Errors = 0
	for _, n := range load.Errors {
		r.Errors += n
	}
	r.ErrorKinds = load.Errors
	if len(r.ErrorKinds) == 0 {
		r.ErrorKinds = nil
	}
	r.FirstError = load.FirstError
	r.RequestsPerSec = perSecond(r.Requests, load.Window)
	r.Latency = Summarize(load.Samples)
	r.RawHashes = hash.Hashes
	r.RawHashesPerSec = perSecond(hash.Hashes, hash.Window)
	r.SingleHash = hash.Single
	r.RateRatio, r.LatencyRatio = 0, 0
	if r.RawHashesPerSec > 0 {
		r.RateRatio = r.RequestsPerSec / r.RawHashesPerSec
	}
	if r.SingleHash > 0 {
		r.LatencyRatio = float64(r.Latency.P99) / float64(r.SingleHash)
	}
	r.Goals = []Goal{}
	if r.Scenario == ScenarioSignIn {
		r.Goals = []Goal{
			{Name: "rate_ratio", Value: r.RateRatio, Want: fmt.Sprintf(">= %.2f", GoalRateRatio),
				Met: r.Requests > 0 && r.Errors == 0 && r.RateRatio >= GoalRateRatio},
			{Name: "p99_ratio", Value: r.LatencyRatio, Want: fmt.Sprintf("< %.0f", GoalLatencyRatio),
				Met: r.Requests > 0 && r.Errors == 0 && r.LatencyRatio < GoalLatencyRatio},
		}
	}
}

// Met reports whether every goal of the report was met (true when it has
// none).
func (r *Report) Met() bool {
	for _, g := range r.Goals {
		if !g.Met {
			return false
		}
	}
	return true
}

func perSecond(n int, window time.Duration) float64 {
	if window <= 0 {
		return 0
	}
	return float64(n) / window.Seconds()
}

// WriteText writes the report for people to read.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "  %-14s %s\n", label, fmt.Sprintf(format, args...))
	}
	mfa := ""
	if r.MFA {
		mfa = " --mfa"
	}
	fmt.Fprintf(&b, "psims bench %s%s (%s)\n", r.Scenario, mfa, r.Started.UTC().Format("2006-01-02 15:04:05Z"))
	if r.MFA {
		line("sign-in", "%s", "the password, then a code from an authenticator app (two requests, timed together)")
	}
	if r.Target != "" {
		line("target", "%s", r.Target)
	}
	line("database", "%s", r.Database)
	line("concurrency", "%d (this machine has %d CPUs)", r.Concurrency, r.CPUs)
	line("duration", "%s measured per phase in %d round(s) of load then raw hashing, after %s of warm-up", r.Duration, r.Rounds, r.Warmup)
	line("argon2id", "m=%d KiB, t=%d, p=%d", r.HashMemoryKiB, r.HashTime, r.HashThreads)
	line("requests", "%d ok, %d errors", r.Requests, r.Errors)
	if r.Errors > 0 {
		kinds := make([]string, 0, len(r.ErrorKinds))
		for k, n := range r.ErrorKinds {
			kinds = append(kinds, fmt.Sprintf("%s: %d", k, n))
		}
		slices.Sort(kinds)
		line("error kinds", "%s", strings.Join(kinds, ", "))
		line("first error", "%s", r.FirstError)
	}
	line("requests/s", "%.1f", r.RequestsPerSec)
	line("latency", "p50 %s  p95 %s  p99 %s  max %s",
		ms(r.Latency.P50), ms(r.Latency.P95), ms(r.Latency.P99), ms(r.Latency.Max))
	line("raw hashes/s", "%.1f (%d goroutines hashing for %s)", r.RawHashesPerSec, r.Concurrency, r.Duration)
	line("single hash", "%s (median of sequential hashes)", ms(r.SingleHash))
	line("rate ratio", "%.3f  requests/s ÷ raw hashes/s%s", r.RateRatio, r.goalText("rate_ratio"))
	line("p99 ratio", "%.2f  p99 ÷ single hash%s", r.LatencyRatio, r.goalText("p99_ratio"))
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) goalText(name string) string {
	for _, g := range r.Goals {
		if g.Name == name {
			verdict := "MISS"
			if g.Met {
				verdict = "PASS"
			}
			return fmt.Sprintf("  (goal %s: %s)", g.Want, verdict)
		}
	}
	return "  (no goal for this scenario)"
}

// ms formats d in milliseconds with one decimal.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}
