package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/bench"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/demo"
	"github.com/psims/psims/internal/password"
	usg "github.com/psims/psims/internal/usage"
)

// cmdDemo runs the demo subcommands: psims demo seed.
func cmdDemo(ctx context.Context, e env, args []string) error {
	return subcommand(ctx, e, "demo", args, map[string]func(context.Context, env, []string) error{
		"seed": cmdDemoSeed,
	})
}

const demoSeedSummary = `Adds synthetic organisations and users for demonstrations and benchmarks.
Nothing is real: ODS-shaped codes that are not already stored, names made
by combining common given and family names, and addresses at
demo.psims.invalid, which can never receive email. Every demo user has the
same new random password, printed at the end. Refuses when the database
already has users, unless --force, which adds the demo data beside them
(new organisation codes, new email numbers; nothing is replaced). With no
flags it adds 5000 organisations and 100,000 users from seed 1.

It writes in short transactions (100 users, or --events-per-tx events, to
each), so a server running on the same database keeps working during a
seed: its writers wait a few milliseconds at most, never for the whole
seed.

With --events N it then adds N synthetic patient safety events, recorded
through the recording form's rules by users of the database at random,
each in the user's organisation: descriptions made of clinical phrases
written for PSIMS (never about real people, and checked by the identifier
guard), mostly incidents, mostly without harm. With --users 0 it adds only
the events, over the users already there.

With --usage N it then adds N synthetic usage events over the last 13
months (after the last day already rolled up), by the users of the
database: sessions of a sign-in and pages of every area, now and then a
document opened, mostly on working days; and rolls them up, so usage
reports show them at once.`

// demoEventsPerTx is how many events demo seed writes to a transaction
// unless told: a few milliseconds of SQLite's write lock each.
const demoEventsPerTx = 50

