package usage

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/psims/psims/internal/db"
)

// The kinds of usage event.
const (
	KindPage     = "page"     // a page served to a signed-in person
	KindDocument = "document" // a document of the library opened
	KindSignIn   = "sign-in"  // a successful sign-in
)

// Event is one use of the service by a signed-in person (P2, P4).
type Event struct {
	At     time.Time
	Kind   string // KindPage, KindDocument or KindSignIn
	Route  string // the route pattern that served it, never the address
	Status int    // the HTTP status answered
	UserID int64
	// OrgCode is the person's organisation at the time; "" for none.
	OrgCode string
	// SessionHash identifies the session without being its token.
	SessionHash string
	IP          string
	Browser     Browser
	// DocumentID is, for KindDocument, the library document opened.
	DocumentID int64
}

// WriterOptions size a Writer; zero fields take the defaults.
type WriterOptions struct {
	Queue int           // events waiting to be written, at most (default 10,000)
	Batch int           // events written in one transaction, at most (default 500)
	Every time.Duration // longest an event waits for its batch (default 1 s)
}

// writeTimeout bounds each write of a batch, also the last ones when a
// Writer stops.
const writeTimeout = 10 * time.Second

// dropLogEvery is how often, at most, a Writer logs that it is dropping
// events.
const dropLogEvery = 10 * time.Second

// Writer writes usage events to the database in batches, away from the
// requests that make them: Record only puts an event in a bounded queue,
// and Run writes the queue out. When the database is slow or down and the
// queue is full, events are dropped, counted and logged, and requests go
// on as if nothing happened: recording use must never slow the service
// down or stop it.
type Writer struct {
	db      *db.DB
	log     *slog.Logger
	queue   chan Event
	batch   int
	every   time.Duration
	dropped atomic.Uint64
	written atomic.Uint64
	busy    atomic.Int64 // time spent writing batches, in nanoseconds
	logged  atomic.Int64 // when a drop was last logged, in Unix nanoseconds
}

// NewWriter returns a Writer on d that logs to log. Nothing is written
// until Run.
func NewWriter(d *db.DB, log *slog.Logger, opts WriterOptions) *Writer {
	if opts.Queue <= 0 {
		opts.Queue = 10_000
	}
	if opts.Batch <= 0 {
		opts.Batch = 500
	}
	if opts.Every <= 0 {
		opts.Every = time.Second
	}
	return &Writer{db: d, log: log, queue: make(chan Event, opts.Queue), batch: opts.Batch, every: opts.Every}
}

// Record queues e to be written and returns at once. It reports false when
// the queue was full and e was dropped.
func (w *Writer) Record(e Event) bool {
	select {
	case w.queue <- e:
		return true
	default:
		w.drop(1, "the queue is full")
		return false
	}
}

// Dropped is how many events were never written: dropped from a full
// queue, or lost with a batch the database refused.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// Written is how many events have been written.
func (w *Writer) Written() uint64 { return w.written.Load() }

// Busy is the time spent writing batches, written or refused: the load
// that recording usage puts on the database, away from the requests.
func (w *Writer) Busy() time.Duration { return time.Duration(w.busy.Load()) }

// drop counts n events lost, and logs it unless it did so lately.
func (w *Writer) drop(n int, why string) {
	total := w.dropped.Add(uint64(n))
	now := time.Now().UnixNano()
	last := w.logged.Load()
	if now-last >= int64(dropLogEvery) && w.logged.CompareAndSwap(last, now) {
		w.log.Warn("usage: dropping usage events", "why", why, "dropped_in_all", total)
	}
}

// Run writes queued events, a batch at a time, until ctx is cancelled;
// then it writes what is still queued and returns. A batch being written
// when ctx is cancelled is finished, not abandoned; each write may take
// up to writeTimeout. It returns no error: a batch the database refuses
// is counted as dropped and logged.
func (w *Writer) Run(ctx context.Context) error {
	tick := time.NewTicker(w.every)
	defer tick.Stop()
	// Writes outlive ctx, so that stopping loses nothing accepted.
	wctx := context.WithoutCancel(ctx)
	buf := make([]Event, 0, w.batch)
	flush := func() {
		if len(buf) > 0 {
			w.write(wctx, buf)
			buf = buf[:0]
		}
	}
	for {
		select {
		case e := <-w.queue:
			if buf = append(buf, e); len(buf) == w.batch {
				flush()
			}
		case <-tick.C:
			flush()
		case <-ctx.Done():
			for {
				select {
				case e := <-w.queue:
					if buf = append(buf, e); len(buf) == w.batch {
						flush()
					}
				default:
					flush()
					return nil
				}
			}
		}
	}
}

// write stores events in one transaction, taking at most writeTimeout.
func (w *Writer) write(ctx context.Context, events []Event) {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	start := time.Now()
	defer func() { w.busy.Add(int64(time.Since(start))) }()
	err := w.db.InTx(ctx, func(tx *db.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO usage_events (at, kind, route, status, user_id, org_ods, session_hash,
			ip, browser, browser_major, document_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`)
		if err != nil {
			return fmt.Errorf("usage: prepare: %w", err)
		}
		defer st.Close()
		for _, e := range events {
			org := &e.OrgCode
			if e.OrgCode == "" {
				org = nil
			}
			if _, err := st.ExecContext(ctx, e.At.UTC(), e.Kind, e.Route, e.Status, e.UserID, org, e.SessionHash,
				e.IP, e.Browser.Family, e.Browser.Major, db.NullID(e.DocumentID)); err != nil {
				return fmt.Errorf("usage: write: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		w.log.Error("usage: a batch of usage events was not written", "events", len(events), "err", err)
		w.drop(len(events), "the database refused a batch")
		return
	}
	w.written.Add(uint64(len(events)))
}
