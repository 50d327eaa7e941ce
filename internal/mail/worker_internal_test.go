package mail

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/mail/smtptest"
	"github.com/psims/psims/internal/ratelimit"
)

// noJobs stands in for the job runner: the test calls the worker itself.
type noJobs struct{}

func (noJobs) InsertTx(context.Context, *db.Tx, river.JobArgs, *river.InsertOpts) error { return nil }

func (noJobs) InsertManyTx(context.Context, *db.Tx, []river.InsertManyParams) error { return nil }

func TestTheLastFailedTryMarksTheMessageFailedAndDropsTheLink(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		srv := smtptest.Start(t)
		sender, err := NewSender(srv.URL(), "")
		if err != nil {
			t.Fatal(err)
		}
		o := NewOutbox(d, noJobs{}, nil)
		const link = "https://psims.example/reset?token=s3cret"
		var id int64
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			id, err = o.Enqueue(ctx, tx, ResetPassword("dan@example.nhs.uk", "Dan", link))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		w := &sendWorker{db: d, sender: sender, logger: slog.New(slog.DiscardHandler)}
		job := func(attempt int) *river.Job[SendArgs] {
			return &river.Job[SendArgs]{JobRow: &rivertype.JobRow{Attempt: attempt, MaxAttempts: MaxAttempts}, Args: SendArgs{OutboxID: id}}
		}

		srv.FailNext(2)
		err = w.Work(ctx, job(MaxAttempts-1))
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("second-to-last try: err = %v", err)
		}
		status, attempts, secret := state(t, d, id)
		if status != StatusRetrying || attempts != 1 || !secret.Valid {
			t.Fatalf("after a failed try: %s, %d attempts, secret kept %v", status, attempts, secret.Valid)
		}

		if err := w.Work(ctx, job(MaxAttempts)); err == nil {
			t.Fatal("last try succeeded against a failing server")
		}
		status, attempts, secret = state(t, d, id)
		if status != StatusFailed || attempts != 2 || secret.Valid {
			t.Fatalf("after the last try: %s, %d attempts, secret kept %v; want failed, 2, dropped", status, attempts, secret.Valid)
		}
		entries, err := o.List(ctx, "", 1)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(entries[0].Text, LinkRemovedFailed) || !strings.Contains(entries[0].LastError, "451") {
			t.Errorf("listed as %+v", entries[0])
		}
		depth, err := o.QueueDepth(ctx)
		if err != nil || depth != 0 {
			t.Errorf("queue depth %d (%v), want 0", depth, err)
		}

		// A job run again for a message already given up on does nothing.
		if err := w.Work(ctx, job(1)); err != nil {
			t.Fatalf("work on a failed message: %v", err)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Fatalf("%d messages delivered", n)
		}
	})
}

func state(t *testing.T, d *db.DB, id int64) (status string, attempts int, secret sql.NullString) {
	t.Helper()
	err := d.QueryRowContext(context.Background(), `SELECT status, attempts, secret FROM outbox WHERE id = $1`, id).Scan(&status, &attempts, &secret)
	if err != nil {
		t.Fatal(err)
	}
	return status, attempts, secret
}

