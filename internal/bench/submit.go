package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/incident/synth"
	"github.com/psims/psims/internal/password"
)

// This file is the submission scenario: durable submissions per second
// through the real form path, POST /drafts/{id}/statement, against the
// raw rate of durable one-row transactions through the same database
// handle, in the same run.

// ScenarioSubmit times the final POST of the recording form.
const ScenarioSubmit = "submit"

// The goals of submission, on SQLite: at least 1,000 durable submissions
// a second, with p99 under 100 ms.
const (
	GoalSubmitRate = 1000.0
	GoalSubmitP99  = 100 * time.Millisecond
)

// DefaultSubmitMaxRate is the submission rate drafts are prepared for.
const DefaultSubmitMaxRate = 4000

// answerPool is how many different sets of generated answers the drafts
// are made from.
const answerPool = 500

// SubmitOptions say what to measure and how.
type SubmitOptions struct {
	// Database is the in-process site's database: "" for SQLite in a new
	// temporary directory, or a postgres:// URL of an empty scratch
	// database or schema, used as is.
	Database string
	// Concurrency lists the numbers of workers to measure with, each
	// signed in as a reporter of its own; 1, 2 and 8 when empty.
	Concurrency []int
	Duration    time.Duration // measured time of each phase at each concurrency
	Warmup      time.Duration // run before each measured window and not counted
	// MaxRate is the submissions a second drafts are prepared for: before
	// each concurrency, MaxRate × (Warmup + Duration) complete drafts are
	// saved, shared among the workers. A worker that runs out counts
	// errors; raise it then. DefaultSubmitMaxRate when <= 0.
	MaxRate int
	Seed    uint64 // seed of the generated answers
	// Params are the argon2id parameters of the site: each reporter signs
	// in once, untimed.
	Params   password.Params
	Progress io.Writer // receives a line as each phase starts; nil for none
	// CPUProfile, when not nil, receives a pprof CPU profile of the
	// submission phases.
	CPUProfile io.Writer
}

// SubmitLevel is one concurrency: the submissions, and the raw durable
// transactions.
type SubmitLevel struct {
	Concurrency int `json:"concurrency"`
	Drafts      int `json:"drafts"` // complete drafts ready when the phase began
	// Submit is POST /drafts/{id}/statement, answered with a 303 to the
	// event's confirmation once the event is durable.
	Submit GatePhase `json:"submit"`
	// Raw is one INSERT of a row the size of the submitted answers, in a
	// transaction of its own, through the same database handle: the most
	// durable writes a second this machine and database give.
	Raw GatePhase `json:"raw"`
	// RateRatio is submissions a second ÷ raw transactions a second.
	RateRatio float64 `json:"rate_ratio"`
	// P99Ratio is the submission's p99 ÷ the raw transaction's p99.
	P99Ratio float64 `json:"p99_ratio"`
}

// SubmitReport is the outcome of one run of the submission scenario.
type SubmitReport struct {
	Scenario  string        `json:"scenario"`
	Database  string        `json:"database"`
	CPUs      int           `json:"cpus"`
	Started   time.Time     `json:"started"`
	Warmup    time.Duration `json:"warmup_ns"`
	Duration  time.Duration `json:"duration_ns"`
	RowBytes  int           `json:"row_bytes"` // the raw phase's row: generated answers of median size
	SetupTime time.Duration `json:"setup_ns"`  // saving the drafts, over all levels
	Levels    []SubmitLevel `json:"levels"`
	Goals     []Goal        `json:"goals"`
}

// Met reports whether every goal was met (true when there are none).
func (r *SubmitReport) Met() bool {
	for _, g := range r.Goals {
		if !g.Met {
			return false
		}
	}
	return true
}

// rawTable holds the rows of the raw phase; it exists only in the scratch
// database of a run.
const rawTable = `CREATE TABLE bench_durable (n BIGINT NOT NULL, body TEXT NOT NULL)`

