package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/password"
)

// TestRunAPI creates generated events through the API briefly on every
// engine. It checks behaviour (every create answered 201, both phases
// counted, the ratios computed), never timing.
func TestRunAPI(t *testing.T) {
	// Not parallel, as TestRunSubmit.
	if testing.Short() {
		t.Skip("runs the whole service")
	}
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			var progress bytes.Buffer
			r, err := RunAPI(context.Background(), APIOptions{
				Database: e.Database, Concurrency: []int{1, 2}, Duration: testWindow, Warmup: 20 * time.Millisecond,
				Seed: 2, Params: password.Params{MemoryKiB: 64, Time: 1, Threads: 1}, Progress: &progress,
			})
			if err != nil {
				t.Fatalf("RunAPI: %v\n%s", err, progress.String())
			}
			if r.Database != e.Name || len(r.Levels) != 2 || r.BodyBytes < 500 {
				t.Fatalf("report %+v", r)
			}
			for _, l := range r.Levels {
				if l.Create.Errors != 0 || l.Create.Calls == 0 || l.Raw.Calls == 0 || l.RateRatio <= 0 {
					t.Errorf("concurrency %d: %+v", l.Concurrency, l)
				}
			}
			if wantGoals := map[string]int{"sqlite": 2, "postgres": 0}[e.Name]; len(r.Goals) != wantGoals {
				t.Errorf("%d goals on %s, want %d", len(r.Goals), e.Name, wantGoals)
			}
			var text bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text.String(), "creates/s ÷ raw transactions/s") {
				t.Errorf("text report:\n%s", text.String())
			}
			if _, err := json.Marshal(r); err != nil {
				t.Error(err)
			}
		})
	}
}
