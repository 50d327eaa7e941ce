package account_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/password"
)

// TestTheBatchedSweepWarnsThenDeactivatesEveryIdleAccountOnce sweeps more
// than two transactions' worth of idle accounts, which the warning pass
// writes many to a statement, and checks every one is warned once, with
// its own date, its own working link, its audit entry and its email, and
// that a second sweep warns nobody again; then, after the notice, that
// each is deactivated once (P12, P13).
func TestTheBatchedSweepWarnsThenDeactivatesEveryIdleAccountOnce(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		now := f.clock.Now()
		hash, err := password.NewHasher(password.Params{MemoryKiB: 64, Time: 1, Threads: 1}, 1).Hash(ctx, goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		policy := account.DefaultDormancyPolicy()
		created := now.AddDate(-3, 0, 0)
		users := make([]account.LoadUser, 1130)
		// email: the deactivation date its warning gives, a year after the
		// account was last active but never sooner than the notice.
		want := map[string]time.Time{}
		for i := range users {
			var last time.Time
			switch i % 4 {
			case 0, 1: // idle for years
				last = now.AddDate(-2, 0, -i%300).Add(-time.Duration(i) * time.Minute)
			case 2: // just past the warning date
				last = policy.WarnAfter.Before(now).Add(-time.Duration(i+1) * time.Minute)
			default: // active lately: not warned
				last = now.AddDate(0, -1, 0).Add(-time.Duration(i) * time.Minute)
			}
			if i%4 != 3 {
				on := policy.DeactivateAfter.After(last)
				if earliest := policy.Notice().After(now); on.Before(earliest) {
					on = earliest
				}
				want[fmt.Sprintf("idle%d@nhs.net", i)] = on
			}
			users[i] = account.LoadUser{Email: fmt.Sprintf("idle%d@nhs.net", i), PasswordHash: hash, Name: fmt.Sprintf("User %d", i),
				JobRole: "Staff nurse", OrgCode: "RM1", Role: account.RoleReporter, Status: account.StatusActive,
				CreatedAt: created, VerifiedAt: &created, ApprovedAt: &created, LastActiveAt: &last}
		}
		var ids []int64
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			ids, err = f.svc.Load(ctx, tx, users)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		emailOf := map[int64]string{}
		for i, id := range ids {
			emailOf[id] = users[i].Email
		}

		sweep := account.NewDormancy(f.svc, policy, nil)
		warned := map[int64]int{}
		if err := sweep.Sweep(ctx, d, func(a account.DormancyAction) {
			if a.Action != account.DormancyWarn {
				t.Errorf("unexpected %s of user %d", a.Action, a.UserID)
				return
			}
			warned[a.UserID]++
			if on, ok := want[emailOf[a.UserID]]; !ok || a.DeactivateOn == nil || !a.DeactivateOn.Equal(on) {
				t.Errorf("%s warned with deactivation on %v, want %v (wanted: %v)", emailOf[a.UserID], a.DeactivateOn, on, ok)
			}
		}); err != nil {
			t.Fatal(err)
		}
		if len(warned) != len(want) {
			t.Errorf("%d accounts warned, want %d", len(warned), len(want))
		}
		for id, n := range warned {
			if n != 1 {
				t.Errorf("%s warned %d times", emailOf[id], n)
			}
		}

		// Each has its date and link stored, its audit entry and its email.
		for id := range warned {
			var on, expires time.Time
			if err := d.QueryRowContext(ctx, `SELECT u.dormancy_deactivate_at, k.expires_at FROM users u
				JOIN user_tokens k ON k.user_id = u.id AND k.purpose = 'dormancy' WHERE u.id = $1`, id).Scan(&on, &expires); err != nil {
				t.Fatalf("%s: %v", emailOf[id], err)
			}
			if w := want[emailOf[id]]; !on.Equal(w) || !expires.Equal(w) {
				t.Errorf("%s: deactivation %v and link expiry %v, want %v", emailOf[id], on, expires, w)
			}
		}
		var entries, mails, jobs int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(DISTINCT subject_id) FROM audit_log WHERE action = 'account.dormancy_warned'`).Scan(&entries); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRowContext(ctx, `SELECT COUNT(DISTINCT to_addr) FROM outbox WHERE subject LIKE 'Your PSIMS account will be deactivated on %'`).Scan(&mails); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'send_mail'`).Scan(&jobs); err != nil {
			t.Fatal(err)
		}
		if entries != len(want) || mails != len(want) || jobs != len(want) {
			t.Errorf("%d audit entries, %d emails, %d send jobs; want %d of each", entries, mails, jobs, len(want))
		}
		if n, problem, err := audit.Verify(ctx, d); err != nil || problem != nil {
			t.Errorf("audit chain after %d rows: %+v, %v", n, problem, err)
		}

		// The links work, each for its own account: the first and last of
		// a transaction and of a statement among them.
		for _, i := range []int{0, 49, 50, 498, 500, 1129 - 3} {
			email := users[i].Email
			if err := f.svc.ConfirmStillActive(ctx, f.token(t, email, "will be deactivated"), "192.0.2.1"); err != nil {
				t.Errorf("%s: confirm through its link: %v", email, err)
				continue
			}
			var warnedAt *time.Time
			if err := d.QueryRowContext(ctx, `SELECT dormancy_warned_at FROM users WHERE id = $1`, ids[i]).Scan(&warnedAt); err != nil {
				t.Fatal(err)
			}
			if warnedAt != nil {
				t.Errorf("%s: still warned after confirming", email)
			}
		}

		// A second sweep at the same moment warns nobody again.
		if err := sweep.Sweep(ctx, d, func(a account.DormancyAction) {
			t.Errorf("second sweep: %s of user %s", a.Action, strconv.FormatInt(a.UserID, 10))
		}); err != nil {
			t.Fatal(err)
		}

		// Once the notice has passed, every account still warned is
		// deactivated, each once, with its audit entry and email, the
		// notices of a batch written together.
		f.clock.Advance(policy.Notice().After(now).Sub(now) + time.Hour)
		deactivated := map[int64]int{}
		if err := sweep.Sweep(ctx, d, func(a account.DormancyAction) {
			if a.Action != account.DormancyDeactivate {
				t.Errorf("after the notice: %s of user %d", a.Action, a.UserID)
				return
			}
			deactivated[a.UserID]++
		}); err != nil {
			t.Fatal(err)
		}
		if len(deactivated) != len(want)-6 {
			t.Errorf("%d accounts deactivated, want %d (all warned but the 6 that confirmed)", len(deactivated), len(want)-6)
		}
		for id, n := range deactivated {
			if n != 1 || warned[id] != 1 {
				t.Errorf("%s deactivated %d times, warned %d", emailOf[id], n, warned[id])
			}
		}
		if err := d.QueryRowContext(ctx, `SELECT COUNT(DISTINCT subject_id) FROM audit_log WHERE action = 'account.dormancy_deactivated'`).Scan(&entries); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRowContext(ctx, `SELECT COUNT(DISTINCT to_addr) FROM outbox WHERE subject = 'Your PSIMS account has been deactivated'`).Scan(&mails); err != nil {
			t.Fatal(err)
		}
		if entries != len(deactivated) || mails != len(deactivated) {
			t.Errorf("%d audit entries and %d emails for %d deactivations", entries, mails, len(deactivated))
		}
		var still int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE status = 'deactivated' AND status_reason = $1`, account.DormantReason).Scan(&still); err != nil {
			t.Fatal(err)
		}
		if still != len(deactivated) {
			t.Errorf("%d accounts stored as dormant, %d reported", still, len(deactivated))
		}
		if n, problem, err := audit.Verify(ctx, d); err != nil || problem != nil {
			t.Errorf("audit chain after %d rows: %+v, %v", n, problem, err)
		}
	})
}

// TestASweepActsOnNoMoreAccountsThanItsLimit gives sweeps more dormant
// accounts than their limit. The first warns the longest idle up to the
// limit, across a transaction's boundary, and says how many wait; the next
// warns those, each with the full notice from its own warning. A month on,
// deactivations, and a month after that deletions, go the same way: at
// most the limit a sweep, the rest in the next, none twice (P12, P13).
func TestASweepActsOnNoMoreAccountsThanItsLimit(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		now := f.clock.Now()
		hash, err := password.NewHasher(password.Params{MemoryKiB: 64, Time: 1, Threads: 1}, 1).Hash(ctx, goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		created := now.AddDate(-3, 0, 0)
		users := make([]account.LoadUser, 1200)
		for i := range users {
			// The lower i, the longer idle.
			last := now.AddDate(-2, 0, 0).Add(time.Duration(i) * time.Minute)
			users[i] = account.LoadUser{Email: fmt.Sprintf("idle%d@nhs.net", i), PasswordHash: hash, Name: fmt.Sprintf("User %d", i),
				JobRole: "Staff nurse", OrgCode: "RM1", Role: account.RoleReporter, Status: account.StatusActive,
				CreatedAt: created, VerifiedAt: &created, ApprovedAt: &created, LastActiveAt: &last}
		}
		var ids []int64
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			ids, err = f.svc.Load(ctx, tx, users)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		rank := map[int64]int{}
		for i, id := range ids {
			rank[id] = i
		}
		policy := account.DefaultDormancyPolicy()
		policy.Limit = 700
		sweep := account.NewDormancy(f.svc, policy, eraseAccount{f.svc})
		// acted counts each account's actions over all the sweeps.
		acted := map[string]map[int64]int{}
		type result struct {
			ids      map[string][]int64
			deferred map[string]int64
		}
		run := func() result {
			t.Helper()
			r := result{ids: map[string][]int64{}, deferred: map[string]int64{}}
			if err := sweep.Sweep(ctx, d, func(a account.DormancyAction) {
				if a.Count > 0 {
					r.deferred[a.Action] = a.Count
					return
				}
				r.ids[a.Action] = append(r.ids[a.Action], a.UserID)
				if acted[a.Action] == nil {
					acted[a.Action] = map[int64]int{}
				}
				acted[a.Action][a.UserID]++
				if a.Action == account.DormancyWarn {
					if earliest := policy.Notice().After(a.At); a.DeactivateOn == nil || a.DeactivateOn.Before(earliest) {
						t.Errorf("user %d warned at %v to be deactivated on %v, sooner than the notice", a.UserID, a.At, a.DeactivateOn)
					}
				}
			}); err != nil {
				t.Fatal(err)
			}
			return r
		}
		want := func(r result, action string, n int, deferred string, waiting int64) {
			t.Helper()
			if len(r.ids[action]) != n || r.deferred[deferred] != waiting {
				t.Fatalf("%d %s and %d %s; want %d and %d (all: %v, deferred %v)", len(r.ids[action]), action, r.deferred[deferred], deferred,
					n, waiting, len(r.ids), r.deferred)
			}
		}

		r := run()
		want(r, account.DormancyWarn, 700, account.DormancyWarningsDeferred, 500)
		for _, id := range r.ids[account.DormancyWarn] {
			if rank[id] >= 700 {
				t.Errorf("user %d (idle rank %d) warned before longer idle accounts", id, rank[id])
			}
		}
		f.clock.Advance(time.Hour)
		want(run(), account.DormancyWarn, 500, account.DormancyWarningsDeferred, 0)
		want(run(), account.DormancyWarn, 0, account.DormancyWarningsDeferred, 0)

		// A month and two hours on, all 1,200 are due to be deactivated.
		f.clock.Advance(policy.Notice().After(f.clock.Now()).Sub(f.clock.Now()) + 2*time.Hour)
		want(run(), account.DormancyDeactivate, 700, account.DormancyDeactivationsDeferred, 500)
		want(run(), account.DormancyDeactivate, 500, account.DormancyDeactivationsDeferred, 0)

		// DeleteAfter on, all 1,200 are due to be deleted.
		f.clock.Advance(policy.DeleteAfter.After(f.clock.Now()).Sub(f.clock.Now()) + time.Hour)
		want(run(), account.DormancyDelete, 700, account.DormancyDeletionsDeferred, 500)
		want(run(), account.DormancyDelete, 500, account.DormancyDeletionsDeferred, 0)
		if r := run(); len(r.ids) != 0 || len(r.deferred) != 0 {
			t.Fatalf("a last sweep still did %v, deferred %v", r.ids, r.deferred)
		}
		for _, action := range []string{account.DormancyWarn, account.DormancyDeactivate, account.DormancyDelete} {
			if len(acted[action]) != 1200 {
				t.Errorf("%d accounts had %s, want 1200", len(acted[action]), action)
			}
			for id, n := range acted[action] {
				if n != 1 {
					t.Errorf("user %d had %s %d times", id, action, n)
				}
			}
		}
	})
}

// eraseAccount deletes a dormant person's account details only: enough to
// count deletions without the rights service the server uses.
type eraseAccount struct{ svc *account.Service }

func (e eraseAccount) EraseDormant(ctx context.Context, tx *db.Tx, userID int64, _ string) error {
	_, err := e.svc.ErasePerson(ctx, tx, userID)
	return err
}
