// Package jobs runs background work on River, in the same database as
// everything else, so a job inserted inside one of our transactions exists
// exactly when that transaction commits.
//
// River talks to the database through database/sql on both engines (its
// SQLite driver, and its database/sql driver for PostgreSQL), so its
// transaction type is *sql.Tx, the one inside db.Tx. Both drivers use the
// write pool: on SQLite that is the single writer connection, so River's
// writes queue behind ours instead of failing with SQLITE_BUSY.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/psims/psims/internal/db"
)

// Polling settings. Neither engine gets notifications here (the
// database/sql driver cannot LISTEN, and on SQLite notifications would be
// one more poll on the single writer), so workers look for new jobs every
// FetchPollInterval: mail leaves within a fraction of a second, at the cost
// of a few cheap queries a second per process.
const (
	// FetchPollInterval is how often a worker process looks for new jobs.
	FetchPollInterval = 200 * time.Millisecond
	fetchCooldown     = 50 * time.Millisecond
	// MaxWorkers is how many jobs one process runs at the same time.
	MaxWorkers = 10
)

// Runner is a River client bound to our database. A Runner made with
// workers can Start; one made without (for commands that only enqueue) can
// only insert.
type Runner struct {
	client  *river.Client[*sql.Tx]
	working bool
	logger  *slog.Logger
	// periodic collects the jobs Every schedules while register runs.
	periodic []*river.PeriodicJob
}

// driver picks River's driver for the engine: River writes its own SQL for
// each, so this is the one place in jobs that asks which engine it is.
func driver(d *db.DB) riverdriver.Driver[*sql.Tx] {
	if d.Dialect().Engine == db.PostgreSQL {
		return riverdatabasesql.New(d.WritePool())
	}
	return riversqlite.New(d.WritePool())
}

// Migrate creates or updates River's own tables. Run it after db.Migrate;
// running it again does nothing.
//
// Each River migration runs in its own transaction holding the migration
// lock, so processes migrating at the same time wait for each other, and
// migrations PostgreSQL cannot run in one transaction (a new enum value and
// its first use) are never batched together.
func Migrate(ctx context.Context, d *db.DB) error {
	m, err := rivermigrate.New(driver(d), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	for {
		var applied int
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if err := tx.Dialect.Serialize(ctx, tx.Tx, db.LockMigrate); err != nil {
				return err
			}
			// MigrateTx is deprecated only because it batches migrations;
			// one step per transaction is what Migrate does, plus our lock.
			//lint:ignore SA1019 one step per transaction, as said above
			res, err := m.MigrateTx(ctx, tx.Tx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{MaxSteps: 1})
			if err != nil {
				return err
			}
			applied = len(res.Versions)
			return nil
		})
		if err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		if applied == 0 {
			return nil
		}
	}
}

// New makes a Runner. register adds the feature packages' workers, for
// example:
//
//	jobs.New(d, logger, func(w *river.Workers, r *jobs.Runner) { mail.AddWorker(w, d, sender, logger, mail.WorkerOptions{}) })
//
// It receives the Runner being made, for workers that queue further jobs
// when they run (the Runner is ready before any job runs), and for
// scheduling periodic jobs with Every.
// A nil register gives an insert-only Runner, for commands that enqueue
// jobs for `psims serve` to run.
func New(d *db.DB, logger *slog.Logger, register func(*river.Workers, *Runner)) (*Runner, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg := &river.Config{
		Logger:            logger.With("component", "jobs"),
		FetchPollInterval: FetchPollInterval,
		FetchCooldown:     fetchCooldown,
		PollOnly:          true,
	}
	r := &Runner{working: register != nil, logger: logger}
	if register != nil {
		workers := river.NewWorkers()
		register(workers, r)
		cfg.Workers = workers
		cfg.PeriodicJobs = r.periodic
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: MaxWorkers}}
	}
	client, err := river.NewClient(driver(d), cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: new client: %w", err)
	}
	r.client = client
	return r, nil
}

// Every makes River insert a job with args every interval, and once as soon
// as the scheduler starts, so work that runs rarely also runs after every
// deploy. Only the elected leader among the processes sharing the database
// schedules, so each run happens once however many processes there are; a
// run can still repeat (a new leader runs it at once), so the job must be
// safe to run again. Give args an InsertOpts that makes the job unique
// while it waits or runs, so a slow run is not joined by the next.
//
// Call Every only from the register function given to New: the schedule
// is fixed when the River client is made. Calling it later panics, as a
// programming error.
func (r *Runner) Every(interval time.Duration, args river.JobArgs) {
	if r.client != nil {
		panic("jobs: Every called after New returned; call it from register")
	}
	r.periodic = append(r.periodic, river.NewPeriodicJob(
		river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return args, nil },
		&river.PeriodicJobOpts{ID: args.Kind(), RunOnStart: true},
	))
}

// Start begins working jobs in the background and returns. Cancelling ctx
// is a hard stop (running jobs are cancelled), so pass a context that
// SIGTERM does not cancel and call Stop for a graceful stop.
func (r *Runner) Start(ctx context.Context) error {
	if !r.working {
		return errors.New("jobs: start: this runner only inserts jobs")
	}
	if err := r.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop stops fetching new jobs and waits for running ones to finish. If ctx
// ends first, running jobs are cancelled (they are retried later) and Stop
// returns ctx's error once they have returned. Stopping a Runner that never
// started does nothing.
func (r *Runner) Stop(ctx context.Context) error {
	err := r.client.Stop(ctx)
	if err == nil {
		return nil
	}
	r.logger.WarnContext(ctx, "jobs: graceful stop timed out; cancelling running jobs")
	cancelCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if cErr := r.client.StopAndCancel(cancelCtx); cErr != nil {
		return fmt.Errorf("jobs: stop: %w", errors.Join(err, cErr))
	}
	return fmt.Errorf("jobs: stop: %w", err)
}

// InsertTx inserts a job inside tx: it exists if and only if tx commits,
// and no worker sees it before then.
func (r *Runner) InsertTx(ctx context.Context, tx *db.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	if _, err := r.client.InsertTx(ctx, tx.Tx, args, opts); err != nil {
		return fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return nil
}

// InsertManyTx inserts many jobs inside tx in one statement: they exist if
// and only if tx commits, and no worker sees them before then.
func (r *Runner) InsertManyTx(ctx context.Context, tx *db.Tx, params []river.InsertManyParams) error {
	if len(params) == 0 {
		return nil
	}
	if _, err := r.client.InsertManyTx(ctx, tx.Tx, params); err != nil {
		return fmt.Errorf("jobs: insert %d %s jobs: %w", len(params), params[0].Args.Kind(), err)
	}
	return nil
}

// Client is the underlying River client, for what this package does not
// wrap (subscriptions in tests, job lists).
func (r *Runner) Client() *river.Client[*sql.Tx] { return r.client }
