package incident

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/jobs"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/mail/smtptest"
)

// secretPhrase is draft content that must never reach an email.
const secretPhrase = "Marmalade spilled near the linen cupboard"

var (
	day0      = time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	day       = 24 * time.Hour
	retention = DraftRetention{Keep: 30 * day, Remind: 7 * day}
)

// sweepFixture is a fixture with a draft sweeper whose outbox nobody sends,
// and a clock the test moves.
type sweepFixture struct {
	fixture
	worker *draftWorker
	outbox *mail.Outbox
	sue    int64 // a suspended user
}

func newSweepFixture(t *testing.T, d *db.DB) sweepFixture {
	t.Helper()
	f := sweepFixture{fixture: newFixture(t, d)}
	ctx := context.Background()
	if err := jobs.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	runner, err := jobs.New(d, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.outbox = mail.NewOutbox(d, runner, nil)
	f.worker = &draftWorker{db: d, outbox: f.outbox, retention: retention, draftsURL: "https://psims.example/drafts", logger: slog.New(slog.DiscardHandler)}
	err = d.WriteRowContext(ctx, `INSERT INTO users (email, name, job_role, org_ods, status, password_hash, created_at, updated_at)
		VALUES ('sue@nhs.net', 'sue', 'Nurse', 'RM1', 'suspended', 'x', $1, $1) RETURNING id`, day0).Scan(&f.sue)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// at sets the clock to day0 plus offset.
func (f sweepFixture) at(offset time.Duration) {
	f.db.SetClock(func() time.Time { return day0.Add(offset) })
}

// sweep runs the job as River would.
func (f sweepFixture) sweep(t *testing.T) {
	t.Helper()
	if err := f.worker.Work(context.Background(), &river.Job[DraftSweepArgs]{}); err != nil {
		t.Fatalf("sweep: %v", err)
	}
}

func (f sweepFixture) draft(t *testing.T, userID, id int64) int64 {
	t.Helper()
	id, err := f.svc.SaveDraft(context.Background(), userID, id, Incident, Answers{"AdverseEvent.description": {secretPhrase}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

type sentMail struct{ to, subject, text, html string }

// mails returns what the outbox holds, oldest first.
func (f sweepFixture) mails(t *testing.T) []sentMail {
	t.Helper()
	rows, err := f.db.QueryContext(context.Background(), `SELECT to_addr, subject, body_text, body_html FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []sentMail
	for rows.Next() {
		var m sentMail
		if err := rows.Scan(&m.to, &m.subject, &m.text, &m.html); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (f sweepFixture) remindedAt(t *testing.T, id int64) sql.NullTime {
	t.Helper()
	var at sql.NullTime
	if err := f.db.QueryRowContext(context.Background(), `SELECT reminded_at FROM drafts WHERE id = $1`, id).Scan(&at); err != nil {
		t.Fatal(err)
	}
	return at
}

func (f sweepFixture) exists(t *testing.T, userID, id int64) bool {
	t.Helper()
	_, err := f.svc.Draft(context.Background(), userID, id)
	if err != nil && apperr.CodeOf(err) != apperr.NotFound {
		t.Fatal(err)
	}
	return err == nil
}

// A draft untouched for 23 days gets one reminder however often the sweep
// runs; saving it again clears the reminder, and the next one comes 23
// days after that save. Suspended users get none.
func TestAStaleDraftGetsOneReminderPerPeriodOfNeglect(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newSweepFixture(t, d)
		f.at(0)
		ann := f.draft(t, f.ann, 0)
		f.draft(t, f.sue, 0)
		f.at(22 * day)
		f.draft(t, f.bob, 0)

		f.at(23*day - time.Minute)
		f.sweep(t)
		if got := f.mails(t); len(got) != 0 {
			t.Fatalf("%d reminders before 23 days", len(got))
		}

		f.at(23*day + time.Hour)
		f.sweep(t)
		f.sweep(t)
		got := f.mails(t)
		if len(got) != 1 || got[0].to != "ann@nhs.net" {
			t.Fatalf("reminders %+v, want one to ann (none to sue, who is suspended, or bob, whose draft is new)", got)
		}
		m := got[0]
		for _, want := range []string{"Type of event: Incident", "Started on 3 March 2026", "deleted on 2 April 2026", "https://psims.example/drafts"} {
			if !strings.Contains(m.text, want) {
				t.Errorf("reminder text lacks %q:\n%s", want, m.text)
			}
		}
		if !strings.Contains(m.subject, "2 April 2026") {
			t.Errorf("subject %q", m.subject)
		}
		if strings.Contains(m.subject+m.text+m.html, "Marmalade") {
			t.Fatal("the reminder holds the draft's content")
		}
		if !f.remindedAt(t, ann).Valid {
			t.Fatal("reminded_at not set")
		}

		f.at(24 * day)
		f.draft(t, f.ann, ann)
		if f.remindedAt(t, ann).Valid {
			t.Fatal("saving the draft again kept reminded_at")
		}
		f.at(24*day + 22*day)
		f.sweep(t)
		got = f.mails(t)
		if len(got) != 2 || got[1].to != "bob@nhs.net" {
			t.Fatalf("reminders %+v 22 days after ann saved again, want ann's first and bob's (due 23 days after his save)", got)
		}
		f.at(24*day + 23*day + time.Hour)
		f.sweep(t)
		got = f.mails(t)
		if len(got) != 3 || got[2].to != "ann@nhs.net" || !strings.Contains(got[2].text, "deleted on 26 April 2026") {
			t.Fatalf("reminders %+v, want a second to ann for deletion on 26 April 2026", got)
		}
	})
}

// A draft goes 30 days after it was last saved: at once when its owner
// cannot be reminded, and never before the reminder's full notice.
func TestStaleDraftsAreDeletedAfterTheReminder(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newSweepFixture(t, d)
		f.at(0)
		ann := f.draft(t, f.ann, 0)
		sue := f.draft(t, f.sue, 0)
		f.at(20 * day)
		bob := f.draft(t, f.bob, 0)

		f.at(23*day + time.Hour)
		f.sweep(t)
		f.at(30*day - time.Minute)
		f.sweep(t)
		if !f.exists(t, f.ann, ann) || !f.exists(t, f.sue, sue) {
			t.Fatal("a draft was deleted before 30 days")
		}
		f.at(30*day + 2*time.Hour)
		f.sweep(t)
		if f.exists(t, f.ann, ann) || f.exists(t, f.sue, sue) {
			t.Fatal("a draft of 30 days was kept")
		}
		if !f.exists(t, f.bob, bob) {
			t.Fatal("a draft of 10 days was deleted")
		}
		if got := f.mails(t); len(got) != 1 || got[0].to != "ann@nhs.net" {
			t.Fatalf("reminders %+v, want only ann's", got)
		}
	})
}

// A reminder that goes late (the service was down, or the owner was
// suspended until now) still gives 7 days' notice, and says so.
func TestALateReminderStillGivesFullNotice(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newSweepFixture(t, d)
		f.at(0)
		ann := f.draft(t, f.ann, 0)
		f.at(40 * day)
		f.sweep(t)
		got := f.mails(t)
		if len(got) != 1 || !strings.Contains(got[0].text, "deleted on 19 April 2026") {
			t.Fatalf("reminders %+v, want one for deletion 7 days from now (19 April 2026)", got)
		}
		if !f.exists(t, f.ann, ann) {
			t.Fatal("the draft was deleted in the sweep that reminded its owner")
		}
		f.at(47*day - time.Minute)
		f.sweep(t)
		if !f.exists(t, f.ann, ann) {
			t.Fatal("the draft was deleted before the date the reminder gave")
		}
		f.at(47*day + time.Hour)
		f.sweep(t)
		if f.exists(t, f.ann, ann) {
			t.Fatal("the draft outlived the date the reminder gave")
		}
		if n := len(f.mails(t)); n != 1 {
			t.Fatalf("%d reminders, want 1", n)
		}
	})
}

// Many due drafts are reminded over several batches, each once.
func TestRemindersGoInBatches(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newSweepFixture(t, d)
		f.at(0)
		for range draftBatch + 5 {
			f.draft(t, f.ann, 0)
		}
		f.at(23*day + time.Hour)
		f.sweep(t)
		f.sweep(t)
		if n := len(f.mails(t)); n != draftBatch+5 {
			t.Fatalf("%d reminders, want %d", n, draftBatch+5)
		}
	})
}

// In a running system the sweep runs when the jobs start, and the reminder
// reaches the owner's mailbox through SMTP without the draft's content.
func TestTheSweepRunsAtStartAndTheReminderIsDelivered(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newSweepFixture(t, d)
		ctx := context.Background()
		f.at(0)
		f.draft(t, f.ann, 0)
		// The clock is set before the jobs start and not changed after.
		f.at(23*day + time.Hour)

		srv := smtptest.Start(t)
		sender, err := mail.NewSender(srv.URL(), "PSIMS <no-reply@psims.example>")
		if err != nil {
			t.Fatal(err)
		}
		r, err := jobs.New(d, nil, func(w *river.Workers, r *jobs.Runner) {
			mail.AddWorker(w, d, sender, nil, mail.WorkerOptions{})
			AddDraftWorker(w, r, d, mail.NewOutbox(d, r, nil), retention, "https://psims.example/drafts", nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		t.Cleanup(func() {
			once.Do(func() {
				stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				if err := r.Stop(stopCtx); err != nil {
					t.Errorf("stop jobs: %v", err)
				}
			})
		})
		got := srv.WaitFor(t, "ann@nhs.net", 1)
		if !strings.HasPrefix(got.Subject(), "Your unfinished PSIMS draft will be deleted on 2 April 2026") {
			t.Errorf("subject %q", got.Subject())
		}
		if got.FirstURL() != "https://psims.example/drafts" {
			t.Errorf("link %q", got.FirstURL())
		}
		if strings.Contains(got.Text()+got.HTML(), "Marmalade") {
			t.Fatal("the delivered reminder holds the draft's content")
		}
	})
}

// Retention settings that would delete every draft at once delete none.
func TestABadRetentionDeletesNothing(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newSweepFixture(t, d)
		f.at(0)
		ann := f.draft(t, f.ann, 0)
		f.at(100 * day)
		f.worker.retention = DraftRetention{}
		if err := f.worker.Work(context.Background(), &river.Job[DraftSweepArgs]{}); err == nil {
			t.Fatal("a sweep with no retention set ran")
		}
		if !f.exists(t, f.ann, ann) || len(f.mails(t)) != 0 {
			t.Fatal("a sweep with no retention set deleted or reminded")
		}
	})
}
