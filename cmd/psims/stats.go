package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/stats"
)

// cmdStats runs the statistics subcommands: psims stats publish and
// psims stats denominators load.
func cmdStats(ctx context.Context, e env, args []string) error {
	return subcommand(ctx, e, "stats", args, map[string]func(context.Context, env, []string) error{
		"publish":      cmdStatsPublish,
		"denominators": cmdStatsDenominators,
	})
}

const statsPublishSummary = `Builds the official statistics publication of the events from --from to
--to (YYYY-MM-DD, UTC, both included), counted by the day they occurred
(--basis occurred, the default) or were submitted (--basis submitted),
and writes its files into --out: publication.html, publication.xlsx and
one CSV per table, the same bytes each time for the same data. Figures
below national level are under statistical disclosure control; when the
checker cannot make them safe, nothing is written and the command fails.

With --publish it also stores the publication and publishes it as
version 1, released at --release (default: now), recorded in the audit
log as done by the operator.`

func cmdStatsPublish(ctx context.Context, e env, args []string) error {
	var fromText, toText, basis, out, title, releaseText string
	var publish bool
	cfg, fs, err := parse(e, "stats publish", statsPublishSummary, config.DatabaseFlags, args, func(fs *flag.FlagSet) {
		fs.StringVar(&fromText, "from", "", "first day of the period, YYYY-MM-DD (required)")
		fs.StringVar(&toText, "to", "", "last day of the period, YYYY-MM-DD (required)")
		fs.StringVar(&basis, "basis", string(incident.BasisOccurred), "occurred or submitted")
		fs.StringVar(&out, "out", "", "directory to write the files into (required; made if missing)")
		fs.StringVar(&title, "title", "", "title (default: \"Patient safety events, FROM to TO\")")
		fs.StringVar(&releaseText, "release", "", "with --publish, release time as RFC 3339 (default: now)")
		fs.BoolVar(&publish, "publish", false, "also store and publish it")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("stats publish takes flags only; unexpected %q", fs.Arg(0))
	}
	from, err := time.Parse(time.DateOnly, fromText)
	if err != nil {
		return usagef("stats publish needs --from as YYYY-MM-DD, not %q", fromText)
	}
	to, err := time.Parse(time.DateOnly, toText)
	if err != nil {
		return usagef("stats publish needs --to as YYYY-MM-DD, not %q", toText)
	}
	if to.Before(from) {
		return usagef("stats publish: --to must be the same as or after --from")
	}
	if !incident.Basis(basis).Valid() {
		return usagef("stats publish needs --basis occurred or submitted, not %q", basis)
	}
	if out == "" {
		return usagef("stats publish needs --out DIR")
	}
	var release time.Time
	if releaseText != "" {
		if !publish {
			return usagef("stats publish: --release goes with --publish")
		}
		if release, err = time.Parse(time.RFC3339, releaseText); err != nil {
			return usagef("stats publish needs --release as RFC 3339, like 2026-11-12T09:30:00Z, not %q", releaseText)
		}
	}
	if title == "" {
		title = "Patient safety events, " + from.Format("2 January 2006") + " to " + to.Format("2 January 2006")
	}
	a, err := app.Open(ctx, cfg, app.NewLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	if release.IsZero() && publish {
		release = a.DB.Now()
	}
	d := stats.Draft{Title: title, From: from, To: to, Basis: incident.Basis(basis), Release: release}
	var files []stats.File
	if publish {
		id, err := a.Statistics.Create(ctx, stats.Actor{}, d)
		if err != nil {
			return userFacing(err)
		}
		if err := a.Statistics.Publish(ctx, stats.Actor{}, id); err != nil {
			return statsFailure(err)
		}
		versions, err := a.Statistics.Versions(ctx, id)
		if err != nil {
			return err
		}
		for _, f := range versions[0].Files {
			stored, err := a.Statistics.File(ctx, id, 1, f.Name)
			if err != nil {
				return err
			}
			files = append(files, stored)
		}
		fmt.Fprintf(e.stdout, "Published publication %d, version 1, released %s.\n", id, release.UTC().Format(time.RFC3339))
	} else {
		built, err := a.Statistics.Build(ctx, stats.Meta{Title: d.Title, From: from, To: to, Basis: d.Basis, Version: 1}, a.Statistics.Rules())
		if err != nil {
			return statsFailure(err)
		}
		files = built.Files
	}
	if err := os.MkdirAll(out, 0o750); err != nil {
		return fmt.Errorf("stats publish: %w", err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(out, f.Name), f.Body, 0o640); err != nil {
			return fmt.Errorf("stats publish: %w", err)
		}
		fmt.Fprintf(e.stdout, "%s  %s\n", f.SHA256, f.Name)
	}
	return nil
}

// statsFailure is a refusal to build as one clear line.
func statsFailure(err error) error {
	if errors.Is(err, stats.ErrUnsafe) || apperr.CodeOf(err) != apperr.Internal {
		return errors.New(apperr.MessageOf(err))
	}
	return err
}

const statsDenominatorsSummary = `Loads a denominator file for reporting rates: CSV with the header
ods_code,period_start,period_end,measure,value (dates YYYY-MM-DD, measure
admissions or bed-days, a whole number above 0). Every row is checked
first; if any is wrong, nothing is loaded and each bad line is named.
Loading a row again replaces its value.`

func cmdStatsDenominators(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "load" {
		return usagef("stats denominators needs the subcommand load, as in psims stats denominators load FILE.csv")
	}
	cfg, fs, err := parse(e, "stats denominators load", statsDenominatorsSummary, config.DatabaseFlags, args[1:], nil)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("stats denominators load needs exactly one FILE.csv (flags before it)")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("stats denominators load: %w", err)
	}
	defer f.Close()
	a, err := app.Open(ctx, cfg, app.NewLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	n, err := a.Statistics.LoadDenominators(ctx, stats.Actor{}, f)
	if err != nil {
		return userFacing(err)
	}
	fmt.Fprintf(e.stdout, "Loaded %d denominators.\n", n)
	return nil
}
