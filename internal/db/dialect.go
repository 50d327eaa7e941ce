package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect holds the few differences between SQLite and PostgreSQL that
// feature code needs. Feature code asks the Dialect; it never branches on the
// engine's name.
type Dialect struct {
	// Name is "sqlite" or "postgres", for logs and messages only: code
	// that must tell the engines apart asks Engine.
	Name string
	// Engine is the engine, for the adapters that must pick a library's
	// driver by it (River's); feature code asks for a difference instead.
	Engine Engine
	// ILike is the case-insensitive LIKE operator.
	ILike string
	// OneWriter is true where the whole database has one write lock that
	// waiting writers poll for (SQLite), so a long load must leave gaps
	// between its transactions for other processes to write in.
	OneWriter bool
	// serialize runs inside a transaction and blocks other transactions that
	// run it with the same key until this one ends. Empty where every write
	// transaction is already serialised (SQLite has one writer).
	serialize string
}

// Engine is a database engine.
type Engine int

// The engines.
const (
	SQLite Engine = iota + 1
	PostgreSQL
)

var (
	sqliteDialect   = Dialect{Name: "sqlite", Engine: SQLite, ILike: "LIKE", OneWriter: true}
	postgresDialect = Dialect{Name: "postgres", Engine: PostgreSQL, ILike: "ILIKE", serialize: "SELECT pg_advisory_xact_lock($1)"}
)

// JSONText is the SQL that reads the text at key of the JSON object in
// column: json_extract on SQLite, ->> on PostgreSQL. column and key are
// names written in the code, never input.
func (d Dialect) JSONText(column, key string) string {
	if d.Engine == PostgreSQL {
		return column + "->>'" + key + "'"
	}
	return "json_extract(" + column + ", '$." + key + "')"
}

// EscapeLike makes s match itself literally in a LIKE (or Dialect.ILike)
// pattern whose ESCAPE character is a backslash, so that % and _ typed in
// a search are not wildcards:
//
//	`name ` + d.ILike + ` $1 ESCAPE '\'` with "%" + EscapeLike(q) + "%"
func EscapeLike(s string) string {
	if !strings.ContainsAny(s, `\%_`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	// Byte by byte: the three are ASCII, and other bytes pass unchanged,
	// even in text that is not valid UTF-8.
	for i := range len(s) {
		if c := s[i]; c == '\\' || c == '%' || c == '_' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Serialize makes transactions that call it with the same key run one after
// another, from the call until commit or rollback. Appending to a chain, such
// as the audit log, needs it.
func (d Dialect) Serialize(ctx context.Context, tx *sql.Tx, key int64) error {
	if d.serialize == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, d.serialize, key); err != nil {
		return fmt.Errorf("db: serialize %d: %w", key, err)
	}
	return nil
}

// Keys for Serialize, one per chain or job that needs one writer at a time.
const (
	LockAudit int64 = 7001 + iota
	LockMigrate
)

// IsUniqueViolation reports whether err comes from a unique constraint,
// such as two people registering the same email address at the same moment.
// Callers turn it into the answer they would have given had they seen the
// other row first.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		return sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
