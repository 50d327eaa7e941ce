// Package dbtest gives tests a fresh, migrated database on every engine:
// SQLite always, and PostgreSQL when PSIMS_TEST_POSTGRES_URL is set.
//
// Migrating took most of the time of a short store test, so migrations run
// once, into a template, and every test gets a copy of it:
//
//   - SQLite: the template is a file migrated once per test binary and kept in
//     memory; each test writes it out as a file of its own.
//   - PostgreSQL: the template is a database named after a hash of the
//     migrations (ours and River's), made once per machine by whichever test
//     binary needs it first, under an advisory lock so binaries running at the
//     same time do not both make it. Each test gets a database of its own,
//     created from the template (CREATE DATABASE ... TEMPLATE) and dropped
//     when the test ends; that measured two to three times cheaper than
//     migrating a schema of its own, as tests used to. Test databases left
//     by crashed runs, and templates of older migrations, are dropped by the
//     next binary that looks for its template.
//
// The template is migrated as psims serve migrates (db.Migrate, then River's
// jobs.Migrate), so migrating a copy again does nothing. As every test has
// its own database, tests using this package can, and should, run in
// parallel.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/jobs"
)

// PostgresEnv names the variable holding the PostgreSQL URL for tests.
const PostgresEnv = "PSIMS_TEST_POSTGRES_URL"

// Engine is one database engine a test can run on.
type Engine struct {
	Name string
	// Database is the value of --database for this engine ("" for SQLite).
	// For PostgreSQL it names the test's own database.
	Database string
	// SQLitePath is the SQLite file (used when Database is empty).
	SQLitePath string
}

// Engines returns, for this test, a migrated SQLite database of its own and,
// when PSIMS_TEST_POSTGRES_URL is set, a migrated PostgreSQL database of its
// own. Both are removed when the test ends.
func Engines(tb testing.TB) []Engine {
	tb.Helper()
	engines := []Engine{SQLite(tb)}
	if os.Getenv(PostgresEnv) != "" {
		engines = append(engines, Postgres(tb))
	}
	return engines
}

// SQLite returns a migrated SQLite database of the test's own, for tests
// that run on one engine only (the one that always runs).
func SQLite(tb testing.TB) Engine {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "psims.db")
	if err := copySQLiteTemplate(path); err != nil {
		tb.Fatalf("sqlite: %v", err)
	}
	return Engine{Name: "sqlite", SQLitePath: path}
}

// Postgres returns a migrated PostgreSQL database of the test's own, dropped
// when the test ends. It fails the test when PSIMS_TEST_POSTGRES_URL is not
// set; Engines and Each ask for one only when it is.
func Postgres(tb testing.TB) Engine {
	tb.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		tb.Fatalf("%s is not set", PostgresEnv)
	}
	return Engine{Name: "postgres", Database: newPostgresDatabase(tb, base)}
}

// Each runs fn as a parallel subtest on every engine, each with a freshly
// migrated database of its own. fn must not share state with its run on the
// other engine, nor use t.Setenv.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	type engine struct {
		name string
		make func(testing.TB) Engine
	}
	engines := []engine{{"sqlite", SQLite}}
	if os.Getenv(PostgresEnv) != "" {
		engines = append(engines, engine{"postgres", Postgres})
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			// Made in the subtest, so that the engines' databases are set
			// up in parallel too.
			fn(t, Open(t, e.make(t)))
		})
	}
}

