package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/psims/psims/internal/db"
)

// TestCopiesAreMigratedAndApart checks that every test's database starts
// migrated (ours and River's schema) and that what one test writes is not
// seen by another.
func TestCopiesAreMigratedAndApart(t *testing.T) {
	t.Parallel()
	first, second := Engines(t), Engines(t)
	for i := range first {
		t.Run(first[i].Name, func(t *testing.T) {
			ctx := context.Background()
			a, b := Open(t, first[i]), Open(t, second[i])
			ms, err := a.Migrations()
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range []interface {
				QueryRowContext(context.Context, string, ...any) *sql.Row
			}{a, b} {
				var n int
				if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != len(ms) {
					t.Errorf("%d migrations applied, want %d", n, len(ms))
				}
				if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job`).Scan(&n); err != nil {
					t.Errorf("River's schema is missing: %v", err)
				}
			}
			if _, err := a.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'x', $1)`, a.Now()); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := b.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = 9999`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Error("a row written in one test's database is seen in another's")
			}
			if err := a.Migrate(ctx); err != nil {
				t.Errorf("migrating a copy again: %v", err)
			}
		})
	}
}

// TestLeftoversAreDropped checks that what a crashed run leaves behind in
// PostgreSQL goes when the next binary makes its template: test databases
// older than an hour, half-made templates, and unused templates of other
// migrations; and that recent test databases stay.
func TestLeftoversAreDropped(t *testing.T) {
	t.Parallel()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skip(PostgresEnv + " is not set")
	}
	ctx := context.Background()
	admin, hash, err := ensureTemplate(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	// Names no real run would use: hashes of "f" only.
	other := "ffffffffffff"
	now := time.Now().Unix()
	old := fmt.Sprintf("%s%s_%d_00000000", testDBPrefix, other[:8], now-2*3600)
	recent := fmt.Sprintf("%s%s_%d_00000001", testDBPrefix, hash[:8], now)
	halfMade := templatePrefix + other + building
	unused := templatePrefix + other
	for _, n := range []string{old, recent, halfMade, unused} {
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+n); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS " + n + " WITH (FORCE)") })
	}
	if err := makeTemplate(ctx, base, hash); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{old: false, recent: true, halfMade: false, unused: false, templatePrefix + hash: true}
	for n, kept := range want {
		var exists bool
		if err := admin.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", n).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if exists != kept {
			t.Errorf("%s exists %v, want %v", n, exists, kept)
		}
	}
}

// BenchmarkSQLite measures what a test pays for its SQLite database: the
// copy, opening and closing it, and removing it; and, as psims serve (and
// so apptest) also does, checking that it is migrated.
func BenchmarkSQLite(b *testing.B) {
	ctx := context.Background()
	for _, check := range []bool{false, true} {
		b.Run(map[bool]string{false: "copy", true: "copy-and-migrate-again"}[check], func(b *testing.B) {
			dir := b.TempDir()
			for b.Loop() {
				path := filepath.Join(dir, "psims.db")
				if err := copySQLiteTemplate(path); err != nil {
					b.Fatal(err)
				}
				d, err := db.Open(ctx, "", path)
				if err != nil {
					b.Fatal(err)
				}
				if check {
					if err := migrate(ctx, d); err != nil {
						b.Fatal(err)
					}
				}
				d.Close()
				for _, f := range []string{path, path + "-wal", path + "-shm"} {
					os.Remove(f)
				}
			}
		})
	}
}

// BenchmarkPostgres is BenchmarkSQLite on PostgreSQL, dropping the
// database included.
func BenchmarkPostgres(b *testing.B) {
	base := os.Getenv(PostgresEnv)
	if base == "" {
		b.Skip(PostgresEnv + " is not set")
	}
	ctx := context.Background()
	for _, check := range []bool{false, true} {
		b.Run(map[bool]string{false: "copy", true: "copy-and-migrate-again"}[check], func(b *testing.B) {
			for b.Loop() {
				u, drop, err := createPostgresDatabase(ctx, base)
				if err != nil {
					b.Fatal(err)
				}
				d, err := db.Open(ctx, u, "")
				if err != nil {
					b.Fatal(err)
				}
				if check {
					if err := migrate(ctx, d); err != nil {
						b.Fatal(err)
					}
				}
				d.Close()
				if err := drop(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
