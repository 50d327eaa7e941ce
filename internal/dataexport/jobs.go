package dataexport

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// BuildArgs is the data_export job: Build one export.
type BuildArgs struct {
	ExportID int64 `json:"export_id"`
}

// Kind names the job in River.
func (BuildArgs) Kind() string { return "data_export" }

// maxAttempts is how often the job tries to build one export before it is
// marked failed.
const maxAttempts = 5

// InsertOpts tries each export a few times.
func (BuildArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: maxAttempts} }

// SweepArgs is the data_export_sweep job: Sweep.
type SweepArgs struct{}

// Kind names the job in River.
func (SweepArgs) Kind() string { return "data_export_sweep" }

// InsertOpts keeps one sweep waiting or running at a time.
func (SweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled},
	}}
}

// SweepInterval is how often expired exports are deleted (and once at
// start).
const SweepInterval = time.Hour

// Scheduler runs a job every interval, once across processes;
// *jobs.Runner is one while its register function runs.
type Scheduler interface {
	Every(interval time.Duration, args river.JobArgs)
}

// AddWorkers registers the data_export job and the hourly sweep. service
// gives the Service once it is made: it is made after the job runner it
// queues through, and jobs run only once the runner starts.
func AddWorkers(workers *river.Workers, sched Scheduler, service func() *Service, logger *slog.Logger) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	river.AddWorker(workers, &buildWorker{service: service, logger: logger})
	river.AddWorker(workers, &sweepWorker{service: service, logger: logger})
	sched.Every(SweepInterval, SweepArgs{})
}

type buildWorker struct {
	river.WorkerDefaults[BuildArgs]
	service func() *Service
	logger  *slog.Logger
}

func (w *buildWorker) Work(ctx context.Context, job *river.Job[BuildArgs]) error {
	err := w.service().Build(ctx, job.Args.ExportID)
	if err != nil && job.Attempt >= job.MaxAttempts {
		w.logger.ErrorContext(ctx, "data export failed", "export", job.Args.ExportID, "err", err)
		return w.service().fail(ctx, job.Args.ExportID, err)
	}
	return err
}

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	service func() *Service
	logger  *slog.Logger
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	n, err := w.service().Sweep(ctx)
	if n > 0 {
		w.logger.InfoContext(ctx, "expired data exports deleted", "exports", n)
	}
	return err
}
