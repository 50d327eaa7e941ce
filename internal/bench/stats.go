package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/demo"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/password"
)

// This file is the statistics scenario (issue 15): ten million events
// made inside the database by the incident owner's generator, then the
// statistics of a six-month publication and the largest organisation's
// dashboard, each beside a plain grouped count(*) of the same rows in the
// same run.

// ScenarioStats times the statistics of a publication and a dashboard.
const ScenarioStats = "stats"

// Defaults and goals of the statistics scenario.
const (
	DefaultStatsEvents  = 10_000_000
	DefaultStatsOrgs    = 200
	DefaultStatsLargest = 200_000
	// GoalStatsPublication is the goal of a publication over ten million
	// events; GoalStatsDashboardP99 of the largest organisation's
	// dashboard.
	GoalStatsPublication  = 5 * time.Second
	GoalStatsDashboardP99 = 100 * time.Millisecond
)

// dashboardPath is the organisation dashboard ("dash" in issue 15).
const dashboardPath = "/dashboard"

// StatsOptions say what to measure and how.
type StatsOptions struct {
	// Database is the in-process site's database: "" for SQLite in a new
	// temporary directory, or a postgres:// URL of an empty scratch
	// database or schema, used as is.
	Database string
	// Events are generated over Orgs demo organisations; the one with the
	// most demo users gets Largest of them.
	Events, Orgs, Largest int
	Seed                  uint64
	// Repeats is how many times each whole-period measurement runs (the
	// report gives each, and the median); at least 1.
	Repeats int
	// Duration and Warmup are of each dashboard phase.
	Duration, Warmup time.Duration
	// Params are the argon2id parameters of the site: the reviewer signs
	// in once, untimed.
	Params   password.Params
	Progress io.Writer // receives a line as each phase starts; nil for none
	// CPUProfile, when not nil, receives a pprof CPU profile of the
	// measured phases.
	CPUProfile io.Writer
}

// StatsTiming is one measurement repeated: each run's time and the median.
type StatsTiming struct {
	Name     string          `json:"name"`
	Measured bool            `json:"measured"`
	Note     string          `json:"note,omitempty"` // why not measured
	Runs     []time.Duration `json:"runs_ns"`
	Median   time.Duration   `json:"median_ns"`
	Rows     int             `json:"rows"` // rows the call returned, where it says
}

// StatsReport is the outcome of one run of the statistics scenario.
type StatsReport struct {
	Scenario string    `json:"scenario"`
	Database string    `json:"database"`
	CPUs     int       `json:"cpus"`
	Started  time.Time `json:"started"`
	Orgs     int       `json:"orgs"`
	Events   int       `json:"events"`
	// From and To are the publication's period (both days included);
	// PeriodEvents how many events occurred in it.
	From         time.Time     `json:"from"`
	To           time.Time     `json:"to"`
	PeriodEvents int64         `json:"period_events"`
	SeedTime     time.Duration `json:"seed_ns"`
	LoadTime     time.Duration `json:"load_ns"`
	AnalyzeTime  time.Duration `json:"analyze_ns"`
	LoadPerSec   float64       `json:"load_per_sec"`
	// Largest is the organisation whose dashboard is measured and
	// LargestEvents how many events it has.
	Largest       string `json:"largest_org"`
	LargestEvents int    `json:"largest_org_events"`
	// Floor is the plain grouped count(*) of the period's events by
	// organisation, type and harm; StatCounts the statistics' counts on
	// each basis; Publication the full publication.
	Floor       StatsTiming   `json:"floor"`
	StatCounts  []StatsTiming `json:"stat_counts"`
	Publication StatsTiming   `json:"publication"`
	// Dashboard is GET /dashboard?org=Largest signed in as its reviewer,
	// DashboardFloor the grouped count(*) of that organisation's events,
	// and DashboardRatio the page's p99 ÷ the floor's p99.
	Dashboard         GatePhase `json:"dashboard"`
	DashboardMeasured bool      `json:"dashboard_measured"`
	DashboardNote     string    `json:"dashboard_note,omitempty"`
	DashboardFloor    GatePhase `json:"dashboard_floor"`
	DashboardRatio    float64   `json:"dashboard_ratio"`
	Goals             []Goal    `json:"goals"`
}

// Met reports whether every goal measured was met.
func (r *StatsReport) Met() bool {
	for _, g := range r.Goals {
		if !g.Met {
			return false
		}
	}
	return true
}

