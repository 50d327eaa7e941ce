package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/psims/psims/internal/db"
)

// This file is what the scenarios timing durable writes share (submit and
// api): the raw phase, the ratios to it, the goals and the table.

// rawDurable times c workers each committing one INSERT of row in a
// transaction of its own through d, into the run's bench_durable table:
// the most durable writes a second this machine and database give.
func rawDurable(ctx context.Context, d *db.DB, c int, row string, warmup, duration time.Duration) (GatePhase, error) {
	raw := make([]worker, c)
	for i := range raw {
		n := int64(i) << 40
		raw[i] = callWorker{call: func(ctx context.Context) error {
			n++
			return d.InTx(ctx, func(tx *db.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO bench_durable (n, body) VALUES ($1, $2)`, n, row)
				return err
			})
		}}
	}
	l, err := runLoad(ctx, raw, warmup, duration)
	if err != nil {
		return GatePhase{}, err
	}
	p := gatePhase("INSERT, one per transaction", l)
	if p.Errors > 0 {
		return GatePhase{}, fmt.Errorf("bench: raw transactions: %s", p.FirstError)
	}
	return p, nil
}

// ratios compares a timed phase with the raw one: its rate ÷ the raw
// rate, and its p99 ÷ the raw p99 (0 when the raw phase has none).
func ratios(load, raw GatePhase) (rate, p99 float64) {
	if raw.PerSec > 0 {
		rate = load.PerSec / raw.PerSec
	}
	if raw.Latency.P99 > 0 {
		p99 = float64(load.Latency.P99) / float64(raw.Latency.P99)
	}
	return rate, p99
}

// durableLevel is one concurrency of a durable-write scenario, as the
// table shows it.
type durableLevel struct {
	concurrency    int
	load, raw      GatePhase
	rateRatio, p99 float64
}

// durableGoals checks the phase of the highest concurrency against a rate
// and a p99 goal, on SQLite, which the goals are set for; none elsewhere.
func durableGoals(database, what string, levels []durableLevel, rate float64, p99 time.Duration) []Goal {
	if database != "sqlite" || len(levels) == 0 {
		return []Goal{}
	}
	best := levels[0]
	for _, l := range levels {
		if l.concurrency > best.concurrency {
			best = l
		}
	}
	p := best.load
	clean := p.Calls > 0 && p.Errors == 0
	return []Goal{
		{Name: fmt.Sprintf("%s a second at concurrency %d", what, best.concurrency), Value: p.PerSec,
			Want: fmt.Sprintf(">= %.0f", rate), Met: clean && p.PerSec >= rate},
		{Name: fmt.Sprintf("p99 ms at concurrency %d", best.concurrency), Value: float64(p.Latency.P99) / float64(time.Millisecond),
			Want: fmt.Sprintf("< %d", p99/time.Millisecond), Met: clean && p.Latency.P99 < p99},
	}
}

// writeDurable writes the table of a durable-write scenario's levels and
// its goals; what names the timed writes in the ratio line.
func writeDurable(b *strings.Builder, levels []durableLevel, goals []Goal, database, what string) {
	fmt.Fprintf(b, "  %2s %-30s %8s %6s %9s %8s %8s %8s %8s\n", "c", "phase", "calls", "errors", "per s", "p50", "p95", "p99", "max")
	for _, l := range levels {
		for _, p := range []GatePhase{l.load, l.raw} {
			lat := p.Latency
			fmt.Fprintf(b, "  %2d %-30s %8d %6d %9.0f %8s %8s %8s %8s\n", l.concurrency, p.Name, p.Calls, p.Errors, p.PerSec,
				ms(lat.P50), ms(lat.P95), ms(lat.P99), ms(lat.Max))
			if p.FirstError != "" {
				fmt.Fprintf(b, "     first error: %s\n", p.FirstError)
			}
		}
		fmt.Fprintf(b, "  %2d %-30s %.3f %s/s ÷ raw transactions/s; p99 %.1f × raw p99\n", l.concurrency, "ratio", l.rateRatio, what, l.p99)
	}
	if len(goals) == 0 {
		fmt.Fprintf(b, "  %-14s %s\n", "goal", fmt.Sprintf("none on %s (the goals are set for SQLite)", database))
	}
	for _, g := range goals {
		verdict := "MISS"
		if g.Met {
			verdict = "PASS"
		}
		fmt.Fprintf(b, "  %-14s %s\n", "goal", fmt.Sprintf("%s %.1f, want %s: %s", g.Name, g.Value, g.Want, verdict))
	}
}
