package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// direct runs a command function in-process, as run would, returning its
// output and exit code.
func direct(t *testing.T, fn func(context.Context, env, []string) error, vars map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := env{getenv: func(k string) string { return vars[k] }, stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
	err := fn(context.Background(), e, args)
	code = exitCode(err, &errOut)
	return out.String(), errOut.String(), code
}

var demoPasswordLine = regexp.MustCompile(`password: (demo-[a-z0-9-]+)\n`)

func TestDemoSeedAddsSyntheticDataOnceUnlessForced(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			vars := engineEnv(t, e)
			out, stderr, code := direct(t, cmdDemo, vars, "seed", "--orgs", "30", "--users", "400", "--seed", "9")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, want := range []string{"Added 30 organisations and 400 users", "National admin:", "Organisation admin of", "@demo.psims.invalid"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if demoPasswordLine.FindStringSubmatch(out) == nil {
				t.Errorf("no password in the output:\n%s", out)
			}

			_, stderr, code = direct(t, cmdDemo, vars, "seed", "--orgs", "30", "--users", "400")
			if code != 1 || !strings.Contains(stderr, "already has 400 users") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Fatalf("second seed: exit %d, stderr %q; want 1 and one line about the users there", code, stderr)
			}
			if out, stderr, code := direct(t, cmdDemo, vars, "seed", "--orgs", "30", "--users", "400", "--force"); code != 0 || !strings.Contains(out, "Added 30 organisations and 400 users") {
				t.Fatalf("forced seed: exit %d: %s%s", code, out, stderr)
			}
		})
	}
}

