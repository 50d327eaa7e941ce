package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/demo"
	"github.com/psims/psims/internal/password"
	"github.com/psims/psims/internal/terms"
)

// This file is the acceptance gate scenario: what the terms check on every
// signed-in request (one Terms.Status query) costs, against the cheapest
// query the same database can answer, in the same run.

// ScenarioGate times Terms.Status, the one query the acceptance gate adds to
// every signed-in request, against SELECT 1 and a signed-in page.
const ScenarioGate = "gate"

// GoalGateP99 is the goal of the acceptance gate: it adds no more than
// 1 ms at p99 to a signed-in page request.
const GoalGateP99 = time.Millisecond

// DefaultGateUsers is how many demo users the gate scenario loads.
const DefaultGateUsers = 10000

// GateOptions say what to measure and how.
type GateOptions struct {
	// Database is the in-process site's database: "" for SQLite in a new
	// temporary directory, or a postgres:// URL of an empty scratch
	// database or schema, used as is.
	Database string
	// Users is how many demo users to load (with one organisation for
	// every 20); each accepts every version of the terms and privacy
	// policy.
	Users       int
	Concurrency int           // workers; 1 when <= 0
	Duration    time.Duration // measured time of each phase, over all rounds
	Warmup      time.Duration // run before the first round of each phase and not counted
	// Rounds splits Duration into this many rounds of the three phases (1
	// when <= 0), so that a machine whose other work comes and goes weighs
	// on every phase alike.
	Rounds int
	// Params are the argon2id parameters of the site: the workers sign in
	// once each, untimed, and the demo password is hashed once.
	Params   password.Params
	Progress io.Writer // receives a line as each phase starts; nil for none
}

