package account_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/password"
)

// TestLoadAddsUsersWithTheirGrantsAndReturnsTheirIDs loads more than two
// statements' worth of users, some read-only with grants, and checks they
// are stored as given, can sign in, and that a failing load leaves
// nothing behind.
func TestLoadAddsUsersWithTheirGrantsAndReturnsTheirIDs(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		if _, err := org.NewStore(d).Import(ctx, strings.NewReader("RM2,Second Hospital\nRM3,Third Hospital\n")); err != nil {
			t.Fatal(err)
		}
		f.activeUser(t, "first@nhs.net")
		hash, err := password.NewHasher(password.Params{MemoryKiB: 64, Time: 1, Threads: 1}, 1).Hash(ctx, goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 6, 1, 8, 30, 0, 0, time.FixedZone("BST", 3600))
		users := make([]account.LoadUser, 650)
		for i := range users {
			users[i] = account.LoadUser{Email: fmt.Sprintf("user%d@demo.psims.invalid", i), PasswordHash: hash,
				Name: fmt.Sprintf("User %d", i), JobRole: "Staff nurse", OrgCode: "RM1",
				Role: account.RoleReporter, Status: account.StatusActive, CreatedAt: at, VerifiedAt: &at, ApprovedAt: &at}
		}
		users[7].Role, users[7].ReadGrants, users[7].IGTrainingAt = account.RoleReadOnly, []string{"RM2", "RM3"}, &at
		users[640].Role, users[640].ReadGrants = account.RoleReadOnly, []string{"RM1"}
		users[3].Status, users[3].StatusReason, users[3].StatusAt = account.StatusSuspended, "Left the trust", &at

		var ids []int64
		err = d.InTx(ctx, func(tx *db.Tx) error {
			n, maxID, err := f.svc.CountUsers(ctx, tx)
			if err != nil {
				return err
			}
			if n != 1 || maxID == 0 {
				t.Errorf("before the load: %d users, highest ID %d", n, maxID)
			}
			ids, err = f.svc.Load(ctx, tx, users)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Analyze(ctx); err != nil {
			t.Fatal(err)
		}
		if len(ids) != len(users) || slices.Contains(ids, 0) {
			t.Fatalf("%d IDs for %d users: %v", len(ids), len(users), ids[:5])
		}
		for i, id := range ids {
			u, err := f.svc.UserByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			want := users[i]
			if u.Email != want.Email || u.Role != want.Role || u.Status != want.Status || u.StatusReason != want.StatusReason ||
				!u.CreatedAt.Equal(at) || u.ApprovedAt == nil || !u.ApprovedAt.Equal(at) || (u.IGTrainingAt != nil) != (want.IGTrainingAt != nil) {
				t.Fatalf("user %d stored as %+v, want %+v", i, u, want)
			}
		}
		for _, i := range []int{7, 640, 0} {
			grants, err := f.svc.ReadGrants(ctx, ids[i])
			if err != nil || !slices.Equal(grants, users[i].ReadGrants) {
				t.Errorf("user %d grants %v, %v; want %v", i, grants, err, users[i].ReadGrants)
			}
		}
		if _, err := f.svc.SignIn(ctx, users[5].Email, goodPassword, account.Client{}); err != nil {
			t.Errorf("a loaded user cannot sign in: %v", err)
		}
		members, err := f.svc.Members(ctx)
		if err != nil || len(members) != len(users)+1 || members[1] != (account.Member{ID: ids[0], OrgCode: "RM1"}) {
			t.Errorf("members %v..., %v", members[:2], err)
		}

		// A stored email fails the load, and the caller's transaction with it.
		again := []account.LoadUser{users[0], users[1]}
		again[0].Email = "new@demo.psims.invalid"
		if err := d.InTx(ctx, func(tx *db.Tx) error { _, err := f.svc.Load(ctx, tx, again); return err }); !db.IsUniqueViolation(err) {
			t.Fatalf("loading a stored email: %v, want a unique violation", err)
		}
		if _, err := f.svc.UserByEmail(ctx, "new@demo.psims.invalid"); err == nil {
			t.Error("a failed load left a user behind")
		}
		bad := users[0]
		bad.Email, bad.Role = "bad@demo.psims.invalid", "admin"
		if err := d.InTx(ctx, func(tx *db.Tx) error { _, err := f.svc.Load(ctx, tx, []account.LoadUser{bad}); return err }); err == nil {
			t.Error("loaded a user with an unknown role")
		}
	})
}
