package audit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

func record(t *testing.T, d *db.DB, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		err := d.InTx(ctx, func(tx *db.Tx) error {
			return audit.Record(ctx, tx, audit.Entry{
				ActorID: int64(i + 1), Action: "account.sign_in", SubjectType: "user",
				SubjectID: fmt.Sprint(i + 1), Details: map[string]string{"n": fmt.Sprint(i)}, IP: "192.0.2.1",
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerifyAcceptsAnIntactChain(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		record(t, d, 5)
		n, problem, err := audit.Verify(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		if problem != nil || n != 5 {
			t.Fatalf("Verify = %d rows, %+v; want 5 rows and no problem", n, problem)
		}
	})
}

func TestVerifyReportsTheFirstChangedRow(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		record(t, d, 5)
		ctx := context.Background()
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE audit_log SET subject_id = 'someone-else' WHERE id = 3`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		_, problem, err := audit.Verify(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if problem == nil || problem.RowID != 3 {
			t.Fatalf("problem = %+v, want row 3", problem)
		}
	})
}

func TestVerifyReportsARemovedRow(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		record(t, d, 5)
		ctx := context.Background()
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM audit_log WHERE id = 2`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		_, problem, err := audit.Verify(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if problem == nil || problem.RowID != 3 {
			t.Fatalf("problem = %+v, want row 3 (the one after the removed row)", problem)
		}
	})
}

func TestConcurrentAppendersKeepOneChain(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 20 {
			wg.Go(func() {
				errs <- d.InTx(ctx, func(tx *db.Tx) error {
					return audit.Record(ctx, tx, audit.Entry{Action: "test.parallel", SubjectType: "test", SubjectID: fmt.Sprint(i)})
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		n, problem, err := audit.Verify(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if problem != nil || n != 20 {
			t.Fatalf("Verify = %d rows, %+v; want 20 rows in one unbroken chain", n, problem)
		}
	})
}

func TestAnEntryRolledBackWithItsChangeLeavesNoTrace(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		_ = d.InTx(ctx, func(tx *db.Tx) error {
			if err := audit.Record(ctx, tx, audit.Entry{Action: "test.rollback", SubjectType: "test", SubjectID: "1"}); err != nil {
				return err
			}
			return fmt.Errorf("the change failed")
		})
		rows, err := audit.List(ctx, d, "", "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 0 {
			t.Fatalf("found %d audit rows for a rolled-back change", len(rows))
		}
	})
}
