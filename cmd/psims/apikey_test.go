package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/apikey"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// T3: the commands make a key and print it alone, list keys without
// them, and revoke one so it stops working; bad usage exits 2 and a
// refused request 1, each with one line on stderr.
func TestAPIKeyCommands(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			env := engineEnv(t, e)
			orgs := filepath.Join(t.TempDir(), "orgs.csv")
			if err := os.WriteFile(orgs, []byte("RM1,NORFOLK AND NORWICH UNIVERSITY HOSPITALS NHS FOUNDATION TRUST\nX26,NHS ENGLAND\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, stderr, code := psims(t, env, "", "org", "import", orgs); code != 0 {
				t.Fatalf("org import: %s", stderr)
			}
			expires := time.Now().UTC().AddDate(1, 0, 0).Format(time.DateOnly)
			out, stderr, code := psims(t, env, "", "apikey", "create", "--org", "rm1", "--name", "Datix", "--expires", expires)
			if code != 0 || stderr != "" {
				t.Fatalf("create: exit %d, %q", code, stderr)
			}
			secret := strings.TrimSuffix(out, "\n")
			if strings.Contains(secret, "\n") || len(secret) != apikey.KeyLength || !strings.HasPrefix(secret, apikey.KeyPrefix) {
				t.Fatalf("create printed %q, want the key alone on one line", out)
			}
			if out, stderr, code := psims(t, env, "", "apikey", "create", "--org", "X26", "--name", "NHS England system"); code != 0 {
				t.Fatalf("create without an expiry: exit %d, %q %q", code, out, stderr)
			}

			out, _, code = psims(t, env, "", "apikey", "list", "--org", "RM1")
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if code != 0 || len(lines) != 1 {
				t.Fatalf("list of RM1: exit %d, %q", code, out)
			}
			cols := strings.Split(lines[0], "\t")
			if len(cols) != 8 || cols[0] != "1" || cols[1] != "RM1" || cols[2] != "Datix" || cols[3] != secret[:12] || cols[4] != "active" ||
				!strings.HasPrefix(cols[6], expires+"T00:00:00") || cols[7] != "never" {
				t.Fatalf("list line %q", lines[0])
			}
			if _, err := time.Parse(time.RFC3339, cols[5]); err != nil {
				t.Fatalf("created %q: %v", cols[5], err)
			}
			if strings.Contains(out, secret[12:]) {
				t.Fatal("list shows the key")
			}
			out, _, _ = psims(t, env, "", "apikey", "list")
			if n := strings.Count(out, "\n"); n != 2 || !strings.HasPrefix(out, "2\tX26\t") {
				t.Fatalf("list of every organisation: %q", out)
			}

			d, err := db.Open(context.Background(), e.Database, e.SQLitePath)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			keys := apikey.New(d)
			if k, err := keys.Authenticate(context.Background(), secret); err != nil || k.Org != "RM1" {
				t.Fatalf("the printed key: %+v, %v", k, err)
			}
			if out, stderr, code := psims(t, env, "", "apikey", "revoke", "--id", "1", "--reason", "Replaced"); code != 0 || out != "Revoked API key 1.\n" {
				t.Fatalf("revoke: exit %d, %q %q", code, out, stderr)
			}
			if _, err := keys.Authenticate(context.Background(), secret); apperr.CodeOf(err) != apperr.Unauthorized {
				t.Fatalf("a revoked key: %v", err)
			}
			out, _, _ = psims(t, env, "", "apikey", "list", "--org", "RM1")
			if !strings.Contains(out, "\trevoked\t") {
				t.Fatalf("list after revoking: %q", out)
			}
			rows, err := audit.List(context.Background(), d, "api_key", "1", 5)
			if err != nil || len(rows) != 2 || rows[0].ActorID != 0 || rows[1].ActorID != 0 {
				t.Fatalf("audit %+v, %v", rows, err)
			}

			for _, c := range []struct {
				args []string
				code int
				says string
			}{
				{[]string{"apikey", "create", "--org", "RM1"}, 2, "needs --org and --name"},
				{[]string{"apikey", "create", "--name", "Datix"}, 2, "needs --org and --name"},
				{[]string{"apikey", "create", "--org", "RM1", "--name", "Datix", "--expires", "31/12/2026"}, 2, "YYYY-MM-DD"},
				{[]string{"apikey", "create", "--org", "RM1", "--name", "Datix", "extra"}, 2, "unexpected"},
				{[]string{"apikey", "revoke"}, 2, "--id"},
				{[]string{"apikey", "revoke", "--id", "x"}, 2, "--id"},
				{[]string{"apikey", "rotate"}, 2, "unknown command"},
				{[]string{"apikey", "create", "--org", "ZZZ99", "--name", "Datix"}, 1, "No organisation has the ODS code ZZZ99"},
				{[]string{"apikey", "create", "--org", "RM1", "--name", "Datix", "--expires", "2020-01-01"}, 1, "must be in the future"},
				{[]string{"apikey", "revoke", "--id", "1"}, 1, "already been revoked"},
				{[]string{"apikey", "revoke", "--id", "99"}, 1, "no such API key"},
			} {
				out, stderr, code := psims(t, env, "", c.args...)
				if code != c.code || !strings.Contains(stderr, c.says) || strings.Count(stderr, "\n") != 1 || (code == 1 && out != "") {
					t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d saying %q on one line", c.args, code, out, stderr, c.code, c.says)
				}
			}
		})
	}
}