func cmdDemoSeed(ctx context.Context, e env, args []string) error {
	var opts demo.Options
	var events int
	var perTx int
	var usageEvents int
	cfg, fs, err := parse(e, "demo seed", demoSeedSummary, config.AllFlags, args, func(fs *flag.FlagSet) {
		fs.IntVar(&opts.Orgs, "orgs", demo.DefaultOrgs, "organisations to add (at least 2)")
		fs.IntVar(&opts.Users, "users", demo.DefaultUsers, "users to add (at least 2; 0 with --events to add only events)")
		fs.IntVar(&events, "events", 0, "synthetic patient safety events to add, over the users of the database")
		fs.Uint64Var(&opts.Seed, "seed", demo.DefaultSeed, "the same seed makes the same organisations and people")
		fs.BoolVar(&opts.Force, "force", false, "add to a database that already has users (nothing is replaced)")
		fs.IntVar(&usageEvents, "usage", 0, "synthetic usage events to add, over the users of the database, then rolled up")
		fs.IntVar(&perTx, "events-per-tx", demoEventsPerTx, "events written in each transaction (1 to 10000): fewer keep a running server's waits short, more load faster")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("demo seed takes no arguments")
	}
	if events < 0 || usageEvents < 0 {
		return usagef("demo seed needs --events and --usage of 0 or more")
	}
	if perTx < 1 || perTx > 10000 {
		return usagef("demo seed needs --events-per-tx from 1 to 10000")
	}
	eventsOnly := opts.Users == 0 && (events > 0 || usageEvents > 0)
	if !eventsOnly && (opts.Orgs < 2 || opts.Users < 2) {
		return usagef("demo seed needs --orgs and --users of at least 2")
	}
	a, err := app.Open(ctx, cfg, app.NewLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	if !eventsOnly {
		if err := seedPeople(ctx, e, a, opts); err != nil {
			return err
		}
	}
	if events > 0 {
		start := time.Now()
		if err := bench.LoadEvents(ctx, a, events, opts.Seed, perTx, nil); err != nil {
			return userFacing(err)
		}
		if err := a.Incidents.Analyze(ctx); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Added %d events in %s.\n", events, time.Since(start).Round(time.Millisecond))
	}
	if usageEvents > 0 {
		start := time.Now()
		n, err := bench.LoadUsage(ctx, a, usageEvents, opts.Seed, true, nil)
		if err != nil {
			return userFacing(err)
		}
		loaded := time.Since(start)
		start = time.Now()
		days, err := usg.RollUp(ctx, a.DB, a.DB.Now())
		if err != nil {
			return err
		}
		if err := usg.Analyze(ctx, a.DB); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Added %d usage events in %s, and rolled up %d days in %s.\n", n, loaded.Round(time.Millisecond),
			days, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// seedPeople adds the demo organisations and users and says how to sign
// in to them.
func seedPeople(ctx context.Context, e env, a *app.App, opts demo.Options) error {
	res, err := demo.Seed(ctx, a.DB, a.Orgs, a.Accounts, a.Hasher, opts)
	if err != nil {
		return userFacing(err)
	}
	fmt.Fprintf(e.stdout, "Added %d organisations and %d users (%d read grants) in %s.\n",
		res.Orgs, res.Users, res.ReadGrants, res.Elapsed.Round(time.Millisecond))
	for _, r := range account.Roles() {
		fmt.Fprintf(e.stdout, "  %-20s %d\n", account.RoleLabel(r), res.ByRole[r])
	}
	fmt.Fprintf(e.stdout, "The biggest organisation is %s, with %d users.\n\n", res.Biggest, res.BiggestUsers)
	fmt.Fprintf(e.stdout, "Every demo user's password: %s\n", res.Password)
	fmt.Fprintf(e.stdout, "  National admin:               %s\n", res.NationalAdmin)
	fmt.Fprintf(e.stdout, "  Organisation admin of %-7s %s\n", res.Biggest+":", res.BiggestOrgAdmin)
	return nil
}

const benchAdminSummary = `Measures administration with demo data loaded (see psims demo seed), in
this process on SQLite in a temporary directory (removed afterwards), or
with --database postgres://... on that database as is, which should be an
empty scratch database or schema (for example ?search_path=benchuser).

authz:    ns/op and ops/s of authz.Decide, and of Accounts.Subject for an
          organisation admin and a read-only user; no HTTP.
userlist: GET /admin/users signed in as the admin of the biggest
          organisation and as a national admin: page 1, a middle page, a
          name search and the suspended accounts; p50/p95/p99 and
          requests/s of each (goal: p99 < 50ms), then the
          Accounts.ListUsers call under each page alone, in the same run.`

// cmdBenchAdmin runs psims bench authz and psims bench userlist. The
// dispatcher sends these scenarios here before cmdBench parses its flags.
func cmdBenchAdmin(ctx context.Context, e env, scenario string, args []string) error {
	opts := bench.AdminOptions{Scenario: scenario}
	var asJSON bool
	var cpuProfile string
	cfg, fs, err := parse(e, "bench "+scenario, benchAdminSummary, config.DatabaseFlags, args, func(fs *flag.FlagSet) {
		fs.IntVar(&opts.Orgs, "orgs", demo.DefaultOrgs, "demo organisations to load first")
		fs.IntVar(&opts.Users, "users", demo.DefaultUsers, "demo users to load first")
		fs.Uint64Var(&opts.Seed, "seed", demo.DefaultSeed, "seed of the demo data")
		fs.IntVar(&opts.Concurrency, "concurrency", runtime.NumCPU(), "concurrent workers or goroutines")
		fs.DurationVar(&opts.Duration, "duration", 3*time.Second, "measured time of each kind of request or call, in each phase")
		fs.DurationVar(&opts.Warmup, "warmup", time.Second, "time run before each measured window and not counted")
		fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a pprof CPU profile (userlist: of the page phase) to this file")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench %s takes flags only; unexpected %q", scenario, fs.Arg(0))
	}
	if opts.Concurrency < 1 || opts.Duration <= 0 || opts.Warmup < 0 {
		return usagef("bench %s needs --concurrency of at least 1, a positive --duration and a --warmup not negative", scenario)
	}
	if opts.Orgs < 2 || opts.Users < 2 {
		return usagef("bench %s needs --orgs and --users of at least 2", scenario)
	}
	opts.Database = cfg.Database
	opts.Params = password.Params{MemoryKiB: cfg.HashMemoryKiB, Time: cfg.HashTime, Threads: cfg.HashThreads}
	opts.Progress = e.stderr
	return runBench(e, cpuProfile, asJSON, func(profile io.Writer) (*bench.AdminReport, error) {
		opts.CPUProfile = profile
		r, err := bench.RunAdmin(ctx, opts)
		return &r, err
	})
}
