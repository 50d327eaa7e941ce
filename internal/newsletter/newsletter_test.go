package newsletter_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/jobs"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/mail/smtptest"
	"github.com/psims/psims/internal/newsletter"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/password"
	"github.com/psims/psims/internal/terms"
)

const goodPassword = "correct horse battery staple 42"

// base is the service's base URL in these tests: https, as in production.
const base = "https://psims.test"

var start = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// fixture is the newsletter service on a fresh database with the real
// account and terms services, an outbox nobody sends (unless a test starts
// the workers), a clock the test moves, and people with different choices.
type fixture struct {
	d        *db.DB
	svc      *newsletter.Service
	accounts *account.Service
	terms    *terms.Service
	outbox   *mail.Outbox
	runner   *jobs.Runner
	orgs     *org.Store
	key      []byte
	now      time.Time
	ada      account.User // a national admin, who writes the mailings
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{d: d, now: start, key: []byte("a test key of thirty-two bytes!!")}
	d.SetClock(func() time.Time { return f.now })
	if err := jobs.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	runner, err := jobs.New(d, logger, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.runner = runner
	f.orgs = org.NewStore(d)
	if _, err := f.orgs.Import(ctx, strings.NewReader("ods_code,name,type,parent\nRM1,TEST TRUST,trust,\nQMM,TEST BOARD,icb,\n")); err != nil {
		t.Fatal(err)
	}
	f.outbox = mail.NewOutbox(d, runner, logger)
	cfg := config.Defaults()
	cfg.BaseURL = base
	hasher := password.NewHasher(password.Params{MemoryKiB: 1024, Time: 1, Threads: 1}, 4)
	f.accounts = account.NewService(d, hasher, password.NewPolicy(), f.orgs, f.outbox, runner, cfg.AccountSettings())
	f.terms = terms.NewService(d, runner)
	if err := f.terms.PublishDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	f.svc = f.service(runner)
	f.ada = f.person(t, "ada", "RM1", account.RoleNationalAdmin)
	return f
}

// service makes a newsletter service whose jobs go through r.
func (f *fixture) service(r *jobs.Runner) *newsletter.Service {
	return newsletter.NewService(f.d, newsletter.Parts{Recipients: f.accounts, Consents: f.terms,
		Outbox: mail.NewOutbox(f.d, r, nil), Jobs: r, Orgs: f.orgs}, f.key, base)
}

// person makes an active user who has accepted the terms and consents to
// the purposes given.
func (f *fixture) person(t *testing.T, name, ods string, role account.Role, consents ...terms.Purpose) account.User {
	t.Helper()
	ctx := context.Background()
	u, err := f.accounts.Create(ctx, account.NewUser{Email: name + "@nhs.net", Name: name, JobRole: "Nurse", OrgCode: ods,
		Role: role, Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	versions := map[terms.Kind]int{}
	for _, k := range terms.AcceptedKinds() {
		doc, err := f.terms.Current(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		versions[k] = doc.Version
	}
	if err := f.terms.Accept(ctx, u.ID, terms.Client{IP: "192.0.2.1"}, versions); err != nil {
		t.Fatal(err)
	}
	granted := map[terms.Purpose]bool{}
	for _, p := range consents {
		granted[p] = true
	}
	if err := f.terms.SetConsents(ctx, u.ID, terms.Client{IP: "192.0.2.1"}, granted); err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := f.d.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.d.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// recipients lists the addresses the mailing's outbox batch holds, one
// entry per message.
func (f *fixture) recipients(t *testing.T, id int64) []string {
	t.Helper()
	rows, err := f.d.QueryContext(context.Background(), `SELECT to_addr FROM outbox WHERE batch = $1 ORDER BY to_addr`, newsletter.Batch(id))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func (f *fixture) as() newsletter.Actor { return newsletter.Actor{ID: f.ada.ID, IP: "192.0.2.9"} }

func draft(kind newsletter.Kind) newsletter.Draft {
	return newsletter.Draft{Kind: kind, Subject: "PSIMS news for December", Body: "# Learning from events\n\nThank you for *recording*.\n\n<script>alert(1)</script>",
		Audience: newsletter.Everyone}
}

// The people who get a newsletter are exactly those active, unrestricted,
// not objecting, consenting to the newsletter and in the audience (P7).
func TestANewsletterGoesOnlyToThoseWhoWantIt(t *testing.T) { // P7
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		yes := f.person(t, "yes", "RM1", account.RoleReporter, terms.Newsletter)
		f.person(t, "research", "RM1", account.RoleReporter, terms.Research)
		f.person(t, "none", "RM1", account.RoleReporter)
		objector := f.person(t, "objector", "RM1", account.RoleReporter, terms.Newsletter)
		restricted := f.person(t, "restricted", "RM1", account.RoleReporter, terms.Newsletter)
		suspended := f.person(t, "suspended", "RM1", account.RoleReporter, terms.Newsletter)
		f.person(t, "reviewer", "QMM", account.RoleReviewer, terms.Newsletter, terms.Research)
		err := d.InTx(ctx, func(tx *db.Tx) error { return f.accounts.SetContactObjection(ctx, tx, objector.ID, true) })
		if err != nil {
			t.Fatal(err)
		}
		f.exec(t, `UPDATE users SET restricted_at = $1 WHERE id = $2`, f.now, restricted.ID)
		f.exec(t, `UPDATE users SET status = 'suspended' WHERE id = $1`, suspended.ID)

		everyone, err := f.svc.Create(ctx, f.as(), draft(newsletter.KindNewsletter))
		if err != nil {
			t.Fatal(err)
		}
		n, _ := f.svc.Get(ctx, everyone)
		if size, err := f.svc.AudienceSize(ctx, n); err != nil || size != 2 {
			t.Fatalf("audience size %d, %v; want 2", size, err)
		}
		if st, err := f.svc.Send(ctx, f.as(), everyone); err != nil || st != newsletter.StatusSending {
			t.Fatalf("send: %v, %v", st, err)
		}
		if _, err := f.svc.SendAll(ctx, everyone); err != nil {
			t.Fatal(err)
		}
		if got, want := f.recipients(t, everyone), []string{"reviewer@nhs.net", "yes@nhs.net"}; !slices.Equal(got, want) {
			t.Fatalf("the newsletter went to %v, want %v", got, want)
		}
		if n, _ := f.svc.Get(ctx, everyone); n.Status != newsletter.StatusSent || n.Queued != 2 {
			t.Fatalf("after sending: %s with %d queued", n.Status, n.Queued)
		}

		// An audience of roles, then of organisations, narrows it.
		byRole := draft(newsletter.KindNewsletter)
		byRole.Audience, byRole.Roles = newsletter.ByRole, []string{"reporter"}
		byOrg := draft(newsletter.KindNewsletter)
		byOrg.Audience, byOrg.Orgs = newsletter.ByOrg, "qmm"
		for _, c := range []struct {
			d    newsletter.Draft
			want []string
		}{{byRole, []string{yes.Email}}, {byOrg, []string{"reviewer@nhs.net"}}} {
			id, err := f.svc.Create(ctx, f.as(), c.d)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Send(ctx, f.as(), id); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.SendAll(ctx, id); err != nil {
				t.Fatal(err)
			}
			if got := f.recipients(t, id); !slices.Equal(got, c.want) {
				t.Errorf("audience %s went to %v, want %v", c.d.Audience, got, c.want)
			}
		}
		// Every step is audited.
		for _, action := range []string{"newsletter.create", "newsletter.send", "newsletter.sent"} {
			if f.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = $1 AND subject_id = $2`, action, "1") != 1 {
				t.Errorf("no %s audit row for the first newsletter", action)
			}
		}
	})
}

// An invitation goes only to people who consented to research
// invitations, never to those who only want the newsletter (P7).
func TestAnInvitationGoesOnlyToResearchConsent(t *testing.T) { // P7
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.person(t, "news", "RM1", account.RoleReporter, terms.Newsletter)
		f.person(t, "research", "RM1", account.RoleReporter, terms.Research)
		id, err := f.svc.Create(ctx, f.as(), draft(newsletter.KindInvitation))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Send(ctx, f.as(), id); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SendAll(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got := f.recipients(t, id); !slices.Equal(got, []string{"research@nhs.net"}) {
			t.Fatalf("the invitation went to %v", got)
		}
		if f.count(t, `SELECT COUNT(*) FROM outbox WHERE batch = $1 AND category = $2`, newsletter.Batch(id), mail.CategoryInvitation) != 1 {
			t.Fatal("the invitation is not in the invitation category")
		}
	})
}

// A send cut short between batches resumes where it stopped: everyone gets
// exactly one copy (P7).
func TestACrashMidSendResumesWithoutDuplicates(t *testing.T) { // P7
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		var want []string
		for _, name := range []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7"} {
			want = append(want, f.person(t, name, "RM1", account.RoleReporter, terms.Newsletter).Email)
		}
		svc := f.svc.WithBatchSize(3)
		id, err := svc.Create(ctx, f.as(), draft(newsletter.KindNewsletter))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Send(ctx, f.as(), id); err != nil {
			t.Fatal(err)
		}
		// The first run queues one batch and stops, as a crash would
		// stop it after its transaction committed.
		n, done, err := svc.SendBatch(ctx, id)
		if err != nil || done || n != 3 {
			t.Fatalf("first batch: %d, done %v, %v", n, done, err)
		}
		if got := len(f.recipients(t, id)); got != 3 {
			t.Fatalf("%d messages after one batch, want 3", got)
		}
		// The job runs again from the start.
		total, err := svc.SendAll(ctx, id)
		if err != nil || total != 4 {
			t.Fatalf("second run queued %d, %v; want 4", total, err)
		}
		if got := f.recipients(t, id); !slices.Equal(got, want) {
			t.Fatalf("after resuming the messages went to %v, want each of %v once", got, want)
		}
		// And once more, after it finished: nothing more.
		if total, err := svc.SendAll(ctx, id); err != nil || total != 0 {
			t.Fatalf("a run after the end queued %d, %v", total, err)
		}
	})
}

// A one-click unsubscribe withdraws the consent at once through the
// consent history, audited, and a tampered token does nothing (P7).
func TestUnsubscribeWithdrawsTheConsentAtOnce(t *testing.T) { // P7
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u := f.person(t, "reader", "RM1", account.RoleReporter, terms.Newsletter, terms.Research)
		if ok, err := f.svc.StillWanted(ctx, u.Email, mail.CategoryNewsletter, "newsletter:1"); err != nil || !ok {
			t.Fatalf("still wanted before unsubscribing: %v, %v", ok, err)
		}
		token := newsletter.Token(f.key, u.ID, terms.Newsletter)
		for _, bad := range []string{token + "x", strings.Replace(token, "newsletter", "research", 1),
			newsletter.Token([]byte("another key of thirty-two bytes!"), u.ID, terms.Newsletter), "", "1.newsletter."} {
			if _, err := f.svc.Unsubscribe(ctx, bad, "192.0.2.7"); apperr.CodeOf(err) != apperr.Invalid {
				t.Errorf("token %q: %v, want Invalid", bad, err)
			}
		}
		if got, _ := f.terms.HasConsent(ctx, u.ID, terms.Newsletter); !got {
			t.Fatal("a bad token withdrew the consent")
		}
		res, err := f.svc.Unsubscribe(ctx, token, "192.0.2.7")
		if err != nil || !res.Changed || res.Purpose != terms.Newsletter {
			t.Fatalf("unsubscribe: %+v, %v", res, err)
		}
		if got, _ := f.terms.HasConsent(ctx, u.ID, terms.Newsletter); got {
			t.Fatal("the consent is still given")
		}
		if got, _ := f.terms.HasConsent(ctx, u.ID, terms.Research); !got {
			t.Fatal("unsubscribing from the newsletter withdrew research consent too")
		}
		history, err := f.terms.ConsentHistory(ctx, u.ID)
		if err != nil || len(history) == 0 || history[0].Purpose != terms.Newsletter || history[0].Granted {
			t.Fatalf("consent history: %+v, %v", history, err)
		}
		if f.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'consent.change' AND actor_user_id = $1 AND details LIKE '%unsubscribe link%'`, u.ID) != 1 {
			t.Fatal("the unsubscribe is not audited")
		}
		if ok, err := f.svc.StillWanted(ctx, u.Email, mail.CategoryNewsletter, "newsletter:1"); err != nil || ok {
			t.Fatalf("still wanted after unsubscribing: %v, %v", ok, err)
		}
		if ok, _ := f.svc.StillWanted(ctx, u.Email, mail.CategoryInvitation, "newsletter:2"); !ok {
			t.Fatal("invitations stopped with the newsletter")
		}
		// A second click changes nothing and records nothing.
		if res, err := f.svc.Unsubscribe(ctx, token, "192.0.2.7"); err != nil || res.Changed {
			t.Fatalf("second unsubscribe: %+v, %v", res, err)
		}
		if n := len(mustHistory(t, f, u.ID)); n != len(history) {
			t.Fatalf("a second click added to the history (%d, was %d)", n, len(history))
		}
	})
}

func mustHistory(t *testing.T, f *fixture, id int64) []terms.ConsentChange {
	t.Helper()
	h, err := f.terms.ConsentHistory(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// StillWanted answers for mail already queued: an objection, a restriction,
// a deactivation or a changed address stops it; service notices always go.
func TestStillWanted(t *testing.T) { // P7, P15
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		wanted := func(email, category string) bool {
			t.Helper()
			ok, err := f.svc.StillWanted(ctx, email, category, "newsletter:1")
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		a := f.person(t, "a", "RM1", account.RoleReporter, terms.Newsletter)
		b := f.person(t, "b", "RM1", account.RoleReporter, terms.Newsletter)
		c := f.person(t, "c", "RM1", account.RoleReporter, terms.Newsletter)
		none := f.person(t, "none", "RM1", account.RoleReporter)
		for _, u := range []account.User{a, b, c} {
			if !wanted(u.Email, mail.CategoryNewsletter) {
				t.Fatalf("%s not wanted before any change", u.Email)
			}
		}
		if wanted(none.Email, mail.CategoryNewsletter) || wanted("nobody@nhs.net", mail.CategoryNewsletter) {
			t.Fatal("wanted without consent, or without an account")
		}
		if wanted(a.Email, mail.CategoryInvitation) {
			t.Fatal("an invitation wanted without research consent")
		}
		if !wanted(none.Email, mail.CategoryService) || !wanted("nobody@nhs.net", "") {
			t.Fatal("a service notice not wanted")
		}
		err := d.InTx(ctx, func(tx *db.Tx) error { return f.accounts.SetContactObjection(ctx, tx, a.ID, true) })
		if err != nil {
			t.Fatal(err)
		}
		f.exec(t, `UPDATE users SET restricted_at = $1 WHERE id = $2`, f.now, b.ID)
		f.exec(t, `UPDATE users SET status = 'deactivated' WHERE id = $1`, c.ID)
		for _, u := range []account.User{a, b, c} {
			if wanted(u.Email, mail.CategoryNewsletter) {
				t.Errorf("%s still wanted", u.Email)
			}
		}
	})
}

// What is typed goes through the identifier guard, and problems name the
// field without repeating what was found (T12).
func TestTheGuardChecksSubjectAndBody(t *testing.T) { // T12
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		dr := draft(newsletter.KindNewsletter)
		dr.Subject = "About 943 476 5919"
		dr.Body = "Thanks to the patient with NHS number 943 476 5919 for their story."
		_, err := f.svc.Create(ctx, f.as(), dr)
		fields, ok := err.(apperr.Fields)
		if !ok {
			t.Fatalf("err = %v, want field errors", err)
		}
		seen := map[string]bool{}
		for _, fe := range fields {
			seen[fe.Field] = true
			if strings.Contains(fe.Message, "943") || strings.Contains(fe.Message, "5919") {
				t.Errorf("the message repeats the identifier: %q", fe.Message)
			}
		}
		if !seen["subject"] || !seen["body"] {
			t.Fatalf("fields %v, want subject and body", fields)
		}
		if f.count(t, `SELECT COUNT(*) FROM newsletters`) != 0 {
			t.Fatal("a draft with an identifier was stored")
		}
		bad := draft(newsletter.KindNewsletter)
		bad.Audience, bad.Orgs = newsletter.ByOrg, "ZZZ9"
		if _, err := f.svc.Create(ctx, f.as(), bad); apperr.CodeOf(err) != apperr.Invalid && !isFields(err, "orgs") {
			t.Fatalf("an unknown organisation: %v", err)
		}
		past := draft(newsletter.KindNewsletter)
		past.SendAt = f.now.Add(-time.Hour)
		if _, err := f.svc.Create(ctx, f.as(), past); !isFields(err, "send_at") {
			t.Fatalf("a time in the past: %v", err)
		}
	})
}

func isFields(err error, field string) bool {
	fields, ok := err.(apperr.Fields)
	if !ok {
		return false
	}
	for _, fe := range fields {
		if fe.Field == field {
			return true
		}
	}
	return false
}

// A scheduled mailing starts when its time comes, not before; a cancelled
// one never starts; an edit is refused once it is sending.
func TestScheduledMailingsStartWhenDue(t *testing.T) { // P7
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.person(t, "reader", "RM1", account.RoleReporter, terms.Newsletter)
		dr := draft(newsletter.KindNewsletter)
		dr.SendAt = f.now.Add(2 * time.Hour)
		id, err := f.svc.Create(ctx, f.as(), dr)
		if err != nil {
			t.Fatal(err)
		}
		other, err := f.svc.Create(ctx, f.as(), dr)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range []int64{id, other} {
			if st, err := f.svc.Send(ctx, f.as(), x); err != nil || st != newsletter.StatusScheduled {
				t.Fatalf("schedule: %v, %v", st, err)
			}
		}
		if err := f.svc.Cancel(ctx, f.as(), other); err != nil {
			t.Fatal(err)
		}
		if n, err := f.svc.StartDue(ctx); err != nil || n != 0 {
			t.Fatalf("started %d before its time, %v", n, err)
		}
		f.now = f.now.Add(2*time.Hour + time.Second)
		if n, err := f.svc.StartDue(ctx); err != nil || n != 1 {
			t.Fatalf("started %d when due, %v; want 1", n, err)
		}
		if n, _ := f.svc.Get(ctx, id); n.Status != newsletter.StatusSending {
			t.Fatalf("status %s, want sending", n.Status)
		}
		dr.SendAt = f.now.Add(time.Hour)
		if err := f.svc.Update(ctx, f.as(), id, dr); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("editing a mailing being sent: %v, want Conflict", err)
		}
		if n, _ := f.svc.Get(ctx, other); n.Status != newsletter.StatusCancelled {
			t.Fatalf("the cancelled one is %s", n.Status)
		}
		if f.count(t, `SELECT COUNT(*) FROM river_job WHERE kind = 'newsletter_send'`) != 1 {
			t.Fatal("want exactly one send job")
		}
	})
}

