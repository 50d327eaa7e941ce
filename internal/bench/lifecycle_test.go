package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/password"
)

// TestRunLifecycle loads a few thousand users on every engine and sweeps
// twice. It checks behaviour (the idle accounts are warned by the first
// sweep and not again by the second, both are set beside a scan of the
// rows they read, the result reads), never timing.
func TestRunLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole service")
	}
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			var progress bytes.Buffer
			r, err := RunLifecycle(context.Background(), LifecycleOptions{Database: e.Database, Users: 2000, Seed: 3,
				Params: password.Params{MemoryKiB: 64, Time: 1, Threads: 1}, Progress: &progress, Limit: 120})
			if err != nil {
				t.Fatalf("RunLifecycle: %v\n%s", err, progress.String())
			}
			// About 15% are idle for a year or more; a few cross the
			// warning date the next day.
			// The first sweep warns at most 120 of them and the hourly
			// sweeps after it the rest, 120 at a time.
			if r.Idle < 250 || r.Idle > 450 || r.First.Actions[account.DormancyWarn] != 120 || r.First.Rows != r.Idle {
				t.Errorf("first sweep %+v, idle %d", r.First, r.Idle)
			}
			warned := r.First.Actions[account.DormancyWarn]
			for _, run := range r.Backlog {
				if n := run.Actions[account.DormancyWarn]; n == 0 || n > 120 {
					t.Errorf("backlog sweep warned %d", n)
				}
				warned += run.Actions[account.DormancyWarn]
			}
			if warned != r.Idle || len(r.Backlog) != (r.Idle-1)/120 || r.Backlog[len(r.Backlog)-1].Deferred != 0 {
				t.Errorf("%d warned over %d sweeps, idle %d", warned, 1+len(r.Backlog), r.Idle)
			}
			if r.Second.Actions[account.DormancyWarn] >= r.Idle/10 || r.Second.Rows < r.Idle || r.Second.ScanTime == 0 || len(r.Goals) != 5 {
				t.Errorf("second sweep %+v", r.Second)
			}
			// A month on, every account warned and not kept is deactivated,
			// 120 a sweep at most, and DeleteAfter later deleted.
			for _, g := range []struct {
				action string
				runs   []SweepRun
			}{{account.DormancyDeactivate, r.Deactivations}, {account.DormancyDelete, r.Deletions}} {
				total := 0
				for _, run := range g.runs {
					if n := run.Actions[g.action]; n > 120 {
						t.Errorf("a sweep made %d %s", n, g.action)
					}
					total += run.Actions[g.action]
				}
				if total < r.Idle {
					t.Errorf("%d %s over %d sweeps, want at least the %d idle", total, g.action, len(g.runs), r.Idle)
				}
			}
			var text bytes.Buffer
			if err := r.WriteText(&text); err != nil || !strings.Contains(text.String(), "next day") {
				t.Errorf("text %q, %v", text.String(), err)
			}
		})
	}
}
