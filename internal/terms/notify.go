package terms

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

// NoticeArgs is the document_notice job: email every active user that a
// material version of a document was published (T19).
type NoticeArgs struct {
	DocumentID int64 `json:"document_id"`
}

// Kind names the job in River.
func (NoticeArgs) Kind() string { return "document_notice" }

// InsertOpts keeps one job per document waiting or running.
func (NoticeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 25, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled},
	}}
}

// queueNotice records that the document's notice is due and queues the
// job, in the publishing transaction.
func (s *Service) queueNotice(ctx context.Context, tx *db.Tx, documentID int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO document_notices (document_id) VALUES ($1)`, documentID); err != nil {
		return fmt.Errorf("terms: record notice: %w", err)
	}
	if err := s.jobs.InsertTx(ctx, tx, NoticeArgs{DocumentID: documentID}, nil); err != nil {
		return fmt.Errorf("terms: queue notice: %w", err)
	}
	return nil
}

// Outbox queues email in the caller's transaction.
type Outbox interface {
	Enqueue(ctx context.Context, tx *db.Tx, m mail.Message) (int64, error)
}

// noticeBatch is how many users one transaction of the notice job covers.
const noticeBatch = 500

// AddNoticeWorker registers the document_notice worker. reviewURL is the
// address of the review page in emails.
func AddNoticeWorker(workers *river.Workers, d *db.DB, outbox Outbox, reviewURL string, logger *slog.Logger) {
	river.AddWorker(workers, &noticeWorker{db: d, outbox: outbox, reviewURL: reviewURL, logger: logger})
}

type noticeWorker struct {
	river.WorkerDefaults[NoticeArgs]
	db        *db.DB
	outbox    Outbox
	reviewURL string
	logger    *slog.Logger
}

// Timeout lets a notice to a very large user base run to the end.
func (w *noticeWorker) Timeout(*river.Job[NoticeArgs]) time.Duration { return time.Hour }

// Work queues the emails batch by batch, each batch in one transaction
// that also moves the progress marker, so a crash or restart resumes where
// it stopped and nobody is emailed twice.
func (w *noticeWorker) Work(ctx context.Context, job *river.Job[NoticeArgs]) error {
	for {
		done, err := w.batch(ctx, job.Args.DocumentID)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

func (w *noticeWorker) batch(ctx context.Context, documentID int64) (done bool, err error) {
	err = w.db.InTx(ctx, func(tx *db.Tx) error {
		var last int64
		var finished bool
		err := tx.QueryRowContext(ctx, `SELECT last_user_id, finished_at IS NOT NULL FROM document_notices WHERE document_id = $1`,
			documentID).Scan(&last, &finished)
		if err != nil {
			return fmt.Errorf("terms: notice progress: %w", err)
		}
		if finished {
			done = true
			return nil
		}
		var doc Document
		doc, err = scanDocument(tx.QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents WHERE id = $1`, documentID))
		if err != nil {
			return fmt.Errorf("terms: notice document: %w", err)
		}
		type recipient struct {
			id          int64
			email, name string
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, email, name FROM users WHERE status = 'active' AND id > $1
			ORDER BY id LIMIT $2`, last, noticeBatch)
		if err != nil {
			return fmt.Errorf("terms: notice recipients: %w", err)
		}
		var batch []recipient
		for rows.Next() {
			var r recipient
			if err := rows.Scan(&r.id, &r.email, &r.name); err != nil {
				rows.Close()
				return fmt.Errorf("terms: scan recipient: %w", err)
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("terms: notice recipients: %w", err)
		}
		for _, r := range batch {
			m := mail.DocumentChanged(r.email, r.name, doc.Kind.Label(), doc.Summary, w.reviewURL)
			if _, err := w.outbox.Enqueue(ctx, tx, m); err != nil {
				return fmt.Errorf("terms: queue notice email: %w", err)
			}
			last = r.id
		}
		if len(batch) < noticeBatch {
			done = true
			_, err = tx.ExecContext(ctx, `UPDATE document_notices SET last_user_id = $1, queued = queued + $2, finished_at = $3
				WHERE document_id = $4`, last, len(batch), tx.Now, documentID)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE document_notices SET last_user_id = $1, queued = queued + $2
				WHERE document_id = $3`, last, len(batch), documentID)
		}
		if err != nil {
			return fmt.Errorf("terms: notice progress: %w", err)
		}
		if done {
			w.logger.InfoContext(ctx, "document notice queued", "kind", doc.Kind, "version", doc.Version)
		}
		return nil
	})
	return done, err
}
