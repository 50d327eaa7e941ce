package db

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrations embed.FS

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the migrations of this database's engine in order.
func (d *DB) Migrations() ([]Migration, error) {
	dir := path.Join("migrations", d.dialect.Name)
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, fmt.Errorf("db: read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		if !ok || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("db: migration %s is not named NNNN_name.sql", name)
		}
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("db: migration %s: bad number: %w", name, err)
		}
		body, err := fs.ReadFile(migrations, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("db: read migration %s: %w", name, err)
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	// Numbers run 1, 2, 3… without gaps, so the order migrations ran in
	// on any database is the order of their numbers: one slipped in below
	// a number already applied would run after it, out of order.
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("db: migration %s: expected number %d", m.Name, i+1)
		}
	}
	return out, nil
}

// Migrate applies every migration not yet applied, each in its own
// transaction. Running it again does nothing; processes running it at the
// same time wait for each other.
func (d *DB) Migrate(ctx context.Context) error {
	ms, err := d.Migrations()
	if err != nil {
		return err
	}
	if _, err := d.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at TIMESTAMP NOT NULL)`); err != nil {
		return fmt.Errorf("db: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		err := d.InTx(ctx, func(tx *Tx) error {
			if err := tx.Dialect.Serialize(ctx, tx.Tx, LockMigrate); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil {
				return fmt.Errorf("db: check migration %s: %w", m.Name, err)
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("db: apply migration %s: %w", m.Name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, m.Version, m.Name, tx.Now)
			if err != nil {
				return fmt.Errorf("db: record migration %s: %w", m.Name, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
