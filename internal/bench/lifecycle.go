package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/lifecycle"
	"github.com/psims/psims/internal/password"
)

// This file is psims bench lifecycle (issue 14): the dormancy sweep over
// many users, the first (which warns everyone long idle, as when the
// feature is switched on) and the next day's, each beside a plain scan of
// the same rows through the same index in the same run.

// ScenarioLifecycle is the dormancy sweep scenario.
const ScenarioLifecycle = "lifecycle"

// GoalLifecycleSweep is the goal of one dormancy sweep over 1,000,000
// users: under 30 seconds.
const GoalLifecycleSweep = 30 * time.Second

// DefaultLifecycleUsers is how many users the scenario loads.
const DefaultLifecycleUsers = 1_000_000

// LifecycleOptions say what to load.
type LifecycleOptions struct {
	// Database is "" for SQLite in a temporary directory, or a postgres://
	// URL of an empty scratch database.
	Database string
	Users    int
	Seed     uint64
	Params   password.Params
	Progress io.Writer
	// CPUProfile, when not nil, receives a CPU profile of the first sweep.
	CPUProfile io.Writer
	// Limit is --dormancy-sweep-limit; 0 keeps the default.
	Limit int
}

// SweepRun is one timed sweep.
type SweepRun struct {
	Time time.Duration `json:"time_ns"`
	// Rows is how many accounts the sweep read (those past the warning
	// date, and those counting down), RowsPerSec the rate.
	Rows       int            `json:"rows"`
	RowsPerSec float64        `json:"rows_per_sec"`
	Actions    map[string]int `json:"actions"`
	// Deferred is how many accounts due a warning the sweep left for the
	// next, having sent its most.
	Deferred int64 `json:"deferred"`
	// ScanTime is a plain read of the same rows through the same index,
	// ScanPerSec its rate, and Ratio RowsPerSec ÷ ScanPerSec.
	ScanTime   time.Duration `json:"scan_ns"`
	ScanPerSec float64       `json:"scan_per_sec"`
	Ratio      float64       `json:"ratio"`
}

// LifecycleResult is the outcome.
type LifecycleResult struct {
	Scenario   string        `json:"scenario"`
	Database   string        `json:"database"`
	CPUs       int           `json:"cpus"`
	Started    time.Time     `json:"started"`
	Users      int           `json:"users"`
	LoadTime   time.Duration `json:"load_ns"`
	LoadPerSec float64       `json:"load_per_sec"`
	// Idle is how many users were past the warning date at the first
	// sweep.
	Idle  int      `json:"idle"`
	First SweepRun `json:"first"`
	// Backlog are the hourly sweeps after the first that warn the
	// accounts it left for later, until none is left.
	Backlog []SweepRun `json:"backlog"`
	Second  SweepRun   `json:"second"`
	// Deactivations are the hourly sweeps from the day the first
	// warnings fall due, until one deactivates nobody; Deletions those
	// from the day the first deactivated accounts are due to be deleted,
	// until one deletes nobody.
	Deactivations []SweepRun `json:"deactivations"`
	Deletions     []SweepRun `json:"deletions"`
	Goals         []Goal     `json:"goals"`
}

// lastActiveSpread draws a user's last activity before now: a spread like
// a service that has run for years, with most people active in the last
// few months and a long tail of accounts nobody has used for one to three
// years (the backlog a first sweep finds).
func lastActiveSpread(r *rand.Rand, now time.Time) time.Time {
	day := 24 * time.Hour
	switch p := r.Float64(); {
	case p < 0.60: // this quarter
		return now.Add(-time.Duration(r.Int64N(int64(90 * day))))
	case p < 0.82: // three to eleven months ago
		return now.Add(-90*day - time.Duration(r.Int64N(int64(240*day))))
	case p < 0.85: // in the last month before the warning
		return now.AddDate(0, -11, 0).Add(time.Duration(r.Int64N(int64(30 * day))))
	default: // one to three years ago
		return now.AddDate(0, -11, 0).Add(-time.Duration(r.Int64N(int64(760 * day))))
	}
}

