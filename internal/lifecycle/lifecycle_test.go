package lifecycle_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/jobs"
	"github.com/psims/psims/internal/lifecycle"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/mail/smtptest"
)

const password = "correct horse battery staple 42"

// site is the whole system on one engine, with a clock the test moves and
// mail delivered to a real SMTP server.
type site struct {
	t   *testing.T
	a   *app.App
	now time.Time
	srv *smtptest.Server
}

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func newSite(t *testing.T, e dbtest.Engine, deliver bool) *site {
	t.Helper()
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	if e.Database == "" {
		cfg.DataDir = filepath.Dir(e.SQLitePath)
	}
	cfg.Database = e.Database
	cfg.BaseURL = "https://psims.example"
	cfg.HashMemoryKiB, cfg.HashTime = 1024, 1
	s := &site{t: t, now: t0}
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	s.a = a
	a.DB.SetClock(func() time.Time { return s.now })
	if _, err := a.Orgs.Import(ctx, strings.NewReader(apptest.Organisations)); err != nil {
		t.Fatal(err)
	}
	if !deliver {
		return s
	}
	s.srv = smtptest.Start(t)
	sender, err := mail.NewSender(s.srv.URL(), "PSIMS <no-reply@psims.example>")
	if err != nil {
		t.Fatal(err)
	}
	// Only the mail worker: the sweeps run when the test says.
	r, err := jobs.New(a.DB, nil, func(w *river.Workers, r *jobs.Runner) { mail.AddWorker(w, a.DB, sender, nil, mail.WorkerOptions{}) })
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
	return s
}

func (s *site) user(name string, role account.Role) account.User {
	s.t.Helper()
	u, err := s.a.Accounts.Create(context.Background(), account.NewUser{Email: name + "@nhs.net", Name: strings.ToUpper(name[:1]) + name[1:] + " Smith",
		OrgCode: "RM1", Role: role, Password: password})
	if err != nil {
		s.t.Fatal(err)
	}
	return u
}

// sweep runs every lifecycle sweep at the clock's time and returns the
// actions of the dormancy sweep.
func (s *site) sweep(dryRun bool) []lifecycle.Action {
	s.t.Helper()
	var out []lifecycle.Action
	err := s.a.Lifecycle().Run(context.Background(), dryRun, func(a lifecycle.Action) {
		if a.Sweep == lifecycle.SweepDormancy {
			out = append(out, a)
		}
	})
	if err != nil {
		s.t.Fatalf("sweep: %v", err)
	}
	return out
}

func (s *site) get(id int64) account.User {
	s.t.Helper()
	u, err := s.a.Accounts.UserByID(context.Background(), id)
	if err != nil {
		s.t.Fatal(err)
	}
	return u
}

func actionsFor(actions []lifecycle.Action, user int64) []string {
	var out []string
	for _, a := range actions {
		if a.User == user {
			out = append(out, a.Action)
		}
	}
	return out
}

