package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/db/dbtest"
)

// psims runs the command in-process with the given environment and
// standard input, returning its output and exit code.
func psims(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errOut)
	code = exitCode(err, &errOut)
	return out.String(), errOut.String(), code
}

// engineEnv returns the environment that points psims at the engine.
func engineEnv(t *testing.T, e dbtest.Engine) map[string]string {
	env := map[string]string{"PSIMS_DATA_DIR": t.TempDir(), "PSIMS_LOG_LEVEL": "error"}
	if e.Database != "" {
		env["PSIMS_DATABASE"] = e.Database
	} else {
		env["PSIMS_DATA_DIR"] = filepath.Dir(e.SQLitePath)
	}
	return env
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"no command is bad usage", nil, 2},
		{"an unknown command is bad usage", []string{"frobnicate"}, 2},
		{"an unknown flag is bad usage", []string{"migrate", "--nope"}, 2},
		{"help succeeds", []string{"--help"}, 0},
		{"a command's help succeeds", []string{"serve", "--help"}, 0},
		{"version succeeds", []string{"version"}, 0},
		{"user create without its flags is bad usage", []string{"user", "create"}, 2},
		{"org import with a flag after the file is bad usage", []string{"org", "import", "orgs.csv", "--data-dir", "x"}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := psims(t, map[string]string{"PSIMS_DATA_DIR": t.TempDir()}, "", c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, c.code, stderr)
			}
			if code != 0 && strings.Count(strings.TrimSpace(lastLine(stderr)), "\n") != 0 {
				t.Fatalf("error is not one line: %q", stderr)
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestEnvironmentSetsFlagsAndTheCommandLineWins(t *testing.T) {
	env := map[string]string{"PSIMS_DATA_DIR": t.TempDir(), "PSIMS_BASE_URL": "not a url"}
	if _, stderr, code := psims(t, env, "", "migrate"); code != 0 {
		// migrate does not take --base-url, so the variable is not read.
		t.Fatalf("migrate: exit %d: %s", code, stderr)
	}
	env["PSIMS_SESSION_IDLE_TIMEOUT"] = "-5m"
	_, stderr, code := psims(t, env, "", "serve")
	if code != 2 || !strings.Contains(stderr, "base-url") {
		t.Fatalf("serve with a bad PSIMS_BASE_URL: exit %d, %q", code, stderr)
	}
}

func TestUserCreateMakesAnActiveNationalAdmin(t *testing.T) { // T13
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			env := engineEnv(t, e)
			orgs := filepath.Join(t.TempDir(), "orgs.csv")
			if err := os.WriteFile(orgs, []byte("RM1,NORFOLK AND NORWICH UNIVERSITY HOSPITALS NHS FOUNDATION TRUST\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, stderr, code := psims(t, env, "", "org", "import", orgs); code != 0 || !strings.Contains(out, "1 added") {
				t.Fatalf("org import: exit %d, %q %q", code, out, stderr)
			}
			out, stderr, code := psims(t, env, "correct horse battery staple lantern\n", "user", "create",
				"--email", "Admin@NHS.net", "--name", "Pat Admin", "--org", "RM1", "--role", "national-admin", "--password-stdin")
			if code != 0 || !strings.Contains(out, "admin@nhs.net") || !strings.Contains(out, "national-admin") {
				t.Fatalf("user create: exit %d, %q %q", code, out, stderr)
			}
			_, stderr, code = psims(t, env, "another long passphrase ok\n", "user", "create",
				"--email", "admin@nhs.net", "--name", "Pat Admin", "--org", "RM1", "--password-stdin")
			if code != 1 || !strings.Contains(stderr, "already exists") {
				t.Fatalf("duplicate user create: exit %d, %q", code, stderr)
			}
			_, stderr, code = psims(t, env, "password\n", "user", "create",
				"--email", "weak@nhs.net", "--name", "Weak", "--org", "RM1", "--password-stdin")
			if code != 1 || !strings.Contains(stderr, "password") {
				t.Fatalf("weak password: exit %d, %q", code, stderr)
			}
			out, _, code = psims(t, env, "", "audit", "verify")
			if code != 0 || !strings.Contains(out, "intact") {
				t.Fatalf("audit verify: exit %d, %q", code, out)
			}
		})
	}
}