// RunLifecycle loads opts.Users users through account's bulk loader with
// the spread above, then times the first dormancy sweep and one a day
// later, each beside a plain scan of the same rows.
func RunLifecycle(ctx context.Context, opts LifecycleOptions) (LifecycleResult, error) {
	if opts.Users < 10 {
		return LifecycleResult{}, errors.New("bench: the lifecycle scenario needs at least 10 users")
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	dir, err := os.MkdirTemp("", "psims-bench-")
	if err != nil {
		return LifecycleResult{}, fmt.Errorf("bench: temporary data dir: %w", err)
	}
	defer os.RemoveAll(dir)
	cfg := config.Defaults()
	cfg.DataDir, cfg.Database = dir, opts.Database
	cfg.HashMemoryKiB, cfg.HashTime, cfg.HashThreads = opts.Params.MemoryKiB, opts.Params.Time, opts.Params.Threads
	if opts.Limit > 0 {
		cfg.DormancySweepLimit = opts.Limit
	}
	// No workers: the sweeps run when timed, and the warnings stay queued.
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return LifecycleResult{}, fmt.Errorf("bench: open: %w", err)
	}
	defer a.Close()
	r := LifecycleResult{Scenario: ScenarioLifecycle, Database: a.DB.Dialect().Name, CPUs: runtime.NumCPU(), Started: time.Now(),
		Users: opts.Users, Goals: []Goal{}}
	if _, err := a.Orgs.Import(ctx, strings.NewReader(siteOrganisation)); err != nil {
		return r, fmt.Errorf("bench: import organisation: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	a.DB.SetClock(func() time.Time { return now })
	hash, err := a.Hasher.Hash(ctx, benchPassword)
	if err != nil {
		return r, err
	}
	fmt.Fprintf(progress, "Loading %d users...\n", opts.Users)
	rng := rand.New(rand.NewPCG(opts.Seed, 14))
	start := time.Now()
	const perTx = 20_000
	for done := 0; done < opts.Users; done += perTx {
		batch := make([]account.LoadUser, 0, perTx)
		for i := done; i < min(done+perTx, opts.Users); i++ {
			last := lastActiveSpread(rng, now)
			created := last.AddDate(0, 0, -rng.IntN(400))
			role := account.RoleReporter
			if i%50 == 0 {
				role = account.RoleReviewer
			}
			batch = append(batch, account.LoadUser{Email: fmt.Sprintf("bench-%07d@example.invalid", i), PasswordHash: hash,
				Name: fmt.Sprintf("Bench Person %d", i), JobRole: "Nurse", OrgCode: siteOrgCode, Role: role, Status: account.StatusActive,
				CreatedAt: created, VerifiedAt: &created, ApprovedAt: &created, LastSignInAt: &last})
		}
		if err := a.DB.InTx(ctx, func(tx *db.Tx) error { _, err := a.Accounts.Load(ctx, tx, batch); return err }); err != nil {
			return r, fmt.Errorf("bench: load users: %w", err)
		}
		if (done/perTx)%10 == 9 {
			fmt.Fprintf(progress, "  %d users loaded (%.0f a second)...\n", done+len(batch), perSecond(done+len(batch), time.Since(start)))
		}
	}
	r.LoadTime = time.Since(start)
	r.LoadPerSec = perSecond(opts.Users, r.LoadTime)
	if err := analyze(ctx, a.DB); err != nil {
		return r, err
	}
	policy := a.Dormancy.Policy()
	sweep := func(label string) (SweepRun, error) {
		var run SweepRun
		// The rows the sweep reads: active accounts past the warning date
		// (users_dormancy), then those with a countdown (the partial index).
		start := time.Now()
		n, err := scan(ctx, a.DB, `SELECT id, email, name, last_active_at FROM users
			WHERE status = 'active' AND last_active_at < $1 ORDER BY last_active_at, id`, policy.WarnAfter.Before(now))
		if err != nil {
			return run, err
		}
		m, err := scan(ctx, a.DB, `SELECT id, status, dormancy_deactivate_at FROM users
			WHERE dormancy_deactivate_at IS NOT NULL ORDER BY id`)
		if err != nil {
			return run, err
		}
		run.ScanTime = time.Since(start)
		run.Rows = n + m
		run.ScanPerSec = perSecond(run.Rows, run.ScanTime)
		fmt.Fprintf(progress, "%s: a plain scan read %d rows in %s; sweeping...\n", label, run.Rows, run.ScanTime.Round(time.Millisecond))
		run.Actions = map[string]int{}
		start = time.Now()
		err = lifecycle.RunDormancy(ctx, a.Dormancy, a.DB, func(act lifecycle.Action) {
			run.Actions[act.Action]++
			if act.Action == account.DormancyWarningsDeferred {
				run.Deferred = act.Count
			}
		})
		run.Time = time.Since(start)
		if err != nil {
			return run, err
		}
		run.RowsPerSec = perSecond(run.Rows, run.Time)
		if run.ScanPerSec > 0 {
			run.Ratio = run.RowsPerSec / run.ScanPerSec
		}
		fmt.Fprintf(progress, "%s: swept in %s, %v.\n", label, run.Time.Round(time.Millisecond), run.Actions)
		return run, nil
	}
	if opts.CPUProfile != nil {
		if err := pprof.StartCPUProfile(opts.CPUProfile); err != nil {
			return r, fmt.Errorf("bench: cpu profile: %w", err)
		}
	}
	firstAt := now
	r.First, err = sweep("First sweep")
	if opts.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return r, err
	}
	r.Idle = r.First.Actions[account.DormancyWarn] + int(r.First.Deferred)
	// The hourly sweeps that follow warn what the first left for later.
	left := r.First.Deferred
	for n := 1; left > 0; n++ {
		if n > 1000 {
			return r, errors.New("bench: the backlog of warnings does not shrink")
		}
		now = now.Add(lifecycle.DormancyInterval)
		run, err := sweep(fmt.Sprintf("Backlog sweep %d", n))
		if err != nil {
			return r, err
		}
		r.Backlog = append(r.Backlog, run)
		left = run.Deferred
	}
	now = now.Add(24 * time.Hour)
	if r.Second, err = sweep("Next day's sweep"); err != nil {
		return r, err
	}
	// A month on, the first warnings fall due: hourly sweeps deactivate
	// the accounts nobody kept, as spread out as their warnings were;
	// DeleteAfter later, hourly sweeps delete them.
	hourly := func(from time.Time, label, action string) ([]SweepRun, error) {
		var runs []SweepRun
		now = from
		for n := 1; ; n++ {
			if n > 1000 {
				return runs, fmt.Errorf("bench: the %s do not end", label)
			}
			run, err := sweep(fmt.Sprintf("%s sweep %d", label, n))
			if err != nil {
				return runs, err
			}
			runs = append(runs, run)
			if run.Actions[action] == 0 {
				return runs, nil
			}
			now = now.Add(lifecycle.DormancyInterval)
		}
	}
	deactivateFrom := policy.Notice().After(firstAt).Add(time.Minute)
	if r.Deactivations, err = hourly(deactivateFrom, "Deactivation", account.DormancyDeactivate); err != nil {
		return r, err
	}
	if r.Deletions, err = hourly(policy.DeleteAfter.After(deactivateFrom).Add(time.Minute), "Deletion", account.DormancyDelete); err != nil {
		return r, err
	}
	slowestOf := func(runs []SweepRun) SweepRun {
		slowest := runs[0]
		for _, run := range runs[1:] {
			if run.Time > slowest.Time {
				slowest = run
			}
		}
		return slowest
	}
	goal := func(name string, run SweepRun) {
		r.Goals = append(r.Goals, Goal{Name: name, Value: run.Time.Seconds(), Want: fmt.Sprintf("< %.0f s", GoalLifecycleSweep.Seconds()),
			Met: run.Time < GoalLifecycleSweep})
	}
	goal("first sweep", r.First)
	if len(r.Backlog) > 0 {
		goal("slowest backlog sweep", slowestOf(r.Backlog))
	}
	goal("next day's sweep", r.Second)
	goal("slowest deactivation sweep", slowestOf(r.Deactivations))
	goal("slowest deletion sweep", slowestOf(r.Deletions))
	return r, nil
}

// analyze refreshes the planner's statistics after the load.
func analyze(ctx context.Context, d *db.DB) error {
	q := `ANALYZE users`
	if d.Dialect().Engine == db.SQLite {
		q = `ANALYZE`
	}
	if _, err := d.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("bench: analyze: %w", err)
	}
	return nil
}

