package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/password"
	"github.com/psims/psims/internal/web"
)

// This file is the usage scenario: what recording a usage event (issue 12)
// adds to a signed-in request. Beside the in-process site, two web servers
// made alike from the same application and database answer on addresses
// of their own: one records every signed-in request through the site's
// usage writer, the other has no recorder. Each worker
// sends the same request to one and then the other, alternately, so both
// are measured under the same conditions at the same moments.
//
// It measures the cost three ways, as no one of them shows it all:
//
//   - Recording, as the server that records usage times it: the work
//     recordUsage does on each request's own path, which is what the goal
//     is about, to the microsecond (psims_usage_record_seconds).
//   - End to end: the difference of the two servers' percentiles, with a
//     bootstrap interval, which shows how finely this machine can tell a
//     difference at p99 at all (a few tenths of a millisecond over 20 s),
//     and would show a cost the timing inside missed if it were larger.
//   - Away from requests: the time the usage writer spent writing batches,
//     as a share of the window. It loads the database, and so both
//     servers alike; the end-to-end difference cannot see it.

// ScenarioUsage is the usage recording overhead scenario.
const ScenarioUsage = "usage"

// GoalUsageOverheadP99 is the goal: recording usage adds less than 0.2 ms
// to a request at p99.
const GoalUsageOverheadP99 = 200 * time.Microsecond

// usagePage is the signed-in page both servers are asked for: an ordinary
// page that reads the session and the terms, as most pages do.
const (
	usagePage     = "/account"
	usagePageWant = "Your account"
)

// UsageOptions say what to measure and how.
type UsageOptions struct {
	// Database is the in-process site's database: "" for SQLite in a new
	// temporary directory, or a postgres:// URL of an empty scratch
	// database or schema, used as is.
	Database string
	// Params are the argon2id parameters of the site; each worker signs in
	// once, untimed.
	Params      password.Params
	Concurrency []int         // the numbers of workers to measure with, in turn
	Duration    time.Duration // measured time at each concurrency
	Warmup      time.Duration // run before each measured window and not counted
	Progress    io.Writer     // receives a line as each phase starts; nil for none
}

// UsageOverhead is one concurrency's measurement: the same page from the
// server that records usage and from the one that does not.
type UsageOverhead struct {
	Concurrency int       `json:"concurrency"`
	With        GatePhase `json:"with_usage"`
	Without     GatePhase `json:"without_usage"`
	// Recording is how long the server that records usage spent on it,
	// on each request's path, by its own timing.
	Recording RecordingTime `json:"recording"`
	// AddedP50 and AddedP99 are With's percentile minus Without's: what
	// recording adds end to end. They can be negative when the difference
	// is within the noise. The intervals hold each at 95% confidence, by
	// bootstrap.
	AddedP50         time.Duration    `json:"added_p50_ns"`
	AddedP99         time.Duration    `json:"added_p99_ns"`
	AddedP50Interval [2]time.Duration `json:"added_p50_interval_ns"`
	AddedP99Interval [2]time.Duration `json:"added_p99_interval_ns"`
	// Share is AddedP99 ÷ Without's p99: the part of a request that
	// recording is, measured against this machine's own page time.
	Share float64 `json:"share"`
	// WriterBusy is the share of the window the usage writer spent writing
	// batches to the database.
	WriterBusy float64 `json:"writer_busy"`
	// Met is the goal at this concurrency: no errors, fewer than 1% of
	// requests spent more than 0.2 ms recording, and the end-to-end
	// interval does not lie wholly above 0.2 ms.
	Met bool `json:"met"`
}

// RecordingTime is what psims_usage_record_seconds counted in a window.
// A page is recorded after it has been written, so the client may have
// it first: the request that ends a worker's window may be counted in the
// next. Its buckets have bounds (1, 2, 5, 10, 20, 50, 100, 200 µs…), so the
// percentiles are given as the bound of the bucket that holds them, and
// the share over the goal, a bound itself, is exact.
type RecordingTime struct {
	Requests uint64 `json:"requests"`
	// P50 and P99 are the bounds they lie within: at most this long. 0
	// means beyond the last bucket (over 5 ms).
	P50 time.Duration `json:"p50_at_most_ns"`
	P99 time.Duration `json:"p99_at_most_ns"`
	// OverGoal is the share of requests that spent longer than
	// GoalUsageOverheadP99 recording.
	OverGoal float64 `json:"over_goal"`
}

