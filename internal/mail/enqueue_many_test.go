package mail_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/riverqueue/river"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/jobs"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/mail/smtptest"
)

// manyMessages returns n messages of every kind Enqueue takes: service
// notices with and without a link, and newsletters with an unsubscribe
// address and a batch.
func manyMessages(n int) []mail.Message {
	ms := make([]mail.Message, n)
	for i := range ms {
		to := fmt.Sprintf("person%d@example.nhs.uk", i)
		switch i % 3 {
		case 0:
			ms[i] = mail.VerifyEmail(to, fmt.Sprintf("Person %d", i), fmt.Sprintf("https://psims.example/verify?token=t%d", i))
		case 1:
			ms[i] = mail.Message{To: to, Subject: fmt.Sprintf("Notice %d", i), Text: "A notice.", HTML: "<p>A notice.</p>"}
		default:
			ms[i] = mail.Message{To: to, Subject: "News", Text: "News.", Category: mail.CategoryNewsletter,
				ListUnsubscribe: fmt.Sprintf("https://psims.example/unsubscribe?u=%d", i), Batch: "newsletter:7"}
		}
	}
	return ms
}

// outboxRow is what Enqueue writes for a message, less its id and key.
type outboxRow struct {
	to, subject, text, html, status, lastError, category, unsubscribe, batch string
	secret                                                                   sql.NullString
	attempts                                                                 int
	keyLen                                                                   int
}

func readOutboxRow(t *testing.T, d *db.DB, id int64) (outboxRow, string) {
	t.Helper()
	var r outboxRow
	var key string
	err := d.QueryRowContext(context.Background(), `SELECT to_addr, subject, body_text, body_html, status, last_error, category,
			list_unsubscribe, batch, secret, attempts, message_key
		FROM outbox WHERE id = $1`, id).
		Scan(&r.to, &r.subject, &r.text, &r.html, &r.status, &r.lastError, &r.category, &r.unsubscribe, &r.batch, &r.secret, &r.attempts, &key)
	if err != nil {
		t.Fatalf("read outbox %d: %v", id, err)
	}
	r.keyLen = len(key)
	return r, key
}

// sendJobs returns the outbox ids of the send_mail jobs in River.
func sendJobs(t *testing.T, r *jobs.Runner) []int64 {
	t.Helper()
	res, err := r.Client().JobList(context.Background(), river.NewJobListParams().Kinds(mail.SendArgs{}.Kind()).First(10_000))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, j := range res.Jobs {
		var a mail.SendArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.OutboxID)
	}
	slices.Sort(ids)
	return ids
}

func TestEnqueueManyWritesWhatEnqueueWouldAndJobsOnlyWhenTheTransactionCommits(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := jobs.Migrate(ctx, d); err != nil {
			t.Fatal(err)
		}
		r, err := jobs.New(d, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		o := mail.NewOutbox(d, r, nil)
		// More than two statements' worth, the last one short.
		ms := manyMessages(123)

		boom := errors.New("boom")
		err = d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := o.EnqueueMany(ctx, tx, ms); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM outbox`); n != 0 {
			t.Errorf("%d outbox rows after rollback", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM river_job`); n != 0 {
			t.Errorf("%d jobs after rollback", n)
		}

		var ids []int64
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			ids, err = o.EnqueueMany(ctx, tx, ms)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if len(ids) != len(ms) {
			t.Fatalf("%d ids for %d messages", len(ids), len(ms))
		}
		if got := sendJobs(t, r); !slices.Equal(got, slices.Sorted(slices.Values(ids))) {
			t.Errorf("send jobs for outbox ids %v, want %v", got, ids)
		}
		keys := map[string]bool{}
		for i, m := range ms {
			// The row Enqueue writes for the same message, for comparison.
			single := enqueue(t, d, o, m)
			want, wantKey := readOutboxRow(t, d, single)
			got, key := readOutboxRow(t, d, ids[i])
			if got != want {
				t.Errorf("message %d: EnqueueMany wrote %+v, Enqueue %+v", i, got, want)
			}
			if key == wantKey || keys[key] {
				t.Errorf("message %d: message key %q is not its own", i, key)
			}
			keys[key] = true
		}
		if n := count(t, d, `SELECT COUNT(*) FROM river_job`); n != 2*len(ms) {
			t.Errorf("%d jobs, want %d", n, 2*len(ms))
		}
	})
}

func TestEnqueueManyWritesNothingWhenAMessageIsNotValid(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		o := insertOnly(t, d)
		ms := manyMessages(80)
		ms[69].Text = "Here is your link: " + ms[69].Secret // the link itself, not the placeholder
		err := d.InTx(ctx, func(tx *db.Tx) error {
			_, err := o.EnqueueMany(ctx, tx, ms)
			if err == nil {
				t.Error("EnqueueMany took a message with its link in the body")
			}
			return nil // commit whatever was written
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM outbox`); n != 0 {
			t.Errorf("%d outbox rows written for a call that failed", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM river_job`); n != 0 {
			t.Errorf("%d jobs inserted for a call that failed", n)
		}
	})
}

func TestMessagesQueuedTogetherAreEachSentWithTheirOwnLink(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		srv := smtptest.Start(t)
		sender, err := mail.NewSender(srv.URL(), "PSIMS <no-reply@psims.example>")
		if err != nil {
			t.Fatal(err)
		}
		sys := startSystem(t, d, sender)
		ms := make([]mail.Message, 60)
		for i := range ms {
			ms[i] = mail.VerifyEmail(fmt.Sprintf("p%d@example.nhs.uk", i), "P", fmt.Sprintf("https://psims.example/verify?token=own%d", i))
		}
		var ids []int64
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			ids, err = sys.outbox.EnqueueMany(ctx, tx, ms)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for i, m := range ms {
			got := srv.WaitFor(t, m.To, 1)
			if got.FirstURL() != m.Secret {
				t.Errorf("%s got link %q, want %q", m.To, got.FirstURL(), m.Secret)
			}
			eventually(t, fmt.Sprintf("message %d to be marked sent", i), func() bool { return readRow(t, d, ids[i]).status == mail.StatusSent })
			if readRow(t, d, ids[i]).secret.Valid {
				t.Errorf("message %d: link still stored after sending", i)
			}
		}
		if n := len(srv.Messages()); n != len(ms) {
			t.Errorf("%d messages delivered, want %d", n, len(ms))
		}
	})
}