// RunSubmit starts PSIMS in this process on a scratch database with one
// reporter for each worker, and at each concurrency saves complete drafts
// of generated events and times their submission, then the raw durable
// transactions.
func RunSubmit(ctx context.Context, opts SubmitOptions) (_ SubmitReport, err error) {
	if len(opts.Concurrency) == 0 {
		opts.Concurrency = []int{1, 2, 8}
	}
	if opts.MaxRate <= 0 {
		opts.MaxRate = DefaultSubmitMaxRate
	}
	if slices.Min(opts.Concurrency) < 1 || opts.Duration <= 0 || opts.Warmup < 0 {
		return SubmitReport{}, errors.New("bench: concurrency must be at least 1, duration positive and warm-up not negative")
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	r := SubmitReport{Scenario: ScenarioSubmit, CPUs: runtime.NumCPU(), Started: time.Now(), Warmup: opts.Warmup,
		Duration: opts.Duration, Goals: []Goal{}}
	most := slices.Max(opts.Concurrency)

	fmt.Fprintf(progress, "Starting PSIMS in this process with %d reporters...\n", most)
	runID := newRunID()
	var users []int64
	s, err := startApp(ctx, opts.Database, opts.Params, func(ctx context.Context, a *app.App, s *site) error {
		if _, err := a.Orgs.Import(ctx, strings.NewReader(siteOrganisation)); err != nil {
			return fmt.Errorf("bench: import organisation: %w", err)
		}
		for i := range most {
			c := credentials{Email: fmt.Sprintf("bench-%s-submit-%d@example.invalid", runID, i), Password: benchPassword}
			u, err := a.Accounts.Create(ctx, account.NewUser{Email: c.Email, Name: "Bench Reporter", JobRole: "Nurse",
				OrgCode: siteOrgCode, Role: account.RoleReporter, Password: c.Password})
			if err != nil {
				return fmt.Errorf("bench: create account %s: %w", c.Email, err)
			}
			s.Accounts = append(s.Accounts, c)
			users = append(users, u.ID)
		}
		if _, _, err := acceptEverything(ctx, a); err != nil {
			return err
		}
		if _, err := a.DB.ExecContext(ctx, rawTable); err != nil {
			return fmt.Errorf("bench: create the raw table: %w", err)
		}
		return nil
	})
	if err != nil {
		return SubmitReport{}, err
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("bench: stop site: %w", cerr))
		}
	}()
	r.Database = s.Engine

	pool, row, err := answerSets(s.App, opts.Seed)
	if err != nil {
		return SubmitReport{}, err
	}
	r.RowBytes = len(row)

	fmt.Fprintf(progress, "Signing in %d reporters...\n", most)
	workers := make([]*submitWorker, most)
	defer func() {
		for _, w := range workers {
			if w != nil {
				w.client.CloseIdleConnections()
			}
		}
	}()
	for i := range most {
		c, err := signedInClient(ctx, s.URL, s.Accounts[i].Email, s.Accounts[i].Password)
		if err != nil {
			return SubmitReport{}, err
		}
		workers[i] = &submitWorker{client: c, base: s.URL, userID: users[i]}
	}

	if opts.CPUProfile != nil {
		if err := pprof.StartCPUProfile(opts.CPUProfile); err != nil {
			return SubmitReport{}, fmt.Errorf("bench: cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	next := 0 // the next answer set of the pool
	for _, c := range opts.Concurrency {
		need := int(math.Ceil(float64(opts.MaxRate)*(opts.Warmup+opts.Duration).Seconds()/float64(c))) + 1
		fmt.Fprintf(progress, "Saving complete drafts: %d for each of %d reporters...\n", need, c)
		start := time.Now()
		level := SubmitLevel{Concurrency: c}
		for _, w := range workers[:c] {
			for len(w.drafts) < need {
				p := pool[next%len(pool)]
				next++
				id, err := s.App.Incidents.SaveDraft(ctx, w.userID, 0, p.typ, p.answers)
				if err != nil {
					return SubmitReport{}, fmt.Errorf("bench: save draft: %w", err)
				}
				w.drafts = append(w.drafts, id)
			}
			if err := w.prepare(ctx); err != nil {
				return SubmitReport{}, err
			}
			level.Drafts += len(w.drafts)
		}
		r.SetupTime += time.Since(start)

		ws := make([]worker, c)
		for i := range ws {
			ws[i] = workers[i]
		}
		fmt.Fprintf(progress, "POST /drafts/{id}/statement with %d workers for %s after %s of warm-up...\n", c, opts.Duration, opts.Warmup)
		l, err := runLoad(ctx, ws, opts.Warmup, opts.Duration)
		if err != nil {
			return SubmitReport{}, err
		}
		level.Submit = gatePhase("POST /drafts/{id}/statement", l)

		fmt.Fprintf(progress, "Raw one-row transactions with %d workers for %s after %s of warm-up...\n", c, opts.Duration, opts.Warmup)
		if level.Raw, err = rawDurable(ctx, s.App.DB, c, row, opts.Warmup, opts.Duration); err != nil {
			return SubmitReport{}, err
		}
		level.RateRatio, level.P99Ratio = ratios(level.Submit, level.Raw)
		r.Levels = append(r.Levels, level)
	}
	r.Goals = submitGoals(r)
	return r, nil
}

// submitGoals checks the goals at the highest concurrency, on SQLite,
// which the goals are set for.
func submitGoals(r SubmitReport) []Goal {
	return durableGoals(r.Database, "submissions", r.durableLevels(), GoalSubmitRate, GoalSubmitP99)
}

// durableLevels are the levels as the shared table shows them.
func (r *SubmitReport) durableLevels() []durableLevel {
	out := make([]durableLevel, len(r.Levels))
	for i, l := range r.Levels {
		out[i] = durableLevel{concurrency: l.Concurrency, load: l.Submit, raw: l.Raw, rateRatio: l.RateRatio, p99: l.P99Ratio}
	}
	return out
}

// answerSet is one generated event's answers, as the form makes them.
type answerSet struct {
	typ     incident.Type
	answers incident.Answers
}

// answerSets generates the pool the drafts are made from, and returns the
// answers of median size as stored (JSON), for the raw phase's row.
func answerSets(a *app.App, seed uint64) ([]answerSet, string, error) {
	f, err := form.New(a.Taxonomy)
	if err != nil {
		return nil, "", fmt.Errorf("bench: form: %w", err)
	}
	g, err := synth.New(f, []string{siteOrgCode}, seed)
	if err != nil {
		return nil, "", err
	}
	pool := make([]answerSet, answerPool)
	bodies := make([]string, answerPool)
	now := time.Now()
	for i := range pool {
		t := g.Type()
		res, err := g.Answers(t, siteOrgCode, now)
		if err != nil {
			return nil, "", err
		}
		body, err := json.Marshal(res.Answers)
		if err != nil {
			return nil, "", fmt.Errorf("bench: encode answers: %w", err)
		}
		pool[i], bodies[i] = answerSet{typ: t, answers: res.Answers}, string(body)
	}
	slices.SortFunc(bodies, func(x, y string) int { return len(x) - len(y) })
	return pool, bodies[len(bodies)/2], nil
}

var statementVersionPattern = regexp.MustCompile(`name="statement_version" value="([0-9]+)"`)

// submitWorker submits its reporter's drafts, one per post.
type submitWorker struct {
	client  *http.Client
	base    string
	userID  int64
	drafts  []int64 // complete drafts not yet submitted, in order
	token   string
	version string
}

// prepare reads the CSRF token and the recording statement version from
// the statement page of the first draft, as a browser would.
func (w *submitWorker) prepare(ctx context.Context) error {
	if len(w.drafts) == 0 {
		return errors.New("bench: a submit worker has no drafts")
	}
	path := fmt.Sprintf("/drafts/%d/statement", w.drafts[0])
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.base+path, nil)
	if err != nil {
		return fmt.Errorf("bench: GET %s: %w", path, err)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("bench: GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("bench: GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: GET %s: status %s (is the recording route wired?)", path, resp.Status)
	}
	token, version := tokenPattern.FindSubmatch(body), statementVersionPattern.FindSubmatch(body)
	if token == nil || version == nil {
		return fmt.Errorf("bench: GET %s: the page has no csrf_token or statement_version field", path)
	}
	w.token, w.version = string(token[1]), string(version[1])
	return nil
}

func (w *submitWorker) post(ctx context.Context) (bool, string, string) {
	if len(w.drafts) == 0 {
		return false, "out of drafts", "a worker submitted every draft prepared for it; raise --max-rate"
	}
	id := w.drafts[0]
	w.drafts = w.drafts[1:]
	path := "/drafts/" + strconv.FormatInt(id, 10) + "/statement"
	form := url.Values{"csrf_token": {w.token}, "statement_version": {w.version}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return false, "request", err.Error()
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := w.client.Do(req)
	if err != nil {
		return false, "transport", err.Error()
	}
	_, readErr := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return false, fmt.Sprintf("HTTP %d", resp.StatusCode), fmt.Sprintf("POST %s: status %s", path, resp.Status)
	}
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/events/") || !strings.HasSuffix(loc, "/submitted") {
		return false, "wrong redirect", fmt.Sprintf("POST %s: redirected to %q, want /events/{ref}/submitted", path, loc)
	}
	if readErr != nil {
		return false, "transport", readErr.Error()
	}
	return true, "", ""
}

// WriteText writes the report for people to read.
func (r *SubmitReport) WriteText(w io.Writer) error {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "  %-14s %s\n", label, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(&b, "psims bench %s (%s)\n", r.Scenario, r.Started.UTC().Format("2006-01-02 15:04:05Z"))
	line("database", "%s (this machine has %d CPUs)", r.Database, r.CPUs)
	line("duration", "%s measured per phase and concurrency, after %s of warm-up each", r.Duration, r.Warmup)
	line("drafts", "saved in %s, from %d generated events", r.SetupTime.Round(time.Millisecond), answerPool)
	line("raw row", "%d bytes: generated answers of median size, as JSON", r.RowBytes)
	writeDurable(&b, r.durableLevels(), r.Goals, r.Database, "submissions")
	_, err := io.WriteString(w, b.String())
	return err
}
