package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/demo"
	"github.com/psims/psims/internal/password"
	"github.com/psims/psims/internal/usage"
)

// This file is the usage report part of psims bench usage (issue 12):
// synthetic usage events loaded and rolled up, then an organisation's
// usage report and the whole service's, for the last 12 months, timed
// against one pass over the raw events in the same run.

// GoalUsageReport is the goal of a usage report over 12 months: under 2
// seconds (the slowest run) with 50,000,000 usage events loaded.
const GoalUsageReport = 2 * time.Second

// Defaults of the usage report part.
const (
	DefaultUsageEvents = 50_000_000
	DefaultUsageRuns   = 5
)

// UsageReportOptions say what to load and how often to time each report.
type UsageReportOptions struct {
	// Database is the in-process site's database, as in ListOptions.
	Database string
	// Events synthetic usage events are loaded over the demo
	// organisations and users (Orgs, Users, Seed) that RunUsageReport
	// loads first.
	Events, Orgs, Users int
	Seed                uint64
	// Runs is how many times each report is made (default
	// DefaultUsageRuns); the first is not counted as warm-up, it is
	// what a person asking first would wait.
	Runs     int
	Params   password.Params
	Progress io.Writer // receives a line as each phase starts; nil for none
}

// UsageReportResult is the outcome of the usage report part.
type UsageReportResult struct {
	Scenario string    `json:"scenario"`
	Database string    `json:"database"`
	CPUs     int       `json:"cpus"`
	Started  time.Time `json:"started"`
	Orgs     int       `json:"orgs"`
	Users    int       `json:"users"`
	Events   int       `json:"events"`
	// LoadTime is making and loading the events, RollupTime rolling them
	// up (every day but today), AnalyzeTime refreshing the planner's
	// statistics.
	SeedTime    time.Duration `json:"seed_ns"`
	LoadTime    time.Duration `json:"load_ns"`
	LoadPerSec  float64       `json:"load_per_sec"`
	RollupTime  time.Duration `json:"rollup_ns"`
	AnalyzeTime time.Duration `json:"analyze_ns"`
	// Org is the organisation with the most usage, whose report is timed,
	// and OrgEvents its events over the period.
	Org       string    `json:"org"`
	OrgEvents int64     `json:"org_events"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Runs      int       `json:"runs"`
	// OrgReport and NationalReport are the times of Usage.Report for the
	// organisation (with per-person rows asked for) and for the whole
	// service.
	OrgReport      Latency `json:"org_report"`
	NationalReport Latency `json:"national_report"`
	// RawCount is SELECT COUNT(*) FROM usage_events, one pass over the
	// raw events: the machine's own measure of what reading them costs.
	RawCount time.Duration `json:"raw_count_ns"`
	// OrgRatio and NationalRatio are each report's p50 ÷ RawCount.
	OrgRatio      float64 `json:"org_ratio"`
	NationalRatio float64 `json:"national_ratio"`
	Goals         []Goal  `json:"goals"`
}

// Met reports whether every goal was met.
func (r *UsageReportResult) Met() bool {
	for _, g := range r.Goals {
		if !g.Met {
			return false
		}
	}
	return true
}

// RunUsageReport starts PSIMS in this process on a scratch database,
// loads demo organisations and users, and runs UsageReport.
func RunUsageReport(ctx context.Context, opts UsageReportOptions) (UsageReportResult, error) {
	if opts.Orgs < 2 || opts.Users < 2 || opts.Events < 1 {
		return UsageReportResult{}, errors.New("bench: the usage report needs at least 2 organisations, 2 users and 1 event")
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	fmt.Fprintf(progress, "Starting PSIMS in this process and loading %d organisations and %d demo users...\n", opts.Orgs, opts.Users)
	// Everything happens before the site serves: its rollup job would
	// otherwise roll up days while their events are being loaded.
	var r UsageReportResult
	s, err := startApp(ctx, opts.Database, opts.Params, func(ctx context.Context, a *app.App, _ *site) error {
		seeded, err := demo.Seed(ctx, a.DB, a.Orgs, a.Accounts, a.Hasher, demo.Options{Orgs: opts.Orgs, Users: opts.Users, Seed: opts.Seed})
		if err != nil {
			return fmt.Errorf("bench: demo data: %w", err)
		}
		if r, err = UsageReport(ctx, a, opts.Events, opts.Seed, opts.Runs, progress); err != nil {
			return err
		}
		r.Orgs, r.Users, r.SeedTime = seeded.Orgs, seeded.Users, seeded.Elapsed
		return nil
	})
	if err != nil {
		return UsageReportResult{}, err
	}
	if err := s.Close(); err != nil {
		return UsageReportResult{}, fmt.Errorf("bench: stop site: %w", err)
	}
	return r, nil
}

// UsageReport loads events synthetic usage events (deterministic for
// seed) over the users of a's database, rolls them up, and makes the
// usage report of the organisation with the most usage and of the whole
// service for the last 12 months (this month and the 11 before it)
// runs times each. Call it before a's jobs run (in startApp's prepare,
// before Serve): the rollup job would roll up days while their events are
// still being loaded, and the loader refuses events of days rolled up.
func UsageReport(ctx context.Context, a *app.App, events int, seed uint64, runs int, progress io.Writer) (UsageReportResult, error) {
	if runs <= 0 {
		runs = DefaultUsageRuns
	}
	if progress == nil {
		progress = io.Discard
	}
	r := UsageReportResult{Scenario: "usage", Database: a.DB.Dialect().Name, CPUs: runtime.NumCPU(), Started: time.Now(),
		Events: events, Runs: runs, Goals: []Goal{}}
	fmt.Fprintf(progress, "Making and loading %d usage events over 13 months...\n", events)
	start := time.Now()
	loaded, err := LoadUsage(ctx, a, events, seed, false, progress)
	if err != nil {
		return r, err
	}
	r.LoadTime = time.Since(start)
	r.LoadPerSec = perSecond(loaded, r.LoadTime)
	fmt.Fprintf(progress, "Loaded %d events in %s (%.0f a second); rolling them up...\n", loaded, r.LoadTime.Round(time.Second), r.LoadPerSec)
	start = time.Now()
	if _, err := usage.RollUp(ctx, a.DB, a.DB.Now()); err != nil {
		return r, err
	}
	r.RollupTime = time.Since(start)
	start = time.Now()
	if err := usage.Analyze(ctx, a.DB); err != nil {
		return r, err
	}
	r.AnalyzeTime = time.Since(start)
	fmt.Fprintf(progress, "Rolled up in %s and analysed in %s.\n", r.RollupTime.Round(time.Millisecond), r.AnalyzeTime.Round(time.Millisecond))

	today := time.Now().UTC()
	r.To = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	r.From = time.Date(today.Year(), today.Month()-11, 1, 0, 0, 0, 0, time.UTC)
	if r.Org, r.OrgEvents, err = usage.BusiestOrg(ctx, a.DB, r.From); err != nil {
		return r, err
	}
	start = time.Now()
	var n int64
	if err := a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM usage_events`).Scan(&n); err != nil {
		return r, fmt.Errorf("bench: count usage events: %w", err)
	}
	r.RawCount = time.Since(start)
	measure := func(q usage.ReportQuery) (Latency, error) {
		samples := make([]time.Duration, 0, runs)
		for range runs {
			start := time.Now()
			rep, err := a.Usage.Report(ctx, q)
			if err != nil {
				return Latency{}, fmt.Errorf("bench: usage report: %w", err)
			}
			samples = append(samples, time.Since(start))
			if len(rep.Months) != 12 || rep.Total.PageViews.Value == 0 {
				return Latency{}, fmt.Errorf("bench: the usage report of %q has %d months and %d page views", q.Org, len(rep.Months),
					rep.Total.PageViews.Value)
			}
		}
		return Summarize(samples), nil
	}
	fmt.Fprintf(progress, "Making the report of %s (%d events in the period) and of the whole service %d times each...\n", r.Org, r.OrgEvents, runs)
	if r.OrgReport, err = measure(usage.ReportQuery{Org: r.Org, From: r.From, To: r.To, Individuals: true}); err != nil {
		return r, err
	}
	if r.NationalReport, err = measure(usage.ReportQuery{From: r.From, To: r.To}); err != nil {
		return r, err
	}
	if r.RawCount > 0 {
		r.OrgRatio = float64(r.OrgReport.P50) / float64(r.RawCount)
		r.NationalRatio = float64(r.NationalReport.P50) / float64(r.RawCount)
	}
	for _, g := range []struct {
		name string
		l    Latency
	}{{"organisation's usage report, slowest", r.OrgReport}, {"whole service's usage report, slowest", r.NationalReport}} {
		r.Goals = append(r.Goals, Goal{Name: g.name, Value: float64(g.l.Max) / float64(time.Millisecond),
			Want: fmt.Sprintf("< %d ms", GoalUsageReport/time.Millisecond), Met: g.l.Max < GoalUsageReport})
	}
	return r, nil
}

