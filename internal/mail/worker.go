package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	gomail "github.com/wneessen/go-mail"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/ratelimit"
)

// MaxAttempts is how many times a message is tried before it is marked
// failed for temporary reasons. The waits between tries are retryDelay's:
// the last try comes about 15 and a half hours after the first.
const MaxAttempts = 8

// retryDelay is the wait after the attempt'th try (1 is the first) failed
// for a temporary reason: 1 minute, then 5 and 15 minutes, 1, 2, 4 and 8
// hours, and 8 hours for any try after that.
func retryDelay(attempt int) time.Duration {
	delays := [...]time.Duration{
		time.Minute, 5 * time.Minute, 15 * time.Minute,
		time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour,
	}
	i := min(max(attempt, 1), len(delays)) - 1
	return delays[i]
}

// Last errors the worker writes itself.
const (
	// ErrorUncertain is the last error of a message left uncertain.
	ErrorUncertain = "An earlier try was cut off after it started and before its outcome was recorded: the message may have been sent. It will not be sent again unless someone chooses Send again."
	// ErrorUnanswered is the last error of a message left uncertain
	// because the connection failed after the whole message was sent and
	// before the server answered.
	ErrorUnanswered = "The connection to the mail relay was lost after the whole message was sent and before the relay answered: the message may have been delivered. It will not be sent again unless someone chooses Send again."
	// ErrorUnchecked is the last error of a newsletter or invitation
	// given up on because no try could check that its recipient wants it.
	ErrorUnchecked = "Not sent: whether the recipient still wants these messages could not be checked on any try."
	// ErrorUnwanted is the last error of a newsletter or invitation
	// cancelled because its recipient no longer wants such messages.
	ErrorUnwanted = "Not sent: the recipient no longer wants these messages."
)

// tryLimit is how long a try can last (Send gives up after sendTimeout),
// with room to spare: a try recorded longer ago with no outcome was cut
// off.
const tryLimit = 2 * sendTimeout

// rateKey is the rate limit bucket every process's sending shares.
const rateKey = "mail:smtp-send"

// DefaultRate is how many messages a second are sent by default (--smtp-rate).
const DefaultRate = 10.0

// Recheck reports whether the recipient to still wants messages of
// category (newsletter or invitation) from batch, asked just before each
// try. An error leaves the message to be tried again later.
type Recheck func(ctx context.Context, to, category, batch string) (bool, error)

// WorkerOptions are the send_mail worker's settings.
type WorkerOptions struct {
	// Rate is how many messages a second every process together sends at
	// most; 0 is no limit.
	Rate float64
	// Recheck is asked before sending a newsletter or invitation; nil
	// sends them without asking. Service notices are never rechecked.
	Recheck Recheck
}

// SendArgs is the send_mail job: deliver one outbox message.
type SendArgs struct {
	OutboxID int64 `json:"outbox_id"`
	// Resend is, for a job made by Send again, how many tries the message
	// had had. It makes each Send again a job of its own, as the job that
	// gave up may not yet be marked finished in River.
	Resend int `json:"resend,omitempty"`
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

// limiter takes a token from a shared bucket; *ratelimit.Store is one.
type limiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (ratelimit.Decision, error)
}

// rateBucket turns a rate in messages a second into a bucket of limit
// tokens refilled every window: the rate rounded to a whole number a second,
// or one message every so many seconds below one a second.
func rateBucket(rate float64) (limit int, window time.Duration) {
	limit = max(int(math.Round(rate)), 1)
	return limit, time.Duration(float64(limit) / rate * float64(time.Second))
}

// AddWorker registers the send_mail worker. sender may be nil (no SMTP
// configured): messages then stay queued in the outbox, and each job logs
// one line saying so. With opts.Rate above zero, sending is limited through
// the database's rate limit table, so every process shares the rate.
func AddWorker(workers *river.Workers, d *db.DB, sender *Sender, logger *slog.Logger, opts WorkerOptions) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	w := &sendWorker{db: d, sender: sender, logger: logger, recheck: opts.Recheck}
	if opts.Rate > 0 {
		w.limit = ratelimit.New(d)
		w.rateLimit, w.rateWindow = rateBucket(opts.Rate)
	}
	river.AddWorker(workers, w)
}

type sendWorker struct {
	river.WorkerDefaults[SendArgs]
	db      *db.DB
	sender  *Sender
	logger  *slog.Logger
	recheck Recheck
	// limit is nil for no rate limit; otherwise rateLimit messages every
	// rateWindow.
	limit      limiter
	rateLimit  int
	rateWindow time.Duration
}

