package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/bench"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/demo"
	"github.com/psims/psims/internal/password"
)

const benchSummary = `Measures sign-in or registration (SCENARIO is signin or register) and, in
the same run with the same concurrency and duration, this machine's raw
argon2id hashes per second, then prints requests/s, p50/p95/p99/max latency
and the two ratios: requests/s ÷ raw hashes/s (goal >= 0.90 for signin) and
p99 ÷ the time of one hash (goal < 4 for signin).

Without --target it runs PSIMS in this process on 127.0.0.1 with the real
argon2id parameters: on SQLite in a temporary directory (removed
afterwards; --data-dir is not used), or with --database postgres://... on
that database as is, which should be an empty scratch database or schema
(for example ?search_path=bench). It creates one account per worker for
signin; registrations go to addresses at example.invalid. With --mfa
(signin, in this process) the accounts have an authenticator app, and
each sign-in is the password and then a code, timed together; as a code
works once, it creates enough accounts that none is used twice in a time
step.

With --target URL it drives a running PSIMS, which needs a high
--signin-rate-limit. signin signs in to the --email account, with the
password read from standard input (--password-stdin); use at most 9
workers, as 10 attempts in flight at once trip the lockout. register CREATES
REAL ACCOUNTS on the target, at example.invalid addresses.`

func cmdBench(ctx context.Context, e env, args []string) error {
	var scenario string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		scenario, args = args[0], args[1:]
	}
	var opts bench.Options
	var passwordStdin, asJSON bool
	var cpuProfile string
	cfg, fs, err := parse(e, "bench SCENARIO", benchSummary, config.DatabaseFlags, args, func(fs *flag.FlagSet) {
		fs.IntVar(&opts.Concurrency, "concurrency", runtime.NumCPU(), "concurrent workers, and hashing goroutines")
		fs.DurationVar(&opts.Duration, "duration", 10*time.Second, "measured time of each phase")
		fs.IntVar(&opts.Rounds, "rounds", 1, "split the duration into this many alternating rounds of load and raw hashing (helps on a busy machine)")
		fs.DurationVar(&opts.Warmup, "warmup", 2*time.Second, "time run before each measured phase and not counted")
		fs.StringVar(&opts.Target, "target", "", "base URL of a running PSIMS to measure instead of one in this process")
		fs.StringVar(&opts.Email, "email", "", "signin with --target: email of the active account to sign in to")
		fs.BoolVar(&passwordStdin, "password-stdin", false, "signin with --target: read the account's password from the first line of standard input")
		fs.BoolVar(&opts.MFA, "mfa", false, "signin in this process: accounts have an authenticator app, and each sign-in gives a code at the second step")
		fs.StringVar(&opts.OrgCode, "org", "RM1", "register with --target: ODS code of an active organisation of the target")
		fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a pprof CPU profile of the load phase to this file (go tool pprof FILE)")
	})
	if err != nil {
		return err
	}
	rest := fs.Args()
	if scenario == "" && len(rest) > 0 {
		scenario, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return usagef("bench takes one SCENARIO, then flags; unexpected %q", rest[0])
	}
	if !slices.Contains(bench.Scenarios(), scenario) {
		return usagef("bench needs a SCENARIO: %s", strings.Join(bench.Scenarios(), " or "))
	}
	opts.Scenario = scenario
	if opts.Concurrency < 1 {
		return usagef("--concurrency must be at least 1")
	}
	if opts.Duration <= 0 || opts.Warmup < 0 || opts.Rounds < 1 {
		return usagef("--duration must be positive, --warmup not negative and --rounds at least 1")
	}
	// bench takes no server flags, so it always measures the production
	// argon2id cost of config.Defaults.
	opts.Params = password.Params{MemoryKiB: cfg.HashMemoryKiB, Time: cfg.HashTime, Threads: cfg.HashThreads}
	if opts.Target == "" {
		if opts.Email != "" || passwordStdin {
			return usagef("--email and --password-stdin are for --target; without it bench creates its own accounts")
		}
		opts.Database = cfg.Database
	} else {
		if !strings.HasPrefix(opts.Target, "http://") && !strings.HasPrefix(opts.Target, "https://") {
			return usagef("--target must be an http:// or https:// URL")
		}
		if scenario == bench.ScenarioSignIn {
			if opts.Email == "" || !passwordStdin {
				return usagef("bench signin --target needs --email and --password-stdin")
			}
			line, err := bufio.NewReader(e.stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("read password: %w", err)
			}
			opts.Password = strings.TrimRight(line, "\r\n")
			if opts.Password == "" {
				return usagef("no password on standard input")
			}
		}
		if scenario == bench.ScenarioRegister {
			fmt.Fprintln(e.stderr, "Warning: bench register creates real (unverified) accounts on", opts.Target)
		}
	}
	opts.Progress = e.stderr
	return runBench(e, cpuProfile, asJSON, func(profile io.Writer) (*bench.Report, error) {
		opts.CPUProfile = profile
		r, err := bench.Run(ctx, opts)
		return &r, err
	})
}

