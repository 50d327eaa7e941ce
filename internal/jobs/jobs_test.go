package jobs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/jobs"
)

type echoArgs struct {
	Word string `json:"word"`
}

func (echoArgs) Kind() string { return "test_echo" }

type echoWorker struct {
	river.WorkerDefaults[echoArgs]
	got chan string
}

func (w *echoWorker) Work(ctx context.Context, job *river.Job[echoArgs]) error {
	w.got <- job.Args.Word
	return nil
}

func migrated(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	if err := jobs.Migrate(ctx, d); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := jobs.Migrate(ctx, d); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
}

func TestJobsInsertedInATransactionRunOnlyWhenItCommits(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		migrated(t, d)
		w := &echoWorker{got: make(chan string, 10)}
		r, err := jobs.New(d, nil, func(ws *river.Workers, _ *jobs.Runner) { river.AddWorker(ws, w) })
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := r.Stop(stopCtx); err != nil {
				t.Errorf("stop: %v", err)
			}
		})

		boom := errors.New("boom")
		err = d.InTx(ctx, func(tx *db.Tx) error {
			if err := r.InsertTx(ctx, tx, echoArgs{Word: "rolled back"}, nil); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d jobs survived a rolled-back transaction", n)
		}

		start := time.Now()
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			return r.InsertTx(ctx, tx, echoArgs{Word: "committed"}, nil)
		}); err != nil {
			t.Fatal(err)
		}
		select {
		case word := <-w.got:
			if word != "committed" {
				t.Fatalf("worked %q, want committed", word)
			}
			t.Logf("job ran %v after commit", time.Since(start).Round(time.Millisecond))
		case <-time.After(10 * time.Second):
			t.Fatal("job did not run within 10s")
		}
	})
}

func TestInsertOnlyRunnerInsertsButCannotStart(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		migrated(t, d)
		r, err := jobs.New(d, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err == nil {
			t.Fatal("an insert-only runner started")
		}
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			return r.InsertTx(ctx, tx, echoArgs{Word: "later"}, nil)
		}); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'test_echo'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("%d jobs, want 1", n)
		}
		if err := r.Stop(ctx); err != nil {
			t.Fatalf("stopping a runner that never started: %v", err)
		}
	})
}

func TestStopLetsARunningJobFinish(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		migrated(t, d)
		w := &slowWorker{started: make(chan struct{}), release: make(chan struct{}), done: make(chan error, 1)}
		r, err := jobs.New(d, nil, func(ws *river.Workers, _ *jobs.Runner) { river.AddWorker(ws, w) })
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := d.InTx(ctx, func(tx *db.Tx) error { return r.InsertTx(ctx, tx, slowArgs{}, nil) }); err != nil {
			t.Fatal(err)
		}
		select {
		case <-w.started:
		case <-time.After(10 * time.Second):
			t.Fatal("job did not start within 10s")
		}
		stopped := make(chan error, 1)
		go func() {
			stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			stopped <- r.Stop(stopCtx)
		}()
		close(w.release)
		if err := <-stopped; err != nil {
			t.Fatalf("stop: %v", err)
		}
		if err := <-w.done; err != nil {
			t.Fatalf("job ended with %v, want it to finish normally", err)
		}
		var state string
		if err := d.QueryRowContext(ctx, `SELECT state FROM river_job WHERE kind = 'test_slow'`).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state != "completed" {
			t.Fatalf("job state %q after a graceful stop, want completed", state)
		}
	})
}

type slowArgs struct{}

func (slowArgs) Kind() string { return "test_slow" }

type slowWorker struct {
	river.WorkerDefaults[slowArgs]
	started chan struct{}
	release chan struct{}
	done    chan error
}

func (w *slowWorker) Work(ctx context.Context, job *river.Job[slowArgs]) error {
	close(w.started)
	select {
	case <-w.release:
		w.done <- nil
		return nil
	case <-ctx.Done():
		w.done <- ctx.Err()
		return ctx.Err()
	}
}

// A job scheduled with Every runs as soon as the runner starts, without
// waiting for its first interval, and only from register.
func TestEveryRunsAPeriodicJobAtStart(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		migrated(t, d)
		w := &echoWorker{got: make(chan string, 10)}
		r, err := jobs.New(d, nil, func(ws *river.Workers, r *jobs.Runner) {
			river.AddWorker(ws, w)
			r.Every(24*time.Hour, echoArgs{Word: "daily"})
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := r.Stop(stopCtx); err != nil {
				t.Errorf("stop: %v", err)
			}
		})
		select {
		case word := <-w.got:
			if word != "daily" {
				t.Fatalf("worked %q, want daily", word)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the periodic job did not run at start within 20s")
		}
		defer func() {
			if recover() == nil {
				t.Error("Every after New did not panic")
			}
		}()
		r.Every(time.Hour, echoArgs{Word: "late"})
	})
}
