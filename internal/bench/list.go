package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/demo"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/incident/synth"
	"github.com/psims/psims/internal/password"
	"github.com/psims/psims/internal/terms"
)

// This file is the event list scenario: a million synthetic events loaded
// over a few hundred organisations, then the reviewer's list page with
// filters, against the Incidents.List call under the page and SELECT 1,
// timed in the same run.

// ScenarioList times GET /events with filters, signed in as a reviewer of
// the organisation with the most events.
const ScenarioList = "list"

// Defaults of the list scenario.
const (
	DefaultListEvents = 1_000_000
	DefaultListOrgs   = 200
	DefaultListUsers  = 4000
)

// GoalListP99 is the goal of the event list: a filtered page under 50 ms
// at p99 with 1,000,000 events loaded.
const GoalListP99 = 50 * time.Millisecond

// ListOptions say what to measure and how.
type ListOptions struct {
	// Database is the in-process site's database: "" for SQLite in a new
	// temporary directory, or a postgres:// URL of an empty scratch
	// database or schema, used as is.
	Database string
	// Events are loaded over the demo organisations and users (Orgs,
	// Users, Seed; see demo.Options), each recorded by a demo user at
	// random in the user's organisation, so the biggest organisation gets
	// the most.
	Events, Orgs, Users int
	Seed                uint64
	// Concurrency lists the numbers of workers each kind is measured with;
	// 1 and 2 when empty.
	Concurrency []int
	Duration    time.Duration // measured time of each kind, at each concurrency, in each phase
	Warmup      time.Duration // run before each measured window and not counted
	// Params are the argon2id parameters of the site: the reviewer signs
	// in once per worker, untimed.
	Params   password.Params
	Progress io.Writer // receives a line as each phase starts; nil for none
	// CPUProfile, when not nil, receives a pprof CPU profile of the page
	// phases.
	CPUProfile io.Writer
}

// ListKindResult is one kind of list request at one concurrency: the page
// over HTTP, and Incidents.List alone (the SQL under the page, its two
// queries and their scanning, without HTTP or templates).
type ListKindResult struct {
	Name        string `json:"name"`
	Path        string `json:"path"`
	Concurrency int    `json:"concurrency"`
	// Matches is what the list counts (at most incident.CountCap; More
	// when there are more).
	Matches int       `json:"matches"`
	More    bool      `json:"more"`
	Page    GatePhase `json:"page"`
	SQL     GatePhase `json:"sql"`
	// SQLShare is the p50 of Incidents.List ÷ the p50 of the page.
	SQLShare float64 `json:"sql_share"`
	// FloorRatio is the page's p99 ÷ SELECT 1's p99 at the same
	// concurrency.
	FloorRatio float64 `json:"floor_ratio"`
	Met        bool    `json:"met"` // page p99 under GoalListP99, and no errors
}

// ListReport is the outcome of one run of the list scenario.
type ListReport struct {
	Scenario string        `json:"scenario"`
	Database string        `json:"database"`
	CPUs     int           `json:"cpus"`
	Started  time.Time     `json:"started"`
	Warmup   time.Duration `json:"warmup_ns"`
	Duration time.Duration `json:"duration_ns"`
	Orgs     int           `json:"orgs"`
	Users    int           `json:"users"`
	Events   int           `json:"events"`
	// Biggest is the organisation with the most events, whose reviewer
	// the pages are measured for, and BiggestEvents how many it has.
	Biggest       string        `json:"biggest_org"`
	BiggestEvents int           `json:"biggest_org_events"`
	SeedTime      time.Duration `json:"seed_ns"`    // demo organisations and users
	LoadTime      time.Duration `json:"load_ns"`    // generating and loading the events
	AnalyzeTime   time.Duration `json:"analyze_ns"` // refreshing the planner's statistics
	LoadPerSec    float64       `json:"load_per_sec"`
	// Floor is SELECT 1 through the same pool, at each concurrency.
	Floor []ListFloor      `json:"floor"`
	Kinds []ListKindResult `json:"kinds"`
	Goals []Goal           `json:"goals"`
}

// Met reports whether every goal was met (true when there are none).
func (r *ListReport) Met() bool {
	for _, g := range r.Goals {
		if !g.Met {
			return false
		}
	}
	return true
}

// ListFloor is SELECT 1 at one concurrency.
type ListFloor struct {
	Concurrency int       `json:"concurrency"`
	Phase       GatePhase `json:"phase"`
}