// NextRetry waits retryDelay after a temporary failure.
func (w *sendWorker) NextRetry(job *river.Job[SendArgs]) time.Time {
	return time.Now().Add(retryDelay(job.Attempt))
}

// outboxRow is what the worker reads of a message.
type outboxRow struct {
	m         Message
	status    string
	key       string
	startedAt sql.NullTime
}

// Work sends one message at most once. Sending happens outside any
// transaction (a slow SMTP server must not hold SQLite's one writer), so the
// try is recorded and committed first (send_started_at), and its outcome
// after. A job that finds a try recorded with no outcome knows an earlier
// try was cut off, perhaps after the server took the message: it marks the
// message uncertain and does not send it.
func (w *sendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	id := job.Args.OutboxID
	r, err := w.load(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("mail: outbox message %d does not exist", id))
	}
	if err != nil {
		return err
	}
	if r.status != StatusQueued && r.status != StatusRetrying {
		return nil
	}
	if w.sender == nil {
		w.logger.InfoContext(ctx, "mail: no SMTP server configured; message stays in the outbox",
			"outbox_id", id, "subject", r.m.Subject)
		return nil
	}
	if r.startedAt.Valid {
		// A try that began within tryLimit may still be going on in
		// another job (a Send again made while a job was ending); come
		// back when it must be over. One older was cut off.
		if since := w.db.Now().Sub(r.startedAt.Time); since < tryLimit {
			return river.JobSnooze(tryLimit - since)
		}
		return w.markUncertain(ctx, id, ErrorUncertain)
	}
	if w.limit != nil {
		dec, err := w.limit.Allow(ctx, rateKey, w.rateLimit, w.rateWindow, w.db.Now())
		if err != nil {
			return fmt.Errorf("mail: rate limit: %w", err)
		}
		if !dec.Allowed {
			// Snoozing frees the worker for other jobs and does not count
			// as a try. The jitter spreads the snoozed jobs out.
			wait := dec.RetryAfter + rand.N(w.rateWindow)
			w.logger.DebugContext(ctx, "mail: rate limit reached; snoozed", "outbox_id", id, "wait", wait)
			return river.JobSnooze(wait)
		}
	}
	if r.m.Category != CategoryService && w.recheck != nil {
		wanted, err := w.recheck(ctx, r.m.To, r.m.Category, r.m.Batch)
		if err != nil && job.Attempt >= job.MaxAttempts {
			// Never known to be wanted: give up rather than leave it
			// queued with no job.
			if err := w.markUnchecked(ctx, id); err != nil {
				return err
			}
			return river.JobCancel(fmt.Errorf("mail: recheck outbox message %d: %w", id, err))
		}
		if err != nil {
			return fmt.Errorf("mail: recheck outbox message %d: %w", id, err)
		}
		if !wanted {
			return w.markCancelled(ctx, id)
		}
	}
	started, err := w.startTry(ctx, id)
	if err != nil || !started {
		return err
	}

	sendErr := w.sender.Send(ctx, r.key, r.m)
	if sendErr == nil {
		err := w.db.InTx(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE outbox SET status = $1, sent_at = $2, secret = NULL, send_started_at = NULL, last_error = ''
				WHERE id = $3`, StatusSent, tx.Now, id)
			return err
		})
		if err != nil {
			// The next job finds the try recorded with no outcome and
			// marks the message uncertain: it was sent, but that cannot be
			// known from the database.
			return fmt.Errorf("mail: mark outbox message %d sent: %w", id, err)
		}
		w.logger.InfoContext(ctx, "mail: sent", "outbox_id", id)
		return nil
	}

	// The error goes to last_error, River's job record and the log, so it
	// is cut down to one line with no link and no recipients. It is not
	// wrapped, so nothing longer can leak out through it.
	short := shortError(sendErr, r.m.Secret)
	if isAmbiguous(sendErr) {
		w.logger.ErrorContext(ctx, "mail: connection lost before the server answered", "outbox_id", id, "error", short)
		return w.markUncertain(ctx, id, ErrorUnanswered)
	}
	permanent := isPermanent(sendErr)
	final := permanent || job.Attempt >= job.MaxAttempts
	err = w.db.InTx(ctx, func(tx *db.Tx) error {
		if final {
			_, err := tx.ExecContext(ctx, `UPDATE outbox SET status = $1, secret = NULL, send_started_at = NULL, last_error = $2
				WHERE id = $3`, StatusFailed, short, id)
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET status = $1, send_started_at = NULL, last_error = $2
			WHERE id = $3`, StatusRetrying, short, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("mail: record failure of outbox message %d: %w", id, err)
	}
	switch {
	case permanent:
		w.logger.ErrorContext(ctx, "mail: refused permanently; not retrying", "outbox_id", id, "attempt", job.Attempt, "error", short)
		return river.JobCancel(fmt.Errorf("mail: send outbox message %d: %s", id, short))
	case final:
		w.logger.ErrorContext(ctx, "mail: giving up on message", "outbox_id", id, "attempt", job.Attempt, "error", short)
		return river.JobCancel(fmt.Errorf("mail: send outbox message %d: %s", id, short))
	}
	w.logger.WarnContext(ctx, "mail: send failed; will retry", "outbox_id", id, "attempt", job.Attempt,
		"retry_in", retryDelay(job.Attempt), "error", short)
	return fmt.Errorf("mail: send outbox message %d: %s", id, short)
}