// GatePhase is one measured phase: a call in this process or a page over
// HTTP, repeated by every worker for the duration.
type GatePhase struct {
	Name       string  `json:"name"`
	Calls      int     `json:"calls"` // successful calls or requests in the measured window
	Errors     int     `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	PerSec     float64 `json:"per_sec"`
	Latency    Latency `json:"latency"`
}

// GateReport is the outcome of one run of the gate scenario.
type GateReport struct {
	Scenario    string        `json:"scenario"`
	Database    string        `json:"database"`
	Concurrency int           `json:"concurrency"`
	CPUs        int           `json:"cpus"`
	Started     time.Time     `json:"started"`
	Warmup      time.Duration `json:"warmup_ns"`
	Duration    time.Duration `json:"duration_ns"` // per phase, over all rounds
	Rounds      int           `json:"rounds"`
	Users       int           `json:"users"`
	Acceptances int           `json:"acceptances"` // rows in the acceptance ledger
	Versions    int           `json:"versions"`    // published versions of each accepted kind
	SetupTime   time.Duration `json:"setup_ns"`    // loading users and acceptances
	// Floor is SELECT 1 through the same pool: the cheapest query there is.
	Floor GatePhase `json:"floor"`
	// Gate is Terms.Status for a random user: what the gate adds.
	Gate GatePhase `json:"gate"`
	// Page is GET /account signed in, gate included, for context.
	Page GatePhase `json:"page"`
	// FloorRatio is the gate's p99 ÷ SELECT 1's p99: 1 would mean the
	// gate costs no more than the cheapest possible query.
	FloorRatio float64 `json:"floor_ratio"`
	// FloorRatioP50 is the same at p50, which the scheduler disturbs less:
	// a longer call is more often cut by other work on the machine.
	FloorRatioP50 float64 `json:"floor_ratio_p50"`
	// PageShare is the gate's p99 ÷ the page's p99.
	PageShare float64 `json:"page_share"`
	Goals     []Goal  `json:"goals"`
}

// Met reports whether every goal was met (true when there are none).
func (r *GateReport) Met() bool {
	for _, g := range r.Goals {
		if !g.Met {
			return false
		}
	}
	return true
}

// RunGate starts PSIMS in this process on a scratch database, publishes a
// material and a minor new version of the terms and the privacy policy,
// loads demo users who accepted every version, signs one in per worker and
// times, one phase after another in each round, SELECT 1, Terms.Status for
// random users and GET /account.
func RunGate(ctx context.Context, opts GateOptions) (_ GateReport, err error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 1
	}
	if opts.Rounds <= 0 {
		opts.Rounds = 1
	}
	if opts.Duration/time.Duration(opts.Rounds) < time.Millisecond || opts.Warmup < 0 {
		return GateReport{}, errors.New("bench: each round needs at least 1ms and warm-up must not be negative")
	}
	if opts.Users < 2 {
		return GateReport{}, errors.New("bench: the gate scenario needs at least 2 users")
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	r := GateReport{Scenario: ScenarioGate, Concurrency: opts.Concurrency, CPUs: runtime.NumCPU(), Started: time.Now(),
		Warmup: opts.Warmup, Duration: opts.Duration, Rounds: opts.Rounds, Goals: []Goal{}}

	fmt.Fprintf(progress, "Starting PSIMS in this process, publishing new versions and loading %d demo users who accepted them...\n", opts.Users)
	var seeded demo.Result
	var userIDs []int64
	s, err := startApp(ctx, opts.Database, opts.Params, func(ctx context.Context, a *app.App, _ *site) error {
		start := time.Now()
		versions, err := publishVersions(ctx, a.Terms)
		if err != nil {
			return err
		}
		seeded, err = demo.Seed(ctx, a.DB, a.Orgs, a.Accounts, a.Hasher, demo.Options{Orgs: max(2, opts.Users/20), Users: opts.Users, Seed: demo.DefaultSeed})
		if err != nil {
			return fmt.Errorf("bench: demo data: %w", err)
		}
		userIDs, r.Acceptances, err = acceptEverything(ctx, a)
		if err != nil {
			return err
		}
		r.Users, r.Versions, r.SetupTime = len(userIDs), versions, time.Since(start)
		return nil
	})
	if err != nil {
		return GateReport{}, err
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("bench: stop site: %w", cerr))
		}
	}()
	r.Database = s.Engine
	fmt.Fprintf(progress, "Loaded %d users and %d acceptances in %s.\n", r.Users, r.Acceptances, r.SetupTime.Round(time.Millisecond))

	fmt.Fprintf(progress, "Signing in %d workers as %s...\n", opts.Concurrency, seeded.NationalAdmin)
	clients := make([]*http.Client, 0, opts.Concurrency)
	defer func() {
		for _, c := range clients {
			c.CloseIdleConnections()
		}
	}()
	for range opts.Concurrency {
		c, err := signedInClient(ctx, s.URL, seeded.NationalAdmin, seeded.Password)
		if err != nil {
			return GateReport{}, err
		}
		clients = append(clients, c)
	}

	floor := func(ctx context.Context) error {
		var one int
		if err := s.App.DB.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
			return fmt.Errorf("bench: SELECT 1: %w", err)
		}
		return nil
	}
	gate := func(ctx context.Context) error {
		id := userIDs[rand.IntN(len(userIDs))]
		st, err := s.App.Terms.Status(ctx, id)
		if err != nil {
			return err
		}
		if st.Blocked() || len(st.Updated) > 0 {
			return fmt.Errorf("bench: user %d has not accepted everything: %+v", id, st)
		}
		return nil
	}
	phases := []struct {
		phase   *GatePhase
		name    string
		inProc  bool // a call in this process, which must never fail
		workers []worker
		load    LoadResult
	}{
		{phase: &r.Floor, name: "SELECT 1", inProc: true},
		{phase: &r.Gate, name: "Terms.Status", inProc: true},
		{phase: &r.Page, name: "GET /account"},
	}
	for i := range opts.Concurrency {
		phases[0].workers = append(phases[0].workers, callWorker{call: floor})
		phases[1].workers = append(phases[1].workers, callWorker{call: gate})
		phases[2].workers = append(phases[2].workers, &pageWorker{client: clients[i], url: s.URL + "/account", want: "Your account</h1>"})
	}

	window := opts.Duration / time.Duration(opts.Rounds)
	for round := range opts.Rounds {
		warmup := time.Duration(0)
		if round == 0 {
			warmup = opts.Warmup
		}
		for i := range phases {
			p := &phases[i]
			fmt.Fprintf(progress, "Round %d of %d: %s with %d workers for %s after %s of warm-up...\n",
				round+1, opts.Rounds, p.name, opts.Concurrency, window, warmup)
			l, err := runLoad(ctx, p.workers, warmup, window)
			if err != nil {
				return GateReport{}, err
			}
			if p.inProc && len(l.Errors) > 0 {
				return GateReport{}, fmt.Errorf("bench: %s: %s", p.name, l.FirstError)
			}
			p.load.add(l)
		}
	}
	for _, p := range phases {
		*p.phase = gatePhase(p.name, p.load)
	}

	if r.Floor.Latency.P99 > 0 {
		r.FloorRatio = float64(r.Gate.Latency.P99) / float64(r.Floor.Latency.P99)
	}
	if r.Floor.Latency.P50 > 0 {
		r.FloorRatioP50 = float64(r.Gate.Latency.P50) / float64(r.Floor.Latency.P50)
	}
	if r.Page.Latency.P99 > 0 {
		r.PageShare = float64(r.Gate.Latency.P99) / float64(r.Page.Latency.P99)
	}
	r.Goals = append(r.Goals, Goal{Name: "gate_p99_ms", Value: float64(r.Gate.Latency.P99) / float64(time.Millisecond),
		Want: fmt.Sprintf("<= %g ms", float64(GoalGateP99)/float64(time.Millisecond)),
		Met:  r.Gate.Calls > 0 && r.Page.Calls > 0 && r.Page.Errors == 0 && r.Gate.Latency.P99 <= GoalGateP99})
	return r, nil
}

// gatePhase summarises one phase's load.
func gatePhase(name string, l LoadResult) GatePhase {
	p := GatePhase{Name: name, Calls: len(l.Samples), FirstError: l.FirstError,
		PerSec: perSecond(len(l.Samples), l.Window), Latency: Summarize(l.Samples)}
	for _, n := range l.Errors {
		p.Errors += n
	}
	return p
}

// publishVersions publishes, after the first version the application
// publishes when it opens, a material and then a minor version of each kind
// people accept, and returns the number of the last version.
func publishVersions(ctx context.Context, svc *terms.Service) (int, error) {
	latest := 0
	for _, kind := range terms.AcceptedKinds() {
		for _, material := range []bool{true, false} {
			cur, err := svc.Current(ctx, kind)
			if err != nil {
				return 0, fmt.Errorf("bench: current %s: %w", kind, err)
			}
			d := terms.Draft{Kind: kind, Material: material,
				Body:    cur.Body + fmt.Sprintf("\n\nVersion %d, published by psims bench.\n", cur.Version+1),
				Summary: fmt.Sprintf("Version %d, published by psims bench (material: %t).", cur.Version+1, material)}
			doc, err := svc.Publish(ctx, 0, terms.Client{}, d)
			if err != nil {
				return 0, fmt.Errorf("bench: publish %s: %w", kind, err)
			}
			latest = doc.Version
		}
	}
	return latest, nil
}

// acceptEverything records in the acceptance ledger, for every user, an
// acceptance of every published version of the terms and the privacy
// policy, as if each had accepted each version when it came out, so that
// nobody is held at the gate. It also marks the change notices of those
// versions as done: they were published before the users existed, and the
// notice job would otherwise queue an email to every user while the bench
// measures. It returns the users' IDs and the number of rows written.
func acceptEverything(ctx context.Context, a *app.App) (userIDs []int64, rows int, err error) {
	var versions []terms.LoadAcceptance
	for _, kind := range terms.AcceptedKinds() {
		docs, err := a.Terms.Versions(ctx, kind)
		if err != nil {
			return nil, 0, fmt.Errorf("bench: read versions: %w", err)
		}
		for _, d := range docs {
			versions = append(versions, terms.LoadAcceptance{Kind: kind, Version: d.Version})
		}
	}
	members, err := a.Accounts.Members(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("bench: read users: %w", err)
	}
	accepted := make([]terms.LoadAcceptance, 0, len(members)*len(versions))
	for _, m := range members {
		userIDs = append(userIDs, m.ID)
		for _, v := range versions {
			v.UserID = m.ID
			accepted = append(accepted, v)
		}
	}
	err = a.DB.InTx(ctx, func(tx *db.Tx) error {
		if err := a.Terms.LoadAcceptances(ctx, tx, terms.Client{IP: "127.0.0.1", UserAgent: "psims bench"}, accepted); err != nil {
			return fmt.Errorf("bench: record acceptances: %w", err)
		}
		if err := a.Terms.FinishNotices(ctx, tx); err != nil {
			return fmt.Errorf("bench: mark notices done: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	// Fresh statistics, as demo.Seed does for its tables.
	if err := a.Terms.Analyze(ctx); err != nil {
		return nil, 0, fmt.Errorf("bench: %w", err)
	}
	return userIDs, len(accepted), nil
}

// WriteText writes the report for people to read.
func (r *GateReport) WriteText(w io.Writer) error {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "  %-14s %s\n", label, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(&b, "psims bench %s (%s)\n", r.Scenario, r.Started.UTC().Format("2006-01-02 15:04:05Z"))
	line("database", "%s", r.Database)
	line("data", "%d users, %d acceptances (%d versions each of the terms and the privacy policy), loaded in %s",
		r.Users, r.Acceptances, r.Versions, r.SetupTime.Round(time.Millisecond))
	line("concurrency", "%d (this machine has %d CPUs)", r.Concurrency, r.CPUs)
	line("duration", "%s measured per phase in %d round(s) of the three phases, after %s of warm-up each", r.Duration, r.Rounds, r.Warmup)
	fmt.Fprintf(&b, "  %-40s %8s %7s %9s %9s %9s %9s %9s\n", "phase", "calls", "errors", "per s", "p50", "p95", "p99", "max")
	for _, p := range []struct {
		label string
		phase GatePhase
	}{
		{"SELECT 1 (the floor: one query)", r.Floor},
		{"Terms.Status (what the gate adds)", r.Gate},
		{"GET /account (signed in, gate included)", r.Page},
	} {
		l := p.phase.Latency
		fmt.Fprintf(&b, "  %-40s %8d %7d %9.0f %9s %9s %9s %9s\n", p.label, p.phase.Calls, p.phase.Errors, p.phase.PerSec,
			fineMS(l.P50), fineMS(l.P95), fineMS(l.P99), fineMS(l.Max))
		if p.phase.FirstError != "" {
			fmt.Fprintf(&b, "    first error: %s\n", p.phase.FirstError)
		}
	}
	line("floor ratio", "%.2f at p99, %.2f at p50: gate ÷ SELECT 1 (no goal; 1 is as cheap as a query can be)", r.FloorRatio, r.FloorRatioP50)
	line("page share", "%.1f%%  gate p99 ÷ page p99 (no goal)", 100*r.PageShare)
	verdict := "MISSED"
	if r.Met() {
		verdict = "MET"
	}
	line("goal", "the gate adds <= %s at p99: %s (gate p99 %s)", GoalGateP99, verdict, fineMS(r.Gate.Latency.P99))
	_, err := io.WriteString(w, b.String())
	return err
}

// fineMS formats d in milliseconds with three decimals, for times well
// under a millisecond.
func fineMS(d time.Duration) string {
	return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond))
}
