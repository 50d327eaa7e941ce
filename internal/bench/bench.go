// Package bench measures how fast PSIMS signs people in and registers them,
// and, in the same run, the limit of the machine it runs on: how many raw
// argon2id hashes per second it computes with the same parameters and
// concurrency. Password hashing is meant to dominate both operations, so the
// figures that matter are the ratios of one to the other, which compare
// across machines where absolute rates do not.
//
// Run starts PSIMS in this process (real server, real jobs, scratch
// database) or drives a running one, runs a load phase and then, one after
// the other, the raw hashing phase, and returns a Report. It is what
// `psims bench` runs.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/psims/psims/internal/password"
)

// The scenarios.
const (
	// ScenarioSignIn posts the sign-in form of an active account; success
	// is a 303 to the page named by next.
	ScenarioSignIn = "signin"
	// ScenarioRegister posts the registration form with a new address each
	// time; success is a 303 to /register/check-email.
	ScenarioRegister = "register"
)

// Scenarios lists the scenarios Run knows.
func Scenarios() []string { return []string{ScenarioSignIn, ScenarioRegister} }

// defaultSingles is how many sequential hashes the single-hash median is
// taken from (odd, so the median is one of them).
const defaultSingles = 21

// Options say what to measure and how.
type Options struct {
	Scenario    string        // ScenarioSignIn or ScenarioRegister
	Concurrency int           // workers, and hashing goroutines; runtime.NumCPU() when <= 0
	Duration    time.Duration // the measured window of each phase
	Warmup      time.Duration // run before each measured window and not counted

	// Params are the argon2id parameters of the raw hash measurement and
	// of the in-process site. With Target they should be those of the
	// target.
	Params password.Params

	// Target is the base URL of a running PSIMS to drive; empty starts
	// one in this process.
	Target string
	// Email and Password are the account signed in to by the sign-in
	// scenario with Target. Every worker uses it.
	Email, Password string
	// OrgCode is the ODS code the register scenario registers with when
	// Target is set; in-process it is always RM1, which Run imports.
	OrgCode string

	// Database is the in-process site's database: "" for SQLite in a new
	// temporary directory, or a postgres:// URL, used as is, so it should
	// name an empty scratch database or schema.
	Database string

	// Singles is how many sequential hashes the single-hash time is the
	// median of; 21 when <= 0.
	Singles int

	// Progress, when not nil, receives a line as each phase starts.
	Progress io.Writer
}

// Run measures the scenario as opts say: the load phase, then the raw
// hashing phase, and returns the report.
func Run(ctx context.Context, opts Options) (Report, error) {
	if !slices.Contains(Scenarios(), opts.Scenario) {
		return Report{}, fmt.Errorf("bench: unknown scenario %q; want one of %s", opts.Scenario, strings.Join(Scenarios(), ", "))
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = runtime.NumCPU()
	}
	if opts.Duration <= 0 {
		return Report{}, errors.New("bench: duration must be positive")
	}
	if opts.Warmup < 0 {
		return Report{}, errors.New("bench: warm-up must not be negative")
	}
	if opts.Singles <= 0 {
		opts.Singles = defaultSingles
	}
	if opts.Target != "" && opts.Scenario == ScenarioSignIn && (opts.Email == "" || opts.Password == "") {
		return Report{}, errors.New("bench: signin against a target needs the email and password of an active account")
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	// NewHasher raises zero params to their minimum; the report shows the
	// params actually used.
	hasher := password.NewHasher(opts.Params, opts.Concurrency)
	params := hasher.Params()
	r := Report{
		Scenario: opts.Scenario, Target: opts.Target, Database: "remote",
		Concurrency: opts.Concurrency, CPUs: runtime.NumCPU(), Started: time.Now(),
		Warmup: opts.Warmup, Duration: opts.Duration,
		HashMemoryKiB: params.MemoryKiB, HashTime: params.Time, HashThreads: params.Threads,
	}

	load, err := runScenario(ctx, opts, params, &r, progress)
	if err != nil {
		return Report{}, err
	}
	fmt.Fprintf(progress, "Measuring raw argon2id hashes: %d goroutines for %s after %s of warm-up...\n", opts.Concurrency, opts.Duration, opts.Warmup)
	hash, err := measureHashes(ctx, hasher, opts.Concurrency, opts.Warmup, opts.Duration, opts.Singles)
	if err != nil {
		return Report{}, err
	}
	r.Fill(load, hash)
	return r, nil
}

// runScenario runs the load phase against the target, or against a site it
// starts and stops again before returning, so that the hashing phase
// after it has the machine to itself.
func runScenario(ctx context.Context, opts Options, params password.Params, r *Report, progress io.Writer) (_ LoadResult, err error) {
	runID := newRunID()
	base := strings.TrimRight(opts.Target, "/")
	var accounts []credentials
	if base == "" {
		n := 0
		if opts.Scenario == ScenarioSignIn {
			n = opts.Concurrency
		}
		fmt.Fprintf(progress, "Starting PSIMS in this process and creating %d accounts...\n", n)
		s, err := startSite(ctx, opts.Database, params, n, runID)
		if err != nil {
			return LoadResult{}, err
		}
		defer func() {
			if cerr := s.Close(); cerr != nil {
				err = errors.Join(err, fmt.Errorf("bench: stop site: %w", cerr))
			}
		}()
		base, accounts, r.Database = s.URL, s.Accounts, s.Engine
		opts.OrgCode = siteOrgCode
	}
	if opts.OrgCode == "" {
		opts.OrgCode = siteOrgCode
	}

	workers := make([]worker, opts.Concurrency)
	clients := make([]*http.Client, 0, opts.Concurrency)
	defer func() {
		for _, c := range clients {
			c.CloseIdleConnections()
		}
	}()
	for i := range workers {
		c := newClient()
		clients = append(clients, c)
		switch opts.Scenario {
		case ScenarioSignIn:
			creds := credentials{Email: opts.Email, Password: opts.Password}
			if accounts != nil {
				creds = accounts[i]
			}
			workers[i] = &signInWorker{client: c, base: base, creds: creds}
		case ScenarioRegister:
			workers[i] = &registerWorker{client: c, base: base, orgCode: opts.OrgCode,
				prefix: fmt.Sprintf("bench-%s-register-%d", runID, i)}
		}
	}
	fmt.Fprintf(progress, "Running %s: %d workers for %s after %s of warm-up against %s...\n",
		opts.Scenario, opts.Concurrency, opts.Duration, opts.Warmup, base)
	return runLoad(ctx, workers, opts.Warmup, opts.Duration)
}

// newRunID returns a short random name that keeps the addresses of this
// run apart from those of any other.
func newRunID() string {
	var b [4]byte
	rand.Read(b[:]) // never fails; see crypto/rand
	return hex.EncodeToString(b[:])
}
