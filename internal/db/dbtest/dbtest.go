// Package dbtest gives tests a fresh, migrated database on every engine:
// SQLite always, and PostgreSQL when PSIMS_TEST_POSTGRES_URL is set. Each
// test gets its own SQLite file or PostgreSQL schema, removed when it ends.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/psims/psims/internal/db"
)

// PostgresEnv names the variable holding the PostgreSQL URL for tests.
const PostgresEnv = "PSIMS_TEST_POSTGRES_URL"

// Engine is one database engine a test can run on.
type Engine struct {
	Name string
	// Database is the value of --database for this engine ("" for SQLite).
	// For PostgreSQL it selects the test's own schema.
	Database string
	// SQLitePath is the SQLite file (used when Database is empty).
	SQLitePath string
}

// Engines returns, for this test, a new empty SQLite location and, when
// PSIMS_TEST_POSTGRES_URL is set, a new empty PostgreSQL schema. Both are
// removed when the test ends. Nothing is migrated.
func Engines(tb testing.TB) []Engine {
	tb.Helper()
	engines := []Engine{{Name: "sqlite", SQLitePath: filepath.Join(tb.TempDir(), "psims.db")}}
	if base := os.Getenv(PostgresEnv); base != "" {
		engines = append(engines, Engine{Name: "postgres", Database: newSchema(tb, base)})
	}
	return engines
}

// Each runs fn as a subtest on every engine with a freshly migrated database.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, e := range Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			fn(t, Open(t, e))
		})
	}
}

// Open opens and migrates the engine's database, closing it when the test ends.
func Open(tb testing.TB, e Engine) *db.DB {
	tb.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, e.Database, e.SQLitePath)
	if err != nil {
		tb.Fatalf("open %s: %v", e.Name, err)
	}
	tb.Cleanup(func() { d.Close() })
	if err := d.Migrate(ctx); err != nil {
		tb.Fatalf("migrate %s: %v", e.Name, err)
	}
	return d
}

// newSchema creates a schema of its own for the test and returns a URL whose
// connections use it; the schema is dropped when the test ends.
func newSchema(tb testing.TB, base string) string {
	tb.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatalf("postgres: create schema: %v", err)
	}
	tb.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			tb.Errorf("postgres: %v", err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			tb.Errorf("postgres: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("postgres: bad %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
