package apikey

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// querier is a database or a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const columns = `id, org_ods, name, prefix, created_by, created_at, expires_at, revoked_at, revoked_by, revoke_reason, last_used_at`

func scan(row interface{ Scan(...any) error }) (Key, error) {
	var k Key
	var createdBy, revokedBy sql.NullInt64
	var expires, revoked, used sql.NullTime
	if err := row.Scan(&k.ID, &k.Org, &k.Name, &k.Prefix, &createdBy, &k.CreatedAt, &expires, &revoked, &revokedBy,
		&k.RevokeReason, &used); err != nil {
		return Key{}, err
	}
	k.CreatedBy, k.RevokedBy = createdBy.Int64, revokedBy.Int64
	k.CreatedAt = k.CreatedAt.UTC()
	if expires.Valid {
		k.ExpiresAt = expires.Time.UTC()
	}
	if revoked.Valid {
		k.RevokedAt = revoked.Time.UTC()
	}
	if used.Valid {
		k.LastUsedAt = used.Time.UTC()
	}
	return k, nil
}

// Get returns key id. Errors: NotFound.
func (s *Service) Get(ctx context.Context, id int64) (Key, error) {
	return get(ctx, s.db, id)
}

func get(ctx context.Context, q querier, id int64) (Key, error) {
	k, err := scan(q.QueryRowContext(ctx, `SELECT `+columns+` FROM api_keys WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, notFound()
	}
	if err != nil {
		return Key{}, fmt.Errorf("apikey: get %d: %w", id, err)
	}
	return k, nil
}

// List returns the keys of the organisation with ODS code org, or of
// every organisation when org is "", newest first.
func (s *Service) List(ctx context.Context, org string) ([]Key, error) {
	if org == "" {
		return s.list(ctx, `ORDER BY created_at DESC, id DESC`)
	}
	return s.list(ctx, `WHERE org_ods = $1 ORDER BY created_at DESC, id DESC`, org)
}

// MadeBy returns the keys userID made, newest first.
func (s *Service) MadeBy(ctx context.Context, userID int64) ([]Key, error) {
	return s.list(ctx, `WHERE created_by = $1 ORDER BY created_at DESC, id DESC`, userID)
}

// list returns the keys the rest of the query (a WHERE and ORDER BY)
// chooses.
func (s *Service) list(ctx context.Context, rest string, args ...any) ([]Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM api_keys `+rest, args...)
	if err != nil {
		return nil, fmt.Errorf("apikey: list: %w", err)
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		k, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("apikey: list: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("apikey: list: %w", err)
	}
	return out, nil
}
