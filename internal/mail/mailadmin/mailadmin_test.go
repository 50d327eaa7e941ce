package mailadmin_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/jobs"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/mail/mailadmin"
	"github.com/psims/psims/internal/mail/smtptest"
)

func nationalAdmin(t *testing.T, d *db.DB) int64 {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	if _, err := d.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ('X26', 'NHS England', $1, $1)`, now); err != nil {
		t.Fatal(err)
	}
	var id int64
	err := d.WriteRowContext(ctx, `INSERT INTO users (email, name, job_role, org_ods, role, status, password_hash, created_at, updated_at)
		VALUES ('outbox.admin@nhs.net', 'Outbox Admin', 'Operator', 'X26', 'national-admin', 'active', 'x', $1, $1) RETURNING id`, now).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after 10s for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func status(t *testing.T, d *db.DB, id int64) (st, key string) {
	t.Helper()
	if err := d.QueryRowContext(context.Background(), `SELECT status, message_key FROM outbox WHERE id = $1`, id).Scan(&st, &key); err != nil {
		t.Fatal(err)
	}
	return st, key
}

// A message left uncertain by a try cut off between sending and marking is
// not sent by the worker; a national admin's Send again sends it exactly
// once, with the Message-ID it was first given, and is audited.
func TestSendAgainDeliversAnUncertainMessageOnceWithItsMessageID(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		admin := nationalAdmin(t, d)
		srv := smtptest.Start(t)
		sender, err := mail.NewSender(srv.URL(), "PSIMS <no-reply@psims.example>")
		if err != nil {
			t.Fatal(err)
		}
		if err := jobs.Migrate(ctx, d); err != nil {
			t.Fatal(err)
		}
		r, err := jobs.New(d, nil, func(w *river.Workers, _ *jobs.Runner) {
			mail.AddWorker(w, d, sender, slog.New(slog.DiscardHandler), mail.WorkerOptions{})
		})
		if err != nil {
			t.Fatal(err)
		}
		outbox := mail.NewOutbox(d, r, nil)
		svc := mailadmin.New(d, outbox)

		// Queued, then cut off mid-try: the row as a crash leaves it.
		var id int64
		err = d.InTx(ctx, func(tx *db.Tx) error {
			if id, err = outbox.Enqueue(ctx, tx, mail.AccountLocked("max@example.nhs.uk", "Max")); err != nil {
				return err
			}
			// River runs the job of a process that stopped mid-job
			// again after an hour.
			_, err := tx.ExecContext(ctx, `UPDATE outbox SET send_started_at = $1, attempts = 1 WHERE id = $2`, tx.Now.Add(-time.Hour), id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := r.Stop(stopCtx); err != nil {
				t.Errorf("stop jobs: %v", err)
			}
		})
		eventually(t, "the message to be marked uncertain", func() bool { st, _ := status(t, d, id); return st == mail.StatusUncertain })
		if n := len(srv.Messages()); n != 0 {
			t.Fatalf("%d messages sent before anyone chose Send again", n)
		}
		_, key := status(t, d, id)

		was, err := svc.Resend(ctx, mailadmin.Actor{UserID: admin, IP: "203.0.113.9"}, id)
		if err != nil {
			t.Fatalf("resend: %v", err)
		}
		if was.Status != mail.StatusUncertain {
			t.Errorf("resend returned the message as %s, want uncertain", was.Status)
		}
		got := srv.WaitFor(t, "max@example.nhs.uk", 1)
		if want := "<" + key + "@psims.example>"; got.Header("Message-ID") != want {
			t.Errorf("Message-ID %q, want the stored %q", got.Header("Message-ID"), want)
		}
		eventually(t, "the message to be marked sent", func() bool { st, _ := status(t, d, id); return st == mail.StatusSent })
		var attempts int
		if err := d.QueryRowContext(ctx, `SELECT attempts FROM outbox WHERE id = $1`, id).Scan(&attempts); err != nil || attempts != 2 {
			t.Errorf("attempts %d (%v), want 2: the cut-off try and this one", attempts, err)
		}
		if n := len(srv.Messages()); n != 1 {
			t.Errorf("%d messages delivered, want exactly 1", n)
		}

		rows, err := audit.List(ctx, d, "outbox", strconv.FormatInt(id, 10), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Action != "mail.resend" || rows[0].ActorID != admin || rows[0].IP != "203.0.113.9" ||
			rows[0].Details["previous_status"] != mail.StatusUncertain {
			t.Errorf("audit rows %+v", rows)
		}

		// A sent message cannot be sent again, and nothing is audited.
		_, err = svc.Resend(ctx, mailadmin.Actor{UserID: admin}, id)
		if apperr.CodeOf(err) != apperr.Conflict || !strings.Contains(apperr.MessageOf(err), "failed") {
			t.Errorf("resend of a sent message: %v, want a conflict", err)
		}
		if _, err := svc.Resend(ctx, mailadmin.Actor{UserID: admin}, id+100); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("resend of no message: %v, want not found", err)
		}
		if rows, err := audit.List(ctx, d, "outbox", "", 10); err != nil || len(rows) != 1 {
			t.Errorf("%d audit rows (%v) after refused resends, want 1", len(rows), err)
		}
	})
}

// A failed message sent again gets a fresh series of tries and is
// delivered once.
func TestSendAgainRetriesAFailedMessage(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		admin := nationalAdmin(t, d)
		srv := smtptest.Start(t)
		srv.RefuseNext(1)
		sender, err := mail.NewSender(srv.URL(), "")
		if err != nil {
			t.Fatal(err)
		}
		if err := jobs.Migrate(ctx, d); err != nil {
			t.Fatal(err)
		}
		r, err := jobs.New(d, nil, func(w *river.Workers, _ *jobs.Runner) {
			mail.AddWorker(w, d, sender, nil, mail.WorkerOptions{})
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := r.Stop(stopCtx); err != nil {
				t.Errorf("stop jobs: %v", err)
			}
		})
		outbox := mail.NewOutbox(d, r, nil)
		var id int64
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			id, err = outbox.Enqueue(ctx, tx, mail.AccountLocked("ned@example.nhs.uk", "Ned"))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the refusal to fail the message", func() bool { st, _ := status(t, d, id); return st == mail.StatusFailed })
		if _, err := mailadmin.New(d, outbox).Resend(ctx, mailadmin.Actor{UserID: admin}, id); err != nil {
			t.Fatal(err)
		}
		srv.WaitFor(t, "ned@example.nhs.uk", 1)
		eventually(t, "the message to be marked sent", func() bool { st, _ := status(t, d, id); return st == mail.StatusSent })
		if n := len(srv.Messages()); n != 1 {
			t.Errorf("%d messages delivered, want 1", n)
		}
	})
}