// scan reads every row of the query and returns how many there were.
func scan(ctx context.Context, d *db.DB, query string, args ...any) (int, error) {
	rows, err := d.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("bench: scan: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, fmt.Errorf("bench: scan: %w", err)
		}
		n++
	}
	return n, rows.Err()
}

// WriteText writes the result for people to read.
func (r *LifecycleResult) WriteText(w io.Writer) error {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "  %-16s %s\n", label, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(&b, "psims bench %s: dormancy sweep (%s)\n", r.Scenario, r.Started.UTC().Format("2006-01-02 15:04:05Z"))
	line("database", "%s (this machine has %d CPUs)", r.Database, r.CPUs)
	line("users", "%d loaded in %s (%.0f a second); %d past the warning date", r.Users, r.LoadTime.Round(time.Second), r.LoadPerSec, r.Idle)
	runs := []struct {
		label string
		run   SweepRun
	}{{"first sweep", r.First}}
	for i, run := range r.Backlog {
		runs = append(runs, struct {
			label string
			run   SweepRun
		}{fmt.Sprintf("backlog %d", i+1), run})
	}
	runs = append(runs, struct {
		label string
		run   SweepRun
	}{"next day", r.Second})
	for _, g := range []struct {
		label string
		runs  []SweepRun
	}{{"deactivation", r.Deactivations}, {"deletion", r.Deletions}} {
		for i, run := range g.runs {
			runs = append(runs, struct {
				label string
				run   SweepRun
			}{fmt.Sprintf("%s %d", g.label, i+1), run})
		}
	}
	for _, s := range runs {
		line(s.label, "%s for %d rows (%.0f a second) %v; plain scan %s (%.0f a second); ratio %.3f",
			s.run.Time.Round(time.Millisecond), s.run.Rows, s.run.RowsPerSec, s.run.Actions, s.run.ScanTime.Round(time.Millisecond),
			s.run.ScanPerSec, s.run.Ratio)
	}
	for _, g := range r.Goals {
		met := "met"
		if !g.Met {
			met = "NOT met"
		}
		line("goal", "%s %.1f s, want %s: %s", g.Name, g.Value, g.Want, met)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
