// Package lifecycle runs every lifecycle sweep once, as if at a given
// time: dormant accounts (P12, P13), the expiry of drafts and the
// retention of usage data (P4). `psims lifecycle run` and the server's
// periodic jobs call the same functions, which each feature package owns;
// this package only strings them together, reports what they did as
// values, and gives the dry run.
//
// A dry run runs the very same code inside one transaction that is rolled
// back at the end, so it reports exactly what a real run at that moment
// would do and leaves no trace: no row, no email, no audit entry, no job.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/usage"
)

// The sweeps' names in actions.
const (
	SweepDormancy = "dormancy"
	SweepDrafts   = "drafts"
	SweepUsage    = "usage"
)

// Action is one thing a sweep did, or would do in a dry run. It names
// people and records by id only, never by address or name.
type Action struct {
	Sweep  string `json:"sweep"`
	Action string `json:"action"`
	User   int64  `json:"user,omitempty"`
	Draft  int64  `json:"draft,omitempty"`
	// Count is how many rows an action over many changed (usage, drafts
	// deleted), or how many accounts wait for their dormancy warning.
	Count int64 `json:"count,omitempty"`
	// Status is the account's status before the action.
	Status       string `json:"status,omitempty"`
	At           string `json:"at"`
	DeactivateOn string `json:"deactivate_on,omitempty"`
	DeleteOn     string `json:"delete_on,omitempty"`
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Sweeps are the lifecycle sweeps with their settings.
type Sweeps struct {
	DB        *db.DB
	Dormancy  *account.Dormancy
	Outbox    incident.Outbox
	Drafts    incident.DraftRetention
	DraftsURL string
	Usage     usage.Policy
}

// errDryRun rolls a dry run's transaction back.
var errDryRun = errors.New("lifecycle: dry run")

// inTx runs every "transaction" inside one already open: a dry run's.
type inTx struct{ tx *db.Tx }

func (t inTx) InTx(_ context.Context, fn func(tx *db.Tx) error) error { return fn(t.tx) }

// Run runs every sweep once at the database's time (db.DB.SetClock sets
// it), calling emit for each action. With dryRun, nothing is kept.
func (s Sweeps) Run(ctx context.Context, dryRun bool, emit func(Action)) error {
	if !dryRun {
		return s.run(ctx, s.DB, emit)
	}
	var actions []Action
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		if err := s.run(ctx, inTx{tx}, func(a Action) { actions = append(actions, a) }); err != nil {
			return err
		}
		return errDryRun
	})
	if !errors.Is(err, errDryRun) {
		return err
	}
	for _, a := range actions {
		emit(a)
	}
	return nil
}

// transactor is what every sweep runs its transactions through.
type transactor interface {
	InTx(ctx context.Context, fn func(tx *db.Tx) error) error
}

func (s Sweeps) run(ctx context.Context, t transactor, emit func(Action)) error {
	if err := RunDormancy(ctx, s.Dormancy, t, emit); err != nil {
		return err
	}
	res, err := incident.SweepDrafts(ctx, t, s.Outbox, s.Drafts, s.DraftsURL)
	for _, r := range res.Reminded {
		emit(Action{Sweep: SweepDrafts, Action: "remind", Draft: r.DraftID, User: r.UserID, At: stamp(res.At), DeleteOn: stamp(r.DeleteOn)})
	}
	if err != nil {
		return err
	}
	if res.Deleted > 0 {
		emit(Action{Sweep: SweepDrafts, Action: "delete", Count: res.Deleted, At: stamp(res.At)})
	}
	now := s.DB.Now()
	n, err := usage.TruncateIPs(ctx, t, now, s.Usage.IPRetention)
	if n > 0 {
		emit(Action{Sweep: SweepUsage, Action: "ip_truncate", Count: n, At: stamp(now)})
	}
	if err != nil {
		return err
	}
	n, err = usage.DeleteExpired(ctx, t, now, s.Usage.Retention)
	if n > 0 {
		emit(Action{Sweep: SweepUsage, Action: "delete", Count: n, At: stamp(now)})
	}
	return err
}

// RunDormancy runs the dormancy sweep, reporting its actions.
func RunDormancy(ctx context.Context, d *account.Dormancy, t account.Transactor, emit func(Action)) error {
	return d.Sweep(ctx, t, func(a account.DormancyAction) {
		out := Action{Sweep: SweepDormancy, Action: a.Action, User: a.UserID, Status: string(a.Status), At: stamp(a.At), Count: a.Count}
		if a.DeactivateOn != nil {
			out.DeactivateOn = stamp(*a.DeactivateOn)
		}
		if a.DeleteOn != nil {
			out.DeleteOn = stamp(*a.DeleteOn)
		}
		emit(out)
	})
}

// DormancySweepArgs is the dormancy_sweep job: one dormancy sweep.
type DormancySweepArgs struct{}

// Kind names the job in River.
func (DormancySweepArgs) Kind() string { return "dormancy_sweep" }

// InsertOpts keeps one sweep waiting or running at a time.
func (DormancySweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled},
	}}
}

// DormancyInterval is how often the dormancy sweep runs (and once at
// start). A sweep with nothing to do reads only the accounts already
// warned, so running it hourly keeps deactivations close to the date
// given in the warning at little cost.
const DormancyInterval = time.Hour

// Scheduler runs a job every interval, once across processes, and once
// at start; *jobs.Runner is one while its register function runs.
type Scheduler interface {
	Every(interval time.Duration, args river.JobArgs)
}

// AddDormancyWorker registers the dormancy_sweep worker and schedules it
// every DormancyInterval. dormancy gives the sweep once it is made: it
// needs the account and rights services, made after the job runner.
func AddDormancyWorker(workers *river.Workers, sched Scheduler, d *db.DB, dormancy func() *account.Dormancy, logger *slog.Logger) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	river.AddWorker(workers, &dormancyWorker{db: d, dormancy: dormancy, logger: logger})
	sched.Every(DormancyInterval, DormancySweepArgs{})
}

type dormancyWorker struct {
	river.WorkerDefaults[DormancySweepArgs]
	db       *db.DB
	dormancy func() *account.Dormancy
	logger   *slog.Logger
}

// Timeout lets a first sweep over many accounts run to the end; one cut
// short resumes at the next run, as every step is kept as it goes.
func (w *dormancyWorker) Timeout(*river.Job[DormancySweepArgs]) time.Duration { return time.Hour }

func (w *dormancyWorker) Work(ctx context.Context, _ *river.Job[DormancySweepArgs]) error {
	counts := map[string]int{}
	err := RunDormancy(ctx, w.dormancy(), w.db, func(a Action) { counts[a.Action]++ })
	if len(counts) > 0 {
		w.logger.InfoContext(ctx, "dormancy swept", "warned", counts[account.DormancyWarn], "deactivated", counts[account.DormancyDeactivate],
			"deleted", counts[account.DormancyDelete]+counts[account.DormancyDeleteUnregistered], "kept_last_admin", counts[account.DormancyKeepLastAdmin])
	}
	if err != nil {
		return fmt.Errorf("lifecycle: dormancy sweep: %w", err)
	}
	return nil
}