const benchGateSummary = `Measures what the terms acceptance gate adds to a signed-in request: one
Terms.Status query (goal: p99 <= 1ms). In this process on SQLite in a
temporary directory (removed afterwards), or with --database postgres://...
on that database as is, which should be an empty scratch database or schema
(for example ?search_path=benchgate), it publishes a material and a minor
new version of the terms and the privacy policy, loads --users demo users
who accepted every version, and then times, one phase after another with
--concurrency workers: SELECT 1 (the cheapest query, this machine's floor),
Terms.Status for random users, and GET /account signed in (with --rounds
N, N rounds of the three). It prints
p50/p95/p99 of each, the gate's p99 ÷ SELECT 1's p99 and the gate's share
of the page's p99.`

// cmdBenchGate runs psims bench gate. The dispatcher sends the scenario here
// before cmdBench parses its flags.
func cmdBenchGate(ctx context.Context, e env, args []string) error {
	var opts bench.GateOptions
	var asJSON bool
	cfg, fs, err := parse(e, "bench gate", benchGateSummary, config.DatabaseFlags, args, func(fs *flag.FlagSet) {
		fs.IntVar(&opts.Users, "users", bench.DefaultGateUsers, "demo users to load, each with every version accepted")
		fs.IntVar(&opts.Concurrency, "concurrency", 1, "concurrent workers or goroutines")
		fs.DurationVar(&opts.Duration, "duration", 5*time.Second, "measured time of each phase")
		fs.IntVar(&opts.Rounds, "rounds", 1, "split the duration into this many rounds of the three phases (helps on a busy machine)")
		fs.DurationVar(&opts.Warmup, "warmup", time.Second, "time run before the first round of each phase and not counted")
		fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench gate takes flags only; unexpected %q", fs.Arg(0))
	}
	if opts.Concurrency < 1 || opts.Duration <= 0 || opts.Warmup < 0 || opts.Rounds < 1 {
		return usagef("bench gate needs --concurrency and --rounds of at least 1, a positive --duration and a --warmup not negative")
	}
	if opts.Users < 2 {
		return usagef("bench gate needs --users of at least 2")
	}
	opts.Database = cfg.Database
	opts.Params = password.Params{MemoryKiB: cfg.HashMemoryKiB, Time: cfg.HashTime, Threads: cfg.HashThreads}
	opts.Progress = e.stderr
	return runBench(e, "", asJSON, func(io.Writer) (*bench.GateReport, error) {
		r, err := bench.RunGate(ctx, opts)
		return &r, err
	})
}

// report is what a bench scenario prints.
type report interface{ WriteText(io.Writer) error }

// runBench runs one scenario, writing a CPU profile of it to cpuProfile when
// that is set, and prints its report as text or, with asJSON, as JSON.
func runBench[R report](e env, cpuProfile string, asJSON bool, run func(profile io.Writer) (R, error)) error {
	var profile io.Writer
	var profileFile *os.File
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		profile, profileFile = f, f
	}
	r, err := run(profile)
	if profileFile != nil {
		if cerr := profileFile.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("bench: cpu profile: %w", cerr))
		}
	}
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("bench: write report: %w", err)
		}
		return nil
	}
	if err := r.WriteText(e.stdout); err != nil {
		return fmt.Errorf("bench: write report: %w", err)
	}
	return nil
}

