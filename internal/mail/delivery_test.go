package mail_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/mail/smtptest"
)

// cutOff makes message id look as a try cut off by a crash leaves it: the
// try recorded and committed, its outcome never. River runs the job of a
// process that stopped mid-job again after an hour.
func cutOff(t *testing.T, d *db.DB, id int64) {
	t.Helper()
	err := d.InTx(context.Background(), func(tx *db.Tx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE outbox SET send_started_at = $1, attempts = attempts + 1 WHERE id = $2`, tx.Now.Add(-time.Hour), id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func sendJobsDone(t *testing.T, d *db.DB, n int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d send_mail jobs to finish", n), func() bool {
		return count(t, d, `SELECT COUNT(*) FROM river_job WHERE kind = 'send_mail' AND state IN ('completed', 'cancelled', 'discarded')`) >= n
	})
}

// A message whose try was recorded but never marked (the process stopped
// between sending and marking) is not sent again: it is left uncertain
// for a person, and no start picks it up again (P13: a dormancy warning is
// never sent twice).
func TestACutOffTryIsLeftUncertainAndNotSentAgain(t *testing.T) { // P13
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		// Queued with a job, by a process that then stopped mid-try.
		id := enqueue(t, d, insertOnly(t, d), mail.AccountLocked("fay@example.nhs.uk", "Fay"))
		cutOff(t, d, id)

		srv := smtptest.Start(t)
		sender, err := mail.NewSender(srv.URL(), "PSIMS <no-reply@psims.example>")
		if err != nil {
			t.Fatal(err)
		}
		sys := startSystem(t, d, sender)
		sendJobsDone(t, d, 1)

		r := readRow(t, d, id)
		if r.status != mail.StatusUncertain || r.lastError != mail.ErrorUncertain || r.attempts != 1 {
			t.Errorf("row = %s, %d attempts, %q; want uncertain, 1, the explanation", r.status, r.attempts, r.lastError)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Fatalf("%d messages sent for a message that may have gone already", n)
		}
		if !strings.Contains(sys.logs.String(), "cut off") {
			t.Errorf("the log does not say so:\n%s", sys.logs.String())
		}
		if n, err := sys.outbox.Requeue(ctx); err != nil || n != 0 {
			t.Errorf("requeue = %d, %v; want the uncertain message left alone", n, err)
		}
		if depth, err := sys.outbox.QueueDepth(ctx); err != nil || depth != 0 {
			t.Errorf("queue depth %d (%v), want 0", depth, err)
		}
		failed, uncertain, err := sys.outbox.FailedAndUncertain(ctx)
		if err != nil || failed != 0 || uncertain != 1 {
			t.Errorf("failed %d, uncertain %d (%v); want 0 and 1", failed, uncertain, err)
		}
	})
}

// A link in a message left uncertain may have been delivered, so it is
// not kept, and such a message cannot be sent again.
func TestAnUncertainMessageDropsItsLinkAndCannotBeSentAgain(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		id := enqueue(t, d, insertOnly(t, d), mail.ResetPassword("gus@example.nhs.uk", "Gus", link))
		cutOff(t, d, id)
		srv := smtptest.Start(t)
		sender, err := mail.NewSender(srv.URL(), "")
		if err != nil {
			t.Fatal(err)
		}
		sys := startSystem(t, d, sender)
		sendJobsDone(t, d, 1)
		r := readRow(t, d, id)
		if r.status != mail.StatusUncertain || r.secret.Valid {
			t.Fatalf("row = %s, link kept %v; want uncertain without the link", r.status, r.secret.Valid)
		}
		page, err := sys.outbox.Deliveries(ctx, mail.Filter{Status: mail.StatusUncertain})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Messages) != 1 || !page.Messages[0].LinkLost || page.Messages[0].CanResend() {
			t.Fatalf("deliveries = %+v, want one that cannot be sent again", page.Messages)
		}
		err = d.InTx(ctx, func(tx *db.Tx) error {
			_, err := sys.outbox.ResendTx(ctx, tx, id)
			return err
		})
		if apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("resend: %v, want a conflict", err)
		}
		if r := readRow(t, d, id); r.status != mail.StatusUncertain {
			t.Errorf("status %s after a refused resend", r.status)
		}
		entries, err := sys.outbox.List(ctx, "", 1)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(entries[0].Text, mail.LinkRemovedUnsent) || entries[0].Status != mail.StatusUncertain {
			t.Errorf("listed as %s:\n%s", entries[0].Status, entries[0].Text)
		}
	})
}

func TestAPermanentRefusalFailsAtOnceWithoutRetrying(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		srv.RefuseNext(1)
		sender, err := mail.NewSender(srv.URL(), "")
		if err != nil {
			t.Fatal(err)
		}
		sys := startSystem(t, d, sender)
		id := enqueue(t, d, sys.outbox, mail.ResetPassword("hal@example.nhs.uk", "Hal", link))
		eventually(t, "the message to fail", func() bool { return readRow(t, d, id).status == mail.StatusFailed })
		r := readRow(t, d, id)
		if r.attempts != 1 || !strings.Contains(r.lastError, "550") || r.secret.Valid {
			t.Errorf("row = %d attempts, %q, link kept %v; want 1, the 550, dropped", r.attempts, r.lastError, r.secret.Valid)
		}
		if strings.Contains(r.lastError, "hal@example.nhs.uk") || strings.Contains(r.lastError, token) {
			t.Errorf("last error names the recipient or the link: %q", r.lastError)
		}
		sendJobsDone(t, d, 1)
		if n := count(t, d, `SELECT COUNT(*) FROM river_job WHERE kind = 'send_mail' AND state IN ('retryable', 'available', 'scheduled')`); n != 0 {
			t.Errorf("%d send_mail jobs still to run after a permanent refusal", n)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("%d messages delivered", n)
		}
		if n, err := sys.outbox.Requeue(context.Background()); err != nil || n != 0 {
			t.Errorf("requeue = %d, %v; want the failed message left alone", n, err)
		}
	})
}

// newsletter is a message of category c to to, in batch "newsletter:1".
func newsletter(to, c string) mail.Message {
	return mail.Message{To: to, Subject: "PSIMS news", Text: "News.", Category: c,
		ListUnsubscribe: "https://psims.example/unsubscribe/x1", Batch: "newsletter:1"}
}

// A newsletter or invitation goes only to someone who still wants it,
// asked just before sending; an objection made after it was queued is
// honoured (P7). Service notices are never held back.
func TestNewslettersAndInvitationsAreRecheckedBeforeSending(t *testing.T) { // P7
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		srv := smtptest.Start(t)
		sender, err := mail.NewSender(srv.URL(), "")
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var asked []string
		recheck := func(_ context.Context, to, category, batch string) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, to+" "+category+" "+batch)
			return !strings.HasPrefix(to, "gone"), nil
		}
		sys := startSystemWith(t, d, sender, mail.WorkerOptions{Recheck: recheck})
		keen := enqueue(t, d, sys.outbox, newsletter("keen@example.nhs.uk", mail.CategoryNewsletter))
		gone := enqueue(t, d, sys.outbox, newsletter("gone@example.nhs.uk", mail.CategoryNewsletter))
		goneInvite := enqueue(t, d, sys.outbox, newsletter("gone@example.nhs.uk", mail.CategoryInvitation))
		notice := enqueue(t, d, sys.outbox, mail.AccountLocked("gone@example.nhs.uk", "Gone"))
		sendJobsDone(t, d, 4)

		for id, want := range map[int64]string{keen: mail.StatusSent, gone: mail.StatusCancelled, goneInvite: mail.StatusCancelled, notice: mail.StatusSent} {
			r := readRow(t, d, id)
			if r.status != want {
				t.Errorf("message %d: %s, want %s", id, r.status, want)
			}
			if want == mail.StatusCancelled && (r.lastError != mail.ErrorUnwanted || r.attempts != 0) {
				t.Errorf("cancelled message %d: %q, %d attempts", id, r.lastError, r.attempts)
			}
		}
		got := srv.WaitFor(t, "keen@example.nhs.uk", 1)
		if got.Header("List-Unsubscribe") != "<https://psims.example/unsubscribe/x1>" {
			t.Errorf("List-Unsubscribe %q", got.Header("List-Unsubscribe"))
		}
		if n := len(srv.Messages()); n != 2 {
			t.Errorf("%d messages delivered, want the newsletter to keen and the notice", n)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(asked) != 3 {
			t.Errorf("asked %q, want the three newsletters and invitations only", asked)
		}
		for _, a := range asked {
			if !strings.HasSuffix(a, " newsletter:1") {
				t.Errorf("asked %q without its batch", a)
			}
		}
		if n, err := sys.outbox.Requeue(ctx); err != nil || n != 0 {
			t.Errorf("requeue = %d, %v; want cancelled messages left alone", n, err)
		}
	})
}

func TestARecheckThatCannotAnswerLeavesTheMessageToTryLater(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		sender, err := mail.NewSender(srv.URL(), "")
		if err != nil {
			t.Fatal(err)
		}
		recheck := func(context.Context, string, string, string) (bool, error) { return false, errors.New("database away") }
		sys := startSystemWith(t, d, sender, mail.WorkerOptions{Recheck: recheck})
		id := enqueue(t, d, sys.outbox, newsletter("ivy@example.nhs.uk", mail.CategoryNewsletter))
		eventually(t, "the job to be put off", func() bool {
			return count(t, d, `SELECT COUNT(*) FROM river_job WHERE kind = 'send_mail' AND state = 'retryable'`) == 1
		})
		if r := readRow(t, d, id); r.status != mail.StatusQueued || r.attempts != 0 {
			t.Errorf("row = %s, %d attempts; want queued and untried", r.status, r.attempts)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("%d messages delivered", n)
		}
	})
}

// With --smtp-rate, a burst beyond the rate is snoozed, not held in a
// sleeping worker and not counted as a try, and every message is still
// sent exactly once.
func TestABurstBeyondTheRateIsSnoozedAndAllIsSentOnce(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		sender, err := mail.NewSender(srv.URL(), "")
		if err != nil {
			t.Fatal(err)
		}
		sys := startSystemWith(t, d, sender, mail.WorkerOptions{Rate: 4})
		const n = 10
		ids := make([]int64, 0, n)
		err = d.InTx(context.Background(), func(tx *db.Tx) error {
			for i := range n {
				id, err := sys.outbox.Enqueue(context.Background(), tx, mail.AccountLocked(fmt.Sprintf("u%d@example.nhs.uk", i), "U"))
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for count(t, d, `SELECT COUNT(*) FROM outbox WHERE status = 'sent'`) < n {
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d sent after a minute", count(t, d, `SELECT COUNT(*) FROM outbox WHERE status = 'sent'`), n)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got := len(srv.Messages()); got != n {
			t.Errorf("%d messages delivered, want %d", got, n)
		}
		for _, id := range ids {
			if r := readRow(t, d, id); r.attempts != 1 {
				t.Errorf("message %d: %d attempts, want 1 (a snooze is not a try)", id, r.attempts)
			}
		}
		if snoozed := strings.Count(sys.logs.String(), "rate limit reached; snoozed"); snoozed == 0 {
			t.Error("no job was snoozed for a burst of 10 at 4 a second")
		}
	})
}

func TestDeliveriesFilterAndCountByStatusCategoryAndBatch(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		o := insertOnly(t, d)
		notice := enqueue(t, d, o, mail.AccountLocked("jo@example.nhs.uk", "Jo"))
		news := enqueue(t, d, o, newsletter("kim@example.nhs.uk", mail.CategoryNewsletter))
		other := newsletter("lee@example.nhs.uk", mail.CategoryNewsletter)
		other.Batch = "newsletter:2"
		enqueue(t, d, o, other)
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'failed', last_error = '550 5.1.1 Mailbox unavailable' WHERE id = $1`, notice)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		all, err := o.Deliveries(ctx, mail.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if all.Total != 3 || all.Counts[mail.StatusQueued] != 2 || all.Counts[mail.StatusFailed] != 1 || all.Depth() != 2 || all.Pages() != 1 {
			t.Errorf("all: total %d, counts %v, depth %d", all.Total, all.Counts, all.Depth())
		}
		failed, err := o.Deliveries(ctx, mail.Filter{Status: mail.StatusFailed})
		if err != nil {
			t.Fatal(err)
		}
		if failed.Total != 1 || failed.Messages[0].ID != notice || !failed.Messages[0].CanResend() || failed.Messages[0].LastError == "" {
			t.Errorf("failed: %+v", failed.Messages)
		}
		batch, err := o.Deliveries(ctx, mail.Filter{Category: mail.CategoryNewsletter, Batch: "newsletter:1"})
		if err != nil {
			t.Fatal(err)
		}
		if batch.Total != 1 || batch.Messages[0].ID != news || batch.Counts[mail.StatusQueued] != 2 {
			t.Errorf("batch newsletter:1: total %d, %+v", batch.Total, batch.Messages)
		}
		none, err := o.Deliveries(ctx, mail.Filter{Category: mail.CategoryInvitation, Page: 3})
		if err != nil {
			t.Fatal(err)
		}
		if none.Total != 0 || len(none.Messages) != 0 || none.Page != 1 {
			t.Errorf("invitations: %+v", none)
		}
	})
}

// When the connection fails after the whole message was sent and before
// the server answered, the server may have it: the message is left
// uncertain, not sent again.
func TestAConnectionLostBeforeTheAnswerLeavesTheMessageUncertain(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		srv.DropNext(1)
		sender, err := mail.NewSender(srv.URL(), "")
		if err != nil {
			t.Fatal(err)
		}
		sys := startSystem(t, d, sender)
		id := enqueue(t, d, sys.outbox, mail.AccountLocked("vin@example.nhs.uk", "Vin"))
		sendJobsDone(t, d, 1)
		r := readRow(t, d, id)
		if r.status != mail.StatusUncertain || r.lastError != mail.ErrorUnanswered || r.attempts != 1 {
			t.Errorf("row = %s, %d attempts, %q; want uncertain, 1, the explanation", r.status, r.attempts, r.lastError)
		}
		if n := len(srv.Messages()); n != 1 {
			t.Errorf("the server holds %d copies, want the 1 it took", n)
		}
	})
}
