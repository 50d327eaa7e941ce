package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/demo"
	"github.com/psims/psims/internal/password"
)

// This file is the administration scenarios, measured with demo data
// loaded (internal/demo): the cost of the authorisation check, and the
// user list page of an organisation admin and of a national admin, against
// the SQL query under it measured alone in the same run.

// The administration scenarios.
const (
	// ScenarioAuthz times authz.Decide and Accounts.Subject in this
	// process, without HTTP.
	ScenarioAuthz = "authz"
	// ScenarioUserList times GET /admin/users pages, signed in as an
	// organisation admin and as a national admin, and the
	// Accounts.ListUsers call under each page alone.
	ScenarioUserList = "userlist"
)

// AdminScenarios lists the scenarios RunAdmin knows.
func AdminScenarios() []string { return []string{ScenarioAuthz, ScenarioUserList} }

// GoalUserListP99 is the goal of the user list: p99 under 50 ms with
// 100,000 users and 5,000 organisations loaded.
const GoalUserListP99 = 50 * time.Millisecond

// AdminOptions say what to measure and how.
type AdminOptions struct {
	Scenario string // ScenarioAuthz or ScenarioUserList
	// Database is the in-process site's database: "" for SQLite in a new
	// temporary directory, or a postgres:// URL of an empty scratch
	// database or schema, used as is.
	Database string
	// Orgs, Users and Seed are the demo data loaded first (demo.Options).
	Orgs, Users int
	Seed        uint64
	Concurrency int           // workers; runtime.NumCPU() when <= 0
	Duration    time.Duration // measured time of each kind of request or call, in each phase
	Warmup      time.Duration // run before each measured window and not counted
	// Params are the argon2id parameters of the site: the admins sign in
	// once per worker, untimed, and the demo password is hashed once.
	Params   password.Params
	Progress io.Writer // receives a line as each phase starts; nil for none
	// CPUProfile, when not nil, receives a pprof CPU profile of the page
	// phase of userlist, or of the whole of authz.
	CPUProfile io.Writer
}

// OpResult is the cost of one in-process call.
type OpResult struct {
	Name      string  `json:"name"`
	Ops       int     `json:"ops"`       // calls completed in the measured window, by every goroutine
	NsPerOp   float64 `json:"ns_per_op"` // time of one call on one goroutine
	OpsPerSec float64 `json:"ops_per_sec"`
}

// KindResult is one kind of user list request: the page over HTTP, and the
// Accounts.ListUsers call under it alone.
type KindResult struct {
	Name           string  `json:"name"`
	Path           string  `json:"path"`
	Requests       int     `json:"requests"`
	Errors         int     `json:"errors"`
	FirstError     string  `json:"first_error,omitempty"`
	RequestsPerSec float64 `json:"requests_per_sec"`
	Latency        Latency `json:"latency"`
	SQLCalls       int     `json:"sql_calls"`
	SQLPerSec      float64 `json:"sql_calls_per_sec"`
	SQL            Latency `json:"sql_latency"`
	// SQLShare is the p50 of the query alone ÷ the p50 of the page: how
	// much of the page is the query.
	SQLShare float64 `json:"sql_share"`
	Met      bool    `json:"met"` // p99 under GoalUserListP99, and no errors
}

// AdminReport is the outcome of one run of an administration scenario.
type AdminReport struct {
	Scenario     string        `json:"scenario"`
	Database     string        `json:"database"`
	Concurrency  int           `json:"concurrency"`
	CPUs         int           `json:"cpus"`
	Started      time.Time     `json:"started"`
	Warmup       time.Duration `json:"warmup_ns"`
	Duration     time.Duration `json:"duration_ns"` // per kind, per phase
	Orgs         int           `json:"orgs"`
	Users        int           `json:"users"`
	Biggest      string        `json:"biggest_org"`
	BiggestUsers int           `json:"biggest_org_users"`
	SeedTime     time.Duration `json:"seed_ns"`
	Ops          []OpResult    `json:"ops,omitempty"`
	Kinds        []KindResult  `json:"kinds,omitempty"`
	Goals        []Goal        `json:"goals"`
}

