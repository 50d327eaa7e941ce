package demo

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/password"
)

var testNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func TestGeneratedCodesParseAndEmailsCannotBeDelivered(t *testing.T) {
	taken := map[string]bool{"RM1": true, "QMM": true}
	d, err := Generate(Options{Orgs: 5000, Users: 20000, Seed: 7}, taken, testNow, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Orgs) != 5000 || len(d.Users) != 20000 {
		t.Fatalf("made %d organisations and %d users", len(d.Orgs), len(d.Users))
	}
	codes := map[string]bool{}
	types := map[org.Type]int{}
	for _, o := range d.Orgs {
		c, err := org.ParseCode(o.Code.String())
		if err != nil || c != o.Code {
			t.Fatalf("code %q does not parse: %v", o.Code, err)
		}
		if taken[o.Code.String()] || codes[o.Code.String()] {
			t.Fatalf("code %s is used twice", o.Code)
		}
		codes[o.Code.String()] = true
		types[o.Type]++
		if !strings.HasPrefix(o.Name, "Demo ") {
			t.Errorf("name %q does not say it is a demo", o.Name)
		}
	}
	for _, o := range d.Orgs {
		if !o.Parent.IsZero() && !codes[o.Parent.String()] {
			t.Errorf("%s has parent %s, which is not generated", o.Code, o.Parent)
		}
	}
	if types[org.TypeICB] == 0 || types[org.TypeTrust] == 0 || types[org.TypeGPPractice] < 4000 || types[org.TypeOther] == 0 {
		t.Errorf("types %v", types)
	}

	emails := map[string]bool{}
	roles := map[account.Role]int{}
	perOrg := map[string]int{}
	for _, u := range d.Users {
		if !strings.HasSuffix(u.Email, "@"+EmailDomain) || !strings.HasSuffix(u.Email, ".invalid") {
			t.Fatalf("email %q can be delivered", u.Email)
		}
		if emails[u.Email] {
			t.Fatalf("email %q used twice", u.Email)
		}
		emails[u.Email] = true
		if !codes[u.OrgCode] {
			t.Fatalf("user in unknown organisation %s", u.OrgCode)
		}
		roles[u.Role]++
		perOrg[u.OrgCode]++
		if (u.Role == account.RoleReadOnly) != (len(u.ReadGrants) > 0) {
			t.Errorf("%s is %s with grants %v", u.Email, u.Role, u.ReadGrants)
		}
		if u.CreatedAt.After(testNow) || u.CreatedAt.Before(testNow.AddDate(-2, 0, -1)) {
			t.Errorf("created %v", u.CreatedAt)
		}
	}
	share := func(r account.Role) float64 { return float64(roles[r]) / float64(len(d.Users)) }
	if s := share(account.RoleReporter); s < 0.83 || s > 0.91 {
		t.Errorf("reporters %.3f", s)
	}
	if s := share(account.RoleReviewer); s < 0.06 || s > 0.10 {
		t.Errorf("reviewers %.3f", s)
	}
	if n := roles[account.RoleNationalAdmin]; n < 1 || n > 10 {
		t.Errorf("%d national admins", n)
	}
	if perOrg[d.Biggest] < 1000 {
		t.Errorf("the biggest organisation has %d users of 20000", perOrg[d.Biggest])
	}
	if d.NationalAdmin == "" || d.BiggestOrgAdmin == "" {
		t.Errorf("no account to sign in as: %q %q", d.NationalAdmin, d.BiggestOrgAdmin)
	}

	again, err := Generate(Options{Orgs: 5000, Users: 20000, Seed: 7}, taken, testNow, 1)
	if err != nil || !reflect.DeepEqual(again, d) {
		t.Error("the same seed made different data")
	}
	other, _ := Generate(Options{Orgs: 5000, Users: 20000, Seed: 8}, taken, testNow, 1)
	if reflect.DeepEqual(other.Orgs, d.Orgs) {
		t.Error("another seed made the same organisations")
	}
}

