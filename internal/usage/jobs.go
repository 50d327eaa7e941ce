package usage

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/psims/psims/internal/db"
)

// Policy is how long usage data is kept (issue 12, P4).
type Policy struct {
	// IPRetention is how long an event keeps its whole address before it
	// is cut to its network.
	IPRetention Retention
	// Retention is how long raw events, and every row that names a
	// person, are kept; the aggregates that name nobody are kept after.
	Retention Retention
}

// JobInterval is how often each usage job runs (and once at start).
const JobInterval = time.Hour

// jobTimeout lets a run over a long backlog (the first after an upgrade)
// go on; one stopped by it resumes at the next run.
const jobTimeout = time.Hour

// uniqueWhileQueued keeps one run of a job waiting or running at a time.
func uniqueWhileQueued() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled},
	}}
}

// RollupArgs is the usage_rollup job: RollUp.
type RollupArgs struct{}

// Kind names the job in River.
func (RollupArgs) Kind() string { return "usage_rollup" }

// InsertOpts keeps one rollup waiting or running at a time.
func (RollupArgs) InsertOpts() river.InsertOpts { return uniqueWhileQueued() }

// TruncateArgs is the usage_ip_truncate job: TruncateIPs.
type TruncateArgs struct{}

// Kind names the job in River.
func (TruncateArgs) Kind() string { return "usage_ip_truncate" }

// InsertOpts keeps one truncation waiting or running at a time.
func (TruncateArgs) InsertOpts() river.InsertOpts { return uniqueWhileQueued() }

// ExpireArgs is the usage_expire job: DeleteExpired.
type ExpireArgs struct{}

// Kind names the job in River.
func (ExpireArgs) Kind() string { return "usage_expire" }

// InsertOpts keeps one deletion waiting or running at a time.
func (ExpireArgs) InsertOpts() river.InsertOpts { return uniqueWhileQueued() }

// Scheduler runs a job every interval, once across processes, and once
// at start; *jobs.Runner is one while its register function runs.
type Scheduler interface {
	Every(interval time.Duration, args river.JobArgs)
}

// AddWorkers registers the rollup and the two minimisation jobs and
// schedules each every JobInterval.
func AddWorkers(workers *river.Workers, sched Scheduler, d *db.DB, p Policy, logger *slog.Logger) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	river.AddWorker(workers, &rollupWorker{db: d, logger: logger})
	river.AddWorker(workers, &truncateWorker{db: d, keep: p.IPRetention, logger: logger})
	river.AddWorker(workers, &expireWorker{db: d, keep: p.Retention, logger: logger})
	sched.Every(JobInterval, RollupArgs{})
	sched.Every(JobInterval, TruncateArgs{})
	sched.Every(JobInterval, ExpireArgs{})
}

type rollupWorker struct {
	river.WorkerDefaults[RollupArgs]
	db     *db.DB
	logger *slog.Logger
}

func (w *rollupWorker) Timeout(*river.Job[RollupArgs]) time.Duration { return jobTimeout }

func (w *rollupWorker) Work(ctx context.Context, _ *river.Job[RollupArgs]) error {
	days, err := RollUp(ctx, w.db, w.db.Now())
	if days > 0 {
		w.logger.InfoContext(ctx, "usage rolled up", "days", days)
	}
	return err
}

type truncateWorker struct {
	river.WorkerDefaults[TruncateArgs]
	db     *db.DB
	keep   Retention
	logger *slog.Logger
}

func (w *truncateWorker) Timeout(*river.Job[TruncateArgs]) time.Duration { return jobTimeout }

func (w *truncateWorker) Work(ctx context.Context, _ *river.Job[TruncateArgs]) error {
	n, err := TruncateIPs(ctx, w.db, w.db.Now(), w.keep)
	if n > 0 {
		w.logger.InfoContext(ctx, "usage addresses truncated", "addresses", n)
	}
	if err != nil && w.keep.IsZero() {
		return river.JobCancel(err) // a wiring mistake: retrying will not help
	}
	return err
}

type expireWorker struct {
	river.WorkerDefaults[ExpireArgs]
	db     *db.DB
	keep   Retention
	logger *slog.Logger
}

func (w *expireWorker) Timeout(*river.Job[ExpireArgs]) time.Duration { return jobTimeout }

func (w *expireWorker) Work(ctx context.Context, _ *river.Job[ExpireArgs]) error {
	n, err := DeleteExpired(ctx, w.db, w.db.Now(), w.keep)
	if n > 0 {
		w.logger.InfoContext(ctx, "expired usage events deleted", "events", n)
	}
	if err != nil && w.keep.IsZero() {
		return river.JobCancel(err)
	}
	return err
}
