package mail_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/jobs"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/mail/smtptest"
)

const (
	token = "tok3n-d0-not-leak"
	link  = "https://psims.example/verify?token=" + token + "&next=/start"
)

// logBuffer collects log output from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// system is the mail side of a running PSIMS: jobs migrated and running,
// the worker registered with sender (nil: no SMTP), and an outbox.
type system struct {
	d      *db.DB
	outbox *mail.Outbox
	logs   *logBuffer
	runner *jobs.Runner
	stop   func() // stops its workers; also done when the test ends
}

func startSystem(t *testing.T, d *db.DB, sender *mail.Sender) *system {
	t.Helper()
	return startSystemWith(t, d, sender, mail.WorkerOptions{})
}

func startSystemWith(t testing.TB, d *db.DB, sender *mail.Sender, opts mail.WorkerOptions) *system {
	t.Helper()
	ctx := context.Background()
	if err := jobs.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r, err := jobs.New(d, logger, func(w *river.Workers, _ *jobs.Runner) { mail.AddWorker(w, d, sender, logger, opts) })
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := r.Stop(stopCtx); err != nil {
				t.Errorf("stop jobs: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &system{d: d, outbox: mail.NewOutbox(d, r, logger), logs: logs, runner: r, stop: stop}
}

// insertOnly is an outbox whose jobs nobody works, as in `psims user create`.
func insertOnly(t *testing.T, d *db.DB) *mail.Outbox {
	t.Helper()
	if err := jobs.Migrate(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	r, err := jobs.New(d, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return mail.NewOutbox(d, r, nil)
}

func enqueue(t *testing.T, d *db.DB, o *mail.Outbox, m mail.Message) int64 {
	t.Helper()
	var id int64
	err := d.InTx(context.Background(), func(tx *db.Tx) error {
		var err error
		id, err = o.Enqueue(context.Background(), tx, m)
		return err
	})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return id
}

type row struct {
	status    string
	attempts  int
	lastError string
	secret    sql.NullString
	text      string
	html      string
	sentAt    sql.NullTime
}

func readRow(t *testing.T, d *db.DB, id int64) row {
	t.Helper()
	var r row
	err := d.QueryRowContext(context.Background(), `SELECT status, attempts, last_error, secret, body_text, body_html, sent_at FROM outbox WHERE id = $1`, id).
		Scan(&r.status, &r.attempts, &r.lastError, &r.secret, &r.text, &r.html, &r.sentAt)
	if err != nil {
		t.Fatalf("read outbox %d: %v", id, err)
	}
	return r
}

// eventually polls cond until it holds, failing the test after 10 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after 10s for %s", what)
		}
		<-tick.C
	}
}

func count(t *testing.T, d *db.DB, query string) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestEnqueueInATransactionThatRollsBackLeavesNoMessageAndNoJob(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		o := insertOnly(t, d)
		boom := errors.New("boom")
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := o.Enqueue(ctx, tx, mail.VerifyEmail("ann@example.nhs.uk", "Ann", link)); err != nil {
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
	})
}

func TestQueuedMailIsDeliveredWithItsLinkWhichIsThenForgotten(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		srv := smtptest.Start(t)
		sender, err := mail.NewSender(srv.URL(), "PSIMS <no-reply@psims.example>")
		if err != nil {
			t.Fatal(err)
		}
		sys := startSystem(t, d, sender)

		start := time.Now()
		id := enqueue(t, d, sys.outbox, mail.VerifyEmail("ann@example.nhs.uk", "Ann <Lee>", link))
		got := srv.WaitFor(t, "ann@example.nhs.uk", 1)
		t.Logf("delivered %v after commit", time.Since(start).Round(time.Millisecond))

		if got.From != "no-reply@psims.example" {
			t.Errorf("envelope from %q", got.From)
		}
		if got.Subject() != "Confirm your email address for PSIMS" {
			t.Errorf("subject %q", got.Subject())
		}
		types := got.ContentTypes()
		if !slices.Contains(types, "text/plain") || !slices.Contains(types, "text/html") {
			t.Errorf("parts %v, want text/plain and text/html", types)
		}
		if got.FirstURL() != link {
			t.Errorf("first URL in text %q, want %q", got.FirstURL(), link)
		}
		html := got.HTML()
		escaped := strings.ReplaceAll(link, "&", "&amp;")
		if !strings.Contains(html, `href="`+escaped+`"`) {
			t.Errorf("HTML has no link to %s:\n%s", escaped, html)
		}
		if !strings.Contains(html, "Ann &lt;Lee&gt;") {
			t.Errorf("HTML does not escape the name:\n%s", html)
		}
		if strings.Contains(got.Text()+html, mail.Placeholder) {
			t.Error("a placeholder was sent")
		}

		eventually(t, "the message to be marked sent", func() bool { return readRow(t, d, id).status == mail.StatusSent })
		r := readRow(t, d, id)
		if r.secret.Valid {
			t.Error("secret still stored after sending")
		}
		if !r.sentAt.Valid {
			t.Error("sent_at not set")
		}
		if r.attempts != 1 {
			t.Errorf("attempts = %d, want 1", r.attempts)
		}
		if strings.Contains(r.text+r.html, token) {
			t.Error("stored bodies contain the token")
		}
		entries, err := sys.outbox.List(ctx, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || !strings.Contains(entries[0].Text, mail.LinkRemovedSent) || strings.Contains(entries[0].Text, token) {
			t.Errorf("list after sending = %+v", entries)
		}
		if strings.Contains(sys.logs.String(), token) {
			t.Error("logs contain the token")
		}
		depth, err := sys.outbox.QueueDepth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if depth != 0 {
			t.Errorf("queue depth %d after sending, want 0", depth)
		}
	})
}

