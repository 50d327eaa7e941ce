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

// TestRunList loads a few thousand events on every engine and measures each
// kind of list briefly. It checks behaviour (every page and call succeeds,
// something was counted, the biggest organisation has the most events),
// never timing.
func TestRunList(t *testing.T) {
	// Not parallel: it counts what finishes within short time windows,
	// which tests running alongside could leave empty.
	if testing.Short() {
		t.Skip("runs the whole service")
	}
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			var progress bytes.Buffer
			r, err := RunList(context.Background(), ListOptions{
				Database: e.Database, Events: 1500, Orgs: 30, Users: 300, Seed: 3,
				Concurrency: []int{1, 2}, Duration: testWindow, Warmup: 20 * time.Millisecond,
				Params: password.Params{MemoryKiB: 64, Time: 1, Threads: 1}, Progress: &progress,
			})
			if err != nil {
				t.Fatalf("RunList: %v\n%s", err, progress.String())
			}
			if r.Database != e.Name || r.Events != 1500 || r.BiggestEvents < 1500/30 || r.LoadPerSec <= 0 {
				t.Errorf("report %+v", r)
			}
			// The list's kinds, the home and a search by reference.
			if len(r.Kinds) != 2*(len(eventListKinds(time.Now()))+2) || len(r.Floor) != 2 || len(r.Goals) != len(r.Kinds) {
				t.Fatalf("%d kinds, %d floors, %d goals", len(r.Kinds), len(r.Floor), len(r.Goals))
			}
			for _, k := range r.Kinds {
				if k.Page.Errors != 0 || k.Page.Calls == 0 || k.SQL.Calls == 0 || k.Page.Latency.P99 <= 0 {
					t.Errorf("%s at %d: %+v", k.Name, k.Concurrency, k)
				}
			}
			if r.Kinds[0].Matches == 0 {
				t.Errorf("the reviewer's unfiltered list is empty: %+v", r.Kinds[0])
			}
			for _, k := range r.Kinds {
				if k.Name == "search: ward" && k.Matches == 0 {
					t.Errorf("a search for a word in most events found none: %+v", k)
				}
			}
			var text bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text.String(), "goal p99 < 50ms") || !strings.Contains(text.String(), "SELECT 1 at concurrency 2") {
				t.Errorf("text report:\n%s", text.String())
			}
			if _, err := json.Marshal(r); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestRunListRejectsBadOptions(t *testing.T) {
	ctx := context.Background()
	for _, opts := range []ListOptions{
		{Events: 10, Orgs: 5, Users: 5},
		{Events: 10, Orgs: 5, Users: 5, Duration: time.Second, Concurrency: []int{0}},
		{Events: 0, Orgs: 5, Users: 5, Duration: time.Second},
		{Events: 10, Orgs: 1, Users: 5, Duration: time.Second},
	} {
		if _, err := RunList(ctx, opts); err == nil {
			t.Errorf("options %+v accepted", opts)
		}
	}
}
