// Package bench measures how fast PSIMS signs people in and registers them,
// and, in the same run, the limit of the machine it runs on: how many raw
// argon2id hashes per second it computes with the same parameters and
// concurrency. Password hashing is meant to dominate both operations, so the
// figures that matter are the ratios of one to the other, which compare
// across machines where absolute rates do not.
//
// Run starts PSIMS in this process (real server, real jobs, scratch
// database) or drives a running one, runs a load phase and then, one after
// the other, never together, the raw hashing phase (optionally in several
// alternating rounds), and returns a Report. It is what `psims bench` runs.
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
	"runtime/pprof"
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
	// MFA signs in to accounts with an authenticator app, giving a code
	// at the second step (in this process only).
	MFA bool
	// OrgCode is the ODS code the register scenario registers with when
	// Target is set; in-process it is always RM1, which Run imports.
	OrgCode string

	// Database is the in-process site's database: "" for SQLite in a new
	// temporary directory, or a postgres:// URL, used as is, so it should
	// name an empty scratch database or schema.
	Database string

	// Rounds splits Duration into this many rounds of load followed by
	// raw hashing (1 when <= 0), so that a machine whose other work comes
	// and goes weighs on both measurements alike. Warmup runs before the
	// first round only.
	Rounds int

	// Singles is how many sequential hashes the single-hash time is the
	// median of; 21 when <= 0.
	Singles int

	// Progress, when not nil, receives a line as each phase starts.
	Progress io.Writer

	// CPUProfile, when not nil, receives a pprof CPU profile of this
	// process during the load phase of the first round (the in-process
	// server and the workers), for finding where time goes besides
	// hashing.
	CPUProfile io.Writer
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
	if opts.Rounds <= 0 {
		opts.Rounds = 1
	}
	if opts.Duration/time.Duration(opts.Rounds) < time.Millisecond {
		return Report{}, errors.New("bench: each round needs at least a millisecond")
	}
	if opts.MFA && (opts.Target != "" || opts.Scenario != ScenarioSignIn) {
		return Report{}, errors.New("bench: --mfa is for signin in this process, without a target")
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
		Scenario: opts.Scenario, MFA: opts.MFA, Target: opts.Target, Database: "remote",
		Concurrency: opts.Concurrency, CPUs: runtime.NumCPU(), Started: time.Now(),
		Warmup: opts.Warmup, Duration: opts.Duration, Rounds: opts.Rounds,
		HashMemoryKiB: params.MemoryKiB, HashTime: params.Time, HashThreads: params.Threads,
	}

	rep, err := measure(ctx, opts, hasher, r, progress)
	if err != nil {
		return Report{}, err
	}
	return rep, nil
}

// measure sets up the target (starting a site in this process when there
// is none, and stopping it again before returning), prepares the workers,
// runs the rounds of load and raw hashing, times single hashes, and fills r.
func measure(ctx context.Context, opts Options, hasher *password.Hasher, r Report, progress io.Writer) (_ Report, err error) {
	runID := newRunID()
	base := strings.TrimRight(opts.Target, "/")
	var accounts []credentials
	if base == "" {
		n := 0
		if opts.Scenario == ScenarioSignIn {
			n = opts.Concurrency
		}
		if opts.Scenario == ScenarioSignIn && opts.MFA {
			n = opts.Concurrency * mfaAccountsPerWorker(ctx, hasher, opts)
		}
		fmt.Fprintf(progress, "Starting PSIMS in this process and creating %d accounts...\n", n)
		s, err := startSite(ctx, opts.Database, hasher.Params(), n, opts.MFA, runID)
		if err != nil {
			return Report{}, err
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
			if opts.MFA {
				per := len(accounts) / opts.Concurrency
				workers[i] = &twoStepWorker{client: c, base: base, accounts: accounts[i*per : (i+1)*per]}
			} else {
				workers[i] = &signInWorker{client: c, base: base, creds: creds}
			}
		case ScenarioRegister:
			workers[i] = &registerWorker{client: c, base: base, orgCode: opts.OrgCode,
				prefix: fmt.Sprintf("bench-%s-register-%d", runID, i)}
		}
		if err := workers[i].prepare(ctx); err != nil {
			return Report{}, err
		}
	}

	window := opts.Duration / time.Duration(opts.Rounds)
	load := LoadResult{Errors: map[string]int{}}
	var hash HashResult
	for round := range opts.Rounds {
		warmup := time.Duration(0)
		if round == 0 {
			warmup = opts.Warmup
		}
		fmt.Fprintf(progress, "Round %d of %d: %s with %d workers for %s after %s of warm-up against %s...\n",
			round+1, opts.Rounds, opts.Scenario, opts.Concurrency, window, warmup, base)
		if round == 0 && opts.CPUProfile != nil {
			if err := pprof.StartCPUProfile(opts.CPUProfile); err != nil {
				return Report{}, fmt.Errorf("bench: cpu profile: %w", err)
			}
		}
		l, err := runLoad(ctx, workers, warmup, window)
		if round == 0 && opts.CPUProfile != nil {
			pprof.StopCPUProfile()
		}
		if err != nil {
			return Report{}, err
		}
		load.add(l)
		fmt.Fprintf(progress, "Round %d of %d: raw argon2id hashes with %d goroutines for %s after %s of warm-up...\n",
			round+1, opts.Rounds, opts.Concurrency, window, warmup)
		h, err := measureHashRate(ctx, hasher, opts.Concurrency, warmup, window)
		if err != nil {
			return Report{}, err
		}
		hash.Hashes += h.Hashes
		hash.Window += h.Window
	}
	fmt.Fprintf(progress, "Timing %d single hashes...\n", opts.Singles)
	if hash.Single, err = measureSingleHash(ctx, hasher, opts.Singles); err != nil {
		return Report{}, err
	}
	r.Fill(load, hash)
	return r, nil
}

// newRunID returns a short random name that keeps the addresses of this
// run apart from those of any other.
func newRunID() string {
	var b [4]byte
	rand.Read(b[:]) // never fails; see crypto/rand
	return hex.EncodeToString(b[:])
}
