package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
