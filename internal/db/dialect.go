package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect holds the few differences between SQLite and PostgreSQL that
// feature code needs. Feature code asks the Dialect; it never branches on the
// engine's name.
type Dialect struct {
	// Name is "sqlite" or "postgres", for logs and messages only.
	Name string
	// ILike is the case-insensitive LIKE operator.
	ILike string
	// serialize runs inside a transaction and blocks other transactions that
	// run it with the same key until this one ends. Empty where every write
	// transaction is already serialised (SQLite has one writer).
	serialize string
}

var (
	sqliteDialect   = Dialect{Name: "sqlite", ILike: "LIKE"}
	postgresDialect = Dialect{Name: "postgres", ILike: "ILIKE", serialize: "SELECT pg_advisory_xact_lock($1)"}
)

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
