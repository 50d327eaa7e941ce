package usage

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// event is a usage event of user id, at a fixed time.
func event(id int64) Event {
	return Event{At: time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC), Kind: KindPage, Route: "GET /events/{ref}", Status: 200,
		UserID: id, OrgCode: "RM1", SessionHash: "5e55", IP: "192.0.2.7", Browser: Browser{FamilyFirefox, 133}}
}

// run starts w.Run and returns a function that stops it and waits.
func run(t *testing.T, w *Writer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := w.Run(ctx); err != nil {
			t.Error(err)
		}
	})
	return func() { cancel(); wg.Wait() }
}

func countRows(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM usage_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// P2, P4: events are written in batches as they come, and whatever is
// still queued when the writer stops is written before it returns; the
// row holds what the event said, and no organisation is NULL.
func TestWriterWritesEveryEventAndFlushesWhenStopped(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := NewWriter(d, slog.New(slog.DiscardHandler), WriterOptions{Batch: 100, Every: time.Hour})
		stop := run(t, w)
		for i := range 250 {
			if !w.Record(event(int64(i + 1))) {
				t.Fatal("an event was dropped from a queue with room")
			}
		}
		none := event(9999)
		none.OrgCode, none.Kind, none.Browser, none.DocumentID = "", KindDocument, Browser{Family: FamilyOther}, 42
		w.Record(none)
		stop()
		if n := countRows(t, d); n != 251 || w.Written() != 251 || w.Dropped() != 0 || w.Busy() <= 0 {
			t.Fatalf("%d rows, %d written, %d dropped, %v busy; want 251, 251, 0, some time", n, w.Written(), w.Dropped(), w.Busy())
		}
		var at time.Time
		var kind, route, session, ip, browser string
		var org sql.NullString
		var status, major int
		err := d.QueryRowContext(context.Background(), `SELECT at, kind, route, status, org_ods, session_hash, ip, browser, browser_major
			FROM usage_events WHERE user_id = 1`).Scan(&at, &kind, &route, &status, &org, &session, &ip, &browser, &major)
		if err != nil {
			t.Fatal(err)
		}
		want := event(1)
		if !at.Equal(want.At) || kind != KindPage || route != want.Route || status != 200 || org.String != "RM1" ||
			session != want.SessionHash || ip != want.IP || browser != FamilyFirefox || major != 133 {
			t.Fatalf("row %v %s %s %d %v %s %s %s %d", at, kind, route, status, org, session, ip, browser, major)
		}
		var doc sql.NullInt64
		if err := d.QueryRowContext(context.Background(), `SELECT document_id FROM usage_events WHERE user_id = 1`).Scan(&doc); err != nil || doc.Valid {
			t.Fatalf("a page event names document %v (%v)", doc, err)
		}
		if err := d.QueryRowContext(context.Background(), `SELECT kind, org_ods, document_id FROM usage_events WHERE user_id = 9999`).Scan(&kind, &org, &doc); err != nil {
			t.Fatal(err)
		}
		if kind != KindDocument || org.Valid || doc.Int64 != 42 {
			t.Fatalf("a document event with no organisation: kind %s, organisation %v, document %v", kind, org, doc)
		}
	})
}

// While the database is held up, Record never waits: once the queue is
// full it drops, counts and logs (once, not once an event). When the
// database is free again, every event it accepted is written.
func TestWriterDropsRatherThanWaitsForASlowDatabase(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var logged bytes.Buffer
		w := NewWriter(d, slog.New(slog.NewTextHandler(&logged, nil)), WriterOptions{Queue: 5, Batch: 2, Every: time.Millisecond})
		// Hold the table: SQLite's one write connection, or a lock on it.
		holding, release := make(chan struct{}), make(chan struct{})
		var held sync.WaitGroup
		held.Go(func() {
			err := d.InTx(ctx, func(tx *db.Tx) error {
				// On SQLite, being in a write transaction holds the one
				// writer; PostgreSQL needs the table locked.
				if d.Dialect().Engine == db.PostgreSQL {
					if _, err := tx.ExecContext(ctx, `LOCK TABLE usage_events IN EXCLUSIVE MODE`); err != nil {
						return err
					}
				}
				close(holding)
				<-release
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
		<-holding
		stop := run(t, w)
		accepted, dropped := 0, 0
		for i := range 50 {
			if w.Record(event(int64(i + 1))) {
				accepted++
			} else {
				dropped++
			}
		}
		// The queue holds 5, and the writer at most a batch of 2 waiting
		// for the database.
		if accepted > 5+2 || dropped == 0 || w.Dropped() != uint64(dropped) {
			t.Fatalf("%d accepted, %d dropped, Dropped() %d", accepted, dropped, w.Dropped())
		}
		if n := strings.Count(logged.String(), "dropping usage events"); n != 1 {
			t.Fatalf("logged the drops %d times, want once:\n%s", n, logged.String())
		}
		close(release)
		held.Wait()
		stop()
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM usage_events WHERE user_id > 0`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != accepted || w.Written() != uint64(accepted) {
			t.Fatalf("%d rows, %d written, of %d accepted\n%s", n, w.Written(), accepted, logged.String())
		}
	})
}

// A batch the database refuses is counted as dropped and logged, and the
// writer goes on.
func TestWriterCountsABatchTheDatabaseRefuses(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if _, err := d.ExecContext(context.Background(), `DROP TABLE usage_events`); err != nil {
			t.Fatal(err)
		}
		var logged bytes.Buffer
		w := NewWriter(d, slog.New(slog.NewTextHandler(&logged, nil)), WriterOptions{Batch: 3, Every: time.Hour})
		stop := run(t, w)
		for i := range 7 {
			w.Record(event(int64(i + 1)))
		}
		stop()
		if w.Dropped() != 7 || w.Written() != 0 || w.Busy() <= 0 || !strings.Contains(logged.String(), "was not written") {
			t.Fatalf("%d dropped, %d written, %v busy; log:\n%s", w.Dropped(), w.Written(), w.Busy(), logged.String())
		}
	})
}
