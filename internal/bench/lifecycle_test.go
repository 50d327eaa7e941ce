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
				Params: password.Params{MemoryKiB: 64, Time: 1, Threads: 1}, Progress: &progress})
			if err != nil {
				t.Fatalf("RunLifecycle: %v\n%s", err, progress.String())
			}
			// About 15% are idle for a year or more; a few cross the
			// warning date the next day.
			if r.Idle < 200 || r.Idle > 450 || r.First.Actions[account.DormancyWarn] != r.Idle || r.First.Rows != r.Idle {
				t.Errorf("first sweep %+v, idle %d", r.First, r.Idle)
			}
			if r.Second.Actions[account.DormancyWarn] >= r.Idle/10 || r.Second.Rows < r.Idle || r.Second.ScanTime == 0 || len(r.Goals) != 2 {
				t.Errorf("second sweep %+v", r.Second)
			}
			var text bytes.Buffer
			if err := r.WriteText(&text); err != nil || !strings.Contains(text.String(), "next day") {
				t.Errorf("text %q, %v", text.String(), err)
			}
		})
	}
}
