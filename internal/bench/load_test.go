package bench

import (
	"context"
	"testing"
	"time"
)

// sleeper is a worker whose every request takes the same time.
type sleeper struct{ d time.Duration }

func (s sleeper) prepare(context.Context) error { return nil }

func (s sleeper) post(ctx context.Context) (bool, string, string) {
	time.Sleep(s.d)
	return true, "", ""
}

// A window in which requests finish counts those, and only those; a window
// shorter than every request stays open until one finishes, and says how
// long it really was.
func TestRunLoadCountsWhatFinishesInTheWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	quick, err := runLoad(ctx, []worker{sleeper{10 * time.Millisecond}}, 0, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(quick.Samples); n < 5 || n > 20 || quick.Window != 200*time.Millisecond {
		t.Errorf("10 ms requests in a 200 ms window: %d samples, window %v", n, quick.Window)
	}
	slow, err := runLoad(ctx, []worker{sleeper{300 * time.Millisecond}, sleeper{300 * time.Millisecond}}, 0, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(slow.Samples) == 0 || slow.Window < 300*time.Millisecond || slow.Window > 2*time.Second {
		t.Errorf("300 ms requests in a 100 ms window: %d samples, window %v", len(slow.Samples), slow.Window)
	}
}
