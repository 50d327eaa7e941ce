package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// T16: stats publish writes the publication's files into --out, the same
// bytes each time, without publishing; --publish also stores and
// publishes it, audited as the operator. Bad flags are bad usage (2), and
// a denominator file with a bad line is a failure (1) naming the line.
func TestStatsPublishAndDenominators(t *testing.T) { // T16
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			vars := engineEnv(t, e)
			if _, stderr, code := psims(t, vars, "", "migrate"); code != 0 {
				t.Fatalf("migrate: %d %s", code, stderr)
			}
			for _, bad := range [][]string{
				{"stats", "publish", "--to", "2026-09-30", "--out", t.TempDir()},
				{"stats", "publish", "--from", "2026-04-01", "--to", "2026-09-30"},
				{"stats", "publish", "--from", "2026-04-01", "--to", "2026-03-30", "--out", t.TempDir()},
				{"stats", "publish", "--from", "2026-04-01", "--to", "2026-09-30", "--basis", "reported", "--out", t.TempDir()},
				{"stats", "publish", "--from", "2026-04-01", "--to", "2026-09-30", "--out", t.TempDir(), "--release", "2026-11-12T09:30:00Z"},
				{"stats", "denominators"},
				{"stats"},
			} {
				if _, stderr, code := psims(t, vars, "", bad...); code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
					t.Errorf("%v: exit %d, stderr %q; want 2 and one line", bad, code, stderr)
				}
			}

			a, b := t.TempDir(), t.TempDir()
			for _, dir := range []string{a, b} {
				out, stderr, code := psims(t, vars, "", "stats", "publish", "--from", "2026-04-01", "--to", "2026-09-30", "--basis", "submitted", "--out", dir)
				if code != 0 || !strings.Contains(out, "publication.xlsx") {
					t.Fatalf("publish --out: exit %d: %s%s", code, out, stderr)
				}
			}
			names, err := os.ReadDir(a)
			if err != nil {
				t.Fatal(err)
			}
			if len(names) < 8 {
				t.Fatalf("%d files written", len(names))
			}
			for _, n := range names {
				x, _ := os.ReadFile(filepath.Join(a, n.Name()))
				y, err := os.ReadFile(filepath.Join(b, n.Name()))
				if err != nil || !bytes.Equal(x, y) {
					t.Errorf("%s differs between two runs (%v)", n.Name(), err)
				}
			}
			totals, _ := os.ReadFile(filepath.Join(a, "national-totals.csv"))
			if !strings.Contains(string(totals), "Published under the terms of use of PSIMS") || !strings.Contains(string(totals), "All types,0") {
				t.Errorf("national totals:\n%s", totals)
			}
			d, err := db.Open(context.Background(), e.Database, e.SQLitePath)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			count := func(q string) int {
				var n int
				if err := d.QueryRowContext(context.Background(), q).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if n := count(`SELECT COUNT(*) FROM statistics_publications`); n != 0 {
				t.Fatalf("--out without --publish stored %d publications", n)
			}
			out, stderr, code := psims(t, vars, "", "stats", "publish", "--from", "2026-04-01", "--to", "2026-09-30", "--out", t.TempDir(), "--publish",
				"--title", "Six months", "--release", "2026-11-12T09:30:00Z")
			if code != 0 || !strings.Contains(out, "Published publication") {
				t.Fatalf("--publish: exit %d: %s%s", code, out, stderr)
			}
			if count(`SELECT COUNT(*) FROM statistics_versions`) != 1 || count(`SELECT COUNT(*) FROM audit_log WHERE action = 'statistics.publish' AND actor_user_id IS NULL`) != 1 {
				t.Error("--publish did not store one version, audited as the operator")
			}

			file := filepath.Join(t.TempDir(), "d.csv")
			os.WriteFile(file, []byte("ods_code,period_start,period_end,measure,value\nRM1,2026-04-01,2026-09-30,admissions,900\nRM2,2026-04-01,2026-09-30,beds,1\n"), 0o600)
			if _, stderr, code := psims(t, vars, "", "stats", "denominators", "load", file); code != 1 || !strings.Contains(stderr, "line 3: measure \"beds\" must be admissions or bed-days") {
				t.Errorf("bad denominators: exit %d, %q", code, stderr)
			}
			os.WriteFile(file, []byte("ods_code,period_start,period_end,measure,value\nRM1,2026-04-01,2026-09-30,admissions,900\n"), 0o600)
			if out, stderr, code := psims(t, vars, "", "stats", "denominators", "load", file); code != 0 || !strings.Contains(out, "Loaded 1 denominators") {
				t.Errorf("denominators: exit %d, %s%s", code, out, stderr)
			}
		})
	}
}
