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
