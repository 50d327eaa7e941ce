package db

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStatements bounds a statement cache. Lists build their SQL from
// the filters chosen, so there are many texts, but far fewer in use.
const maxCachedStatements = 1000

// stmtCache keeps one prepared statement per SQL text on a SQLite pool, so
// the text is compiled once per connection rather than on every call:
// compiling was a third of the CPU of a submission, and most of a simple
// read. PostgreSQL needs none: pgx caches prepared statements per
// connection itself.
type stmtCache struct {
	pool  *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
	// wanted are texts first seen inside a transaction, to prepare once it
	// has ended: the write pool's one connection is the transaction's until
	// then, so preparing on the pool inside it would wait for ever.
	wanted map[string]bool
}

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, stmts: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

// get returns the prepared statement for query, preparing it on first use;
// nil when the cache is full or preparing fails (the caller then runs the
// query directly, which reports any error in it), and nil the first time a
// text is seen inside a transaction (inTx): it is prepared by
// prepareWanted after the transaction.
func (c *stmtCache) get(ctx context.Context, query string, inTx bool) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	s, ok := c.stmts[query]
	full := len(c.stmts)+len(c.wanted) >= maxCachedStatements
	if !ok && !full && inTx {
		c.wanted[query] = true
	}
	c.mu.Unlock()
	if ok || full || inTx {
		return s
	}
	return c.prepare(ctx, query)
}

// prepare prepares query on the pool and keeps it. The lock is not held
// while preparing, which may wait for a connection that a transaction
// holds, and that transaction may be asking the cache for a statement.
func (c *stmtCache) prepare(ctx context.Context, query string) *sql.Stmt {
	s, err := c.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if kept, ok := c.stmts[query]; ok {
		s.Close()
		return kept
	}
	c.stmts[query] = s
	return s
}

// prepareWanted prepares the texts first seen inside a transaction. Call it
// once the transaction has ended.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	if c == nil {
		return
	}
	c.mu.Lock()
	var queries []string
	for q := range c.wanted {
		queries = append(queries, q)
		delete(c.wanted, q)
	}
	c.mu.Unlock()
	for _, q := range queries {
		c.prepare(ctx, q)
	}
}

// close closes every statement.
func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.stmts {
		s.Close()
		delete(c.stmts, q)
	}
}

// ExecContext runs a statement in the transaction, prepared once per
// connection on SQLite.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := tx.stmts.get(ctx, query, true); s != nil {
		return tx.Tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return tx.Tx.ExecContext(ctx, query, args...)
}

// QueryContext runs a query in the transaction, prepared once per
// connection on SQLite.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := tx.stmts.get(ctx, query, true); s != nil {
		return tx.Tx.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	return tx.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query expected to return at most one row in the
// transaction, prepared once per connection on SQLite.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := tx.stmts.get(ctx, query, true); s != nil {
		return tx.Tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return tx.Tx.QueryRowContext(ctx, query, args...)
}
