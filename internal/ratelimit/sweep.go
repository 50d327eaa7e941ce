package ratelimit

import (
	"context"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// SweepInterval is how often idle buckets are deleted, and how long a
// bucket must have been full to be idle. A full bucket behaves exactly as no
// bucket, so deleting it changes no decision; the sweep only keeps the
// table to the keys in use.
const SweepInterval = 10 * time.Minute

// SweepArgs is the rate_limit_sweep job.
type SweepArgs struct{}

// Kind names the job in River.
func (SweepArgs) Kind() string { return "rate_limit_sweep" }

// InsertOpts keeps one sweep waiting or running at a time.
func (SweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled},
	}}
}

// Scheduler runs a job every interval, once across processes; *jobs.Runner
// is one.
type Scheduler interface {
	Every(interval time.Duration, args river.JobArgs)
}

// AddSweepWorker registers the sweep of s and schedules it.
func AddSweepWorker(workers *river.Workers, sched Scheduler, s *Store) {
	river.AddWorker(workers, &sweepWorker{store: s})
	sched.Every(SweepInterval, SweepArgs{})
}

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	store *Store
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	_, err := w.store.DeleteIdle(ctx, w.store.db.Now(), SweepInterval)
	return err
}