func TestGenerateNeedsSomethingToMake(t *testing.T) {
	if _, err := Generate(Options{Orgs: 1, Users: 10}, nil, testNow, 1); err == nil {
		t.Error("one organisation accepted")
	}
	if _, err := Generate(Options{Orgs: 2, Users: 2}, nil, testNow, 1); err != nil {
		t.Errorf("the smallest demo: %v", err)
	}
}

func TestSeedWritesEverythingAndRefusesASecondTimeUnlessForced(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		hasher := password.NewHasher(password.Params{MemoryKiB: 64, Time: 1, Threads: 1}, 1)
		opts := Options{Orgs: 60, Users: 700, Seed: 3}
		orgs := org.NewStore(d)
		defaults := config.Defaults()
		accounts := account.NewService(d, hasher, password.NewPolicy(), orgs, nil, nil, defaults.AccountSettings())
		res, err := Seed(ctx, d, orgs, accounts, hasher, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Orgs != 60 || res.Users != 700 || res.Password == "" || res.NationalAdmin == "" || res.BiggestOrgAdmin == "" {
			t.Fatalf("result %+v", res)
		}
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := d.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(`SELECT COUNT(*) FROM users`); n != 700 {
			t.Errorf("%d users stored", n)
		}
		if n := count(`SELECT COUNT(*) FROM organisations`); n != 60 {
			t.Errorf("%d organisations stored", n)
		}
		if n := count(`SELECT COUNT(*) FROM read_grants`); n != res.ReadGrants || n == 0 {
			t.Errorf("%d read grants stored, result says %d", n, res.ReadGrants)
		}
		if n := count(`SELECT COUNT(*) FROM users WHERE org_ods = $1`, res.Biggest); n != res.BiggestUsers {
			t.Errorf("biggest has %d users, result says %d", n, res.BiggestUsers)
		}
		if n := count(`SELECT COUNT(*) FROM audit_log WHERE action = 'demo.seed'`); n != 1 {
			t.Errorf("%d demo.seed audit entries", n)
		}

		for _, email := range []string{res.NationalAdmin, res.BiggestOrgAdmin} {
			u, err := accounts.UserByEmail(ctx, email)
			if err != nil {
				t.Fatal(err)
			}
			if u.Status != account.StatusActive || !accounts.IGCurrent(u) {
				t.Errorf("%s: status %s, IG current %v", email, u.Status, accounts.IGCurrent(u))
			}
			var hash string
			if err := d.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&hash); err != nil {
				t.Fatal(err)
			}
			if ok, _, err := hasher.Verify(ctx, res.Password, hash); !ok || err != nil {
				t.Errorf("%s: the demo password does not verify: %v", email, err)
			}
		}
		admin, _ := accounts.UserByEmail(ctx, res.BiggestOrgAdmin)
		if admin.Role != account.RoleOrgAdmin || admin.OrgCode != res.Biggest {
			t.Errorf("org admin is %s of %s, want org-admin of %s", admin.Role, admin.OrgCode, res.Biggest)
		}

		if _, err := Seed(ctx, d, orgs, accounts, hasher, opts); apperr.CodeOf(err) != apperr.Conflict || !strings.Contains(err.Error(), "--force") {
			t.Fatalf("second seed: %v, want a conflict naming --force", err)
		}
		opts.Force = true
		more, err := Seed(ctx, d, orgs, accounts, hasher, opts)
		if err != nil {
			t.Fatalf("forced seed: %v", err)
		}
		if n := count(`SELECT COUNT(*) FROM users`); n != 1400 {
			t.Errorf("%d users after the forced seed", n)
		}
		if n := count(`SELECT COUNT(*) FROM organisations`); n != 120 {
			t.Errorf("%d organisations after the forced seed", n)
		}
		if more.Password == res.Password {
			t.Error("the password was not new")
		}
	})
}
