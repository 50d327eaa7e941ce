// Package db opens the database (embedded SQLite or PostgreSQL), runs the
// embedded migrations and runs transactions.
//
// Feature packages write one SQL text for both engines: $1 placeholders work
// on both drivers, times are always passed in from Go (never SQL's own clock)
// and stored in UTC, and the few real differences live in Dialect.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// DB is an open database: a pool for reads, a pool for writes (one
// connection on SQLite, the same pool on PostgreSQL) and the engine's Dialect.
type DB struct {
	read    *sql.DB
	write   *sql.DB
	dialect Dialect
	clock   func() time.Time
	// group shares commits among InSharedTx callers; nil on PostgreSQL.
	group *group
	// readStmts and writeStmts cache prepared statements on SQLite; nil on
	// PostgreSQL.
	readStmts, writeStmts *stmtCache
}

// Open connects to PostgreSQL when database is a postgres:// URL, and otherwise
// opens (creating if needed) the SQLite file at sqlitePath. It does not migrate.
func Open(ctx context.Context, database, sqlitePath string) (*DB, error) {
	var d *DB
	var err error
	if database != "" {
		d, err = openPostgres(database)
	} else {
		d, err = openSQLite(sqlitePath)
	}
	if err != nil {
		return nil, err
	}
	if err := d.Ping(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func openSQLite(path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("db: create data directory: %w", err)
	}
	q := url.Values{}
	// A 32 MiB page cache per connection (SQLite's default is 2 MiB): a
	// transaction touching many index pages spills to the log mid-way with
	// less, which measured a fifth slower for submissions.
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)", "synchronous(FULL)", "cache_size(-32768)"} {
		q.Add("_pragma", p)
	}
	q.Set("_time_format", "sqlite")
	readDSN := "file:" + path + "?" + q.Encode()
	// Write transactions take the write lock when they begin, so two writers
	// never deadlock upgrading a read lock.
	q.Set("_txlock", "immediate")
	// The writer keeps its statement and savepoint journals in memory. Each
	// member of a shared commit runs in a savepoint whose journal, spilled
	// to a temporary file, cost a write call for every page it saved: a
	// fifth of the writer's time in a profile of API creates. Write
	// transactions are small; the readers' large sorts still spill to disk.
	q.Add("_pragma", "temp_store(MEMORY)")
	writeDSN := "file:" + path + "?" + q.Encode()

	write, err := sql.Open("sqlite", writeDSN)
	if err != nil {
		return nil, fmt.Errorf("db: open sqlite: %w", err)
	}
	// SQLite allows one writer at a time; one connection queues writers in
	// Go instead of failing them with SQLITE_BUSY.
	write.SetMaxOpenConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", readDSN)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("db: open sqlite: %w", err)
	}
	read.SetMaxOpenConns(8)
	// Keep every connection: each holds its prepared statements, and
	// opening one costs its pragmas.
	read.SetMaxIdleConns(8)
	read.SetConnMaxIdleTime(0)
	return &DB{read: read, write: write, dialect: sqliteDialect, clock: time.Now, group: &group{},
		readStmts: newStmtCache(read), writeStmts: newStmtCache(write)}, nil
}

func openPostgres(database string) (*DB, error) {
	pool, err := sql.Open("pgx", database)
	if err != nil {
		return nil, fmt.Errorf("db: open postgres: %w", err)
	}
	pool.SetMaxOpenConns(25)
	pool.SetMaxIdleConns(25)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{read: pool, write: pool, dialect: postgresDialect, clock: time.Now}, nil
}

// Close closes both pools.
func (d *DB) Close() error {
	d.readStmts.close()
	d.writeStmts.close()
	if d.read == d.write {
		return d.read.Close()
	}
	return errors.Join(d.read.Close(), d.write.Close())
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.read.PingContext(ctx); err != nil {
		return fmt.Errorf("db: ping: %w", err)
	}
	return nil
}

// Dialect returns the engine's differences.
func (d *DB) Dialect() Dialect { return d.dialect }

// WritePool is the pool that writes go through. The job queue uses it so its
// transactions and ours share one writer on SQLite.
func (d *DB) WritePool() *sql.DB { return d.write }

// SetClock replaces the clock; tests use it to control time.
func (d *DB) SetClock(now func() time.Time) { d.clock = now }

// Now is the current time as stored: UTC, to the microsecond (the precision
// PostgreSQL keeps).
func (d *DB) Now() time.Time { return d.clock().UTC().Truncate(time.Microsecond) }

// QueryContext runs a read-only query on the read pool.
func (d *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := d.readStmts.get(ctx, query, false); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return d.read.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a read-only query returning at most one row.
func (d *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := d.readStmts.get(ctx, query, false); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return d.read.QueryRowContext(ctx, query, args...)
}

// ExecContext runs one write statement on its own, outside any transaction
// (it commits at once). Use it only for a single statement that needs no
// audit row, such as counting a sign-in attempt.
func (d *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := d.writeStmts.get(ctx, query, false); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return d.write.ExecContext(ctx, query, args...)
}

// WriteRowContext is ExecContext for a statement with RETURNING.
func (d *DB) WriteRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := d.writeStmts.get(ctx, query, false); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return d.write.QueryRowContext(ctx, query, args...)
}

// Tx is a write transaction with the time it started, which every row it
// writes uses as "now".
type Tx struct {
	*sql.Tx
	Now     time.Time
	Dialect Dialect
	stmts   *stmtCache // the write pool's prepared statements; nil on PostgreSQL
	// shared are the values kept with Shared, in the order first asked for.
	shared []*sharedValue
}

// sharedValue is one value kept with Tx.Shared.
type sharedValue struct {
	key    string
	v      any
	finish func(ctx context.Context, tx *Tx, v any) error
}

// Shared returns the value kept in the transaction under key, made by
// init the first time it is asked for; finish runs once with it just
// before the commit, and its error rolls the whole transaction back. It is
// for work that many writes of one transaction add to, such as counts,
// written once: in a shared transaction (InSharedTx), once for all of the
// callers in it. A caller should add to it last, when nothing of its own
// can fail any more, since rolling back a caller's savepoint does not take
// back what it added.
func (tx *Tx) Shared(key string, init func() any, finish func(ctx context.Context, tx *Tx, v any) error) any {
	for _, sv := range tx.shared {
		if sv.key == key {
			return sv.v
		}
	}
	sv := &sharedValue{key: key, v: init(), finish: finish}
	tx.shared = append(tx.shared, sv)
	return sv.v
}

// InTx runs fn in a write transaction, committing when fn returns nil and
// rolling back otherwise.
func (d *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	tx := &Tx{Tx: sqlTx, Now: d.Now(), Dialect: d.dialect, stmts: d.writeStmts}
	// Statements first seen in this transaction are prepared for the next.
	defer d.writeStmts.prepareWanted(context.WithoutCancel(ctx))
	err = fn(tx)
	for i := 0; err == nil && i < len(tx.shared); i++ {
		err = tx.shared[i].finish(ctx, tx, tx.shared[i].v)
	}
	if err != nil {
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("db: rollback: %w", rbErr))
		}
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	return nil
}