func TestAuditVerifyFailsOnATamperedLog(t *testing.T) {
	t.Parallel()
	e := dbtest.SQLite(t)
	env := engineEnv(t, e)
	orgs := filepath.Join(t.TempDir(), "orgs.csv")
	if err := os.WriteFile(orgs, []byte("RM1,A TRUST\nRJ1,ANOTHER TRUST\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	psims(t, env, "", "org", "import", orgs)
	psims(t, env, "", "org", "import", orgs)
	d := dbtest.Open(t, e)
	if _, err := d.WritePool().Exec(`UPDATE audit_log SET details = '{}' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := psims(t, env, "", "audit", "verify")
	if code != 1 || !strings.Contains(stderr, "row 1") {
		t.Fatalf("audit verify on a tampered log: exit %d, %q", code, stderr)
	}
}

func TestUserCreateRecordsIGTrainingSoTheFirstAdminIsNotLockedOut(t *testing.T) { // T13, T18
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			env := engineEnv(t, e)
			orgs := filepath.Join(t.TempDir(), "orgs.csv")
			if err := os.WriteFile(orgs, []byte("RM1,A TRUST\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, stderr, code := psims(t, env, "", "org", "import", orgs); code != 0 {
				t.Fatalf("org import: exit %d, %q", code, stderr)
			}
			create := func(email, ig string) (string, string, int) {
				args := []string{"user", "create", "--email", email, "--name", "Pat Admin", "--org", "RM1",
					"--role", "national-admin", "--password-stdin"}
				if ig != "" {
					args = append(args, "--ig-training", ig)
				}
				return psims(t, env, "correct horse battery staple lantern\n", args...)
			}
			now := time.Now().UTC()
			for _, c := range []struct{ name, ig, want string }{
				{"a day in the future", now.AddDate(0, 0, 2).Format(time.DateOnly), "today or in the past"},
				{"a day whose training has lapsed", now.AddDate(0, -13, 0).Format(time.DateOnly), "within the last 12 months"},
			} {
				_, stderr, code := create("refused@nhs.net", c.ig)
				if code != 1 || !strings.Contains(stderr, c.want) {
					t.Errorf("%s: exit %d, %q; want exit 1 saying %q", c.name, code, stderr, c.want)
				}
			}
			if _, stderr, code := create("refused@nhs.net", "31/03/2026"); code != 2 || !strings.Contains(stderr, "--ig-training") {
				t.Errorf("a date in another layout: exit %d, %q; want usage error", code, stderr)
			}
			d := dbtest.Open(t, e)
			var n int
			if err := d.WritePool().QueryRow(`SELECT COUNT(*) FROM users WHERE email = 'refused@nhs.net'`).Scan(&n); err != nil || n != 0 {
				t.Fatalf("refused account exists: %d, %v", n, err)
			}

			day := now.AddDate(0, -2, 0).Format(time.DateOnly)
			out, stderr, code := create("admin@nhs.net", day)
			if code != 0 || !strings.Contains(out, "IG training recorded as completed on "+day) {
				t.Fatalf("user create with --ig-training: exit %d, %q %q", code, out, stderr)
			}
			var stored time.Time
			if err := d.WritePool().QueryRow(`SELECT ig_training_at FROM users WHERE email = 'admin@nhs.net'`).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if stored.UTC().Format(time.DateOnly) != day {
				t.Fatalf("stored IG training %v, want %s", stored, day)
			}
			var details string
			if err := d.WritePool().QueryRow(`SELECT details FROM audit_log WHERE action = 'account.ig_training'`).Scan(&details); err != nil {
				t.Fatalf("IG training not audited: %v", err)
			}
			if !strings.Contains(details, day) {
				t.Fatalf("audit details %q lack the day %s", details, day)
			}
			out, _, code = psims(t, env, "", "audit", "verify")
			if code != 0 || !strings.Contains(out, "intact") {
				t.Fatalf("audit verify: exit %d, %q", code, out)
			}
		})
	}
}

func TestOrgImportSaysFlagsGoBeforeTheFile(t *testing.T) {
	_, stderr, code := psims(t, map[string]string{"PSIMS_DATA_DIR": t.TempDir()}, "", "org", "import", "orgs.csv", "--data-dir", "elsewhere")
	if code != 2 || !strings.Contains(stderr, "put flags before the file") {
		t.Fatalf("flag after the file: exit %d, %q", code, stderr)
	}
}
