package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// T3: the operator removes the app of someone who has lost it; the
// command refuses bad usage with 2 and an unknown address with 1, and the
// reset is audited as done from the command line.
func TestUserResetTwoStep(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			env := engineEnv(t, e)
			orgs := filepath.Join(t.TempDir(), "orgs.csv")
			if err := os.WriteFile(orgs, []byte("RM1,NORFOLK AND NORWICH UNIVERSITY HOSPITALS NHS FOUNDATION TRUST\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, stderr, code := psims(t, env, "", "org", "import", orgs); code != 0 {
				t.Fatalf("org import: %s", stderr)
			}
			if _, stderr, code := psims(t, env, "correct horse battery staple lantern\n", "user", "create", "--email", "nina@nhs.net",
				"--name", "Nina National", "--org", "RM1", "--role", "national-admin", "--password-stdin"); code != 0 {
				t.Fatalf("user create: %s", stderr)
			}
			d, err := db.Open(context.Background(), e.Database, e.SQLitePath)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			ctx := context.Background()
			if _, err := d.ExecContext(ctx, `INSERT INTO totp_factors (user_id, sealed, created_at, confirmed_at)
				SELECT id, $1, $2, $2 FROM users WHERE email = 'nina@nhs.net'`, []byte("sealed"), d.Now()); err != nil {
				t.Fatal(err)
			}

			for _, c := range []struct {
				args []string
				code int
				msg  string
			}{
				{[]string{"--email", "nina@nhs.net"}, 2, "needs --email and --reason"},
				{[]string{"--email", "not an address", "--reason", "Lost phone"}, 2, "--email"},
				{[]string{"--email", "nobody@nhs.net", "--reason", "Lost phone"}, 1, "No account has that email address"},
			} {
				if _, stderr, code := psims(t, env, "", append([]string{"user", "reset-two-step"}, c.args...)...); code != c.code || !strings.Contains(stderr, c.msg) {
					t.Errorf("reset-two-step %v: exit %d, %q; want %d and %q", c.args, code, stderr, c.code, c.msg)
				}
			}
			out, stderr, code := psims(t, env, "", "user", "reset-two-step", "--email", "NINA@nhs.net", "--reason", "Lost phone; checked in person")
			if code != 0 || !strings.Contains(out, "nina@nhs.net has no authenticator app") {
				t.Fatalf("reset: exit %d, %s%s", code, out, stderr)
			}
			var apps, audits int
			d.QueryRowContext(ctx, `SELECT COUNT(*) FROM totp_factors`).Scan(&apps)
			d.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'account.two_step_reset' AND actor_user_id IS NULL`).Scan(&audits)
			if apps != 0 || audits != 1 {
				t.Errorf("after the reset: %d apps, %d audit entries by the command line; want 0 and 1", apps, audits)
			}
		})
	}
}