// eventListKind is one kind of list request: its query string and the filter
// it stands for.
type eventListKind struct {
	name   string
	query  url.Values
	filter incident.Filter
	// path, want and status, when set, measure another page than the
	// list (the home) or another answer (a search by reference redirects
	// to the event); sql, when set, is the call under the page in place
	// of Incidents.List.
	path, want string
	status     int
	sql        func(ctx context.Context) error
}

// eventListKinds are the requests measured: the list as it opens, and four
// filters a reviewer uses.
func eventListKinds(now time.Time) []eventListKind {
	y, m, _ := now.UTC().Date()
	from := time.Date(y, m-3, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 1, -1)
	day := func(q url.Values, name string, t time.Time) {
		q.Set(name+"-day", strconv.Itoa(t.Day()))
		q.Set(name+"-month", strconv.Itoa(int(t.Month())))
		q.Set(name+"-year", strconv.Itoa(t.Year()))
	}
	month := url.Values{}
	day(month, "occurred-from", from)
	day(month, "occurred-to", to)
	return []eventListKind{
		{name: "no filter", query: url.Values{}},
		{name: "incidents with severe physical harm", query: url.Values{"type": {string(incident.Incident)}, "physical": {"2"}},
			filter: incident.Filter{Types: []incident.Type{incident.Incident}, PhysicalHarm: []string{"2"}}},
		// The page sorts a list filtered by when events happened in that
		// order, unless another is asked for; so does the SQL under it here.
		{name: "happened in one month", query: month, filter: incident.Filter{OccurredFrom: from, OccurredTo: to, Sort: incident.OccurredNewest}},
		{name: "safety challenge: falls", query: url.Values{"challenge": {"2"}}, filter: incident.Filter{SafetyChallenge: "2"}},
		{name: "agent: medications", query: url.Values{"agent": {"4"}}, filter: incident.Filter{Agent: "4"}},
		// Searches by words (issue 11): a word in most events, one in few,
		// and two words together.
		{name: "search: ward", query: url.Values{"q": {"ward"}}, filter: incident.Filter{Words: []string{"ward"}}},
		{name: "search: morphine", query: url.Values{"q": {"morphine"}}, filter: incident.Filter{Words: []string{"morphine"}}},
		{name: "search: bed rails", query: url.Values{"q": {"bed rails"}}, filter: incident.Filter{Words: []string{"bed", "rails"}}},
	}
}

// homeAndReferenceKinds are the signed-in home, whose week's counts and new
// events are the SQL under it, and a search by reference number, which
// answers with a redirect to the event.
func homeAndReferenceKinds(a *app.App, scope incident.Scope, ref incident.Reference) []eventListKind {
	return []eventListKind{
		{name: "home: the week's counts", path: "/", want: "This week by event type", sql: func(ctx context.Context) error {
			since := time.Now().UTC().AddDate(0, 0, -6)
			if _, err := a.Incidents.List(ctx, scope, incident.Filter{SubmittedFrom: since}, incident.Cursor{}, 5); err != nil {
				return err
			}
			_, err := a.Incidents.CountSince(ctx, scope, since)
			return err
		}},
		{name: "search: a reference", query: url.Values{"q": {string(ref)}}, want: "/events/" + string(ref), status: http.StatusSeeOther,
			sql: func(ctx context.Context) error {
				_, err := a.Incidents.ByReference(ctx, ref)
				return err
			}},
	}
}

// The list's address, and what every list page holds (with status 200:
// a filter the page refuses answers 422).
const (
	listPath = "/events"
	listWant = "Filter events</h2>"
)

// listReviewer is the account whose list is measured.
const listReviewer = "bench-list-reviewer@example.invalid"

