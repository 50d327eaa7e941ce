package main

import (
	"context"
	"flag"
	"io"
	"time"

	"github.com/psims/psims/internal/bench"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/password"
)

const benchUsageSummary = `Measures what recording usage adds to a signed-in request (goal: less
than 0.2 ms at p99). In this process on SQLite in a temporary directory
(removed afterwards), or with --database postgres://... on that database as
is, which should be an empty scratch database or schema (for example
?search_path=benchusage), it serves the same application twice: the real
server, which records every signed-in request as a usage event, and a
second server made from the same parts without the recorder. At each
--concurrency, every worker signs in once and then asks for GET /account
from one server and then the other, alternately, so both are measured at
the same moments. It prints p50/p95/p99 of each, what recording adds at
p50 and p99, and that difference as a share of the page's own p99.`

// cmdBenchUsage runs psims bench usage.
func cmdBenchUsage(ctx context.Context, e env, args []string) error {
	var opts bench.UsageOptions
	var asJSON bool
	var levels string
	cfg, fs, err := parse(e, "bench usage", benchUsageSummary, config.DatabaseFlags, args, func(fs *flag.FlagSet) {
		fs.StringVar(&levels, "concurrency", "1,2", "comma-separated numbers of concurrent workers to measure with")
		fs.DurationVar(&opts.Duration, "duration", 10*time.Second, "measured time at each concurrency")
		fs.DurationVar(&opts.Warmup, "warmup", 2*time.Second, "time run before each measured window and not counted")
		fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench usage takes flags only; unexpected %q", fs.Arg(0))
	}
	if opts.Concurrency, err = parseLevels(levels); err != nil {
		return err
	}
	if opts.Duration <= 0 || opts.Warmup < 0 {
		return usagef("bench usage needs a positive --duration and a --warmup not negative")
	}
	opts.Database = cfg.Database
	opts.Params = password.Params{MemoryKiB: cfg.HashMemoryKiB, Time: cfg.HashTime, Threads: cfg.HashThreads}
	opts.Progress = e.stderr
	return runBench(e, "", asJSON, func(io.Writer) (*bench.UsageBench, error) {
		r, err := bench.RunUsage(ctx, opts)
		return &r, err
	})
}
