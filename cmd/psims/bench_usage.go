package main

import (
	"context"
	"flag"
	"io"
	"time"

	"github.com/psims/psims/internal/bench"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/demo"
	"github.com/psims/psims/internal/password"
)

const benchUsageSummary = `Measures usage monitoring (issue 12) in two parts, each in this process on
SQLite in a temporary directory (removed afterwards), or with --database
postgres://... on that database as is, which should be an empty scratch
database or schema (for example ?search_path=benchusage):

1. What recording usage adds to a signed-in request (goal: less than
   0.2 ms at p99). Beside the site's own server, it serves the same
   application twice, on two addresses, made alike but for one thing: one
   records every signed-in request as a usage event, the other has no
   recorder. At each --concurrency, every worker signs in once and then
   asks for GET /account from one server and then the other, alternately,
   so both are measured at the same moments. It prints p50/p95/p99 of
   each, and the cost three ways: the recording as the server times it on
   each request's path (psims_usage_record_seconds: the bounds of its p50
   and p99, and the share of requests over 0.2 ms); the end-to-end
   difference at p50 and p99 with a 95% bootstrap interval; and the share
   of the time the usage writer spent writing to the database. The goal
   is met when fewer than 1% of requests spent more than 0.2 ms recording
   and the end-to-end interval does not lie wholly above 0.2 ms.

2. The usage report over --events synthetic usage events (goal: under 2 s),
   spread over 13 months, --orgs demo organisations and --users demo users,
   rolled up as the hourly job does: the report of the organisation with
   the most use and the national report for the last 12 months, --runs
   times each, against one pass over the raw events (SELECT COUNT(*)) in
   the same run. --events 0 skips this part; --overhead=false skips the
   first. Loading 50,000,000 events takes about an hour on 2 CPUs.`

// usageBench is what psims bench usage prints: either part may be absent.
type usageBench struct {
	Overhead *bench.UsageBench        `json:"overhead,omitempty"`
	Report   *bench.UsageReportResult `json:"report,omitempty"`
}

// WriteText writes both parts for people to read.
func (u *usageBench) WriteText(w io.Writer) error {
	if u.Overhead != nil {
		if err := u.Overhead.WriteText(w); err != nil {
			return err
		}
	}
	if u.Report != nil {
		return u.Report.WriteText(w)
	}
	return nil
}

// cmdBenchUsage runs psims bench usage.
func cmdBenchUsage(ctx context.Context, e env, args []string) error {
	var opts bench.UsageOptions
	var report bench.UsageReportOptions
	var asJSON, overhead bool
	var levels string
	cfg, fs, err := parse(e, "bench usage", benchUsageSummary, config.DatabaseFlags, args, func(fs *flag.FlagSet) {
		fs.BoolVar(&overhead, "overhead", true, "measure what recording usage adds to a request")
		fs.StringVar(&levels, "concurrency", "1,2", "comma-separated numbers of concurrent workers to measure the overhead with")
		fs.DurationVar(&opts.Duration, "duration", 20*time.Second, "measured time of the overhead at each concurrency")
		fs.DurationVar(&opts.Warmup, "warmup", 2*time.Second, "time run before each measured window and not counted")
		fs.IntVar(&report.Events, "events", bench.DefaultUsageEvents, "synthetic usage events to load for the report part; 0 skips it")
		fs.IntVar(&report.Orgs, "orgs", demo.DefaultOrgs, "demo organisations to load for the report part")
		fs.IntVar(&report.Users, "users", demo.DefaultUsers, "demo users to load for the report part")
		fs.Uint64Var(&report.Seed, "seed", demo.DefaultSeed, "seed of the demo data and the usage events")
		fs.IntVar(&report.Runs, "runs", bench.DefaultUsageRuns, "times each report is made")
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
	if report.Events < 0 || report.Runs < 1 || report.Orgs < 2 || report.Users < 2 {
		return usagef("bench usage needs --events of at least 0, --runs of at least 1, and --orgs and --users of at least 2")
	}
	if !overhead && report.Events == 0 {
		return usagef("bench usage with --overhead=false and --events 0 has nothing to measure")
	}
	if overhead && report.Events > 0 && cfg.Database != "" {
		return usagef("bench usage with --database runs one part at a time, each on an empty database: --events 0, or --overhead=false")
	}
	params := password.Params{MemoryKiB: cfg.HashMemoryKiB, Time: cfg.HashTime, Threads: cfg.HashThreads}
	opts.Database, report.Database = cfg.Database, cfg.Database
	opts.Params, report.Params = params, params
	opts.Progress, report.Progress = e.stderr, e.stderr
	return runBench(e, "", asJSON, func(io.Writer) (*usageBench, error) {
		var out usageBench
		if overhead {
			r, err := bench.RunUsage(ctx, opts)
			if err != nil {
				return nil, err
			}
			out.Overhead = &r
		}
		if report.Events > 0 {
			r, err := bench.RunUsageReport(ctx, report)
			if err != nil {
				return nil, err
			}
			out.Report = &r
		}
		return &out, nil
	})
}