// Met reports whether every goal was met (true when there are none).
func (r *AdminReport) Met() bool {
	for _, g := range r.Goals {
		if !g.Met {
			return false
		}
	}
	return true
}

// RunAdmin starts PSIMS in this process on a scratch database, loads the
// demo data and measures the scenario.
func RunAdmin(ctx context.Context, opts AdminOptions) (_ AdminReport, err error) {
	if !slices.Contains(AdminScenarios(), opts.Scenario) {
		return AdminReport{}, fmt.Errorf("bench: unknown scenario %q; want one of %s", opts.Scenario, strings.Join(AdminScenarios(), ", "))
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = runtime.NumCPU()
	}
	if opts.Duration <= 0 || opts.Warmup < 0 {
		return AdminReport{}, errors.New("bench: duration must be positive and warm-up not negative")
	}
	if opts.Orgs < 2 || opts.Users < 2 {
		return AdminReport{}, errors.New("bench: the demo data needs at least 2 organisations and 2 users")
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	r := AdminReport{Scenario: opts.Scenario, Concurrency: opts.Concurrency, CPUs: runtime.NumCPU(), Started: time.Now(),
		Warmup: opts.Warmup, Duration: opts.Duration, Goals: []Goal{}}

	fmt.Fprintf(progress, "Starting PSIMS in this process and loading %d organisations and %d demo users...\n", opts.Orgs, opts.Users)
	var seeded demo.Result
	s, err := startApp(ctx, opts.Database, opts.Params, func(ctx context.Context, a *app.App, _ *site) error {
		res, err := demo.Seed(ctx, a.DB, a.Orgs, a.Accounts, a.Hasher, demo.Options{Orgs: opts.Orgs, Users: opts.Users, Seed: opts.Seed})
		if err != nil {
			return fmt.Errorf("bench: demo data: %w", err)
		}
		seeded = res
		// The demo users have accepted nothing, and the acceptance gate
		// would send the admins to the review page.
		if _, _, err := acceptEverything(ctx, a); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return AdminReport{}, err
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("bench: stop site: %w", cerr))
		}
	}()
	r.Database = s.Engine
	r.Orgs, r.Users, r.Biggest, r.BiggestUsers, r.SeedTime = seeded.Orgs, seeded.Users, seeded.Biggest, seeded.BiggestUsers, seeded.Elapsed
	fmt.Fprintf(progress, "Loaded in %s; the biggest organisation, %s, has %d users.\n", seeded.Elapsed.Round(time.Millisecond), seeded.Biggest, seeded.BiggestUsers)

	switch opts.Scenario {
	case ScenarioAuthz:
		err = measureAuthz(ctx, opts, s.App, seeded, &r, progress)
	case ScenarioUserList:
		err = measureUserList(ctx, opts, s, seeded, &r, progress)
	}
	if err != nil {
		return AdminReport{}, err
	}
	return r, nil
}

