package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := d.Migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		ms, err := d.Migrations()
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(ms) {
			t.Fatalf("schema_migrations has %d rows, want %d", n, len(ms))
		}
	})
}

func TestTimesRoundTripInUTCAndCompareInOrder(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		base := time.Date(2026, 3, 29, 0, 59, 59, 0, time.UTC)
		// Fractions of different lengths must still sort as times.
		times := []time.Time{base, base.Add(500 * time.Millisecond), base.Add(123 * time.Millisecond), base.Add(time.Second)}
		err := d.InTx(ctx, func(tx *db.Tx) error {
			for i, at := range times {
				code := string(rune('A' + i))
				if _, err := tx.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ($1, $2, $3, $3)`, code, code, at); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := d.QueryContext(ctx, `SELECT ods_code, created_at FROM organisations WHERE created_at > $1 ORDER BY created_at`, base.Add(100*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var code string
			var at time.Time
			if err := rows.Scan(&code, &at); err != nil {
				t.Fatal(err)
			}
			if _, offset := at.Zone(); offset != 0 {
				t.Errorf("%s came back as %v, not UTC", code, at)
			}
			got = append(got, code)
		}
		if want := "CBD"; joined(got) != want {
			t.Fatalf("order = %s, want %s", joined(got), want)
		}
	})
}

func TestInTxRollsBackOnError(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ('X1', 'x', $1, $1)`, tx.Now); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM organisations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d rows survived a rolled-back transaction", n)
		}
	})
}

func joined(s []string) string {
	out := ""
	for _, x := range s {
		out += x
	}
	return out
}

func TestUniqueViolationsAreRecognisedOnEveryEngine(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		insert := func() error {
			return d.InTx(ctx, func(tx *db.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ('RM1', 'x', $1, $1)`, tx.Now)
				return err
			})
		}
		if err := insert(); err != nil {
			t.Fatal(err)
		}
		if err := insert(); !db.IsUniqueViolation(err) {
			t.Fatalf("second insert: %v is not recognised as a unique violation", err)
		}
		err := d.InTx(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO users (email) VALUES ('a@nhs.net')`)
			return err
		})
		if err == nil || db.IsUniqueViolation(err) {
			t.Fatalf("a NOT NULL failure: %v", err)
		}
	})
}