// RunList starts PSIMS in this process on a scratch database, loads demo
// organisations and users and opts.Events synthetic events, and times
// each kind of list request at each concurrency: SELECT 1, then the page,
// then Incidents.List alone.
func RunList(ctx context.Context, opts ListOptions) (_ ListReport, err error) {
	if len(opts.Concurrency) == 0 {
		opts.Concurrency = []int{1, 2}
	}
	if slices.Min(opts.Concurrency) < 1 || opts.Duration <= 0 || opts.Warmup < 0 {
		return ListReport{}, errors.New("bench: concurrency must be at least 1, duration positive and warm-up not negative")
	}
	if opts.Orgs < 2 || opts.Users < 2 || opts.Events < 1 {
		return ListReport{}, errors.New("bench: the list scenario needs at least 2 organisations, 2 users and 1 event")
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	r := ListReport{Scenario: ScenarioList, CPUs: runtime.NumCPU(), Started: time.Now(), Warmup: opts.Warmup,
		Duration: opts.Duration, Goals: []Goal{}}

	fmt.Fprintf(progress, "Starting PSIMS in this process and loading %d organisations, %d demo users and %d events...\n",
		opts.Orgs, opts.Users, opts.Events)
	s, err := startApp(ctx, opts.Database, opts.Params, func(ctx context.Context, a *app.App, _ *site) error {
		seeded, err := demo.Seed(ctx, a.DB, a.Orgs, a.Accounts, a.Hasher, demo.Options{Orgs: opts.Orgs, Users: opts.Users, Seed: opts.Seed})
		if err != nil {
			return fmt.Errorf("bench: demo data: %w", err)
		}
		r.Orgs, r.Users, r.SeedTime = seeded.Orgs, seeded.Users, seeded.Elapsed
		start := time.Now()
		if err := LoadEvents(ctx, a, opts.Events, opts.Seed, 0, progress); err != nil {
			return err
		}
		r.LoadTime = time.Since(start)
		start = time.Now()
		if err := a.Incidents.Analyze(ctx); err != nil {
			return err
		}
		r.AnalyzeTime = time.Since(start)
		r.Events = opts.Events
		r.LoadPerSec = perSecond(opts.Events, r.LoadTime)
		if r.Biggest, r.BiggestEvents, err = a.Incidents.BusiestOrg(ctx); err != nil {
			return fmt.Errorf("bench: biggest organisation: %w", err)
		}
		if err := createReviewer(ctx, a, r.Biggest); err != nil {
			return err
		}
		// The demo users have accepted nothing, and the acceptance gate
		// would send the reviewer to the review page.
		_, _, err = acceptEverything(ctx, a)
		return err
	})
	if err != nil {
		return ListReport{}, err
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("bench: stop site: %w", cerr))
		}
	}()
	r.Database = s.Engine
	fmt.Fprintf(progress, "Loaded %d events in %s (%.0f a second) and analysed them in %s; the biggest organisation, %s, has %d.\n",
		r.Events, r.LoadTime.Round(time.Millisecond), r.LoadPerSec, r.AnalyzeTime.Round(time.Millisecond), r.Biggest, r.BiggestEvents)

	if err := measureList(ctx, opts, s, &r, progress); err != nil {
		return ListReport{}, err
	}
	return r, nil
}

// LoadEvents generates n synthetic events, deterministic for seed, over
// the users of the database, each in the reporter's organisation, and
// loads them with Incidents.Load, batch to a transaction (at most ten
// thousand; 0 means that many, fastest for a database nobody else writes
// to), generating the next batch while the last is written. It does not
// analyse them.
func LoadEvents(ctx context.Context, a *app.App, n int, seed uint64, batch int, progress io.Writer) error {
	f, err := form.New(a.Taxonomy)
	if err != nil {
		return fmt.Errorf("bench: form: %w", err)
	}
	reporters, err := Reporters(ctx, a.Accounts)
	if err != nil {
		return err
	}
	statement, err := a.Terms.Current(ctx, terms.RecordingStatement)
	if err != nil {
		return fmt.Errorf("bench: recording statement: %w", err)
	}
	loaded, next := 0, 0
	start := time.Now()
	plan := synth.Plan{Events: n, Seed: seed, Now: time.Now(), Reporters: reporters, StatementVersion: statement.Version, Batch: batch}
	return synth.Fill(ctx, f, plan, func(ctx context.Context, subs []incident.Submission) error {
		load := func() error { return a.Incidents.Load(ctx, subs) }
		if batch > 0 {
			// Sharing the database with a running server: leave it room.
			if err := demo.ShareWrites(ctx, a.DB, load); err != nil {
				return fmt.Errorf("bench: load events: %w", err)
			}
		} else if err := load(); err != nil {
			return fmt.Errorf("bench: load events: %w", err)
		}
		loaded += len(subs)
		if progress != nil && (loaded >= next || loaded == n) {
			fmt.Fprintf(progress, "  %d of %d events loaded (%.0f a second)...\n", loaded, n, perSecond(loaded, time.Since(start)))
			next += max(n/10, synth.FillBatch)
		}
		return nil
	})
}

