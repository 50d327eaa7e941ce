package main

import (
	"context"
	"encoding/json"
	"flag"
	"time"

	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/lifecycle"
)

// cmdLifecycle runs the lifecycle subcommands: psims lifecycle run.
func cmdLifecycle(ctx context.Context, e env, args []string) error {
	return subcommand(ctx, e, "lifecycle", args, map[string]func(context.Context, env, []string) error{
		"run": cmdLifecycleRun,
	})
}

const lifecycleRunSummary = `Runs every lifecycle sweep once, as the server's periodic jobs do: dormant
accounts (warn, deactivate, delete; --dormancy-* flags), drafts expiry
(--draft-*) and usage retention (--usage-*). Prints one JSON line per
action on standard output, naming accounts by id only.

With --as-of, the sweeps run as if it were that time (RFC 3339, such as
2027-11-04T09:00:00Z): the database clock is set to it, so every date
written, every email and every audit entry says that time. With
--dry-run, nothing is changed or sent: the sweeps run inside one
transaction that is rolled back, and the lines say what a real run at
that time would do.`

func cmdLifecycleRun(ctx context.Context, e env, args []string) error {
	var asOf string
	var dryRun bool
	cfg, fs, err := parse(e, "lifecycle run", lifecycleRunSummary, config.AllFlags, args, func(fs *flag.FlagSet) {
		fs.StringVar(&asOf, "as-of", "", "run as if at this time, RFC 3339 such as 2027-11-04T09:00:00Z (default now)")
		fs.BoolVar(&dryRun, "dry-run", false, "change nothing; print what a real run would do")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("lifecycle run takes flags only; unexpected %q", fs.Arg(0))
	}
	var at time.Time
	if asOf != "" {
		if at, err = time.Parse(time.RFC3339, asOf); err != nil {
			return usagef("lifecycle run: --as-of must be a time such as 2027-11-04T09:00:00Z, not %q", asOf)
		}
	}
	a, err := app.Open(ctx, cfg, app.NewLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	if !at.IsZero() {
		// The clock stands at --as-of while the sweeps run, so each
		// transaction sees the same time, as a run at that moment would.
		a.DB.SetClock(func() time.Time { return at })
	}
	enc := json.NewEncoder(e.stdout)
	var writeErr error
	err = a.Lifecycle().Run(ctx, dryRun, func(act lifecycle.Action) {
		if writeErr == nil {
			writeErr = enc.Encode(act)
		}
	})
	if err != nil {
		return err
	}
	return writeErr
}