func TestDemoSeedAddsEventsOverTheUsers(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			vars := engineEnv(t, e)
			out, stderr, code := direct(t, cmdDemo, vars, "seed", "--orgs", "30", "--users", "200", "--events", "300", "--seed", "4")
			if code != 0 || !strings.Contains(out, "Added 30 organisations and 200 users") || !strings.Contains(out, "Added 300 events") {
				t.Fatalf("exit %d: %s%s", code, out, stderr)
			}
			out, stderr, code = direct(t, cmdDemo, vars, "seed", "--users", "0", "--events", "50")
			if code != 0 || strings.Contains(out, "users") || !strings.Contains(out, "Added 50 events") {
				t.Fatalf("events only: exit %d: %s%s", code, out, stderr)
			}
			d, err := db.Open(context.Background(), e.Database, e.SQLitePath)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			ctx := context.Background()
			var events, strangers, reporters, orgs, versions int
			d.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT reporter_id), COUNT(DISTINCT org_ods) FROM events`).Scan(&events, &reporters, &orgs)
			// Every event happened in its reporter's organisation.
			d.QueryRowContext(ctx, `SELECT COUNT(*) FROM events e JOIN users u ON u.id = e.reporter_id WHERE u.org_ods <> e.org_ods`).Scan(&strangers)
			d.QueryRowContext(ctx, `SELECT COUNT(*) FROM event_versions`).Scan(&versions)
			if events != 350 || versions != 350 || strangers != 0 || reporters < 100 || orgs < 10 {
				t.Errorf("%d events (%d versions) by %d reporters in %d organisations, %d outside the reporter's; want 350 spread widely, none outside",
					events, versions, reporters, orgs, strangers)
			}
		})
	}
}

func TestDemoSeedBadUsage(t *testing.T) {
	vars := map[string]string{"PSIMS_DATA_DIR": t.TempDir()}
	for _, args := range [][]string{{}, {"plant"}, {"seed", "--users", "1"}, {"seed", "extra"}, {"seed", "--orgs", "many"},
		{"seed", "--events", "-1"}, {"seed", "--users", "0"}} {
		if _, stderr, code := direct(t, cmdDemo, vars, args...); code != 2 {
			t.Errorf("demo %v: exit %d (%s), want 2", args, code, stderr)
		}
	}
	if _, _, code := direct(t, cmdDemo, vars, "seed", "--help"); code != 0 {
		t.Errorf("demo seed --help: exit %d", code)
	}
}

func TestUserSetRoleChangesRolesAndGrants(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			vars := engineEnv(t, e)
			if _, stderr, code := direct(t, cmdDemo, vars, "seed", "--orgs", "60", "--users", "100"); code != 0 {
				t.Fatalf("seed: %s", stderr)
			}
			d, err := db.Open(context.Background(), e.Database, e.SQLitePath)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			var email string
			var trusts []string
			if err := d.QueryRowContext(context.Background(), `SELECT email FROM users WHERE role = 'reporter' ORDER BY id LIMIT 1`).Scan(&email); err != nil {
				t.Fatal(err)
			}
			rows, err := d.QueryContext(context.Background(), `SELECT ods_code FROM organisations WHERE org_type = 'trust' ORDER BY ods_code LIMIT 2`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var c string
				rows.Scan(&c)
				trusts = append(trusts, c)
			}
			rows.Close()
			role := func() string {
				t.Helper()
				var r string
				if err := d.QueryRowContext(context.Background(), `SELECT role FROM users WHERE email = $1`, email).Scan(&r); err != nil {
					t.Fatal(err)
				}
				return r
			}

			out, stderr, code := direct(t, cmdUserSetRole, vars, "--email", strings.ToUpper(email), "--role", "reviewer")
			if code != 0 || !strings.Contains(out, "is now reviewer") || role() != "reviewer" {
				t.Fatalf("set reviewer: exit %d, %s%s, role %s", code, out, stderr, role())
			}
			if _, stderr, code := direct(t, cmdUserSetRole, vars, "--email", email, "--role", "reviewer"); code != 1 || !strings.Contains(stderr, "already reviewer") {
				t.Errorf("same role again: exit %d, %q", code, stderr)
			}

			// A code that does not exist changes nothing.
			if _, stderr, code := direct(t, cmdUserSetRole, vars, "--email", email, "--role", "read-only", "--grant", trusts[0]+",Y99999"); code != 1 || !strings.Contains(stderr, "Y99999") {
				t.Errorf("unknown grant: exit %d, %q", code, stderr)
			}
			if role() != "reviewer" {
				t.Errorf("role changed to %s by a refused command", role())
			}

			grant := strings.ToLower(trusts[0]) + ", " + trusts[1]
			out, stderr, code = direct(t, cmdUserSetRole, vars, "--email", email, "--role", "read-only", "--grant", grant)
			if code != 0 || !strings.Contains(out, "may read the records of "+trusts[0]+", "+trusts[1]) || role() != "read-only" {
				t.Fatalf("set read-only: exit %d, %s%s", code, out, stderr)
			}
			out, stderr, code = direct(t, cmdUserSetRole, vars, "--email", email, "--role", "read-only", "--grant", trusts[1])
			if code != 0 || !strings.Contains(out, "may read the records of "+trusts[1]+".") {
				t.Fatalf("change grants: exit %d, %s%s", code, out, stderr)
			}
			var audits int
			d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action IN ('account.set_role', 'account.set_read_grants') AND actor_user_id IS NULL`).Scan(&audits)
			if audits != 4 {
				t.Errorf("%d audit entries by the command line, want 4", audits)
			}

			for _, c := range []struct {
				args []string
				code int
				msg  string
			}{
				{[]string{"--email", email}, 2, "needs --email and --role"},
				{[]string{"--email", email, "--role", "emperor"}, 2, "Role must be one of"},
				{[]string{"--email", email, "--role", "reviewer", "--grant", trusts[0]}, 2, "only for --role read-only"},
				{[]string{"--email", "not an address", "--role", "reviewer"}, 2, "--email"},
				{[]string{"--email", "nobody@demo.psims.invalid", "--role", "reviewer"}, 1, "No account has that email address"},
			} {
				if _, stderr, code := direct(t, cmdUserSetRole, vars, c.args...); code != c.code || !strings.Contains(stderr, c.msg) {
					t.Errorf("set-role %v: exit %d, %q; want %d and %q", c.args, code, stderr, c.code, c.msg)
				}
			}
		})
	}
}