// Reporters lists every user of the database as a reporter of synthetic
// events, in their organisation. Past events may have been recorded by
// people whose accounts have since closed, so every status counts.
func Reporters(ctx context.Context, accounts *account.Service) ([]synth.Reporter, error) {
	members, err := accounts.Members(ctx)
	if err != nil {
		return nil, fmt.Errorf("bench: read users: %w", err)
	}
	if len(members) == 0 {
		return nil, errors.New("bench: no users to record events; load demo users first")
	}
	out := make([]synth.Reporter, len(members))
	for i, m := range members {
		out[i] = synth.Reporter{ID: m.ID, OrgCode: m.OrgCode}
	}
	return out, nil
}

// createReviewer makes the reviewer of org whose list is measured, with
// information governance training done today.
func createReviewer(ctx context.Context, a *app.App, org string) error {
	u, err := a.Accounts.Create(ctx, account.NewUser{Email: listReviewer, Name: "Bench Reviewer", JobRole: "Patient safety specialist",
		OrgCode: org, Role: account.RoleReviewer, Password: benchPassword})
	if err != nil {
		return fmt.Errorf("bench: create reviewer: %w", err)
	}
	if err := a.Accounts.RecordIGTraining(ctx, u, time.Now(), ""); err != nil {
		return fmt.Errorf("bench: reviewer's training: %w", err)
	}
	return nil
}