// statsPeriod is the six whole months before the month of now: the
// publication's period, over which the events are generated.
func statsPeriod(now time.Time) (from, to time.Time) {
	y, m, _ := now.UTC().Date()
	end := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	return end.AddDate(0, -6, 0), end.AddDate(0, 0, -1)
}

// RunStats starts PSIMS in this process on a scratch database, loads demo
// organisations and users, generates opts.Events events over the last six
// whole months, and measures the statistics and the dashboard.
func RunStats(ctx context.Context, opts StatsOptions) (_ StatsReport, err error) {
	if opts.Events < 1 || opts.Orgs < 2 || opts.Largest < 0 || opts.Largest > opts.Events {
		return StatsReport{}, errors.New("bench: the stats scenario needs at least 1 event, 2 organisations, and no more events for the largest than in all")
	}
	if opts.Duration <= 0 || opts.Warmup < 0 {
		return StatsReport{}, errors.New("bench: duration must be positive and warm-up not negative")
	}
	opts.Repeats = max(opts.Repeats, 1)
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	r := StatsReport{Scenario: ScenarioStats, CPUs: runtime.NumCPU(), Started: time.Now(), Goals: []Goal{}}
	r.From, r.To = statsPeriod(r.Started)

	fmt.Fprintf(progress, "Starting PSIMS in this process and loading %d organisations and %d events from %s to %s...\n",
		opts.Orgs, opts.Events, r.From.Format(time.DateOnly), r.To.Format(time.DateOnly))
	s, err := startApp(ctx, opts.Database, opts.Params, func(ctx context.Context, a *app.App, _ *site) error {
		seeded, err := demo.Seed(ctx, a.DB, a.Orgs, a.Accounts, a.Hasher, demo.Options{Orgs: opts.Orgs, Users: 2 * opts.Orgs, Seed: opts.Seed})
		if err != nil {
			return fmt.Errorf("bench: demo data: %w", err)
		}
		r.Orgs, r.SeedTime, r.Largest = seeded.Orgs, seeded.Elapsed, seeded.Biggest
		var orgs []string
		err = a.DB.InTx(ctx, func(tx *db.Tx) error {
			codes, err := a.Orgs.Codes(ctx, tx)
			for c := range codes {
				orgs = append(orgs, c)
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("bench: organisations: %w", err)
		}
		slices.Sort(orgs)
		start := time.Now()
		spec := incident.GenerateSpec{Events: opts.Events, Orgs: orgs, LargestOrg: r.Largest, LargestEvents: opts.Largest,
			From: r.From, To: r.To.AddDate(0, 0, 1), Seed: opts.Seed, StatementVersion: 1}
		next := 0
		spec.Progress = func(done int) {
			if done >= next || done == opts.Events {
				fmt.Fprintf(progress, "  %d of %d events generated (%.0f a second)...\n", done, opts.Events, perSecond(done, time.Since(start)))
				next += max(opts.Events/10, 1)
			}
		}
		if err := a.Incidents.LoadGenerated(ctx, spec); err != nil {
			return fmt.Errorf("bench: generate events: %w", err)
		}
		r.LoadTime = time.Since(start)
		start = time.Now()
		if err := a.Incidents.Analyze(ctx); err != nil {
			return err
		}
		for _, table := range []string{"event_stat_days", "event_stat_months", "event_stat_code_days", "event_stat_code_months", "event_day_counts"} {
			if _, err := a.DB.ExecContext(ctx, "ANALYZE "+table); err != nil {
				return fmt.Errorf("bench: analyze %s: %w", table, err)
			}
		}
		r.AnalyzeTime = time.Since(start)
		r.Events = opts.Events
		r.LoadPerSec = perSecond(opts.Events, r.LoadTime)
		if err := createReviewer(ctx, a, r.Largest); err != nil {
			return err
		}
		_, _, err = acceptEverything(ctx, a)
		return err
	})
	if err != nil {
		return StatsReport{}, err
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("bench: stop site: %w", cerr))
		}
	}()
	r.Database = s.Engine
	if err := s.App.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE org_ods = $1`, r.Largest).Scan(&r.LargestEvents); err != nil {
		return StatsReport{}, fmt.Errorf("bench: count the largest organisation's events: %w", err)
	}
	fmt.Fprintf(progress, "Generated %d events in %s (%.0f a second) and analysed them in %s; the largest organisation, %s, has %d.\n",
		r.Events, r.LoadTime.Round(time.Millisecond), r.LoadPerSec, r.AnalyzeTime.Round(time.Millisecond), r.Largest, r.LargestEvents)

	if opts.CPUProfile != nil {
		if err := pprof.StartCPUProfile(opts.CPUProfile); err != nil {
			return StatsReport{}, fmt.Errorf("bench: cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if err := measureStats(ctx, opts, s, &r, progress); err != nil {
		return StatsReport{}, err
	}
	if err := measureDashboard(ctx, opts, s, &r, progress); err != nil {
		return StatsReport{}, err
	}
	return r, nil
}

// measureStats times the floor, StatCounts on each basis and the
// publication, each opts.Repeats times, in turn.
func measureStats(ctx context.Context, opts StatsOptions, s *site, r *StatsReport, progress io.Writer) error {
	a := s.App
	from, end := r.From, r.To.AddDate(0, 0, 1)
	repeat := func(name string, call func(ctx context.Context) (int, error)) (StatsTiming, error) {
		fmt.Fprintf(progress, "%s, %d times...\n", name, opts.Repeats)
		t := StatsTiming{Name: name, Measured: true}
		for range opts.Repeats {
			start := time.Now()
			rows, err := call(ctx)
			if err != nil {
				return t, fmt.Errorf("bench: %s: %w", name, err)
			}
			t.Runs = append(t.Runs, time.Since(start))
			t.Rows = rows
		}
		sorted := slices.Clone(t.Runs)
		slices.Sort(sorted)
		t.Median = sorted[len(sorted)/2]
		return t, nil
	}
	var err error
	r.Floor, err = repeat("count(*) of the period's events by organisation, type and harm", func(ctx context.Context) (int, error) {
		rows, err := a.DB.QueryContext(ctx, `SELECT org_ods, event_type, physical_harm, COUNT(*) FROM events
			WHERE occurred_from >= $1 AND occurred_from < $2 GROUP BY org_ods, event_type, physical_harm`, from, end)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		n, total := 0, int64(0)
		for rows.Next() {
			var org, typ, harm string
			var c int64
			if err := rows.Scan(&org, &typ, &harm, &c); err != nil {
				return 0, err
			}
			total += c
			n++
		}
		r.PeriodEvents = total
		return n, rows.Err()
	})
	if err != nil {
		return err
	}
	for _, basis := range []incident.Basis{incident.BasisOccurred, incident.BasisSubmitted} {
		t, err := repeat("Incidents.StatCounts, "+basis.Label()+" the period", func(ctx context.Context) (int, error) {
			c, err := a.Incidents.StatCounts(ctx, basis, from, r.To)
			return len(c.Events) + len(c.Codes), err
		})
		if err != nil {
			return err
		}
		r.StatCounts = append(r.StatCounts, t)
	}
	// A full publication: the counts, disclosure control and every file,
	// built as psims stats publish does without --publish.
	r.Publication, err = repeat("a full publication, occurring in the period", func(ctx context.Context) (int, error) {
		return 0, a.Statistics.BuildPeriod(ctx, from, r.To, incident.BasisOccurred)
	})
	if err != nil {
		return err
	}
	r.Goals = append(r.Goals, Goal{Name: fmt.Sprintf("publication over %d events", r.PeriodEvents),
		Value: float64(r.Publication.Median) / float64(time.Second), Want: fmt.Sprintf("< %s", GoalStatsPublication),
		Met: r.Publication.Median < GoalStatsPublication})
	return nil
}

// measureDashboard times the largest organisation's dashboard over HTTP
// and the grouped count(*) of its events, when the dashboard exists.
func measureDashboard(ctx context.Context, opts StatsOptions, s *site, r *StatsReport, progress io.Writer) error {
	client, err := signedInClient(ctx, s.URL, listReviewer, benchPassword)
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	url := s.URL + dashboardPath + "?org=" + r.Largest
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("bench: dashboard: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("bench: dashboard: %w", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		r.DashboardNote = fmt.Sprintf("not measured: GET %s answers %s", dashboardPath, resp.Status)
		fmt.Fprintf(progress, "The dashboard %s.\n", r.DashboardNote)
		return nil
	}
	// What every answer must hold: the organisation's code, which the
	// dashboard names.
	want := r.Largest
	if !strings.Contains(string(body), want) {
		want = "</html>"
	}
	run := func(name string, w worker) (GatePhase, error) {
		fmt.Fprintf(progress, "%s for %s after %s of warm-up...\n", name, opts.Duration, opts.Warmup)
		l, err := runLoad(ctx, []worker{w}, opts.Warmup, opts.Duration)
		if err != nil {
			return GatePhase{}, err
		}
		return gatePhase(name, l), nil
	}
	r.DashboardFloor, err = run("count(*) of the organisation's events by type and harm", callWorker{call: func(ctx context.Context) error {
		rows, err := s.App.DB.QueryContext(ctx, `SELECT event_type, physical_harm, COUNT(*) FROM events WHERE org_ods = $1
			GROUP BY event_type, physical_harm`, r.Largest)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
		}
		return rows.Err()
	}})
	if err != nil {
		return err
	}
	r.Dashboard, err = run("GET "+dashboardPath+"?org="+r.Largest, &pageWorker{client: client, url: url, want: want})
	if err != nil {
		return err
	}
	r.DashboardMeasured = true
	if r.DashboardFloor.Latency.P99 > 0 {
		r.DashboardRatio = float64(r.Dashboard.Latency.P99) / float64(r.DashboardFloor.Latency.P99)
	}
	r.Goals = append(r.Goals, Goal{Name: fmt.Sprintf("dashboard p99 for %d events", r.LargestEvents),
		Value: float64(r.Dashboard.Latency.P99) / float64(time.Millisecond), Want: fmt.Sprintf("< %d ms", GoalStatsDashboardP99/time.Millisecond),
		Met: r.Dashboard.Errors == 0 && r.Dashboard.Calls > 0 && r.Dashboard.Latency.P99 < GoalStatsDashboardP99})
	return nil
}

// WriteText writes the report for people to read.
func (r *StatsReport) WriteText(w io.Writer) error {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "  %-14s %s\n", label, fmt.Sprintf(format, args...))
	}
	sec := func(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }
	timing := func(t StatsTiming) {
		if !t.Measured {
			line("", "%s: %s", t.Name, t.Note)
			return
		}
		runs := make([]string, len(t.Runs))
		for i, d := range t.Runs {
			runs[i] = sec(d)
		}
		ratio := ""
		if r.Floor.Median > 0 && t.Name != r.Floor.Name {
			ratio = fmt.Sprintf(", %.2f × the count(*)", float64(t.Median)/float64(r.Floor.Median))
		}
		line("", "%s: median %s (runs %s; %d rows)%s", t.Name, sec(t.Median), strings.Join(runs, " "), t.Rows, ratio)
	}
	fmt.Fprintf(&b, "psims bench %s (%s)\n", r.Scenario, r.Started.UTC().Format("2006-01-02 15:04:05Z"))
	line("database", "%s (this machine has %d CPUs)", r.Database, r.CPUs)
	line("data", "%d organisations (in %s); %d events generated in %s (%.0f a second), analysed in %s",
		r.Orgs, r.SeedTime.Round(time.Millisecond), r.Events, r.LoadTime.Round(time.Second), r.LoadPerSec, r.AnalyzeTime.Round(time.Millisecond))
	line("period", "%s to %s: %d events occurred in it", r.From.Format(time.DateOnly), r.To.Format(time.DateOnly), r.PeriodEvents)
	line("publication", "")
	timing(r.Floor)
	for _, t := range r.StatCounts {
		timing(t)
	}
	timing(r.Publication)
	line("dashboard", "%s, the largest organisation: %d events", r.Largest, r.LargestEvents)
	if !r.DashboardMeasured {
		line("", "%s", r.DashboardNote)
	} else {
		for _, p := range []GatePhase{r.DashboardFloor, r.Dashboard} {
			line("", "%s: %d calls, %d errors, p50 %s, p95 %s, p99 %s", p.Name, p.Calls, p.Errors,
				fineMS(p.Latency.P50), fineMS(p.Latency.P95), fineMS(p.Latency.P99))
			if p.FirstError != "" {
				line("", "  first error: %s", p.FirstError)
			}
		}
		line("", "page p99 ÷ count(*) p99: %.1f", r.DashboardRatio)
	}
	for _, g := range r.Goals {
		verdict := "MISS"
		if g.Met {
			verdict = "PASS"
		}
		line("goal", "%s: %.3f, want %s: %s", g.Name, g.Value, g.Want, verdict)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