func TestATemporarySMTPFailureIsRetriedAndCounted(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		srv.FailNext(1)
		sender, err := mail.NewSender(srv.URL(), "")
		if err != nil {
			t.Fatal(err)
		}
		sys := startSystem(t, d, sender)

		start := time.Now()
		id := enqueue(t, d, sys.outbox, mail.ResetPassword("bob@example.nhs.uk", "Bob", link))
		eventually(t, "the first try to fail", func() bool { return readRow(t, d, id).status == mail.StatusRetrying })
		// The retry waits a minute (the first of the backoff's waits);
		// the test checks the schedule, then makes the job due now.
		job := sendJob(t, sys, id)
		if wait := job.ScheduledAt.Sub(start); wait < 55*time.Second || wait > 2*time.Minute {
			t.Errorf("retry scheduled %v after the first try, want about a minute", wait)
		}
		if _, err := sys.runner.Client().JobRetry(context.Background(), job.ID); err != nil {
			t.Fatal(err)
		}
		got := srv.WaitFor(t, "bob@example.nhs.uk", 1)
		t.Logf("delivered %v after commit, with one 451 first", time.Since(start).Round(time.Millisecond))
		if got.FirstURL() != link {
			t.Errorf("first URL %q, want %q", got.FirstURL(), link)
		}
		eventually(t, "the message to be marked sent", func() bool { return readRow(t, d, id).status == mail.StatusSent })
		r := readRow(t, d, id)
		if r.attempts != 2 {
			t.Errorf("attempts = %d, want 2", r.attempts)
		}
		if r.secret.Valid {
			t.Error("secret still stored after sending")
		}
		if len(srv.Messages()) != 1 {
			t.Errorf("%d messages delivered, want 1", len(srv.Messages()))
		}
		logs := sys.logs.String()
		if !strings.Contains(logs, "451") {
			t.Errorf("logs do not mention the 451:\n%s", logs)
		}
		if strings.Contains(logs, token) {
			t.Error("logs contain the token")
		}
	})
}

func TestWithoutSMTPMailStaysQueuedAndOneLineIsLogged(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sys := startSystem(t, d, nil)
		id := enqueue(t, d, sys.outbox, mail.VerifyEmail("cat@example.nhs.uk", "Cat", link))
		eventually(t, "the send_mail job to finish", func() bool {
			return count(t, d, `SELECT COUNT(*) FROM river_job WHERE kind = 'send_mail' AND state = 'completed'`) == 1
		})
		r := readRow(t, d, id)
		if r.status != mail.StatusQueued || r.attempts != 0 || !r.secret.Valid {
			t.Errorf("row = %+v, want queued, untried, link kept", r)
		}
		logs := sys.logs.String()
		var lines []string
		for line := range strings.Lines(logs) {
			if strings.Contains(line, "no SMTP server configured") {
				lines = append(lines, line)
			}
		}
		if len(lines) != 1 || !strings.Contains(lines[0], fmt.Sprintf("outbox_id=%d", id)) || !strings.Contains(lines[0], "Confirm your email address") {
			t.Errorf("log lines about the missing SMTP server: %q", lines)
		}
		if strings.Contains(logs, token) {
			t.Error("logs contain the token")
		}
		depth, err := sys.outbox.QueueDepth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if depth != 1 {
			t.Errorf("queue depth %d, want 1", depth)
		}
	})
}

func TestMailQueuedWithoutSMTPIsSentOnceAServerIsConfigured(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		before := startSystem(t, d, nil)
		id := enqueue(t, d, before.outbox, mail.VerifyEmail("dee@example.nhs.uk", "Dee", link))
		eventually(t, "the send_mail job to finish", func() bool {
			return count(t, d, `SELECT COUNT(*) FROM river_job WHERE kind = 'send_mail' AND state = 'completed'`) == 1
		})

		before.stop()

		srv := smtptest.Start(t)
		sender, err := mail.NewSender(srv.URL(), "")
		if err != nil {
			t.Fatal(err)
		}
		after := startSystem(t, d, sender)
		for range 2 { // a second call must not send it twice
			if n, err := after.outbox.Requeue(ctx); err != nil || n != 1 {
				t.Fatalf("requeue = %d, %v; want 1 message", n, err)
			}
		}
		srv.WaitFor(t, "dee@example.nhs.uk", 1)
		eventually(t, "the message to be marked sent", func() bool { return readRow(t, d, id).status == mail.StatusSent })
		if n, err := after.outbox.Requeue(ctx); err != nil || n != 0 {
			t.Fatalf("requeue after sending = %d, %v; want nothing to do", n, err)
		}
		if got := len(srv.Messages()); got != 1 {
			t.Fatalf("%d messages delivered, want 1", got)
		}
	})
}