// load reads message id; sql.ErrNoRows if there is none.
func (w *sendWorker) load(ctx context.Context, id int64) (outboxRow, error) {
	var r outboxRow
	var secret sql.NullString
	err := w.db.QueryRowContext(ctx, `SELECT to_addr, subject, body_text, body_html, secret, status, message_key, category, list_unsubscribe, batch, send_started_at
		FROM outbox WHERE id = $1`, id).
		Scan(&r.m.To, &r.m.Subject, &r.m.Text, &r.m.HTML, &secret, &r.status, &r.key, &r.m.Category, &r.m.ListUnsubscribe, &r.m.Batch, &r.startedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return r, err
	}
	if err != nil {
		return r, fmt.Errorf("mail: load outbox message %d: %w", id, err)
	}
	r.m.Secret = secret.String
	return r, nil
}

// startTry records, and commits, that a try of message id begins. It
// reports false when the message is no longer waiting or another try has
// begun since it was read: then this job does nothing.
func (w *sendWorker) startTry(ctx context.Context, id int64) (bool, error) {
	var n int64
	err := w.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET send_started_at = $1, attempts = attempts + 1
			WHERE id = $2 AND send_started_at IS NULL AND status IN ($3, $4)`, tx.Now, id, StatusQueued, StatusRetrying)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("mail: record try of outbox message %d: %w", id, err)
	}
	return n == 1, nil
}

// markUncertain leaves message id, whose last try may have delivered it,
// for a person, with lastError saying why, and drops its link: the link may
// have been delivered.
func (w *sendWorker) markUncertain(ctx context.Context, id int64, lastError string) error {
	err := w.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET status = $1, secret = NULL, send_started_at = NULL, last_error = $2
			WHERE id = $3 AND send_started_at IS NOT NULL AND status IN ($4, $5)`, StatusUncertain, lastError, id, StatusQueued, StatusRetrying)
		return err
	})
	if err != nil {
		return fmt.Errorf("mail: mark outbox message %d uncertain: %w", id, err)
	}
	w.logger.ErrorContext(ctx, "mail: a try may have sent the message (cut off, or no answer from the server); it is not sent again without a person's say",
		"outbox_id", id)
	return nil
}

// markCancelled gives up on a newsletter or invitation whose recipient no
// longer wants it.
func (w *sendWorker) markCancelled(ctx context.Context, id int64) error {
	err := w.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET status = $1, secret = NULL, last_error = $2
			WHERE id = $3 AND status IN ($4, $5)`, StatusCancelled, ErrorUnwanted, id, StatusQueued, StatusRetrying)
		return err
	})
	if err != nil {
		return fmt.Errorf("mail: cancel outbox message %d: %w", id, err)
	}
	w.logger.InfoContext(ctx, "mail: recipient no longer wants these messages; cancelled", "outbox_id", id)
	return nil
}

// markUnchecked gives up on a newsletter or invitation whose recipient's
// wishes could not be checked on any try.
func (w *sendWorker) markUnchecked(ctx context.Context, id int64) error {
	err := w.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET status = $1, secret = NULL, last_error = $2
			WHERE id = $3 AND status IN ($4, $5)`, StatusFailed, ErrorUnchecked, id, StatusQueued, StatusRetrying)
		return err
	})
	if err != nil {
		return fmt.Errorf("mail: fail outbox message %d: %w", id, err)
	}
	w.logger.ErrorContext(ctx, "mail: could not check whether the recipient wants this message; giving up", "outbox_id", id)
	return nil
}

// isPermanent reports whether err is the SMTP server's permanent refusal
// (a 5xx answer). Anything else, a 4xx or a network problem, may pass.
func isPermanent(err error) bool {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return false
	}
	return se.ErrorCode() >= 500 && se.ErrorCode() <= 599
}