// A try recorded moments ago may still be going on in another job: the
// job waits for it instead of calling the message uncertain.
func TestATryStillInFlightIsWaitedForNotMarkedUncertain(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		srv := smtptest.Start(t)
		sender, err := NewSender(srv.URL(), "")
		if err != nil {
			t.Fatal(err)
		}
		o := NewOutbox(d, noJobs{}, nil)
		var id int64
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			if id, err = o.Enqueue(ctx, tx, AccountLocked("oli@example.nhs.uk", "Oli")); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE outbox SET send_started_at = $1, attempts = 1 WHERE id = $2`, tx.Now, id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		w := &sendWorker{db: d, sender: sender, logger: slog.New(slog.DiscardHandler)}
		err = w.Work(ctx, &river.Job[SendArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: MaxAttempts}, Args: SendArgs{OutboxID: id}})
		var snooze *river.JobSnoozeError
		if !errors.As(err, &snooze) || snooze.Duration <= 0 || snooze.Duration > tryLimit {
			t.Fatalf("work = %v, want a snooze of up to %v", err, tryLimit)
		}
		if status, attempts, _ := state(t, d, id); status != StatusQueued || attempts != 1 {
			t.Errorf("%s, %d attempts; want queued, 1", status, attempts)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("%d messages sent", n)
		}
	})
}

// Beyond the rate, a job is snoozed: it is not a try and sends nothing.
func TestAJobBeyondTheRateIsSnoozedWithoutATry(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		srv := smtptest.Start(t)
		sender, err := NewSender(srv.URL(), "")
		if err != nil {
			t.Fatal(err)
		}
		o := NewOutbox(d, noJobs{}, nil)
		var ids []int64
		for _, to := range []string{"pat@example.nhs.uk", "quin@example.nhs.uk"} {
			if err := d.InTx(ctx, func(tx *db.Tx) error {
				id, err := o.Enqueue(ctx, tx, AccountLocked(to, "P"))
				ids = append(ids, id)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		// One message an hour: the first goes, the second waits.
		w := &sendWorker{db: d, sender: sender, logger: slog.New(slog.DiscardHandler), limit: ratelimit.New(d)}
		w.rateLimit, w.rateWindow = rateBucket(1.0 / 3600)
		if w.rateLimit != 1 || w.rateWindow != time.Hour {
			t.Fatalf("bucket %d per %v, want 1 per hour", w.rateLimit, w.rateWindow)
		}
		job := func(id int64) *river.Job[SendArgs] {
			return &river.Job[SendArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: MaxAttempts}, Args: SendArgs{OutboxID: id}}
		}
		if err := w.Work(ctx, job(ids[0])); err != nil {
			t.Fatal(err)
		}
		err = w.Work(ctx, job(ids[1]))
		var snooze *river.JobSnoozeError
		if !errors.As(err, &snooze) || snooze.Duration < 59*time.Minute {
			t.Fatalf("second job: %v, want snoozed for about an hour", err)
		}
		if status, attempts, _ := state(t, d, ids[1]); status != StatusQueued || attempts != 0 {
			t.Errorf("snoozed message: %s, %d attempts; want queued, untried", status, attempts)
		}
		if n := len(srv.Messages()); n != 1 {
			t.Errorf("%d messages sent, want 1", n)
		}
	})
}

func TestRateBucketsAndRetryDelays(t *testing.T) {
	for rate, want := range map[float64]struct {
		limit  int
		window time.Duration
	}{10: {10, time.Second}, 0.5: {1, 2 * time.Second}, 2.5: {3, 1200 * time.Millisecond}} {
		if l, w := rateBucket(rate); l != want.limit || w != want.window {
			t.Errorf("rate %v: %d per %v, want %d per %v", rate, l, w, want.limit, want.window)
		}
	}
	var got []time.Duration
	for attempt := 1; attempt < MaxAttempts; attempt++ {
		got = append(got, retryDelay(attempt))
	}
	want := []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour}
	if !slices.Equal(got, want) {
		t.Errorf("retry delays %v, want %v", got, want)
	}
}

// A newsletter whose recipient's wishes cannot be checked is tried again,
// and on the last try given up on as failed, never sent unchecked.
func TestARecheckThatNeverAnswersFailsTheMessageOnTheLastTry(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		srv := smtptest.Start(t)
		sender, err := NewSender(srv.URL(), "")
		if err != nil {
			t.Fatal(err)
		}
		o := NewOutbox(d, noJobs{}, nil)
		var id int64
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			id, err = o.Enqueue(ctx, tx, Message{To: "wyn@example.nhs.uk", Subject: "News", Text: "News.", Category: CategoryInvitation,
				ListUnsubscribe: "https://psims.example/unsubscribe/w", Batch: "survey:1"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		recheck := func(context.Context, string, string, string) (bool, error) {
			return false, errors.New("consent store away")
		}
		w := &sendWorker{db: d, sender: sender, logger: slog.New(slog.DiscardHandler), recheck: recheck}
		job := func(attempt int) *river.Job[SendArgs] {
			return &river.Job[SendArgs]{JobRow: &rivertype.JobRow{Attempt: attempt, MaxAttempts: MaxAttempts}, Args: SendArgs{OutboxID: id}}
		}
		if err := w.Work(ctx, job(1)); err == nil {
			t.Fatal("first try: no error to retry on")
		}
		if status, attempts, _ := state(t, d, id); status != StatusQueued || attempts != 0 {
			t.Fatalf("after the first try: %s, %d attempts; want queued, untried", status, attempts)
		}
		var cancel *river.JobCancelError
		if err := w.Work(ctx, job(MaxAttempts)); !errors.As(err, &cancel) {
			t.Fatalf("last try: %v, want the job cancelled", err)
		}
		var lastError string
		if err := d.QueryRowContext(ctx, `SELECT last_error FROM outbox WHERE id = $1`, id).Scan(&lastError); err != nil {
			t.Fatal(err)
		}
		if status, _, _ := state(t, d, id); status != StatusFailed || lastError != ErrorUnchecked {
			t.Errorf("after the last try: %s, %q", status, lastError)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("%d messages sent unchecked", n)
		}
	})
}