func (s *site) audited(action string, subject int64) int {
	s.t.Helper()
	var n int
	if err := s.a.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = $1 AND subject_id = $2`,
		action, fmt.Sprint(subject)).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

// P12, P13: the whole life of dormant accounts on both engines, with the
// warnings delivered by a real SMTP server. Ann, created 12 months ago and
// never seen since, is warned with the date, signs in and is no longer
// counted dormant; Fay confirms through the link in her warning; Bob is
// warned, deactivated, then deleted, and the event he submitted stays
// with no identity and the audit log still verifies. An exempt account and
// a restricted one are left alone, the last national admin is never
// deactivated, and running a sweep again does nothing twice.
func TestDormantAccountsAreWarnedDeactivatedAndDeleted(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, e, true)
			ctx := context.Background()
			admin := s.user("admin", account.RoleNationalAdmin)
			ann := s.user("ann", account.RoleReporter)
			bob := s.user("bob", account.RoleReporter)
			cat := s.user("cat", account.RoleReporter)
			dan := s.user("dan", account.RoleReporter)
			fay := s.user("fay", account.RoleReporter)
			day := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
			ev, err := s.a.Incidents.Submit(ctx, incident.Submission{Type: incident.Incident, OrgCode: "RM1", Source: incident.Staff, ReporterID: bob.ID,
				OccurredFrom: day, OccurredTo: day, StatementVersion: 1,
				Answers: incident.Answers{"AdverseEvent.description": {"A fall in the day room."}, "PSIMS.PatientCount": {"1"}, "PatientInformation.PhysicalHarm": {"4"}},
				Index:   incident.Index{PhysicalHarm: "4", ServiceType: "1"}}, incident.Client{IP: "192.0.2.1"})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.a.Accounts.SetExemption(ctx, admin, cat.ID, "Caldicott guardian, signs in rarely", "192.0.2.9"); err != nil {
				t.Fatal(err)
			}
			if err := s.a.DB.InTx(ctx, func(tx *db.Tx) error { return s.a.Accounts.SetRestricted(ctx, tx, dan.ID, true) }); err != nil {
				t.Fatal(err)
			}

			// Ten months on nobody is due a warning.
			s.now = t0.AddDate(0, 10, 0)
			if got := s.sweep(false); len(got) != 0 {
				t.Fatalf("at 10 months: %+v", got)
			}

			// Twelve months on: the first sweep warns everyone idle, and
			// gives a month's notice, though a year has passed.
			s.now = t0.AddDate(0, 12, 0)
			first := s.sweep(false)
			deactivateOn := s.now.AddDate(0, 1, 0)
			for _, u := range []account.User{admin, ann, bob, fay} {
				if got := actionsFor(first, u.ID); !slices.Equal(got, []string{account.DormancyWarn}) {
					t.Errorf("%s: actions %v, want a warning", u.Name, got)
				}
			}
			for _, a := range first {
				if a.DeactivateOn != deactivateOn.Format(time.RFC3339) {
					t.Errorf("warning %+v: want deactivation on %s", a, deactivateOn)
				}
				if a.User == cat.ID || a.User == dan.ID {
					t.Errorf("exempt or restricted account swept: %+v", a)
				}
			}
			if n := s.audited("account.dormancy_warned", ann.ID); n != 1 {
				t.Errorf("ann's warning audited %d times", n)
			}
			warning := s.srv.WaitFor(t, "ann@nhs.net", 1)
			if want := "Your PSIMS account will be deactivated on 5 February 2027"; warning.Subject() != want {
				t.Errorf("subject %q, want %q", warning.Subject(), want)
			}
			if !strings.Contains(warning.Text(), "5 February 2027") || !strings.Contains(warning.Text(), "30 days") {
				t.Errorf("the warning does not give the dates:\n%s", warning.Text())
			}
			if !strings.HasPrefix(warning.FirstURL(), "https://psims.example"+account.ConfirmActivePath+"?token=") {
				t.Errorf("link %q", warning.FirstURL())
			}

			// The same sweep again does nothing.
			if again := s.sweep(false); len(again) != 0 {
				t.Fatalf("second sweep: %+v", again)
			}

			// Ann signs in: her countdown is cancelled and audited.
			s.now = s.now.AddDate(0, 0, 1)
			if _, err := s.a.Accounts.SignIn(ctx, "ann@nhs.net", password, account.Client{IP: "192.0.2.1"}); err != nil {
				t.Fatal(err)
			}
			if u := s.get(ann.ID); u.DormancyWarnedAt != nil || u.DormancyDeactivateAt != nil || !u.LastActiveAt.Equal(s.now) {
				t.Errorf("after signing in ann is %+v", u)
			}
			if n := s.audited("account.dormancy_cancelled", ann.ID); n != 1 {
				t.Errorf("ann's cancellation audited %d times", n)
			}
			// Fay confirms through her link, without signing in; it works once.
			link := s.srv.WaitFor(t, "fay@nhs.net", 1).FirstURL()
			token := link[strings.Index(link, "token=")+len("token="):]
			if err := s.a.Accounts.CheckStillActiveToken(ctx, token); err != nil {
				t.Fatalf("fay's link: %v", err)
			}
			if err := s.a.Accounts.ConfirmStillActive(ctx, token, "192.0.2.2"); err != nil {
				t.Fatal(err)
			}
			if err := s.a.Accounts.ConfirmStillActive(ctx, token, "192.0.2.2"); err == nil {
				t.Error("the link worked twice")
			}
			if u := s.get(fay.ID); u.DormancyWarnedAt != nil {
				t.Errorf("fay still warned after confirming")
			}

			// The date comes: Bob is deactivated; the last national admin
			// is kept and said to be; Ann and Fay are not dormant.
			s.now = deactivateOn.Add(time.Hour)
			second := s.sweep(false)
			if got := actionsFor(second, bob.ID); !slices.Equal(got, []string{account.DormancyDeactivate}) {
				t.Errorf("bob: %v", got)
			}
			if got := actionsFor(second, admin.ID); !slices.Equal(got, []string{account.DormancyKeepLastAdmin}) {
				t.Errorf("admin: %v", got)
			}
			for _, u := range []account.User{ann, fay, cat, dan} {
				if got := actionsFor(second, u.ID); len(got) != 0 {
					t.Errorf("%s: %v", u.Name, got)
				}
			}
			if u := s.get(bob.ID); u.Status != account.StatusDeactivated || u.StatusReason != account.DormantReason {
				t.Errorf("bob is %s (%s)", u.Status, u.StatusReason)
			}
			if res, _ := s.a.Accounts.SignIn(ctx, "bob@nhs.net", password, account.Client{}); res.Outcome == account.OutcomeSuccess {
				t.Error("bob signed in after deactivation")
			}
			s.srv.WaitFor(t, "bob@nhs.net", 2) // the warning, then the deactivation
			for _, a := range s.sweep(false) {
				if a.Action != account.DormancyKeepLastAdmin {
					t.Errorf("re-run did %+v", a)
				}
			}

			// 30 days after deactivation Bob's details are deleted through
			// the erasure pipeline; his event stays, with no identity.
			s.now = s.now.AddDate(0, 0, 30).Add(time.Hour)
			third := s.sweep(false)
			if got := actionsFor(third, bob.ID); !slices.Equal(got, []string{account.DormancyDelete}) {
				t.Errorf("bob: %v", got)
			}
			gone := s.get(bob.ID)
			if gone.Status != account.StatusErased || gone.Name != "" || strings.Contains(gone.Email, "bob") {
				t.Errorf("bob after deletion: %+v", gone)
			}
			kept, err := s.a.Incidents.Get(ctx, ev.ID)
			if err != nil {
				t.Fatalf("bob's event: %v", err)
			}
			if kept.ReporterID != bob.ID {
				t.Errorf("the event's reporter is %d, want the tombstone %d", kept.ReporterID, bob.ID)
			}
			if n := s.audited("rights.erased_dormant", bob.ID); n != 1 {
				t.Errorf("the deletion audited %d times", n)
			}
			var leaks int
			if err := s.a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE details LIKE '%bob%' OR details LIKE '%Bob%'`).Scan(&leaks); err != nil {
				t.Fatal(err)
			}
			if leaks != 0 {
				t.Errorf("%d audit rows name bob", leaks)
			}
			var mails int
			if err := s.a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE to_addr = 'bob@nhs.net'`).Scan(&mails); err != nil {
				t.Fatal(err)
			}
			if mails != 0 {
				t.Errorf("%d emails to bob kept after deletion", mails)
			}
			if _, problem, err := audit.Verify(ctx, s.a.DB); err != nil || problem != nil {
				t.Fatalf("audit verify: %v %+v", err, problem)
			}
			for _, a := range s.sweep(false) {
				if a.Action != account.DormancyKeepLastAdmin {
					t.Errorf("re-run did %+v", a)
				}
			}
			for _, u := range []account.User{cat, dan} {
				if got := s.get(u.ID); got.Status != account.StatusActive || got.DormancyWarnedAt != nil {
					t.Errorf("%s was touched: %+v", u.Name, got)
				}
			}
		})
	}
}

// P12: accounts that never completed registration are deleted, without a
// warning, once the deactivation period has passed since they were made.
func TestUnfinishedRegistrationsAreDeletedWithoutWarning(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, e, false)
			ctx := context.Background()
			if err := s.a.Accounts.Register(ctx, account.Registration{Name: "Gus Smith", JobRole: "Nurse", OrgCode: "RM1",
				Email: "gus@example.org", Password: password, ConfirmPassword: password}, "192.0.2.1"); err != nil {
				t.Fatal(err)
			}
			gus, err := s.a.Accounts.UserByEmail(ctx, "gus@example.org")
			if err != nil {
				t.Fatal(err)
			}
			s.now = t0.AddDate(0, 11, 15)
			if got := s.sweep(false); len(got) != 0 {
				t.Fatalf("at 11 months: %+v", got)
			}
			s.now = t0.AddDate(0, 12, 1)
			got := s.sweep(false)
			if len(got) != 1 || got[0].Action != account.DormancyDeleteUnregistered || got[0].User != gus.ID || got[0].Status != string(account.StatusUnverified) {
				t.Fatalf("actions %+v", got)
			}
			if u := s.get(gus.ID); u.Status != account.StatusErased {
				t.Errorf("gus is %s", u.Status)
			}
		})
	}
}

// dump is every row of the tables a sweep may touch, as text.
func dump(t *testing.T, d *db.DB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, email, name, status, status_reason, last_active_at, dormancy_warned_at, dormancy_deactivate_at FROM users ORDER BY id`,
		`SELECT id, to_addr, subject, status FROM outbox ORDER BY id`,
		`SELECT id, action, subject_id, details FROM audit_log ORDER BY id`,
		`SELECT token_hash, user_id, purpose, used_at FROM user_tokens ORDER BY token_hash`,
		`SELECT id, kind, state FROM river_job ORDER BY id`,
		`SELECT id, reminded_at FROM drafts ORDER BY id`,
		`SELECT id, reporter_id FROM events ORDER BY id`,
		`SELECT COUNT(*) FROM sessions`,
	} {
		rows, err := d.QueryContext(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		b.WriteString("--\n")
	}
	return b.String()
}

