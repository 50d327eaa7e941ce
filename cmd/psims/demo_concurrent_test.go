package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psims/psims/internal/db/dbtest"
)

// A server keeps writing while psims demo seed runs on the same SQLite file:
// the seed writes in short transactions, so a writer with a short busy
// timeout never fails, and its commits land between the seed's batches of
// users and of events (issue 11 item 14).
func TestDemoSeedLetsARunningServerKeepWriting(t *testing.T) {
	t.Parallel()
	e := dbtest.SQLite(t)
	vars := engineEnv(t, e)
	ctx := context.Background()
	q := url.Values{}
	// A third of the server's own busy timeout (10 s): a seed holding the
	// write lock for longer than this makes the writer fail with SQLITE_BUSY.
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(3000)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	w, err := sql.Open("sqlite", "file:"+e.SQLitePath+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	now := time.Now().UTC()
	if _, err := w.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ('W1X', 'Writer trust', $1, $1)`, now); err != nil {
		t.Fatal(err)
	}

	began := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	var writeErrs []error
	var writerIDs []int64
	eventCounts := map[int]bool{}
	var slowest, slowestAt time.Duration
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			start := time.Now()
			var id int64
			err := w.QueryRowContext(ctx, `INSERT INTO users (email, name, job_role, org_ods, role, status, password_hash, created_at, updated_at)
				VALUES ($1, 'Writer', 'Nurse', 'W1X', 'reporter', 'active', 'x', $2, $2) RETURNING id`, fmt.Sprintf("w%d@writer.example", i), now).Scan(&id)
			if took := time.Since(start); took > slowest {
				slowest, slowestAt = took, time.Since(began)
			}
			if err != nil {
				writeErrs = append(writeErrs, fmt.Errorf("at %s: %w", time.Since(began).Round(time.Millisecond), err))
				continue
			}
			writerIDs = append(writerIDs, id)
			var n int
			if err := w.QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&n); err == nil {
				eventCounts[n] = true
			}
			time.Sleep(2 * time.Millisecond) // a server writes now and then, not flat out
		}
	}()
	// The seed runs in this process, built with the race detector, which
	// makes its work several times slower than the psims binary's: on a
	// busy machine a default transaction of 50 events took over 3 s here,
	// and on a slower one (7 December 2026) one of 10 took 3.2 s. Five to
	// a transaction keeps the margin the default gives the binary.
	out, stderr, code := direct(t, cmdDemo, vars, "seed", "--orgs", "40", "--users", "2000", "--events", "1500", "--events-per-tx", "5",
		"--force", "--seed", "3")
	t.Logf("seed took %s: %s", time.Since(began), out)
	close(done)
	wg.Wait()
	if code != 0 {
		t.Fatalf("seed: exit %d: %s%s", code, out, stderr)
	}
	for _, err := range writeErrs {
		t.Errorf("the writer failed during the seed: %v", err)
	}
	t.Logf("the writer's slowest insert took %s, at %s", slowest, slowestAt.Round(time.Millisecond))

	var lo, hi int64
	if err := w.QueryRowContext(ctx, `SELECT MIN(id), MAX(id) FROM users WHERE email LIKE '%@demo.psims.invalid'`).Scan(&lo, &hi); err != nil {
		t.Fatal(err)
	}
	between := 0
	for _, id := range writerIDs {
		if id > lo && id < hi {
			between++
		}
	}
	if between == 0 {
		t.Errorf("no write of the running server landed between the seed's users (%d writes, demo IDs %d to %d): the seed held the lock throughout", len(writerIDs), lo, hi)
	}
	var partial []string
	for n := range eventCounts {
		if n > 0 && n < 1500 {
			partial = append(partial, fmt.Sprint(n))
		}
	}
	if len(partial) < 2 {
		t.Errorf("the writer saw the events only as %v: they were not written in short transactions", strings.Join(partial, ", "))
	}
}