func TestListShowsNewestFirstAndFiltersByRecipient(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		o := insertOnly(t, d)
		clock := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
		d.SetClock(func() time.Time { return clock })
		first := enqueue(t, d, o, mail.VerifyEmail("ann@example.nhs.uk", "Ann", link))
		clock = clock.Add(time.Minute)
		second := enqueue(t, d, o, mail.Approved("bob@example.nhs.uk", "Bob", "https://psims.example/sign-in"))
		clock = clock.Add(time.Minute)
		third := enqueue(t, d, o, mail.AccountLocked("ann@example.nhs.uk", "Ann"))

		all, err := o.List(ctx, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if ids := entryIDs(all); !slices.Equal(ids, []int64{third, second, first}) {
			t.Fatalf("list ids %v, want %v", ids, []int64{third, second, first})
		}
		if !all[2].CreatedAt.Equal(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)) || all[2].Status != mail.StatusQueued {
			t.Errorf("first entry = %+v", all[2])
		}
		if !strings.Contains(all[2].Text, link) {
			t.Errorf("queued text does not show the link:\n%s", all[2].Text)
		}

		ann, err := o.List(ctx, "ANN@example.nhs.uk", 10)
		if err != nil {
			t.Fatal(err)
		}
		if ids := entryIDs(ann); !slices.Equal(ids, []int64{third, first}) {
			t.Errorf("list for ann: %v, want %v", ids, []int64{third, first})
		}
		limited, err := o.List(ctx, "", 1)
		if err != nil {
			t.Fatal(err)
		}
		if ids := entryIDs(limited); !slices.Equal(ids, []int64{third}) {
			t.Errorf("list limited to 1: %v", ids)
		}

		depth, err := o.QueueDepth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if depth != 3 {
			t.Errorf("queue depth %d, want 3", depth)
		}
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'retrying' WHERE id = $1`, first)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE outbox SET status = 'sent' WHERE id = $1`, second)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if depth, err = o.QueueDepth(ctx); err != nil || depth != 2 {
			t.Errorf("queue depth %d (%v) with one retrying and one sent, want 2", depth, err)
		}
	})
}

func TestEnqueueRefusesMessagesThatWouldStoreALink(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		o := insertOnly(t, d)
		good := mail.VerifyEmail("ann@example.nhs.uk", "Ann", link)
		cases := map[string]mail.Message{
			"the link written into the body": {To: good.To, Subject: good.Subject, Text: good.Text + link, Secret: link},
			"a link but no placeholder":      {To: good.To, Subject: good.Subject, Text: "hello", Secret: link},
			"a placeholder but no link":      {To: good.To, Subject: good.Subject, Text: good.Text},
			"a link that is not a URL":       {To: good.To, Subject: good.Subject, Text: good.Text, Secret: "javascript:alert(1)"},
			"a bad recipient":                {To: "not an address", Subject: "Hi", Text: "Hello"},
			"a subject on two lines":         {To: good.To, Subject: "Hi\r\nBcc: x@example.com", Text: "Hello"},
		}
		for name, m := range cases {
			t.Run(name, func(t *testing.T) {
				err := d.InTx(context.Background(), func(tx *db.Tx) error {
					_, err := o.Enqueue(context.Background(), tx, m)
					return err
				})
				if err == nil {
					t.Fatal("enqueued")
				}
			})
		}
		if n := count(t, d, `SELECT COUNT(*) FROM outbox`); n != 0 {
			t.Errorf("%d rows stored", n)
		}
	})
}

// sendJob is the send_mail job of outbox message id, once it has one that
// has been tried.
func sendJob(t *testing.T, sys *system, id int64) *rivertype.JobRow {
	t.Helper()
	var found *rivertype.JobRow
	eventually(t, "the send_mail job to be scheduled for a retry", func() bool {
		res, err := sys.runner.Client().JobList(context.Background(), river.NewJobListParams().Kinds("send_mail").
			States(rivertype.JobStateRetryable, rivertype.JobStateScheduled, rivertype.JobStateAvailable).First(100))
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range res.Jobs {
			var args mail.SendArgs
			if err := json.Unmarshal(j.EncodedArgs, &args); err != nil {
				t.Fatal(err)
			}
			if args.OutboxID == id && j.Attempt > 0 {
				found = j
				return true
			}
		}
		return false
	})
	return found
}

func entryIDs(es []mail.Entry) []int64 {
	var ids []int64
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}