// measureList signs the reviewer in once per worker (untimed), then, at
// each concurrency, times SELECT 1, each kind of page, and each kind's
// Incidents.List alone.
func measureList(ctx context.Context, opts ListOptions, s *site, r *ListReport, progress io.Writer) error {
	most := slices.Max(opts.Concurrency)
	fmt.Fprintf(progress, "Signing in %d workers as %s...\n", most, listReviewer)
	clients := make([]*http.Client, 0, most)
	defer func() {
		for _, c := range clients {
			c.CloseIdleConnections()
		}
	}()
	for range most {
		c, err := signedInClient(ctx, s.URL, listReviewer, benchPassword)
		if err != nil {
			return err
		}
		clients = append(clients, c)
	}
	scope := incident.Scope{Orgs: []string{r.Biggest}}
	latest, err := s.App.Incidents.List(ctx, scope, incident.Filter{}, incident.Cursor{}, 1)
	if err != nil || len(latest.Events) == 0 {
		return fmt.Errorf("bench: an event of %s: %v", r.Biggest, err)
	}
	kinds := append(eventListKinds(time.Now()), homeAndReferenceKinds(s.App, scope, latest.Events[0].Reference)...)
	if opts.CPUProfile != nil {
		if err := pprof.StartCPUProfile(opts.CPUProfile); err != nil {
			return fmt.Errorf("bench: cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	run := func(name string, workers []worker) (GatePhase, error) {
		fmt.Fprintf(progress, "%s with %d workers for %s after %s of warm-up...\n", name, len(workers), opts.Duration, opts.Warmup)
		l, err := runLoad(ctx, workers, opts.Warmup, opts.Duration)
		if err != nil {
			return GatePhase{}, err
		}
		return gatePhase(name, l), nil
	}
	for _, c := range opts.Concurrency {
		floorWorkers := make([]worker, c)
		for i := range floorWorkers {
			floorWorkers[i] = callWorker{call: func(ctx context.Context) error {
				var one int
				return s.App.DB.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
			}}
		}
		floor, err := run("SELECT 1", floorWorkers)
		if err != nil {
			return err
		}
		if floor.Errors > 0 {
			return fmt.Errorf("bench: SELECT 1: %s", floor.FirstError)
		}
		r.Floor = append(r.Floor, ListFloor{Concurrency: c, Phase: floor})
		for _, k := range kinds {
			path := cmp.Or(k.path, listPath)
			if len(k.query) > 0 {
				path += "?" + k.query.Encode()
			}
			res := ListKindResult{Name: k.name, Path: path, Concurrency: c}
			call := k.sql
			if call == nil {
				page, err := s.App.Incidents.List(ctx, scope, k.filter, incident.Cursor{}, 0)
				if err != nil {
					return fmt.Errorf("bench: list %q: %w", k.name, err)
				}
				res.Matches, res.More = page.Count, page.More
				call = func(ctx context.Context) error {
					_, err := s.App.Incidents.List(ctx, scope, k.filter, incident.Cursor{}, 0)
					return err
				}
			}
			pages := make([]worker, c)
			calls := make([]worker, c)
			for i := range c {
				pages[i] = &pageWorker{client: clients[i], url: s.URL + path, want: cmp.Or(k.want, listWant), status: k.status}
				calls[i] = callWorker{call: call}
			}
			if res.Page, err = run("GET "+path, pages); err != nil {
				return err
			}
			if res.SQL, err = run("Incidents.List: "+k.name, calls); err != nil {
				return err
			}
			if res.SQL.Errors > 0 {
				return fmt.Errorf("bench: Incidents.List %q: %s", k.name, res.SQL.FirstError)
			}
			if res.Page.Latency.P50 > 0 {
				res.SQLShare = float64(res.SQL.Latency.P50) / float64(res.Page.Latency.P50)
			}
			if floor.Latency.P99 > 0 {
				res.FloorRatio = float64(res.Page.Latency.P99) / float64(floor.Latency.P99)
			}
			res.Met = res.Page.Calls > 0 && res.Page.Errors == 0 && res.Page.Latency.P99 < GoalListP99
			r.Kinds = append(r.Kinds, res)
			r.Goals = append(r.Goals, Goal{Name: fmt.Sprintf("p99 %s at concurrency %d", k.name, c),
				Value: float64(res.Page.Latency.P99) / float64(time.Millisecond),
				Want:  fmt.Sprintf("< %d ms", GoalListP99/time.Millisecond), Met: res.Met})
		}
	}
	return nil
}

// WriteText writes the report for people to read.
func (r *ListReport) WriteText(w io.Writer) error {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "  %-14s %s\n", label, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(&b, "psims bench %s (%s)\n", r.Scenario, r.Started.UTC().Format("2006-01-02 15:04:05Z"))
	line("database", "%s (this machine has %d CPUs)", r.Database, r.CPUs)
	line("data", "%d organisations, %d users (in %s); %d events generated and loaded in %s (%.0f a second), analysed in %s",
		r.Orgs, r.Users, r.SeedTime.Round(time.Millisecond), r.Events, r.LoadTime.Round(time.Second), r.LoadPerSec,
		r.AnalyzeTime.Round(time.Millisecond))
	line("reviewer of", "%s, the organisation with the most events: %d", r.Biggest, r.BiggestEvents)
	line("duration", "%s measured per kind, concurrency and phase, after %s of warm-up each", r.Duration, r.Warmup)
	fmt.Fprintf(&b, "  %-38s %2s %6s %8s %6s %8s %8s %8s | %8s %8s %6s | %7s  %s\n",
		"GET /events with", "c", "match", "requests", "errors", "p50", "p95", "p99", "sql p50", "sql p99", "sql%", "÷floor", "goal p99 < 50ms")
	for _, k := range r.Kinds {
		verdict := "MISS"
		if k.Met {
			verdict = "PASS"
		}
		match := fmt.Sprint(k.Matches)
		if k.More {
			match = ">" + match
		}
		fmt.Fprintf(&b, "  %-38s %2d %6s %8d %6d %8s %8s %8s | %8s %8s %5.0f%% | %7.0f  %s\n",
			k.Name, k.Concurrency, match, k.Page.Calls, k.Page.Errors, ms(k.Page.Latency.P50), ms(k.Page.Latency.P95),
			ms(k.Page.Latency.P99), ms(k.SQL.Latency.P50), ms(k.SQL.Latency.P99), 100*k.SQLShare, k.FloorRatio, verdict)
		if k.Page.FirstError != "" {
			fmt.Fprintf(&b, "    first error: %s\n", k.Page.FirstError)
		}
	}
	for _, f := range r.Floor {
		line("floor", "SELECT 1 at concurrency %d: p50 %s, p99 %s, %.0f a second (÷floor is page p99 ÷ this p99)",
			f.Concurrency, fineMS(f.Phase.Latency.P50), fineMS(f.Phase.Latency.P99), f.Phase.PerSec)
	}
	verdict := "MISS"
	if r.Met() {
		verdict = "PASS"
	}
	line("goal", "filtered list p99 < %s on every kind at every concurrency: %s", GoalListP99, verdict)
	_, err := io.WriteString(w, b.String())
	return err
}