// P12: a dry run changes nothing at all (the database and the outbox are
// the same before and after) and says exactly what a real run at that time
// then does.
func TestADryRunChangesNothingAndSaysWhatARunWouldDo(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, e, false)
			ctx := context.Background()
			admin := s.user("admin", account.RoleNationalAdmin)
			s.user("ann", account.RoleReporter)
			bob := s.user("bob", account.RoleReporter)
			if _, err := s.a.Incidents.SaveDraft(ctx, bob.ID, 0, incident.Incident, incident.Answers{"AdverseEvent.description": {"A fall."}}); err != nil {
				t.Fatal(err)
			}
			// Ann is warned; bob deactivated later; a draft is due.
			s.now = t0.AddDate(0, 12, 0)
			s.sweep(false)
			if _, err := s.a.Accounts.SignIn(ctx, "admin@nhs.net", password, account.Client{}); err != nil {
				t.Fatal(err)
			}
			if err := s.a.Accounts.SetExemption(ctx, admin, admin.ID, "The operator's own account", ""); err != nil {
				t.Fatal(err)
			}
			s.now = t0.AddDate(0, 13, 2)
			before := dump(t, s.a.DB)
			dry := s.sweep(true)
			if len(dry) == 0 {
				t.Fatal("the dry run found nothing to do")
			}
			if after := dump(t, s.a.DB); after != before {
				t.Fatalf("the dry run changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			real := s.sweep(false)
			if !slices.Equal(dry, real) {
				t.Fatalf("dry run said %+v, the run did %+v", dry, real)
			}
			if dump(t, s.a.DB) == before {
				t.Fatal("the real run changed nothing")
			}
		})
	}
}
