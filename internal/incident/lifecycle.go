package incident

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
)

// DraftRetention says how long drafts are kept.
type DraftRetention struct {
	// Keep is how long a draft is kept after it was last saved.
	Keep time.Duration
	// Remind is how long before deletion its owner is emailed. A reminder
	// always gives this much notice: a draft whose reminder goes late (the
	// service was down, or the owner was suspended and is active again) is
	// kept until Remind after the reminder.
	Remind time.Duration
}

// DraftSweepArgs is the draft_sweep job: remind the owners of drafts that
// will soon be deleted, then delete the drafts whose time is up.
type DraftSweepArgs struct{}

// Kind names the job in River.
func (DraftSweepArgs) Kind() string { return "draft_sweep" }

// InsertOpts keeps one sweep waiting or running at a time.
func (DraftSweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled},
	}}
}

// DraftSweepInterval is how often the sweep runs (and once at start).
const DraftSweepInterval = time.Hour

// draftBatch is how many reminders one transaction of the sweep queues.
const draftBatch = 200

// Scheduler runs a job every interval and once at start; *jobs.Runner is
// one, while its register function runs.
type Scheduler interface {
	Every(interval time.Duration, args river.JobArgs)
}

// Outbox queues email in the caller's transaction; *mail.Outbox is one.
type Outbox interface {
	Enqueue(ctx context.Context, tx *db.Tx, m mail.Message) (int64, error)
}

// AddDraftWorker registers the draft_sweep worker and schedules it every
// DraftSweepInterval. draftsURL is the address of the drafts page in
// reminders.
func AddDraftWorker(workers *river.Workers, sched Scheduler, d *db.DB, outbox Outbox, retention DraftRetention, draftsURL string, logger *slog.Logger) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	river.AddWorker(workers, &draftWorker{db: d, outbox: outbox, retention: retention, draftsURL: draftsURL, logger: logger})
	sched.Every(DraftSweepInterval, DraftSweepArgs{})
}

type draftWorker struct {
	river.WorkerDefaults[DraftSweepArgs]
	db        *db.DB
	outbox    Outbox
	retention DraftRetention
	draftsURL string
	logger    *slog.Logger
}

// Timeout lets a sweep over a very large backlog run to the end.
func (w *draftWorker) Timeout(*river.Job[DraftSweepArgs]) time.Duration { return 30 * time.Minute }

// Work runs SweepDrafts on the database.
func (w *draftWorker) Work(ctx context.Context, job *river.Job[DraftSweepArgs]) error {
	res, err := SweepDrafts(ctx, w.db, w.outbox, w.retention, w.draftsURL)
	if errors.Is(err, errBadRetention) {
		return river.JobCancel(err)
	}
	if len(res.Reminded) > 0 || res.Deleted > 0 {
		w.logger.InfoContext(ctx, "drafts swept", "reminded", len(res.Reminded), "deleted", res.Deleted)
	}
	return err
}

// Transactor runs fn in a transaction; *db.DB is one. A dry run of the
// lifecycle sweeps (internal/lifecycle) passes one that runs every
// transaction inside a single one it rolls back.
type Transactor interface {
	InTx(ctx context.Context, fn func(tx *db.Tx) error) error
}

// DraftReminded is a reminder a sweep queued: the draft, its owner and
// when it will be deleted.
type DraftReminded struct {
	DraftID  int64
	UserID   int64
	DeleteOn time.Time
}

// DraftSweepResult is what one sweep did.
type DraftSweepResult struct {
	Reminded []DraftReminded
	Deleted  int64
	At       time.Time // the time the deletions were decided at
}

// errBadRetention marks settings that would delete every draft at once.
var errBadRetention = errors.New("incident: bad draft retention")