const benchListSummary = `Measures the reviewer's event list with many events loaded (goal: a
filtered page under 50ms at p99 with 1,000,000 events). In this process on
SQLite in a temporary directory (removed afterwards), or with --database
postgres://... on that database as is, which should be an empty scratch
database or schema (for example ?search_path=benchlist), it loads --orgs
demo organisations and --users demo users (see psims demo seed), then
--events synthetic events, each recorded by a demo user at random in the
user's organisation (so one trust has far more than the rest), and signs
in a reviewer of the organisation with the most events.

Then, at each --concurrency, it times SELECT 1 (this machine's floor),
and for each filter (none, incidents with severe harm, one month, falls,
medications) and search (three by words, one by reference number) GET
/events signed in, and the signed-in home (GET /), each followed by the
call under the page alone. It prints p50/p95/p99 of each, the share of the page spent in
Incidents.List and the page's p99 ÷ SELECT 1's p99, and the time taken to
generate and load the events.`

// cmdBenchList runs psims bench list.
func cmdBenchList(ctx context.Context, e env, args []string) error {
	var opts bench.ListOptions
	var asJSON bool
	var cpuProfile, levels string
	cfg, fs, err := parse(e, "bench list", benchListSummary, config.DatabaseFlags, args, func(fs *flag.FlagSet) {
		fs.IntVar(&opts.Events, "events", bench.DefaultListEvents, "synthetic events to load")
		fs.IntVar(&opts.Orgs, "orgs", bench.DefaultListOrgs, "demo organisations to load first")
		fs.IntVar(&opts.Users, "users", bench.DefaultListUsers, "demo users to load first; they record the events")
		fs.Uint64Var(&opts.Seed, "seed", demo.DefaultSeed, "seed of the demo data and the events")
		fs.StringVar(&levels, "concurrency", "1,2", "comma-separated numbers of concurrent workers to measure with")
		fs.DurationVar(&opts.Duration, "duration", 3*time.Second, "measured time of each kind, at each concurrency, in each phase")
		fs.DurationVar(&opts.Warmup, "warmup", time.Second, "time run before each measured window and not counted")
		fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a pprof CPU profile of the measured phases to this file")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench list takes flags only; unexpected %q", fs.Arg(0))
	}
	if opts.Concurrency, err = parseLevels(levels); err != nil {
		return err
	}
	if opts.Duration <= 0 || opts.Warmup < 0 {
		return usagef("bench list needs a positive --duration and a --warmup not negative")
	}
	if opts.Events < 1 || opts.Orgs < 2 || opts.Users < 2 {
		return usagef("bench list needs --events of at least 1 and --orgs and --users of at least 2")
	}
	opts.Database = cfg.Database
	opts.Params = password.Params{MemoryKiB: cfg.HashMemoryKiB, Time: cfg.HashTime, Threads: cfg.HashThreads}
	opts.Progress = e.stderr
	return runBench(e, cpuProfile, asJSON, func(profile io.Writer) (*bench.ListReport, error) {
		opts.CPUProfile = profile
		r, err := bench.RunList(ctx, opts)
		return &r, err
	})
}

// parseLevels reads a comma-separated list of concurrencies, such as
// "1,2,8".
func parseLevels(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 {
			return nil, usagef("--concurrency must be whole numbers of at least 1, separated by commas, such as 1,2,8")
		}
		out = append(out, n)
	}
	return out, nil
}

const benchSubmitSummary = `Measures durable submissions a second through the real recording form
(goal on SQLite: at least 1,000 a second with p99 under 100ms). In this
process on SQLite in a temporary directory (removed afterwards), or with
--database postgres://... on that database as is, which should be an
empty scratch database or schema (for example ?search_path=benchsubmit),
it creates one reporter per worker, signs each in, and at each
--concurrency saves complete drafts of synthetic events for them
(Incidents.SaveDraft) and times the final POST /drafts/{id}/statement,
which answers once the event is durable. In the same run, with the same
workers, it times raw transactions of one INSERT of a row the size of the
answers through the same database handle: the machine's limit for durable
writes. It prints both rates and latencies and their ratios.`

