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

// TestRunSubmit submits generated drafts briefly on every engine. It checks
// behaviour (every submission answers with the confirmation, both phases
// counted, the ratios computed), never timing.
func TestRunSubmit(t *testing.T) {
	// Not parallel: it counts what finishes within short time windows,
	// which tests running alongside could leave empty.
	if testing.Short() {
		t.Skip("runs the whole service")
	}
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			var progress bytes.Buffer
			r, err := RunSubmit(context.Background(), SubmitOptions{
				Database: e.Database, Concurrency: []int{1, 2}, Duration: testWindow, Warmup: 20 * time.Millisecond,
				MaxRate: 1000, Seed: 2, Params: password.Params{MemoryKiB: 64, Time: 1, Threads: 1}, Progress: &progress,
			})
			if err != nil {
				t.Fatalf("RunSubmit: %v\n%s", err, progress.String())
			}
			if r.Database != e.Name || len(r.Levels) != 2 || r.RowBytes < 200 {
				t.Fatalf("report %+v", r)
			}
			for _, l := range r.Levels {
				if l.Submit.Errors != 0 || l.Submit.Calls == 0 || l.Raw.Calls == 0 || l.RateRatio <= 0 || l.Drafts < l.Submit.Calls {
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
			if !strings.Contains(text.String(), "submissions/s ÷ raw transactions/s") {
				t.Errorf("text report:\n%s", text.String())
			}
			if _, err := json.Marshal(r); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestRunSubmitRejectsBadOptions(t *testing.T) {
	ctx := context.Background()
	for _, opts := range []SubmitOptions{
		{},
		{Duration: time.Second, Concurrency: []int{2, 0}},
		{Duration: time.Second, Warmup: -time.Second},
	} {
		if _, err := RunSubmit(ctx, opts); err == nil {
			t.Errorf("options %+v accepted", opts)
		}
	}
}