// LoadUsage makes n synthetic usage events over the last 13 months,
// deterministic for seed, over the users of a's database, and loads them
// (psims demo seed --usage, and the benchmark). With share it leaves
// gaps between its transactions on SQLite, for a server running on the
// same database. It does not roll them up. It returns how many it
// loaded.
func LoadUsage(ctx context.Context, a *app.App, n int, seed uint64, share bool, progress io.Writer) (int, error) {
	members, err := a.Accounts.Members(ctx)
	if err != nil {
		return 0, fmt.Errorf("bench: read users: %w", err)
	}
	if len(members) == 0 {
		return 0, errors.New("bench: no users to make usage for; load demo users first")
	}
	people := make([]usage.Person, len(members))
	for i, m := range members {
		people[i] = usage.Person{ID: m.ID, OrgCode: m.OrgCode}
	}
	batch := 50_000
	if share {
		batch = 5_000
	}
	now := a.DB.Now()
	plan := usage.SynthPlan{Events: n, Seed: seed, From: now.AddDate(0, -13, 0), Now: now, People: people, Batch: batch}
	loaded, next := 0, 0
	start := time.Now()
	err = usage.Synthesize(ctx, plan, func(ctx context.Context, events []usage.Event) error {
		load := func() error { return usage.Load(ctx, a.DB, events) }
		if share {
			err = demo.ShareWrites(ctx, a.DB, load)
		} else {
			err = load()
		}
		if err != nil {
			return fmt.Errorf("bench: load usage: %w", err)
		}
		loaded += len(events)
		if progress != nil && (loaded >= next || loaded == n) {
			fmt.Fprintf(progress, "  %d of %d usage events loaded (%.0f a second)...\n", loaded, n, perSecond(loaded, time.Since(start)))
			next += max(n/10, batch)
		}
		return nil
	})
	return loaded, err
}

