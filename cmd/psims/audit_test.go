package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db/dbtest"
)

// The anchors the daily check writes are what `psims audit verify
// --anchor` reads: it passes while every anchored row is there, and fails
// with one line and exit 1 when rows were cut off the end of the log,
// which the chain alone does not show (issue 13).
func TestAuditVerifyWithAnchorsCatchesRowsCutOffTheEnd(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			env := engineEnv(t, e)
			orgs := filepath.Join(t.TempDir(), "orgs.csv")
			if err := os.WriteFile(orgs, []byte("RM1,A TRUST\nRJ1,ANOTHER TRUST\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			psims(t, env, "", "org", "import", orgs)
			psims(t, env, "", "org", "import", orgs)
			d := dbtest.Open(t, e)
			ctx := context.Background()
			anchors := filepath.Join(t.TempDir(), "anchors.txt")
			checker := audit.NewChecker(d, nil, nil, audit.NewAnchorer(anchors, nil), nil)
			head, err := audit.Head(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			n := head.ID // the imports and what opening the database did
			// Two daily checks: they anchor rows n and n+1, and add n+1 and n+2.
			for range 2 {
				if res, err := checker.Check(ctx); err != nil || res.Problem != nil {
					t.Fatalf("check: %+v %v", res, err)
				}
			}
			out, stderr, code := psims(t, env, "", "audit", "verify", "--anchor", anchors)
			if code != 0 || !strings.Contains(out, fmt.Sprintf("%d rows checked", n+2)) || !strings.Contains(out, "all 2 anchored heads") {
				t.Fatalf("verify --anchor on an intact log: exit %d, %q %q", code, out, stderr)
			}
			if _, err := d.WritePool().ExecContext(ctx, `DELETE FROM audit_log WHERE id > $1`, n); err != nil {
				t.Fatal(err)
			}
			if out, _, code := psims(t, env, "", "audit", "verify"); code != 0 {
				t.Fatalf("without anchors the cut log verifies (which is why anchors exist): exit %d %q", code, out)
			}
			_, stderr, code = psims(t, env, "", "audit", "verify", "--anchor", anchors)
			if code != 1 || !strings.Contains(stderr, fmt.Sprintf("row %d", n+1)) || !strings.Contains(stderr, "missing") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Fatalf("verify --anchor on a cut log: exit %d, %q", code, stderr)
			}
		})
	}
}

// A damaged or missing anchor file fails with the line at fault, before
// the database is opened.
func TestAuditVerifyRefusesADamagedAnchorFile(t *testing.T) {
	t.Parallel()
	env := engineEnv(t, dbtest.SQLite(t))
	bad := filepath.Join(t.TempDir(), "anchors.txt")
	if err := os.WriteFile(bad, []byte("# anchors\npsims-audit-anchor v1 2026-12-06T03:00:00Z 3 nothex\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := psims(t, env, "", "audit", "verify", "--anchor", bad)
	if code != 1 || !strings.Contains(stderr, "line 2") {
		t.Fatalf("damaged file: exit %d, %q", code, stderr)
	}
	_, stderr, code = psims(t, env, "", "audit", "verify", "--anchor", filepath.Join(t.TempDir(), "none"))
	if code != 1 || !strings.Contains(stderr, "anchor file") {
		t.Fatalf("missing file: exit %d, %q", code, stderr)
	}
	if _, _, code = psims(t, env, "", "audit", "verify", "extra"); code != 2 {
		t.Fatalf("an argument: exit %d", code)
	}
}
