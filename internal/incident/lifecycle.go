package incident

import (
	"context"
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

// Work reminds first and deletes second, so a draft whose owner is due a
// reminder is never deleted in the same sweep that reminds them.
func (w *draftWorker) Work(ctx context.Context, job *river.Job[DraftSweepArgs]) error {
	// Settings that would delete every draft at once are a wiring mistake
	// (configuration checks them); refuse rather than delete.
	if w.retention.Remind <= 0 || w.retention.Keep <= w.retention.Remind {
		return river.JobCancel(fmt.Errorf("incident: draft retention %s with reminder %s: the reminder must be positive and shorter",
			w.retention.Keep, w.retention.Remind))
	}
	reminded := 0
	for {
		found, queued, err := w.remindBatch(ctx)
		reminded += queued
		if err != nil {
			return err
		}
		if found < draftBatch {
			break
		}
	}
	deleted, err := w.deleteExpired(ctx)
	if err != nil {
		return err
	}
	if reminded > 0 || deleted > 0 {
		w.logger.InfoContext(ctx, "drafts swept", "reminded", reminded, "deleted", deleted)
	}
	return nil
}

// remindBatch queues reminders for up to draftBatch drafts of active users
// that are due one, and marks them reminded in the same transaction, so a
// crash or a second sweep never emails anyone twice. It returns how many
// drafts it found and how many reminders it queued.
func (w *draftWorker) remindBatch(ctx context.Context) (found, queued int, err error) {
	err = w.db.InTx(ctx, func(tx *db.Tx) error {
		due := tx.Now.Add(-(w.retention.Keep - w.retention.Remind))
		type reminder struct {
			id               int64
			eventType        Type
			created, updated time.Time
			email, name      string
		}
		rows, err := tx.QueryContext(ctx, `SELECT d.id, d.event_type, d.created_at, d.updated_at, u.email, u.name
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
			if err := rows.Scan(&r.id, &r.eventType, &r.created, &r.updated, &r.email, &r.name); err != nil {
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
			deleteOn := r.updated.Add(w.retention.Keep)
			if earliest := tx.Now.Add(w.retention.Remind); deleteOn.Before(earliest) {
				deleteOn = earliest
			}
			m := mail.DraftReminder(r.email, r.name, r.eventType.Label(), r.created, deleteOn, w.draftsURL)
			if _, err := w.outbox.Enqueue(ctx, tx, m); err != nil {
				return fmt.Errorf("incident: queue draft reminder: %w", err)
			}
			queued++
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return found, queued, nil
}

// deleteExpired deletes the drafts not saved within Keep, except those
// whose reminder went less than Remind ago.
func (w *draftWorker) deleteExpired(ctx context.Context) (int, error) {
	now := w.db.Now()
	res, err := w.db.ExecContext(ctx, `DELETE FROM drafts WHERE updated_at < $1 AND (reminded_at IS NULL OR reminded_at < $2)`,
		now.Add(-w.retention.Keep), now.Add(-w.retention.Remind))
	if err != nil {
		return 0, fmt.Errorf("incident: delete expired drafts: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
