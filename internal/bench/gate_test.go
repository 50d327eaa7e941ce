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

// TestRunGate runs the gate scenario briefly with few users on every
// engine. It checks behaviour (every call and request succeeds, each phase
// counted something, the ledger was filled), never timing.
func TestRunGate(t *testing.T) {
	// Not parallel: it counts what finishes within short time windows,
	// which tests running alongside could leave empty.
	if testing.Short() {
		t.Skip("runs the whole service")
	}
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			var progress bytes.Buffer
			r, err := RunGate(context.Background(), GateOptions{
				Database: e.Database, Users: 200, Concurrency: 2, Rounds: 2,
				Duration: testWindow, Warmup: 20 * time.Millisecond,
				Params: password.Params{MemoryKiB: 64, Time: 1, Threads: 1}, Progress: &progress,
			})
			if err != nil {
				t.Fatalf("RunGate: %v\n%s", err, progress.String())
			}
			// Each user accepted versions 1 to 3 of the terms and of the
			// privacy policy.
			if r.Database != e.Name || r.Users != 200 || r.Versions != 3 || r.Acceptances != 200*2*3 || r.Rounds != 2 {
				t.Errorf("report %+v", r)
			}
			for _, p := range []GatePhase{r.Floor, r.Gate, r.Page} {
				if p.Calls == 0 || p.Errors != 0 || p.PerSec <= 0 || p.Latency.P50 <= 0 || p.Latency.P99 < p.Latency.P50 {
					t.Errorf("%s: %+v", p.Name, p)
				}
			}
			if r.FloorRatio <= 0 || r.FloorRatioP50 <= 0 || r.PageShare <= 0 || len(r.Goals) != 1 {
				t.Errorf("ratios %v, %v; goals %+v", r.FloorRatio, r.PageShare, r.Goals)
			}
			var text bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"SELECT 1", "Terms.Status", "GET /account", "floor ratio", "the gate adds <= 1ms at p99"} {
				if !strings.Contains(text.String(), want) {
					t.Errorf("text report lacks %q:\n%s", want, text.String())
				}
			}
			if _, err := json.Marshal(r); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestRunGateRejectsBadOptions(t *testing.T) {
	ctx := context.Background()
	if _, err := RunGate(ctx, GateOptions{Users: 10}); err == nil {
		t.Error("zero duration accepted")
	}
	if _, err := RunGate(ctx, GateOptions{Duration: time.Second, Users: 1}); err == nil {
		t.Error("one user accepted")
	}
}
