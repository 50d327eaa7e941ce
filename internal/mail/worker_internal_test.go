package mail

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/mail/smtptest"
)

// noJobs stands in for the job runner: the test calls the worker itself.
type noJobs struct{}

func (noJobs) InsertTx(context.Context, *db.Tx, river.JobArgs, *river.InsertOpts) error { return nil }

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