// UsageBench is the outcome of one run of the usage scenario.
type UsageBench struct {
	Scenario string          `json:"scenario"`
	Database string          `json:"database"`
	CPUs     int             `json:"cpus"`
	Started  time.Time       `json:"started"`
	Warmup   time.Duration   `json:"warmup_ns"`
	Duration time.Duration   `json:"duration_ns"`
	Page     string          `json:"page"`
	Overhead []UsageOverhead `json:"overhead"`
	// Sent is the signed-in requests sent to the server that records
	// usage, warm-up included; Written and Dropped are the usage events
	// its writer stored and the ones it dropped during the run, the
	// workers' sign-ins included.
	Sent    int    `json:"requests_with_usage"`
	Written uint64 `json:"usage_events_written"`
	Dropped uint64 `json:"usage_events_dropped"`
	Goals   []Goal `json:"goals"`
}

// Met reports whether every goal was met.
func (r *UsageBench) Met() bool {
	for _, g := range r.Goals {
		if !g.Met {
			return false
		}
	}
	return len(r.Goals) > 0
}

// RunUsage starts PSIMS in this process on a scratch database and measures
// what usage recording adds to a signed-in request.
func RunUsage(ctx context.Context, opts UsageOptions) (_ UsageBench, err error) {
	if len(opts.Concurrency) == 0 {
		opts.Concurrency = []int{1, runtime.NumCPU()}
	}
	if opts.Duration <= 0 || opts.Warmup < 0 {
		return UsageBench{}, errors.New("bench: duration must be positive and warm-up not negative")
	}

	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	r := UsageBench{Scenario: ScenarioUsage, CPUs: runtime.NumCPU(), Started: time.Now(), Warmup: opts.Warmup,
		Duration: opts.Duration, Page: "GET " + usagePage, Goals: []Goal{}}
	workers := 0
	for _, c := range opts.Concurrency {
		workers = max(workers, c)
	}

	fmt.Fprintln(progress, "Starting PSIMS in this process, with and without usage recording...")
	s, err := startSite(ctx, opts.Database, opts.Params, workers, false, newRunID())
	if err != nil {
		return UsageBench{}, err
	}
	// stop stops what has been started, the servers before the site, whose
	// usage writer writes out what they recorded; it grows as they start.
	stop := s.Close
	defer func() {
		if stop != nil {
			if cerr := stop(); cerr != nil {
				err = errors.Join(err, fmt.Errorf("bench: stop site: %w", cerr))
			}
		}
	}()
	r.Database = s.Engine
	if _, _, err := acceptEverything(ctx, s.App); err != nil {
		return UsageBench{}, err
	}
	// Both servers run beside the site's own (which the workers sign in
	// on), made alike; the site's usage writer, running, records for the
	// one with usage.
	recording, recordingMetrics, stopRecording, err := serveWeb(s.App, true)
	if err != nil {
		return UsageBench{}, err
	}
	stop = func() error { return errors.Join(stopRecording(), s.Close()) }
	plain, _, stopPlain, err := serveWeb(s.App, false)
	if err != nil {
		return UsageBench{}, err
	}
	stop = func() error { return errors.Join(stopRecording(), stopPlain(), s.Close()) }

	// The counts start before the workers sign in: each sign-in is a
	// usage event too.
	writtenBefore := s.App.UsageWriter.Written()
	droppedBefore := s.App.UsageWriter.Dropped()
	// Each worker is one signed-in person; its session works on both
	// servers, which share the database, and its cookies go to both, as
	// a cookie does not depend on the port.
	clients := make([]*http.Client, workers)
	for i := range clients {
		if clients[i], err = signedInClient(ctx, s.URL, s.Accounts[i].Email, s.Accounts[i].Password); err != nil {
			return UsageBench{}, err
		}
	}
	// The bootstrap's random draws are seeded, so the same samples give
	// the same intervals.
	rng := rand.New(rand.NewPCG(12, 12))
	for _, c := range opts.Concurrency {
		fmt.Fprintf(progress, "GET %s with and without usage recording, %d at a time...\n", usagePage, c)
		_, _, sent, err := alternate(ctx, clients[:c], recording+usagePage, plain+usagePage, opts.Warmup)
		if err != nil {
			return UsageBench{}, err
		}
		r.Sent += sent
		timedBefore, err := recordingHistogram(recordingMetrics)
		if err != nil {
			return UsageBench{}, err
		}
		busyBefore := s.App.UsageWriter.Busy()
		with, without, sent, err := alternate(ctx, clients[:c], recording+usagePage, plain+usagePage, opts.Duration)
		if err != nil {
			return UsageBench{}, err
		}
		busy := s.App.UsageWriter.Busy() - busyBefore
		timedAfter, err := recordingHistogram(recordingMetrics)
		if err != nil {
			return UsageBench{}, err
		}
		r.Sent += sent
		o := UsageOverhead{Concurrency: c, With: gatePhase("with usage", with), Without: gatePhase("without usage", without),
			Recording: recordingTime(timedBefore, timedAfter), WriterBusy: float64(busy) / float64(opts.Duration)}
		o.AddedP50 = o.With.Latency.P50 - o.Without.Latency.P50
		o.AddedP99 = o.With.Latency.P99 - o.Without.Latency.P99
		o.AddedP50Interval, o.AddedP99Interval = bootstrapAdded(with.Samples, without.Samples, bootstrapRounds, rng)
		if o.Without.Latency.P99 > 0 {
			o.Share = float64(o.AddedP99) / float64(o.Without.Latency.P99)
		}
		o.Met = o.With.Calls > 0 && o.Without.Calls > 0 && o.With.Errors == 0 && o.Without.Errors == 0 &&
			o.Recording.Requests > 0 && o.Recording.OverGoal < 0.01 && o.AddedP99Interval[0] < GoalUsageOverheadP99
		r.Overhead = append(r.Overhead, o)
		r.Goals = append(r.Goals, Goal{Name: fmt.Sprintf("share of requests recording more than 0.2 ms at concurrency %d", c),
			Value: o.Recording.OverGoal, Want: "< 0.01, and the end-to-end added p99 not above 0.2 ms", Met: o.Met})
	}
	// Stopping the site writes out the events still queued, so the
	// counts below are the whole run's.
	stopAll := stop
	stop = nil
	if err := stopAll(); err != nil {
		return UsageBench{}, fmt.Errorf("bench: stop site: %w", err)
	}
	r.Written = s.App.UsageWriter.Written() - writtenBefore
	r.Dropped = s.App.UsageWriter.Dropped() - droppedBefore
	return r, nil
}