// WriteText writes the result for people to read.
func (r *UsageReportResult) WriteText(w io.Writer) error {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "  %-16s %s\n", label, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(&b, "psims bench %s: usage reports (%s)\n", r.Scenario, r.Started.UTC().Format("2006-01-02 15:04:05Z"))
	line("database", "%s (this machine has %d CPUs)", r.Database, r.CPUs)
	if r.Users > 0 {
		line("people", "%d organisations, %d users (in %s)", r.Orgs, r.Users, r.SeedTime.Round(time.Millisecond))
	}
	line("usage events", "%d made and loaded in %s (%.0f a second); rolled up in %s, analysed in %s",
		r.Events, r.LoadTime.Round(time.Second), r.LoadPerSec, r.RollupTime.Round(time.Second), r.AnalyzeTime.Round(time.Millisecond))
	line("period", "%s to %s; organisation %s with %d events in it", r.From.Format(time.DateOnly), r.To.Format(time.DateOnly), r.Org, r.OrgEvents)
	line("raw count", "SELECT COUNT(*) FROM usage_events: %s", fineMS(r.RawCount))
	line("org report", "p50 %s, max %s over %d runs (%.3f of the raw count)", fineMS(r.OrgReport.P50), fineMS(r.OrgReport.Max), r.Runs, r.OrgRatio)
	line("national report", "p50 %s, max %s over %d runs (%.3f of the raw count)", fineMS(r.NationalReport.P50), fineMS(r.NationalReport.Max), r.Runs, r.NationalRatio)
	for _, g := range r.Goals {
		met := "met"
		if !g.Met {
			met = "NOT met"
		}
		line("goal", "%s %.1f ms, want %s: %s", g.Name, g.Value, g.Want, met)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
