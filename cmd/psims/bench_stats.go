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

const benchStatsSummary = `Measures the official statistics at national scale (issue 15; goals: a
publication over 10,000,000 events in under 5 s, and the dashboard of the
largest organisation, 200,000 events, under 100 ms at p99). In this
process on SQLite in a temporary directory (removed afterwards), or with
--database postgres://... on that database as is, which should be an
empty scratch database or schema (for example ?search_path=benchstats), it
loads --orgs demo organisations, then generates --events events inside the
database over the last six whole months (--largest of them in the
organisation with the most demo users), and signs in a reviewer of that
organisation.

Then it times, --repeats times each: a plain count(*) of the period's
events grouped by organisation, type and harm (this machine's floor),
Incidents.StatCounts on each basis, and a full publication when this
build has one; and for --duration, GET /dashboard?org=ODS for the largest
organisation beside a count(*) of its events grouped by type and harm,
when this build has the dashboard. It prints each time, the ratios to
the count(*), and the time taken to generate the events.`

// cmdBenchStats runs psims bench stats.
func cmdBenchStats(ctx context.Context, e env, args []string) error {
	var opts bench.StatsOptions
	var asJSON bool
	var cpuProfile string
	cfg, fs, err := parse(e, "bench stats", benchStatsSummary, config.DatabaseFlags, args, func(fs *flag.FlagSet) {
		fs.IntVar(&opts.Events, "events", bench.DefaultStatsEvents, "events to generate")
		fs.IntVar(&opts.Orgs, "orgs", bench.DefaultStatsOrgs, "demo organisations to load first")
		fs.IntVar(&opts.Largest, "largest", bench.DefaultStatsLargest, "events of the largest organisation, whose dashboard is measured")
		fs.Uint64Var(&opts.Seed, "seed", demo.DefaultSeed, "seed of the demo data and the events' references")
		fs.IntVar(&opts.Repeats, "repeats", 3, "times each whole-period measurement runs")
		fs.DurationVar(&opts.Duration, "duration", 5*time.Second, "measured time of each dashboard phase")
		fs.DurationVar(&opts.Warmup, "warmup", time.Second, "time run before each dashboard phase and not counted")
		fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a pprof CPU profile of the measured phases to this file")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench stats takes flags only; unexpected %q", fs.Arg(0))
	}
	if opts.Events < 1 || opts.Orgs < 2 || opts.Largest < 0 || opts.Largest > opts.Events || opts.Repeats < 1 {
		return usagef("bench stats needs --events of at least 1, --orgs of at least 2, --largest from 0 to --events and --repeats of at least 1")
	}
	if opts.Duration <= 0 || opts.Warmup < 0 {
		return usagef("bench stats needs a positive --duration and a --warmup not negative")
	}
	opts.Database = cfg.Database
	opts.Params = password.Params{MemoryKiB: cfg.HashMemoryKiB, Time: cfg.HashTime, Threads: cfg.HashThreads}
	opts.Progress = e.stderr
	return runBench(e, cpuProfile, asJSON, func(profile io.Writer) (*bench.StatsReport, error) {
		opts.CPUProfile = profile
		r, err := bench.RunStats(ctx, opts)
		return &r, err
	})
}