// Through the real mail worker and a real SMTP server, each message
// carries List-Unsubscribe with its own https address and
// List-Unsubscribe-Post (RFC 8058), and the footer's link is the same
// address (P7).
func TestMessagesCarryOneClickUnsubscribe(t *testing.T) { // P7
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u := f.person(t, "reader", "RM1", account.RoleReporter, terms.Newsletter)
		f.person(t, "other", "RM1", account.RoleReporter)
		srv := smtptest.Start(t)
		svc, r := f.withMailWorker(t, srv)
		startJobs(t, r)
		id, err := svc.Create(ctx, f.as(), draft(newsletter.KindNewsletter))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Send(ctx, f.as(), id); err != nil {
			t.Fatal(err)
		}
		got := srv.WaitFor(t, u.Email, 1)
		want := svc.UnsubscribeURL(u.ID, terms.Newsletter)
		if !strings.HasPrefix(want, base+"/unsubscribe/") {
			t.Fatalf("unsubscribe address %q", want)
		}
		if h := got.Header("List-Unsubscribe"); h != "<"+want+">" {
			t.Errorf("List-Unsubscribe %q, want <%s>", h, want)
		}
		if h := got.Header("List-Unsubscribe-Post"); h != "List-Unsubscribe=One-Click" {
			t.Errorf("List-Unsubscribe-Post %q", h)
		}
		if !strings.Contains(got.Text(), want) || !strings.Contains(got.HTML(), want) {
			t.Error("the footer does not carry the unsubscribe link")
		}
		if strings.Contains(got.HTML(), "<script>") {
			t.Error("raw HTML from the Markdown was rendered")
		}
		if got.Subject() != "PSIMS news for December" {
			t.Errorf("subject %q", got.Subject())
		}
		time.Sleep(300 * time.Millisecond)
		for _, m := range srv.Messages() {
			if slices.Contains(m.To, "other@nhs.net") {
				t.Fatal("someone without consent got the newsletter")
			}
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			n, _ := svc.Get(ctx, id)
			dl, err := svc.Delivery(ctx, id, 0)
			if err != nil {
				t.Fatal(err)
			}
			if n.Status == newsletter.StatusSent && dl.Counts[mail.StatusSent] == 1 && len(dl.Messages) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("status %s, delivery %+v", n.Status, dl.Counts)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// An unsubscribe is honoured at once even for a newsletter already queued:
// the mail worker asks StillWanted just before sending, so the message to
// the person who unsubscribed after it was queued is cancelled, never sent,
// while the others go (P7).
func TestUnsubscribingCancelsMailAlreadyQueued(t *testing.T) { // P7
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		leaving := f.person(t, "leaving", "RM1", account.RoleReporter, terms.Newsletter)
		staying := f.person(t, "staying", "RM1", account.RoleReporter, terms.Newsletter)
		srv := smtptest.Start(t)
		svc, r := f.withMailWorker(t, srv)
		id, err := svc.Create(ctx, f.as(), draft(newsletter.KindNewsletter))
		if err != nil {
			t.Fatal(err)
		}
		// Queued while no worker runs: both messages wait in the outbox.
		if _, err := svc.Send(ctx, f.as(), id); err != nil {
			t.Fatal(err)
		}
		if n, err := svc.SendAll(ctx, id); err != nil || n != 2 {
			t.Fatalf("queued %d, %v; want 2", n, err)
		}
		link := svc.UnsubscribeURL(leaving.ID, terms.Newsletter)
		if _, err := svc.Unsubscribe(ctx, link[strings.LastIndex(link, "/")+1:], "192.0.2.1"); err != nil {
			t.Fatal(err)
		}

		startJobs(t, r)
		srv.WaitFor(t, staying.Email, 1)
		deadline := time.Now().Add(10 * time.Second)
		for f.count(t, `SELECT COUNT(*) FROM outbox WHERE to_addr = $1 AND status = $2`, leaving.Email, mail.StatusCancelled) != 1 {
			if time.Now().After(deadline) {
				t.Fatal("the message to the person who unsubscribed was not cancelled")
			}
			time.Sleep(50 * time.Millisecond)
		}
		for _, m := range srv.Messages() {
			if slices.Contains(m.To, leaving.Email) {
				t.Fatal("the newsletter reached someone who had unsubscribed after it was queued")
			}
		}
	})
}

// withMailWorker returns the fixture's service with a job runner, not yet
// started, that runs the newsletter jobs and the real mail worker sending
// to srv, rechecking newsletters through the service as the server does.
func (f *fixture) withMailWorker(t *testing.T, srv *smtptest.Server) (*newsletter.Service, *jobs.Runner) {
	t.Helper()
	sender, err := mail.NewSender(srv.URL(), "PSIMS <no-reply@psims.test>")
	if err != nil {
		t.Fatal(err)
	}
	var svc *newsletter.Service
	r, err := jobs.New(f.d, nil, func(w *river.Workers, r *jobs.Runner) {
		mail.AddWorker(w, f.d, sender, nil, mail.WorkerOptions{Recheck: func(ctx context.Context, to, category, batch string) (bool, error) {
			return svc.StillWanted(ctx, to, category, batch)
		}})
		newsletter.AddWorkers(w, r, func() *newsletter.Service { return svc }, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	svc = f.service(r)
	return svc, r
}

// startJobs starts r and stops it when the test ends.
func startJobs(t *testing.T, r *jobs.Runner) {
	t.Helper()
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Errorf("stop jobs: %v", err)
		}
	})
}
