package newsletter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
)

// SendArgs is the newsletter_send job: queue the messages of one mailing.
type SendArgs struct {
	NewsletterID int64 `json:"newsletter_id"`
}

// Kind names the job in River.
func (SendArgs) Kind() string { return "newsletter_send" }

// uniqueStates are the job states in which a second job with the same
// arguments is not inserted.
var uniqueStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
	rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}

// InsertOpts keeps one send job per mailing waiting or running at a time.
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueStates}}
}

// DueArgs is the newsletter_due job: start the scheduled mailings whose
// time has come.
type DueArgs struct{}

// Kind names the job in River.
func (DueArgs) Kind() string { return "newsletter_due" }

// InsertOpts keeps one due job waiting or running at a time.
func (DueArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueStates}}
}

// DueInterval is how often scheduled mailings are looked for: a mailing
// starts within this long after its time.
const DueInterval = time.Minute

// Scheduler runs a job every interval, once across processes; *jobs.Runner
// is one.
type Scheduler interface {
	Every(interval time.Duration, args river.JobArgs)
}

// AddWorkers registers the send and due jobs of the service that svc
// returns (called when a job runs, so the service may be made after the
// job runner) and schedules the due job.
func AddWorkers(workers *river.Workers, sched Scheduler, svc func() *Service, logger *slog.Logger) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	river.AddWorker(workers, &sendWorker{svc: svc, logger: logger})
	river.AddWorker(workers, &dueWorker{svc: svc})
	sched.Every(DueInterval, DueArgs{})
}

type sendWorker struct {
	river.WorkerDefaults[SendArgs]
	svc    func() *Service
	logger *slog.Logger
}

func (w *sendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	n, err := w.svc().SendAll(ctx, job.Args.NewsletterID)
	if err == nil {
		w.logger.InfoContext(ctx, "newsletter queued", "newsletter", job.Args.NewsletterID, "messages", n)
	}
	return err
}

type dueWorker struct {
	river.WorkerDefaults[DueArgs]
	svc func() *Service
}

func (w *dueWorker) Work(ctx context.Context, _ *river.Job[DueArgs]) error {
	_, err := w.svc().StartDue(ctx)
	return err
}

// SendAll queues the mailing's messages batch after batch until every
// recipient has one or the mailing is cancelled, and returns how many it
// queued. Safe to run again at any point: each batch commits with the
// cursor, so a run cut short resumes after the last committed batch.
func (s *Service) SendAll(ctx context.Context, id int64) (int, error) {
	total := 0
	for {
		n, done, err := s.SendBatch(ctx, id)
		total += n
		if err != nil || done {
			return total, err
		}
	}
}

// SendBatch queues the messages of the next batch of the mailing's
// recipients (those after its cursor), moves the cursor past them and
// counts them, all in one transaction. done is true when no recipient is
// left, and the mailing is then marked sent and audited, or when it is
// not being sent (cancelled, or already sent).
func (s *Service) SendBatch(ctx context.Context, id int64) (queued int, done bool, err error) {
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		// Two runs at once (a retried job beside a slow one) would read
		// the same cursor: the update below makes the second wait for
		// the first's commit and then find the cursor moved.
		res, err := tx.ExecContext(ctx, `UPDATE newsletters SET updated_at = updated_at WHERE id = $1 AND status = $2`,
			id, string(StatusSending))
		if err != nil {
			return fmt.Errorf("newsletter: lock %d: %w", id, err)
		}
		if k, err := res.RowsAffected(); err != nil || k == 0 {
			done = true
			return err
		}
		n, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		people, err := s.parts.Recipients.Contactable(ctx, tx, n.filter(), n.Cursor, s.batchSize)
		if err != nil {
			return err
		}
		cursor := n.Cursor
		for _, p := range people {
			m, err := s.Message(n, p)
			if err != nil {
				return err
			}
			if _, err := s.parts.Outbox.Enqueue(ctx, tx, m); err != nil {
				return fmt.Errorf("newsletter: queue %d for user %d: %w", id, p.ID, err)
			}
			cursor = p.ID
		}
		queued = len(people)
		if len(people) < s.batchSize {
			done = true
			if _, err := tx.ExecContext(ctx, `UPDATE newsletters SET cursor_user_id = $1, queued = queued + $2, status = $3,
				finished_at = $4, updated_at = $4 WHERE id = $5`, cursor, queued, string(StatusSent), tx.Now, id); err != nil {
				return fmt.Errorf("newsletter: finish %d: %w", id, err)
			}
			return audit.Record(ctx, tx, audit.Entry{Action: "newsletter.sent", SubjectType: "newsletter",
				SubjectID: strconv.FormatInt(id, 10), Details: map[string]string{"kind": string(n.Kind),
					"messages": strconv.Itoa(n.Queued + queued)}})
		}
		if _, err := tx.ExecContext(ctx, `UPDATE newsletters SET cursor_user_id = $1, queued = queued + $2, updated_at = $3
			WHERE id = $4`, cursor, queued, tx.Now, id); err != nil {
			return fmt.Errorf("newsletter: move cursor %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	return queued, done, nil
}

// StartDue starts every scheduled mailing whose time has come (each
// marked sending, its send job queued and the start audited, in one
// transaction), gives a send job to any mailing left sending without one
// (the job's uniqueness keeps it to one), and returns how many it started.
func (s *Service) StartDue(ctx context.Context) (int, error) {
	started := 0
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, status FROM newsletters
			WHERE (status = $1 AND send_at <= $2) OR status = $3 ORDER BY id`,
			string(StatusScheduled), tx.Now, string(StatusSending))
		if err != nil {
			return fmt.Errorf("newsletter: due: %w", err)
		}
		type due struct {
			id     int64
			status Status
		}
		var list []due
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.id, &d.status); err != nil {
				rows.Close()
				return fmt.Errorf("newsletter: due: %w", err)
			}
			list = append(list, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("newsletter: due: %w", err)
		}
		for _, d := range list {
			if d.status == StatusSending {
				if err := s.parts.Jobs.InsertTx(ctx, tx, SendArgs{NewsletterID: d.id}, nil); err != nil {
					return err
				}
				continue
			}
			if err := s.start(ctx, tx, d.id); err != nil {
				return err
			}
			if err := audit.Record(ctx, tx, audit.Entry{Action: "newsletter.start", SubjectType: "newsletter",
				SubjectID: strconv.FormatInt(d.id, 10), Details: map[string]string{"scheduled": "true"}}); err != nil {
				return err
			}
			started++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return started, nil
}

// errNoKey is returned when the service was made without a signing key.
var errNoKey = errors.New("newsletter: no unsubscribe signing key")
