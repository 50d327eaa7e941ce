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

// TestRunUsage runs the usage scenario briefly on every engine. It checks
// behaviour, never timing: both servers answered the page every time, and
// the server that records usage wrote one event for each of its requests
// and the one without wrote none (T9, P2).
func TestRunUsage(t *testing.T) {
	// Not parallel: it counts what finishes within short time windows.
	if testing.Short() {
		t.Skip("runs the whole service")
	}
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			var progress bytes.Buffer
			r, err := RunUsage(context.Background(), UsageOptions{
				Database: e.Database, Concurrency: []int{1, 2}, Duration: testWindow, Warmup: 20 * time.Millisecond,
				Params: password.Params{MemoryKiB: 64, Time: 1, Threads: 1}, Progress: &progress,
			})
			if err != nil {
				t.Fatalf("RunUsage: %v\n%s", err, progress.String())
			}
			if r.Database != e.Name || len(r.Overhead) != 2 || len(r.Goals) != 2 {
				t.Fatalf("report %+v", r)
			}
			withRequests := 0
			for _, o := range r.Overhead {
				for _, p := range []GatePhase{o.With, o.Without} {
					if p.Calls == 0 || p.Errors != 0 || p.Latency.P50 <= 0 || p.Latency.P99 < p.Latency.P50 {
						t.Errorf("concurrency %d, %s: %+v", o.Concurrency, p.Name, p)
					}
				}
				if o.AddedP99 != o.With.Latency.P99-o.Without.Latency.P99 {
					t.Errorf("added p99 %v from %v and %v", o.AddedP99, o.With.Latency.P99, o.Without.Latency.P99)
				}
				withRequests += o.With.Calls
			}
			// Every request to the server that records usage, warm-up
			// included, is one event, and none to the other one is; so is
			// each of the two workers' sign-ins, made on that server.
			if r.Sent < withRequests || int(r.Written) != r.Sent+2 || r.Dropped != 0 {
				t.Errorf("%d usage events written and %d dropped for %d requests with usage (%d measured)",
					r.Written, r.Dropped, r.Sent, withRequests)
			}
			var text bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"GET /account", "without", "added p99", "recording usage adds < 0.200ms"} {
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