// SweepDrafts reminds first and deletes second, so a draft whose owner is
// due a reminder is never deleted in the same sweep that reminds them. It
// runs at the transactions' time (the database clock); both the draft
// sweep job and `psims lifecycle run` call it.
func SweepDrafts(ctx context.Context, t Transactor, outbox Outbox, retention DraftRetention, draftsURL string) (DraftSweepResult, error) {
	var res DraftSweepResult
	// Settings that would delete every draft at once are a wiring mistake
	// (configuration checks them); refuse rather than delete.
	if retention.Remind <= 0 || retention.Keep <= retention.Remind {
		return res, fmt.Errorf("%w: %s with reminder %s: the reminder must be positive and shorter",
			errBadRetention, retention.Keep, retention.Remind)
	}
	for {
		found, reminded, err := remindBatch(ctx, t, outbox, retention, draftsURL)
		res.Reminded = append(res.Reminded, reminded...)
		if err != nil {
			return res, err
		}
		if found < draftBatch {
			break
		}
	}
	err := t.InTx(ctx, func(tx *db.Tx) error {
		res.At = tx.Now
		r, err := tx.ExecContext(ctx, `DELETE FROM drafts WHERE updated_at < $1 AND (reminded_at IS NULL OR reminded_at < $2)`,
			tx.Now.Add(-retention.Keep), tx.Now.Add(-retention.Remind))
		if err != nil {
			return fmt.Errorf("incident: delete expired drafts: %w", err)
		}
		res.Deleted, _ = r.RowsAffected()
		return nil
	})
	return res, err
}

// remindBatch queues reminders for up to draftBatch drafts of active users
// that are due one, and marks them reminded in the same transaction, so a
// crash or a second sweep never emails anyone twice. It returns how many
// drafts it found and the reminders it queued.
func remindBatch(ctx context.Context, t Transactor, outbox Outbox, retention DraftRetention, draftsURL string) (found int, queued []DraftReminded, err error) {
	err = t.InTx(ctx, func(tx *db.Tx) error {
		queued = nil
		due := tx.Now.Add(-(retention.Keep - retention.Remind))
		type reminder struct {
			id, userID       int64
			eventType        Type
			created, updated time.Time
			email, name      string
		}
		rows, err := tx.QueryContext(ctx, `SELECT d.id, d.user_id, d.event_type, d.created_at, d.updated_at, u.email, u.name
			FROM drafts d JOIN users u ON u.id = d.user_id
			WHERE d.reminded_at IS NULL AND d.updated_at < $1 AND u.status = 'active'
				AND u.restricted_at IS NULL AND u.contact_objected_at IS NULL
			ORDER BY d.id LIMIT $2`, due, draftBatch)
		if err != nil {
			return fmt.Errorf("incident: drafts due a reminder: %w", err)
		}
		var batch []reminder
		for rows.Next() {
			var r reminder
			if err := rows.Scan(&r.id, &r.userID, &r.eventType, &r.created, &r.updated, &r.email, &r.name); err != nil {
				rows.Close()
				return fmt.Errorf("incident: scan draft due a reminder: %w", err)
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("incident: drafts due a reminder: %w", err)
		}
		found = len(batch)
		for _, r := range batch {
			// Claim the draft first: the conditions fail if it was saved
			// again or reminded by another sweep since it was read.
			res, err := tx.ExecContext(ctx, `UPDATE drafts SET reminded_at = $1
				WHERE id = $2 AND reminded_at IS NULL AND updated_at < $3`, tx.Now, r.id, due)
			if err != nil {
				return fmt.Errorf("incident: mark draft reminded: %w", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				continue
			}
			deleteOn := r.updated.Add(retention.Keep)
			if earliest := tx.Now.Add(retention.Remind); deleteOn.Before(earliest) {
				deleteOn = earliest
			}
			m := mail.DraftReminder(r.email, r.name, r.eventType.Label(), r.created, deleteOn, draftsURL)
			if _, err := outbox.Enqueue(ctx, tx, m); err != nil {
				return fmt.Errorf("incident: queue draft reminder: %w", err)
			}
			queued = append(queued, DraftReminded{DraftID: r.id, UserID: r.userID, DeleteOn: deleteOn.UTC()})
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return found, queued, nil
}
