package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
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
// are measured under the same conditions at the same moments, and the
// difference of their latencies is what recording costs.

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
	// AddedP50 and AddedP99 are With's percentile minus Without's: what
	// recording adds. They can be negative when the difference is within
	// the noise.
	AddedP50 time.Duration `json:"added_p50_ns"`
	AddedP99 time.Duration `json:"added_p99_ns"`
	// Share is AddedP99 ÷ Without's p99: the part of a request that
	// recording is, measured against this machine's own page time.
	Share float64 `json:"share"`
	Met   bool    `json:"met"`
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
	s, err := startSite(ctx, opts.Database, opts.Params, workers, newRunID())
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
	recording, stopRecording, err := serveWeb(s.App, true)
	if err != nil {
		return UsageBench{}, err
	}
	stop = func() error { return errors.Join(stopRecording(), s.Close()) }
	plain, stopPlain, err := serveWeb(s.App, false)
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
	for _, c := range opts.Concurrency {
		fmt.Fprintf(progress, "GET %s with and without usage recording, %d at a time...\n", usagePage, c)
		with, without, sent, err := alternate(ctx, clients[:c], recording+usagePage, plain+usagePage, opts.Warmup, opts.Duration)
		if err != nil {
			return UsageBench{}, err
		}
		r.Sent += sent
		o := UsageOverhead{Concurrency: c, With: gatePhase("with usage", with), Without: gatePhase("without usage", without)}
		o.AddedP50 = o.With.Latency.P50 - o.Without.Latency.P50
		o.AddedP99 = o.With.Latency.P99 - o.Without.Latency.P99
		if o.Without.Latency.P99 > 0 {
			o.Share = float64(o.AddedP99) / float64(o.Without.Latency.P99)
		}
		o.Met = o.With.Calls > 0 && o.Without.Calls > 0 && o.With.Errors == 0 && o.Without.Errors == 0 && o.AddedP99 < GoalUsageOverheadP99
		r.Overhead = append(r.Overhead, o)
		r.Goals = append(r.Goals, Goal{Name: fmt.Sprintf("added p99 at concurrency %d", c),
			Value: float64(o.AddedP99) / float64(time.Millisecond), Want: "< 0.2 ms", Met: o.Met})
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
// set. It returns the address's base URL and a function that stops it.
// The two servers of the scenario are made here alike, so that the
// recorder is the only difference between them.
func serveWeb(a *app.App, withUsage bool) (string, func() error, error) {
	deps := a.WebDeps(web.NewMetrics(prometheus.NewRegistry(), func() float64 { return 0 }))
	if withUsage {
		deps.Usage = a.UsageWriter
	}
	srv, err := web.New(deps)
	if err != nil {
		return "", nil, fmt.Errorf("bench: web server: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("bench: listen: %w", err)
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
	return "http://" + ln.Addr().String(), stop, nil
}

// alternate has each client GET withURL and withoutURL in turn, starting
// with one or the other on alternate rounds so neither always goes first,
// for warmup and then duration, and returns the two measured phases.
func alternate(ctx context.Context, clients []*http.Client, withURL, withoutURL string, warmup, duration time.Duration) (with, without LoadResult, sent int, err error) {
	start := time.Now()
	from, until := start.Add(warmup), start.Add(warmup+duration)
	type samples struct {
		with, without LoadResult
		sent          int // requests to withURL, warm-up included
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
					if t0.Before(from) {
						continue
					}
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
	fmt.Fprintf(&b, "  %2s %-8s %8s %6s %9s %9s %9s | %9s %9s %6s  %s\n",
		"c", "usage", "requests", "errors", "p50", "p95", "p99", "added p50", "added p99", "share", "goal added p99 < 0.2ms")
	for _, o := range r.Overhead {
		verdict := "MISS"
		if o.Met {
			verdict = "PASS"
		}
		for _, row := range []struct {
			name string
			p    GatePhase
		}{{"without", o.Without}, {"with", o.With}} {
			fmt.Fprintf(&b, "  %2d %-8s %8d %6d %9s %9s %9s", o.Concurrency, row.name, row.p.Calls, row.p.Errors,
				fineMS(row.p.Latency.P50), fineMS(row.p.Latency.P95), fineMS(row.p.Latency.P99))
			if row.name == "with" {
				fmt.Fprintf(&b, " | %9s %9s %5.1f%%  %s", fineMS(o.AddedP50), fineMS(o.AddedP99), 100*o.Share, verdict)
			}
			b.WriteString("\n")
			if row.p.FirstError != "" {
				fmt.Fprintf(&b, "    first error: %s\n", row.p.FirstError)
			}
		}
	}
	line("usage events", "%d written, %d dropped, for %d requests to the server that records them", r.Written, r.Dropped, r.Sent)
	verdict := "MISS"
	if r.Met() {
		verdict = "PASS"
	}
	line("goal", "recording usage adds < %s at p99 at every concurrency: %s", fineMS(GoalUsageOverheadP99), verdict)
	_, err := io.WriteString(w, b.String())
	return err
}