// measureAuthz times the policy and the building of its subject for an
// organisation admin and a read-only user.
func measureAuthz(ctx context.Context, opts AdminOptions, a *app.App, seeded demo.Result, r *AdminReport, progress io.Writer) error {
	orgAdmin, err := a.Accounts.UserByEmail(ctx, seeded.BiggestOrgAdmin)
	if err != nil {
		return fmt.Errorf("bench: org admin: %w", err)
	}
	readers, err := a.Accounts.ListUsers(ctx, account.UserFilter{Role: account.RoleReadOnly, Status: account.StatusActive, PerPage: 1})
	if err != nil {
		return fmt.Errorf("bench: read-only user: %w", err)
	}
	if len(readers.Users) == 0 {
		return errors.New("bench: the demo data has no active read-only user; load more users")
	}
	reader := readers.Users[0]
	adminSub, err := a.Accounts.Subject(ctx, orgAdmin)
	if err != nil {
		return fmt.Errorf("bench: subject: %w", err)
	}
	readerSub, err := a.Accounts.Subject(ctx, reader)
	if err != nil {
		return fmt.Errorf("bench: subject: %w", err)
	}
	granted := ""
	if len(readerSub.ReadOrgs) > 0 {
		granted = readerSub.ReadOrgs[0]
	}
	ops := []struct {
		name  string
		batch int // calls between looks at the clock
		call  func(ctx context.Context) error
	}{
		{"authz.Decide: org admin lists own users", 1000, func(context.Context) error {
			if !authz.Decide(adminSub, authz.ListUsers, authz.Object{Org: adminSub.Org}).Allowed {
				return errors.New("bench: the org admin was refused their own user list")
			}
			return nil
		}},
		{"authz.Decide: read-only reads a granted org", 1000, func(context.Context) error {
			authz.Decide(readerSub, authz.ViewOrgRecords, authz.Object{Org: granted})
			return nil
		}},
		{"Accounts.Subject: org admin", 100, func(ctx context.Context) error {
			_, err := a.Accounts.Subject(ctx, orgAdmin)
			return err
		}},
		{"Accounts.Subject: read-only (reads grants)", 1, func(ctx context.Context) error {
			_, err := a.Accounts.Subject(ctx, reader)
			return err
		}},
	}
	if opts.CPUProfile != nil {
		if err := pprof.StartCPUProfile(opts.CPUProfile); err != nil {
			return fmt.Errorf("bench: cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	for _, op := range ops {
		fmt.Fprintf(progress, "%s with %d goroutines for %s after %s of warm-up...\n", op.name, opts.Concurrency, opts.Duration, opts.Warmup)
		n, err := countCalls(ctx, opts.Concurrency, op.batch, opts.Warmup, opts.Duration, op.call)
		if err != nil {
			return err
		}
		res := OpResult{Name: op.name, Ops: n, OpsPerSec: perSecond(n, opts.Duration)}
		if n > 0 {
			res.NsPerOp = float64(opts.Duration.Nanoseconds()) * float64(opts.Concurrency) / float64(n)
		}
		r.Ops = append(r.Ops, res)
	}
	return nil
}

// countCalls calls fn from concurrency goroutines for warmup plus duration
// and returns how many calls completed inside the measured window. The
// clock is read every batch calls, so that reading it does not weigh on
// calls much cheaper than it; a batch counts when it ends in the window.
func countCalls(ctx context.Context, concurrency, batch int, warmup, duration time.Duration, fn func(context.Context) error) (int, error) {
	start := time.Now()
	from, until := start.Add(warmup), start.Add(warmup+duration)
	counts := make([]int, concurrency)
	errs := make([]error, concurrency)
	var wg sync.WaitGroup
	for i := range concurrency {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(until) {
				for range batch {
					if err := fn(ctx); err != nil {
						errs[i] = err
						return
					}
				}
				if t := time.Now(); !t.Before(from) && !t.After(until) {
					counts[i] += batch
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("bench: interrupted: %w", err)
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	return total, nil
}

// listKind is one kind of user list request.
type listKind struct {
	name   string
	admin  int // 0: the organisation admin, 1: the national admin
	path   string
	filter account.UserFilter
}

// userListKinds are the requests measured: for each admin, the first page,
// a page half way through, a search for a common family name, and the
// suspended accounts.
func userListKinds(seeded demo.Result) []listKind {
	perPage := account.DefaultPerPage
	orgMiddle := max(1, (seeded.BiggestUsers+perPage-1)/perPage/2)
	allMiddle := max(1, (seeded.Users+perPage-1)/perPage/2)
	org := seeded.Biggest
	return []listKind{
		{"org admin: page 1", 0, "/admin/users", account.UserFilter{Org: org}},
		{fmt.Sprintf("org admin: page %d", orgMiddle), 0, "/admin/users?page=" + strconv.Itoa(orgMiddle), account.UserFilter{Org: org, Page: orgMiddle}},
		{"org admin: search smith", 0, "/admin/users?q=smith", account.UserFilter{Org: org, Query: "smith"}},
		{"org admin: suspended", 0, "/admin/users?status=suspended", account.UserFilter{Org: org, Status: account.StatusSuspended}},
		{"national admin: page 1", 1, "/admin/users", account.UserFilter{}},
		{fmt.Sprintf("national admin: page %d", allMiddle), 1, "/admin/users?page=" + strconv.Itoa(allMiddle), account.UserFilter{Page: allMiddle}},
		{"national admin: search smith", 1, "/admin/users?q=smith", account.UserFilter{Query: "smith"}},
		{"national admin: suspended", 1, "/admin/users?status=suspended", account.UserFilter{Status: account.StatusSuspended}},
	}
}

// measureUserList signs the admins in (once per worker, untimed), then
// times each kind of page, then each kind's Accounts.ListUsers alone.
func measureUserList(ctx context.Context, opts AdminOptions, s *site, seeded demo.Result, r *AdminReport, progress io.Writer) error {
	admins := []string{seeded.BiggestOrgAdmin, seeded.NationalAdmin}
	clients := make([][]*http.Client, len(admins))
	defer func() {
		for _, cs := range clients {
			for _, c := range cs {
				c.CloseIdleConnections()
			}
		}
	}()
	fmt.Fprintf(progress, "Signing in %d workers as %s and as %s...\n", opts.Concurrency, admins[0], admins[1])
	for i, email := range admins {
		for range opts.Concurrency {
			c, err := signedInClient(ctx, s.URL, email, seeded.Password)
			if err != nil {
				return err
			}
			clients[i] = append(clients[i], c)
		}
	}

	kinds := userListKinds(seeded)
	if opts.CPUProfile != nil {
		if err := pprof.StartCPUProfile(opts.CPUProfile); err != nil {
			return fmt.Errorf("bench: cpu profile: %w", err)
		}
	}
	for _, k := range kinds {
		fmt.Fprintf(progress, "GET %s as %s with %d workers for %s after %s of warm-up...\n", k.path, admins[k.admin], opts.Concurrency, opts.Duration, opts.Warmup)
		workers := make([]worker, opts.Concurrency)
		for i := range workers {
			workers[i] = &pageWorker{client: clients[k.admin][i], url: s.URL + k.path, want: " found</h2>"}
		}
		l, err := runLoad(ctx, workers, opts.Warmup, opts.Duration)
		if err != nil {
			if opts.CPUProfile != nil {
				pprof.StopCPUProfile()
			}
			return err
		}
		res := KindResult{Name: k.name, Path: k.path, Requests: len(l.Samples), FirstError: l.FirstError,
			RequestsPerSec: perSecond(len(l.Samples), l.Window), Latency: Summarize(l.Samples)}
		for _, n := range l.Errors {
			res.Errors += n
		}
		r.Kinds = append(r.Kinds, res)
	}
	if opts.CPUProfile != nil {
		pprof.StopCPUProfile()
	}

	for i, k := range kinds {
		fmt.Fprintf(progress, "Accounts.ListUsers for %q with %d goroutines for %s after %s of warm-up...\n", k.name, opts.Concurrency, opts.Duration, opts.Warmup)
		workers := make([]worker, opts.Concurrency)
		for j := range workers {
			workers[j] = callWorker{call: func(ctx context.Context) error {
				_, err := s.App.Accounts.ListUsers(ctx, k.filter)
				return err
			}}
		}
		l, err := runLoad(ctx, workers, opts.Warmup, opts.Duration)
		if err != nil {
			return err
		}
		if len(l.Errors) > 0 {
			return fmt.Errorf("bench: Accounts.ListUsers for %q: %s", k.name, l.FirstError)
		}
		kr := &r.Kinds[i]
		kr.SQLCalls, kr.SQLPerSec, kr.SQL = len(l.Samples), perSecond(len(l.Samples), l.Window), Summarize(l.Samples)
		if kr.Latency.P50 > 0 {
			kr.SQLShare = float64(kr.SQL.P50) / float64(kr.Latency.P50)
		}
		kr.Met = kr.Requests > 0 && kr.Errors == 0 && kr.Latency.P99 < GoalUserListP99
		r.Goals = append(r.Goals, Goal{Name: "p99 " + k.name, Value: float64(kr.Latency.P99) / float64(time.Millisecond),
			Want: fmt.Sprintf("< %d ms", GoalUserListP99/time.Millisecond), Met: kr.Met})
	}
	return nil
}

// signedInClient returns a client of its own (cookie jar, kept-alive
// connection, redirects not followed) signed in as email.
func signedInClient(ctx context.Context, base, email, password string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil) // never fails without options
	c := &http.Client{
		Jar:     jar,
		Timeout: requestTimeout,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: 1,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	token, err := fetchToken(ctx, c, base, "/sign-in")
	if err != nil {
		return nil, err
	}
	form := url.Values{"email": {email}, "password": {password}, "next": {"/admin/users"}, "csrf_token": {token}}
	if ok, _, detail := postForm(ctx, c, base, "/sign-in", form, "/admin/users"); !ok {
		return nil, fmt.Errorf("bench: sign in as %s: %s", email, detail)
	}
	return c, nil
}

// pageWorker GETs one page again and again with a signed-in client. It
// needs no preparing: the client is signed in already. A success is a 200
// whose body contains want.
type pageWorker struct {
	client *http.Client
	url    string
	want   string
	status int // the status the page answers with; 0 means 200
}

func (w *pageWorker) prepare(context.Context) error { return nil }

func (w *pageWorker) post(ctx context.Context) (bool, string, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.url, nil)
	if err != nil {
		return false, "request", err.Error()
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return false, "transport", err.Error()
	}
	body, readErr := io.ReadAll(resp.Body)
	resp.Body.Close()
	if readErr != nil {
		return false, "transport", readErr.Error()
	}
	if want := cmp.Or(w.status, http.StatusOK); resp.StatusCode != want {
		return false, fmt.Sprintf("HTTP %d", resp.StatusCode), fmt.Sprintf("GET %s: status %s", w.url, resp.Status)
	}
	if !strings.Contains(string(body), w.want) {
		return false, "wrong page", fmt.Sprintf("GET %s: the page does not contain %q", w.url, w.want)
	}
	return true, "", ""
}

// callWorker times a call in this process instead of a request.
type callWorker struct {
	call func(context.Context) error
}

func (w callWorker) prepare(context.Context) error { return nil }

func (w callWorker) post(ctx context.Context) (bool, string, string) {
	if err := w.call(ctx); err != nil {
		return false, "error", err.Error()
	}
	return true, "", ""
}

// WriteText writes the report for people to read.
func (r *AdminReport) WriteText(w io.Writer) error {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "  %-14s %s\n", label, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(&b, "psims bench %s (%s)\n", r.Scenario, r.Started.UTC().Format("2006-01-02 15:04:05Z"))
	line("database", "%s", r.Database)
	line("demo data", "%d organisations, %d users, loaded in %s; the biggest organisation, %s, has %d users",
		r.Orgs, r.Users, r.SeedTime.Round(time.Millisecond), r.Biggest, r.BiggestUsers)
	line("concurrency", "%d (this machine has %d CPUs)", r.Concurrency, r.CPUs)
	line("duration", "%s measured per kind and phase, after %s of warm-up each", r.Duration, r.Warmup)
	for _, op := range r.Ops {
		fmt.Fprintf(&b, "  %-46s %10.0f ns/op  %12.0f ops/s\n", op.Name, op.NsPerOp, op.OpsPerSec)
	}
	if len(r.Kinds) > 0 {
		fmt.Fprintf(&b, "  %-30s %8s %7s %8s %8s %8s %8s | %8s %8s %8s %6s  %s\n",
			"page (GET /admin/users...)", "requests", "errors", "req/s", "p50", "p95", "p99", "sql p50", "sql p99", "sql/s", "sql%", "goal p99 < 50ms")
		for _, k := range r.Kinds {
			verdict := "MISS"
			if k.Met {
				verdict = "PASS"
			}
			fmt.Fprintf(&b, "  %-30s %8d %7d %8.1f %8s %8s %8s | %8s %8s %8.1f %5.0f%%  %s\n",
				k.Name, k.Requests, k.Errors, k.RequestsPerSec, ms(k.Latency.P50), ms(k.Latency.P95), ms(k.Latency.P99),
				ms(k.SQL.P50), ms(k.SQL.P99), k.SQLPerSec, 100*k.SQLShare, verdict)
			if k.FirstError != "" {
				fmt.Fprintf(&b, "    first error: %s\n", k.FirstError)
			}
		}
		verdict := "MISS"
		if r.Met() {
			verdict = "PASS"
		}
		line("goal", "user list p99 < %s on every kind: %s", GoalUserListP99, verdict)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
