package main

import (
	"context"
	"flag"
	"io"

	"github.com/psims/psims/internal/bench"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/password"
)

const benchLifecycleSummary = `Measures the dormancy sweep (issue 14; goal: under 30 s a sweep with
1,000,000 users). In this process on SQLite in a temporary directory
(removed afterwards), or with --database postgres://... on that database as
is, which should be an empty scratch database or schema, it loads --users
active users through the account bulk loader, with last sign-ins spread as
in a service that has run for years (most in the last quarter, 15% idle
for one to three years), then times the first dormancy sweep (which warns
everyone past --dormancy-warn-after: a warning email, a one-time link and
an audit entry each) and the next day's. Beside each, in the same run, it
times a plain read of the same rows through the same indexes; the ratio of
the two rates is the figure to compare across machines.`

// cmdBenchLifecycle runs psims bench lifecycle.
func cmdBenchLifecycle(ctx context.Context, e env, args []string) error {
	opts := bench.LifecycleOptions{Users: bench.DefaultLifecycleUsers, Seed: 14}
	var asJSON bool
	var cpuProfile string
	cfg, fs, err := parse(e, "bench lifecycle", benchLifecycleSummary, config.DatabaseFlags, args, func(fs *flag.FlagSet) {
		fs.IntVar(&opts.Users, "users", opts.Users, "users to load")
		fs.Uint64Var(&opts.Seed, "seed", opts.Seed, "seed of the last-activity spread")
		fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
		fs.StringVar(&cpuProfile, "cpu-profile", "", "write a CPU profile of the first sweep to this file")
		fs.IntVar(&opts.Limit, "limit", 0, "accounts one sweep warns, deactivates or deletes at most, of each (--dormancy-sweep-limit); 0 keeps its default")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench lifecycle takes flags only; unexpected %q", fs.Arg(0))
	}
	if opts.Users < 10 {
		return usagef("bench lifecycle needs --users of at least 10")
	}
	opts.Database = cfg.Database
	opts.Params = password.Params{MemoryKiB: cfg.HashMemoryKiB, Time: cfg.HashTime, Threads: cfg.HashThreads}
	opts.Progress = e.stderr
	return runBench(e, cpuProfile, asJSON, func(profile io.Writer) (*bench.LifecycleResult, error) {
		opts.CPUProfile = profile
		r, err := bench.RunLifecycle(ctx, opts)
		return &r, err
	})
}
