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

// TestRunAdmin runs each administration scenario briefly on small demo data
// on every engine. It checks behaviour (every request succeeds, something
// was counted), never timing.
func TestRunAdmin(t *testing.T) {
	// Not parallel: it counts what finishes within short time windows,
	// which tests running alongside could leave empty.
	if testing.Short() {
		t.Skip("runs the whole service")
	}
	for _, scenario := range AdminScenarios() {
		// Each scenario loads demo data into an empty database of its own.
		for _, e := range dbtest.Engines(t) {
			t.Run(scenario+"/"+e.Name, func(t *testing.T) {
				var progress bytes.Buffer
				r, err := RunAdmin(context.Background(), AdminOptions{
					Scenario: scenario, Database: e.Database, Orgs: 40, Users: 600, Seed: 2,
					Concurrency: 2, Duration: testWindow, Warmup: 20 * time.Millisecond,
					Params: password.Params{MemoryKiB: 64, Time: 1, Threads: 1}, Progress: &progress,
				})
				if err != nil {
					t.Fatalf("RunAdmin: %v\n%s", err, progress.String())
				}
				if r.Database != e.Name || r.Users != 600 || r.BiggestUsers == 0 {
					t.Errorf("report %+v", r)
				}
				switch scenario {
				case ScenarioAuthz:
					if len(r.Ops) != 4 {
						t.Fatalf("%d ops measured", len(r.Ops))
					}
					for _, op := range r.Ops {
						if op.Ops == 0 || op.NsPerOp <= 0 {
							t.Errorf("%s: nothing measured", op.Name)
						}
					}
				case ScenarioUserList:
					if len(r.Kinds) != 8 || len(r.Goals) != 8 {
						t.Fatalf("%d kinds, %d goals", len(r.Kinds), len(r.Goals))
					}
					for _, k := range r.Kinds {
						if k.Errors != 0 || k.Requests == 0 || k.SQLCalls == 0 || k.Latency.P99 <= 0 {
							t.Errorf("%s: %+v", k.Name, k)
						}
					}
				}
				var text bytes.Buffer
				if err := r.WriteText(&text); err != nil {
					t.Fatal(err)
				}
				if want := map[string]string{ScenarioAuthz: "ns/op", ScenarioUserList: "goal p99 < 50ms"}[scenario]; !strings.Contains(text.String(), want) {
					t.Errorf("text report lacks %q:\n%s", want, text.String())
				}
				if _, err := json.Marshal(r); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

func TestRunAdminRejectsBadOptions(t *testing.T) {
	ctx := context.Background()
	if _, err := RunAdmin(ctx, AdminOptions{Scenario: "nope", Duration: time.Second, Orgs: 5, Users: 5}); err == nil {
		t.Error("unknown scenario accepted")
	}
	if _, err := RunAdmin(ctx, AdminOptions{Scenario: ScenarioAuthz, Orgs: 5, Users: 5}); err == nil {
		t.Error("zero duration accepted")
	}
	if _, err := RunAdmin(ctx, AdminOptions{Scenario: ScenarioAuthz, Duration: time.Second, Orgs: 1, Users: 5}); err == nil {
		t.Error("one organisation accepted")
	}
}
