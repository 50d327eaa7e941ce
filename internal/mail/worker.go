package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/psims/psims/internal/db"
)

// MaxAttempts is how many times a message is tried before it is marked
// failed. With River's default backoff (attempt⁴ seconds) the last try comes
// about 80 minutes after the first.
const MaxAttempts = 8

// SendArgs is the send_mail job: deliver one outbox message.
type SendArgs struct {
	OutboxID int64 `json:"outbox_id"`
}

// Kind names the job in River.
func (SendArgs) Kind() string { return "send_mail" }

// InsertOpts sets how many times a message is tried, and makes a message
// have at most one job waiting or running, so Requeue never doubles one.
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: MaxAttempts, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled},
	}}
}

// AddWorker registers the send_mail worker. sender may be nil (no SMTP
// configured): messages then stay queued in the outbox, and each job logs
// one line saying so.
func AddWorker(workers *river.Workers, d *db.DB, sender *Sender, logger *slog.Logger) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	river.AddWorker(workers, &sendWorker{db: d, sender: sender, logger: logger})
}

type sendWorker struct {
	river.WorkerDefaults[SendArgs]
	db     *db.DB
	sender *Sender
	logger *slog.Logger
}

// Work sends one message. Sending happens outside any transaction (a slow
// SMTP server must not hold SQLite's one writer), so a crash between the
// server's acceptance and the update below sends the message again: at
// least once, never lost.
func (w *sendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	id := job.Args.OutboxID
	var m Message
	var secret sql.NullString
	var status, key string
	err := w.db.QueryRowContext(ctx, `SELECT to_addr, subject, body_text, body_html, secret, status, message_key, category, list_unsubscribe, batch
		FROM outbox WHERE id = $1`, id).
		Scan(&m.To, &m.Subject, &m.Text, &m.HTML, &secret, &status, &key, &m.Category, &m.ListUnsubscribe, &m.Batch)
	if errors.Is(err, sql.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("mail: outbox message %d does not exist", id))
	}
	if err != nil {
		return fmt.Errorf("mail: load outbox message %d: %w", id, err)
	}
	if status == StatusSent || status == StatusFailed {
		return nil
	}
	if w.sender == nil {
		w.logger.InfoContext(ctx, "mail: no SMTP server configured; message stays in the outbox",
			"outbox_id", id, "subject", m.Subject)
		return nil
	}
	m.Secret = secret.String

	sendErr := w.sender.Send(ctx, key, m)
	if sendErr == nil {
		err := w.db.InTx(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE outbox SET status = $1, sent_at = $2, secret = NULL, attempts = attempts + 1, last_error = ''
				WHERE id = $3`, StatusSent, tx.Now, id)
			return err
		})
		if err != nil {
			return fmt.Errorf("mail: mark outbox message %d sent: %w", id, err)
		}
		w.logger.InfoContext(ctx, "mail: sent", "outbox_id", id)
		return nil
	}

	// The error goes to last_error, River's job record and the log, so it
	// is cut down to one line with no link and no recipients. It is not
	// wrapped, so nothing longer can leak out through it.
	short := shortError(sendErr, m.Secret)
	final := job.Attempt >= job.MaxAttempts
	err = w.db.InTx(ctx, func(tx *db.Tx) error {
		if final {
			_, err := tx.ExecContext(ctx, `UPDATE outbox SET status = $1, secret = NULL, attempts = attempts + 1, last_error = $2
				WHERE id = $3`, StatusFailed, short, id)
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET status = $1, attempts = attempts + 1, last_error = $2
			WHERE id = $3`, StatusRetrying, short, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("mail: record failure of outbox message %d: %w", id, err)
	}
	if final {
		w.logger.ErrorContext(ctx, "mail: giving up on message", "outbox_id", id, "attempt", job.Attempt, "error", short)
	} else {
		w.logger.WarnContext(ctx, "mail: send failed; will retry", "outbox_id", id, "attempt", job.Attempt, "error", short)
	}
	return fmt.Errorf("mail: send outbox message %d: %s", id, short)
}
