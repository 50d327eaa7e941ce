package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/password"
)

// TestRunUsageReport loads a few thousand usage events on every engine
// and times both reports a few times. It checks behaviour (the events
// are loaded and rolled up, both reports are made, the result reads),
// never timing.
func TestRunUsageReport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole service")
	}
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			var progress bytes.Buffer
			r, err := RunUsageReport(context.Background(), UsageReportOptions{
				Database: e.Database, Events: 3000, Orgs: 5, Users: 40, Seed: 3, Runs: 2,
				Params: password.Params{MemoryKiB: 64, Time: 1, Threads: 1}, Progress: &progress,
			})
			if err != nil {
				t.Fatalf("RunUsageReport: %v\n%s", err, progress.String())
			}
			if r.Database != e.Name || r.Events != 3000 || r.Users != 40 || r.Org == "" || r.OrgEvents == 0 || r.LoadPerSec <= 0 ||
				r.OrgReport.Max == 0 || r.NationalReport.Max == 0 || r.RawCount == 0 || len(r.Goals) != 2 {
				t.Errorf("result %+v", r)
			}
			var text bytes.Buffer
			if err := r.WriteText(&text); err != nil || !strings.Contains(text.String(), "national report") {
				t.Errorf("text %q, %v", text.String(), err)
			}
		})
	}
}