// Open opens the engine's database, which Engines has already migrated,
// closing it when the test ends.
func Open(tb testing.TB, e Engine) *db.DB {
	tb.Helper()
	d, err := db.Open(context.Background(), e.Database, e.SQLitePath)
	if err != nil {
		tb.Fatalf("open %s: %v", e.Name, err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

// migrate brings a database to the schema psims serve runs on: ours, then
// River's.
func migrate(ctx context.Context, d *db.DB) error {
	if err := d.Migrate(ctx); err != nil {
		return err
	}
	return jobs.Migrate(ctx, d)
}

// sqliteTemplate is the migrated SQLite file, made once per test binary.
var sqliteTemplate struct {
	once sync.Once
	file []byte
	err  error
}

// copySQLiteTemplate writes a copy of the template to path, migrating the
// template first if this is the binary's first copy.
func copySQLiteTemplate(path string) error {
	sqliteTemplate.once.Do(func() {
		sqliteTemplate.file, sqliteTemplate.err = buildSQLiteTemplate()
	})
	if sqliteTemplate.err != nil {
		return fmt.Errorf("template: %w", sqliteTemplate.err)
	}
	return os.WriteFile(path, sqliteTemplate.file, 0o600)
}

// buildSQLiteTemplate migrates a new SQLite file and returns its bytes. The
// file lives only while it is made, so nothing is left behind on disk.
func buildSQLiteTemplate() ([]byte, error) {
	dir, err := os.MkdirTemp("", "psims-dbtest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "template.db")
	ctx := context.Background()
	d, err := db.Open(ctx, "", path)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, d); err != nil {
		d.Close()
		return nil, err
	}
	// Move everything out of the write-ahead log, so that the main file
	// alone is the whole database.
	if _, err := d.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		d.Close()
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if err := d.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

// Names of what this package creates in PostgreSQL. A test database's name
// carries its template's hash and its creation time, so that leftovers of
// crashed runs can be found and dropped.
const (
	templatePrefix = "psims_tpl_"
	testDBPrefix   = "psims_t_"
	// building is added to a template's name while it is being migrated;
	// the rename that removes it is what makes the template usable.
	building = "_new"
	// leftoverAge is how old a test database must be to count as left
	// behind by a run that crashed (go test stops a binary after 10
	// minutes by default).
	leftoverAge = time.Hour
	// templateLock is the advisory lock key held while templates are made
	// or dropped; it is taken in the database of PSIMS_TEST_POSTGRES_URL.
	templateLock = 7_400_001
)

var (
	testDBName   = regexp.MustCompile(`^` + testDBPrefix + `([0-9a-f]{8})_([0-9]+)_[0-9a-f]+$`)
	templateName = regexp.MustCompile(`^` + templatePrefix + `([0-9a-f]{12})(` + building + `)?$`)
)

// pg is this test binary's connection to PostgreSQL and its template.
var pg struct {
	mu    sync.Mutex
	admin *sql.DB // connected to the database of PSIMS_TEST_POSTGRES_URL
	hash  string  // of the migrations, naming the template
	ready bool    // the template exists, as far as this binary knows
}

// newPostgresDatabase creates a database of the test's own from the template
// and returns its URL; the database is dropped when the test ends.
func newPostgresDatabase(tb testing.TB, base string) string {
	tb.Helper()
	u, drop, err := createPostgresDatabase(context.Background(), base)
	if err != nil {
		tb.Fatalf("postgres: %v", err)
	}
	tb.Cleanup(func() {
		if err := drop(); err != nil {
			tb.Errorf("postgres: %v", err)
		}
	})
	return u
}

// createPostgresDatabase creates a database from the template, making the
// template first if needed, and returns its URL and a function that drops it.
func createPostgresDatabase(ctx context.Context, base string) (string, func() error, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, err
	}
	// Another binary, built from other migrations, may drop our template
	// between ensureTemplate and CREATE DATABASE; it is then made again.
	for try := 0; ; try++ {
		admin, hash, err := ensureTemplate(ctx, base)
		if err != nil {
			return "", nil, fmt.Errorf("template: %w", err)
		}
		name := fmt.Sprintf("%s%s_%d_%s", testDBPrefix, hash[:8], time.Now().Unix(), hex.EncodeToString(b[:]))
		_, err = admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE "+templatePrefix+hash)
		var pgErr *pgconn.PgError
		if try == 0 && errors.As(err, &pgErr) && pgErr.Code == "3D000" { // invalid_catalog_name
			pg.mu.Lock()
			pg.ready = false
			pg.mu.Unlock()
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("create database: %w", err)
		}
		drop := func() error {
			// FORCE ends connections the test left open.
			if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
				return fmt.Errorf("drop database %s: %w", name, err)
			}
			return nil
		}
		u, err := withDatabase(base, name)
		if err != nil {
			return "", nil, errors.Join(err, drop())
		}
		return u, drop, nil
	}
}

// ensureTemplate makes sure the template database exists, making it if
// needed, and returns the connection to PostgreSQL and the migrations' hash.
func ensureTemplate(ctx context.Context, base string) (*sql.DB, string, error) {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	if pg.admin == nil {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return nil, "", err
		}
		hash, err := migrationsHash(ctx, base)
		if err != nil {
			admin.Close()
			return nil, "", err
		}
		// Kept open for the life of the test binary.
		pg.admin, pg.hash = admin, hash
	}
	if !pg.ready {
		if err := makeTemplate(ctx, base, pg.hash); err != nil {
			return nil, "", err
		}
		pg.ready = true
	}
	return pg.admin, pg.hash, nil
}

// migrationsHash identifies the schema a template holds: the PostgreSQL
// migrations and River's.
func migrationsHash(ctx context.Context, base string) (string, error) {
	d, err := db.Open(ctx, base, "")
	if err != nil {
		return "", err
	}
	ms, err := d.Migrations()
	d.Close()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range ms {
		fmt.Fprintf(h, "psims %d %s\n%s\n", m.Version, m.Name, m.SQL)
	}
	// The driver is only asked for its migrations; it never connects.
	rm, err := rivermigrate.New(riverdatabasesql.New(nil), nil)
	if err != nil {
		return "", err
	}
	for _, m := range rm.AllVersions() {
		fmt.Fprintf(h, "river %d %s\n%s\n", m.Version, m.Name, m.SQLUp)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// makeTemplate creates the template for hash unless it exists, and drops
// what crashed runs and older migrations left behind. It holds an advisory
// lock meanwhile, so test binaries running at the same time take turns; the
// lock is released when its connection closes, even if the binary dies.
func makeTemplate(ctx context.Context, base, hash string) error {
	lockDB, err := sql.Open("pgx", base)
	if err != nil {
		return err
	}
	defer lockDB.Close()
	conn, err := lockDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if err := dropLeftovers(ctx, conn, hash); err != nil {
		return err
	}
	template := templatePrefix + hash
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", template).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	// Migrate under another name and rename at the end, so a template
	// exists only once it is complete.
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+template+building); err != nil {
		return fmt.Errorf("create %s: %w", template+building, err)
	}
	u, err := withDatabase(base, template+building)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, u, "")
	if err != nil {
		return err
	}
	err = migrate(ctx, d)
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("migrate %s: %w", template+building, err)
	}
	// No connections are allowed to a template: CREATE DATABASE refuses to
	// copy a database someone is connected to.
	for _, q := range []string{
		"ALTER DATABASE " + template + building + " WITH IS_TEMPLATE true ALLOW_CONNECTIONS false",
		"ALTER DATABASE " + template + building + " RENAME TO " + template,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// dropLeftovers drops test databases older than leftoverAge (their test
// would have ended long ago, so its run crashed), half-made templates, and
// templates of other migrations that no recent test database was made
// from. It runs under the template lock.
func dropLeftovers(ctx context.Context, conn *sql.Conn, hash string) error {
	rows, err := conn.QueryContext(ctx, "SELECT datname FROM pg_database WHERE datname LIKE 'psims\\_%'")
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	inUse := map[string]bool{} // the template hashes of recent test databases
	var drop []string
	for _, n := range names {
		m := testDBName.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		created, err := strconv.ParseInt(m[2], 10, 64)
		if err == nil && time.Since(time.Unix(created, 0)) > leftoverAge {
			drop = append(drop, n)
		} else {
			inUse[m[1]] = true
		}
	}
	for _, n := range names {
		m := templateName.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		halfMade := m[2] != ""
		if halfMade || (m[1] != hash && !inUse[m[1][:8]]) {
			drop = append(drop, n)
		}
	}
	for _, n := range drop {
		// A template must stop being one before it can be dropped.
		if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+n+" WITH IS_TEMPLATE false"); err != nil {
			return fmt.Errorf("drop leftover %s: %w", n, err)
		}
		if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+n+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop leftover %s: %w", n, err)
		}
	}
	return nil
}

// withDatabase returns the PostgreSQL URL base with its database replaced.
func withDatabase(base, database string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("postgres: bad %s: %w", PostgresEnv, err)
	}
	u.Path = "/" + database
	return u.String(), nil
}