// serveWeb serves a web server made from a's parts on a new loopback
// address, recording usage through a's running writer when withUsage is
// set. It returns the address's base URL, the server's own metrics, and a
// function that stops it. The two servers of the scenario are made here
// alike, so that the recorder is the only difference between them.
func serveWeb(a *app.App, withUsage bool) (string, prometheus.Gatherer, func() error, error) {
	reg := prometheus.NewRegistry()
	deps := a.WebDeps(web.NewMetrics(reg, func() float64 { return 0 }))
	if withUsage {
		deps.Usage = a.UsageWriter
	}
	srv, err := web.New(deps)
	if err != nil {
		return "", nil, nil, fmt.Errorf("bench: web server: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, fmt.Errorf("bench: listen: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	stop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := hs.Shutdown(ctx)
		if serveErr := <-done; !errors.Is(serveErr, http.ErrServerClosed) {
			err = errors.Join(err, serveErr)
		}
		return err
	}
	return "http://" + ln.Addr().String(), reg, stop, nil
}

// alternate has each client GET withURL and withoutURL in turn, starting
// with one or the other on alternate rounds so neither always goes first,
// for duration, and returns the two phases and the requests sent to
// withURL.
func alternate(ctx context.Context, clients []*http.Client, withURL, withoutURL string, duration time.Duration) (with, without LoadResult, sent int, err error) {
	until := time.Now().Add(duration)
	type samples struct {
		with, without LoadResult
		sent          int // requests to withURL
	}
	got := make([]samples, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			pages := [2]*pageWorker{{client: c, url: withURL, want: usagePageWant}, {client: c, url: withoutURL, want: usagePageWant}}
			results := [2]*LoadResult{&got[i].with, &got[i].without}
			for _, res := range results {
				res.Errors = map[string]int{}
			}
			for round := 0; ctx.Err() == nil && time.Now().Before(until); round++ {
				for k := range 2 {
					j := (k + round + i) % 2
					if j == 0 {
						got[i].sent++
					}
					t0 := time.Now()
					ok, kind, detail := pages[j].post(ctx)
					t1 := time.Now()
					if ok {
						results[j].Samples = append(results[j].Samples, t1.Sub(t0))
						continue
					}
					results[j].Errors[kind]++
					if results[j].FirstError == "" {
						results[j].FirstError = detail
					}
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return LoadResult{}, LoadResult{}, 0, fmt.Errorf("bench: load interrupted: %w", err)
	}
	var w, wo LoadResult
	for _, g := range got {
		g.with.Window, g.without.Window = duration, duration
		w.add(g.with)
		sent += g.sent
		wo.add(g.without)
	}
	w.Window, wo.Window = duration, duration
	return w, wo, sent, nil
}

// bootstrapRounds is how many times bootstrapAdded resamples.
const bootstrapRounds = 1000

// histogramCounts are a histogram's cumulative bucket counts, by upper
// bound in seconds, and its count of all observations.
type histogramCounts struct {
	bounds []float64
	counts []uint64
	total  uint64
}

// recordingHistogram reads psims_usage_record_seconds from g.
func recordingHistogram(g prometheus.Gatherer) (histogramCounts, error) {
	families, err := g.Gather()
	if err != nil {
		return histogramCounts{}, fmt.Errorf("bench: gather metrics: %w", err)
	}
	for _, f := range families {
		if f.GetName() != "psims_usage_record_seconds" || len(f.GetMetric()) != 1 {
			continue
		}
		h := f.GetMetric()[0].GetHistogram()
		c := histogramCounts{total: h.GetSampleCount()}
		for _, b := range h.GetBucket() {
			c.bounds = append(c.bounds, b.GetUpperBound())
			c.counts = append(c.counts, b.GetCumulativeCount())
		}
		return c, nil
	}
	return histogramCounts{}, errors.New("bench: the server that records usage has no psims_usage_record_seconds")
}

// recordingTime is what the histogram counted between before and after.
func recordingTime(before, after histogramCounts) RecordingTime {
	t := RecordingTime{Requests: after.total - before.total}
	if t.Requests == 0 {
		return t
	}
	// within is the bound of the first bucket holding at least share of
	// the requests; 0 if none does.
	within := func(share float64) time.Duration {
		for i, bound := range after.bounds {
			if float64(after.counts[i]-before.counts[i]) >= share*float64(t.Requests) {
				return time.Duration(math.Round(bound * float64(time.Second)))
			}
		}
		return 0
	}
	t.P50, t.P99 = within(0.50), within(0.99)
	t.OverGoal = 1
	for i, bound := range after.bounds {
		if time.Duration(math.Round(bound*float64(time.Second))) == GoalUsageOverheadP99 {
			t.OverGoal = 1 - float64(after.counts[i]-before.counts[i])/float64(t.Requests)
		}
	}
	return t
}

// bootstrapAdded bounds, at 95% confidence, the differences with's p50
// minus without's p50 and with's p99 minus without's p99: it resamples
// each, with replacement, rounds times, and returns the 2.5th and 97.5th
// percentiles of the differences it finds. It treats requests as
// independent; a pause that slows several in a row makes the true
// interval somewhat wider.
func bootstrapAdded(with, without []time.Duration, rounds int, rng *rand.Rand) (p50, p99 [2]time.Duration) {
	if len(with) == 0 || len(without) == 0 {
		return p50, p99
	}
	sortedWith, sortedWithout := slices.Clone(with), slices.Clone(without)
	slices.Sort(sortedWith)
	slices.Sort(sortedWithout)
	// resample draws len(sorted) samples from sorted and returns their
	// p50 and p99, by counting how often each was drawn and walking the
	// counts in order, which takes no sort.
	counts := make([]int, max(len(with), len(without)))
	resample := func(sorted []time.Duration) (time.Duration, time.Duration) {
		n := len(sorted)
		seen := counts[:n]
		clear(seen)
		for range n {
			seen[rng.IntN(n)]++
		}
		rank50, rank99 := percentileRank(n, 50), percentileRank(n, 99)
		var q50, q99 time.Duration
		got := 0
		for i, k := range seen {
			before := got
			got += k
			if before < rank50 && got >= rank50 {
				q50 = sorted[i]
			}
			if before < rank99 && got >= rank99 {
				q99 = sorted[i]
				break
			}
		}
		return q50, q99
	}
	diffs50, diffs99 := make([]time.Duration, rounds), make([]time.Duration, rounds)
	for i := range rounds {
		w50, w99 := resample(sortedWith)
		wo50, wo99 := resample(sortedWithout)
		diffs50[i], diffs99[i] = w50-wo50, w99-wo99
	}
	slices.Sort(diffs50)
	slices.Sort(diffs99)
	return [2]time.Duration{Percentile(diffs50, 2.5), Percentile(diffs50, 97.5)},
		[2]time.Duration{Percentile(diffs99, 2.5), Percentile(diffs99, 97.5)}
}

// WriteText writes the report for people to read.
func (r *UsageBench) WriteText(w io.Writer) error {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "  %-14s %s\n", label, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(&b, "psims bench %s (%s)\n", r.Scenario, r.Started.UTC().Format("2006-01-02 15:04:05Z"))
	line("database", "%s (this machine has %d CPUs)", r.Database, r.CPUs)
	line("page", "%s signed in, from the server that records usage and from one that does not, alternately", r.Page)
	line("duration", "%s measured at each concurrency, after %s of warm-up", r.Duration, r.Warmup)
	fmt.Fprintf(&b, "  %2s %-8s %8s %6s %9s %9s %9s | %9s %9s %6s\n",
		"c", "usage", "requests", "errors", "p50", "p95", "p99", "added p50", "added p99", "share")
	for _, o := range r.Overhead {
		for _, row := range []struct {
			name string
			p    GatePhase
		}{{"without", o.Without}, {"with", o.With}} {
			fmt.Fprintf(&b, "  %2d %-8s %8d %6d %9s %9s %9s", o.Concurrency, row.name, row.p.Calls, row.p.Errors,
				fineMS(row.p.Latency.P50), fineMS(row.p.Latency.P95), fineMS(row.p.Latency.P99))
			if row.name == "with" {
				fmt.Fprintf(&b, " | %9s %9s %5.1f%%", fineMS(o.AddedP50), fineMS(o.AddedP99), 100*o.Share)
			}
			b.WriteString("\n")
			if row.p.FirstError != "" {
				fmt.Fprintf(&b, "    first error: %s\n", row.p.FirstError)
			}
		}
	}
	b.WriteString("  at each concurrency: the recording as the server timed it; the end-to-end difference with its\n" +
		"  95% bootstrap interval; the share of the time the usage writer spent writing to the database\n")
	for _, o := range r.Overhead {
		verdict := "MISS"
		if o.Met {
			verdict = "PASS"
		}
		fmt.Fprintf(&b, "  %2d recording %d requests, p50 <= %s, p99 <= %s, %.2f%% over %s | added p50 %s [%s, %s], p99 %s [%s, %s] | writer busy %.1f%%  %s\n",
			o.Concurrency, o.Recording.Requests, microseconds(o.Recording.P50), microseconds(o.Recording.P99),
			100*o.Recording.OverGoal, fineMS(GoalUsageOverheadP99),
			fineMS(o.AddedP50), fineMS(o.AddedP50Interval[0]), fineMS(o.AddedP50Interval[1]),
			fineMS(o.AddedP99), fineMS(o.AddedP99Interval[0]), fineMS(o.AddedP99Interval[1]),
			100*o.WriterBusy, verdict)
	}
	line("usage events", "%d written, %d dropped, for %d requests to the server that records them", r.Written, r.Dropped, r.Sent)
	verdict := "MISS"
	if r.Met() {
		verdict = "PASS"
	}
	line("goal", "recording usage adds < %s at p99 at every concurrency (fewer than 1%% of requests over it, "+
		"and the end-to-end interval not wholly above it): %s", fineMS(GoalUsageOverheadP99), verdict)
	_, err := io.WriteString(w, b.String())
	return err
}

// microseconds writes a bucket bound of RecordingTime: "5µs", or "5ms+"
// for 0, beyond the last bucket.
func microseconds(d time.Duration) string {
	if d == 0 {
		return ">5ms"
	}
	return d.String()
}
