package audit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// storedRow is an audit row as stored, less its id.
type storedRow struct {
	at                                                      time.Time
	actor                                                   int64
	action, subjectType, subjectID, details, ip, prev, hash string
}

// readChain returns the rows after id after, in id order, read in tx.
func readChain(ctx context.Context, t *testing.T, tx *db.Tx, after int64) ([]storedRow, []int64) {
	t.Helper()
	rows, err := tx.QueryContext(ctx, `SELECT id, at, COALESCE(actor_user_id, 0), action, subject_type, subject_id, details, ip, prev_hash, hash
		FROM audit_log WHERE id > $1 ORDER BY id`, after)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []storedRow
	var ids []int64
	for rows.Next() {
		var r storedRow
		var id int64
		if err := rows.Scan(&id, &r.at, &r.actor, &r.action, &r.subjectType, &r.subjectID, &r.details, &r.ip, &r.prev, &r.hash); err != nil {
			t.Fatal(err)
		}
		r.at = r.at.UTC()
		out, ids = append(out, r), append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out, ids
}

func TestRecordManyWritesTheRowsAndHashesThatSingleAppendsWould(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		record(t, d, 3) // a chain to continue
		at := time.Date(2026, 12, 6, 14, 0, 0, 123456000, time.UTC)
		d.SetClock(func() time.Time { return at })
		var head int64
		if err := d.QueryRowContext(ctx, `SELECT MAX(id) FROM audit_log`).Scan(&head); err != nil {
			t.Fatal(err)
		}
		// More than two statements' worth, the last one short, with and
		// without actor, details and address.
		es := make([]audit.Entry, 117)
		for i := range es {
			es[i] = audit.Entry{Action: "account.dormancy_warned", SubjectType: "user", SubjectID: fmt.Sprint(1000 + i)}
			if i%2 == 0 {
				es[i].ActorID, es[i].IP = int64(i+1), "192.0.2.7"
				es[i].Details = map[string]string{"n": fmt.Sprint(i), "quote": `"x"`}
			}
		}

		// What single appends write, read inside their transaction, which
		// is then rolled back.
		var want []storedRow
		undo := errors.New("undo")
		err := d.InTx(ctx, func(tx *db.Tx) error {
			for _, e := range es {
				if err := audit.Record(ctx, tx, e); err != nil {
					return err
				}
			}
			want, _ = readChain(ctx, t, tx, head)
			return undo
		})
		if !errors.Is(err, undo) {
			t.Fatal(err)
		}

		var got []storedRow
		var ids []int64
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			if err := audit.RecordMany(ctx, tx, es); err != nil {
				return err
			}
			got, ids = readChain(ctx, t, tx, head)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(es) || len(want) != len(es) {
			t.Fatalf("RecordMany wrote %d rows, single appends %d, for %d entries", len(got), len(want), len(es))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("row %d: RecordMany wrote %+v, single appends %+v", i, got[i], want[i])
			}
			if i > 0 && ids[i] <= ids[i-1] {
				t.Errorf("row %d has id %d after %d", i, ids[i], ids[i-1])
			}
		}

		// The chain goes on from the rows written together.
		record(t, d, 1)
		n, problem, err := audit.Verify(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if problem != nil || n != 3+len(es)+1 {
			t.Fatalf("Verify = %d rows, %+v; want %d rows and no problem", n, problem, 3+len(es)+1)
		}
	})
}

func TestRecordManyOfNothingWritesNothing(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := d.InTx(ctx, func(tx *db.Tx) error { return audit.RecordMany(ctx, tx, nil) }); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d rows after recording nothing", n)
		}
	})
}
