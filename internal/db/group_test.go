package db_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// TestSharedTransactionsKeepEachCallerApart: many callers at once, some of
// which fail after writing; every caller gets its own answer, the failed
// callers' rows are gone and everyone else's are committed.
func TestSharedTransactionsKeepEachCallerApart(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const callers = 200
		var wg sync.WaitGroup
		errs := make([]error, callers)
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = d.InSharedTx(ctx, func(tx *db.Tx) error {
					code := fmt.Sprintf("G%03d", i)
					if _, err := tx.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ($1, 'x', $2, $2)`, code, tx.Now); err != nil {
						return err
					}
					if i%7 == 0 {
						return fmt.Errorf("caller %d: %w", i, errBoom)
					}
					return nil
				})
			}()
		}
		wg.Wait()
		want := 0
		for i, err := range errs {
			if i%7 == 0 {
				if !errors.Is(err, errBoom) {
					t.Errorf("caller %d: %v, want its own error", i, err)
				}
				continue
			}
			want++
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM organisations WHERE ods_code LIKE 'G%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("%d rows committed, want %d", n, want)
		}
		var failed int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM organisations WHERE ods_code IN ('G000', 'G007', 'G196')`).Scan(&failed); err != nil {
			t.Fatal(err)
		}
		if failed != 0 {
			t.Fatalf("%d rows of failed callers were kept", failed)
		}
	})
}

// A cancelled caller is answered with its context's error and writes
// nothing.
func TestSharedTransactionOfACancelledCaller(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := d.InSharedTx(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ('C1', 'x', $1, $1)`, tx.Now)
			return err
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

var errBoom = errors.New("boom")

// TestSharedValuesAreWrittenOnceForEveryCallerOfACommit: callers at once
// each add to a value kept with Tx.Shared (a count); it is written once a
// transaction, before the commit, so the total is every successful
// caller's and no failed caller's, however the callers were grouped. A
// failing finish rolls its whole transaction back.
func TestSharedValuesAreWrittenOnceForEveryCallerOfACommit(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ('TOTAL', '0', $1, $1)`, d.Now()); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		finishes := 0
		add := func(tx *db.Tx) {
			n := tx.Shared("count", func() any { return new(int) }, func(ctx context.Context, tx *db.Tx, v any) error {
				mu.Lock()
				finishes++
				mu.Unlock()
				_, err := tx.ExecContext(ctx, `UPDATE organisations SET name = CAST(CAST(name AS INTEGER) + $1 AS TEXT) WHERE ods_code = 'TOTAL'`, *v.(*int))
				return err
			}).(*int)
			*n++
		}
		const callers = 120
		var wg sync.WaitGroup
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d.InSharedTx(ctx, func(tx *db.Tx) error {
					if i%5 == 0 {
						return errBoom // fails before adding, as callers must
					}
					add(tx)
					return nil
				})
			}()
		}
		wg.Wait()
		var total string
		if err := d.QueryRowContext(ctx, `SELECT name FROM organisations WHERE ods_code = 'TOTAL'`).Scan(&total); err != nil {
			t.Fatal(err)
		}
		if total != fmt.Sprint(callers-callers/5) {
			t.Fatalf("total %s, want %d", total, callers-callers/5)
		}
		if finishes < 1 || finishes > callers-callers/5 {
			t.Fatalf("%d finishes", finishes)
		}
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ('GONE', 'x', $1, $1)`, tx.Now); err != nil {
				return err
			}
			tx.Shared("fails", func() any { return nil }, func(context.Context, *db.Tx, any) error { return errBoom })
			return nil
		})
		var n int
		if qerr := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM organisations WHERE ods_code = 'GONE'`).Scan(&n); !errors.Is(err, errBoom) || qerr != nil || n != 0 {
			t.Fatalf("a failing finish: %v, %d rows kept", err, n)
		}
	})
}