const benchAPISummary = `Measures durable AdverseEvent creates a second through the FHIR API
(goal on SQLite: at least 1,500 a second with p99 under 50ms). In this
process on SQLite in a temporary directory (removed afterwards), or with
--database postgres://... on that database as is, which should be an
empty scratch database or schema (for example ?search_path=benchapi), it
creates an API key of one organisation and generates synthetic events as
resources of the national profile, then at each --concurrency times
POST /adverse-event/fhir/AdverseEvent with the key, each answered 201 once
the event is durable. In the same run, with the same workers, it times
raw transactions of one INSERT of a row the size of the median resource
through the same database handle: the machine's limit for durable
writes. It prints both rates and latencies and their ratios.`

// cmdBenchAPI runs psims bench api.
func cmdBenchAPI(ctx context.Context, e env, args []string) error {
	var opts bench.APIOptions
	var asJSON bool
	var cpuProfile, levels string
	cfg, fs, err := parse(e, "bench api", benchAPISummary, config.DatabaseFlags, args, func(fs *flag.FlagSet) {
		fs.StringVar(&levels, "concurrency", "1,2,8", "comma-separated numbers of concurrent clients to measure with")
		fs.DurationVar(&opts.Duration, "duration", 5*time.Second, "measured time of each phase at each concurrency")
		fs.DurationVar(&opts.Warmup, "warmup", time.Second, "time run before each measured window and not counted")
		fs.Uint64Var(&opts.Seed, "seed", demo.DefaultSeed, "seed of the generated events")
		fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a pprof CPU profile of the create phases to this file")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench api takes flags only; unexpected %q", fs.Arg(0))
	}
	if opts.Concurrency, err = parseLevels(levels); err != nil {
		return err
	}
	if opts.Duration <= 0 || opts.Warmup < 0 {
		return usagef("bench api needs a positive --duration and a --warmup not negative")
	}
	opts.Database = cfg.Database
	opts.Params = password.Params{MemoryKiB: cfg.HashMemoryKiB, Time: cfg.HashTime, Threads: cfg.HashThreads}
	opts.Progress = e.stderr
	return runBench(e, cpuProfile, asJSON, func(profile io.Writer) (*bench.APIReport, error) {
		opts.CPUProfile = profile
		r, err := bench.RunAPI(ctx, opts)
		return &r, err
	})
}

// cmdBenchSubmit runs psims bench submit.
func cmdBenchSubmit(ctx context.Context, e env, args []string) error {
	var opts bench.SubmitOptions
	var asJSON bool
	var cpuProfile, levels string
	cfg, fs, err := parse(e, "bench submit", benchSubmitSummary, config.DatabaseFlags, args, func(fs *flag.FlagSet) {
		fs.StringVar(&levels, "concurrency", "1,2,8", "comma-separated numbers of concurrent workers to measure with")
		fs.DurationVar(&opts.Duration, "duration", 5*time.Second, "measured time of each phase at each concurrency")
		fs.DurationVar(&opts.Warmup, "warmup", time.Second, "time run before each measured window and not counted")
		fs.IntVar(&opts.MaxRate, "max-rate", bench.DefaultSubmitMaxRate, "submissions a second to prepare drafts for")
		fs.Uint64Var(&opts.Seed, "seed", demo.DefaultSeed, "seed of the generated answers")
		fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a pprof CPU profile of the submission phases to this file")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench submit takes flags only; unexpected %q", fs.Arg(0))
	}
	if opts.Concurrency, err = parseLevels(levels); err != nil {
		return err
	}
	if opts.Duration <= 0 || opts.Warmup < 0 || opts.MaxRate < 1 {
		return usagef("bench submit needs a positive --duration and --max-rate and a --warmup not negative")
	}
	opts.Database = cfg.Database
	opts.Params = password.Params{MemoryKiB: cfg.HashMemoryKiB, Time: cfg.HashTime, Threads: cfg.HashThreads}
	opts.Progress = e.stderr
	return runBench(e, cpuProfile, asJSON, func(profile io.Writer) (*bench.SubmitReport, error) {
		opts.CPUProfile = profile
		r, err := bench.RunSubmit(ctx, opts)
		return &r, err
	})
}
