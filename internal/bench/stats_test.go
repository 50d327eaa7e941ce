package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/password"
)

// TestRunStats generates a few thousand events on every engine and
// measures the statistics. It checks behaviour (the period holds every
// event, the largest organisation has its share, a whole publication is
// built and the largest organisation's dashboard is read), never timing.
func TestRunStats(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole service")
	}
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			var progress bytes.Buffer
			r, err := RunStats(context.Background(), StatsOptions{
				Database: e.Database, Events: 3000, Orgs: 20, Largest: 600, Seed: 3, Repeats: 2,
				Duration: testWindow, Warmup: 20 * time.Millisecond,
				Params: password.Params{MemoryKiB: 64, Time: 1, Threads: 1}, Progress: &progress,
			})
			if err != nil {
				t.Fatalf("RunStats: %v\n%s", err, progress.String())
			}
			if r.Database != e.Name || r.Events != 3000 || r.PeriodEvents != 3000 || r.LargestEvents != 600 || r.LoadPerSec <= 0 {
				t.Errorf("report %+v", r)
			}
			if len(r.StatCounts) != 2 || r.StatCounts[0].Rows == 0 || len(r.StatCounts[0].Runs) != 2 || r.Floor.Rows == 0 || !r.Publication.Measured {
				t.Errorf("timings %+v %+v %+v", r.Floor, r.StatCounts, r.Publication)
			}
			if !r.DashboardMeasured || r.DashboardNote != "" {
				t.Errorf("dashboard: measured %v, note %q", r.DashboardMeasured, r.DashboardNote)
			}
			// The goals are reported, not judged: whether they are met is
			// timing, which a test under the race detector on a busy
			// machine cannot decide.
			if len(r.Goals) != 2 || r.Goals[0].Want == "" || r.Goals[1].Want == "" || r.Goals[0].Value <= 0 || r.Goals[1].Value <= 0 {
				t.Errorf("goals %+v", r.Goals)
			}
			var text bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"Incidents.StatCounts, occurring in the period", "a full publication, occurring in the period", "× the count(*)"} {
				if !strings.Contains(text.String(), want) {
					t.Errorf("the report lacks %q:\n%s", want, text.String())
				}
			}
		})
	}
}
