package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/db/dbtest"
)

// P12, P13: psims lifecycle run --as-of runs the sweeps as if at that
// time and prints one JSON line per action, naming people by id only; a
// dry run prints the same lines and changes nothing, so a real run after
// it prints them again; a second real run prints nothing; a bad --as-of is
// bad usage with one line on stderr.
func TestLifecycleRunAsOfPrintsOneLinePerAction(t *testing.T) {
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
			for _, email := range []string{"pat@nhs.net", "sam@nhs.net"} {
				if _, stderr, code := psims(t, env, "correct horse battery staple lantern\n", "user", "create",
					"--email", email, "--name", "Pat Person", "--org", "RM1", "--role", "national-admin", "--password-stdin"); code != 0 {
					t.Fatalf("user create: %s", stderr)
				}
			}
			asOf := time.Now().UTC().AddDate(1, 0, 0).Format(time.RFC3339)
			dry, stderr, code := psims(t, env, "", "lifecycle", "run", "--as-of", asOf, "--dry-run")
			if code != 0 {
				t.Fatalf("dry run: exit %d: %s", code, stderr)
			}
			lines := strings.Split(strings.TrimSpace(dry), "\n")
			if len(lines) != 2 {
				t.Fatalf("dry run printed %q", dry)
			}
			for _, l := range lines {
				var a map[string]any
				if err := json.Unmarshal([]byte(l), &a); err != nil {
					t.Fatalf("line %q: %v", l, err)
				}
				if a["sweep"] != "dormancy" || a["action"] != "warn" || a["at"] != asOf || a["user"] == nil || a["deactivate_on"] == nil {
					t.Errorf("line %q", l)
				}
				if strings.Contains(l, "@") || strings.Contains(l, "Pat") {
					t.Errorf("a line names a person: %q", l)
				}
			}
			out, stderr, code := psims(t, env, "", "lifecycle", "run", "--as-of", asOf)
			if code != 0 || out != dry {
				t.Fatalf("the run after the dry run: exit %d, %q (dry run said %q) %s", code, out, dry, stderr)
			}
			if out, _, code := psims(t, env, "", "lifecycle", "run", "--as-of", asOf); code != 0 || out != "" {
				t.Fatalf("a second run: exit %d, %q", code, out)
			}
			if out, _, code := psims(t, env, "", "audit", "verify"); code != 0 || !strings.Contains(out, "intact") {
				t.Fatalf("audit verify: exit %d, %q", code, out)
			}
			_, stderr, code = psims(t, env, "", "lifecycle", "run", "--as-of", "next tuesday")
			if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "--as-of") {
				t.Fatalf("bad --as-of: exit %d, %q", code, stderr)
			}
		})
	}
}
