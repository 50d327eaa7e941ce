// Package org keeps the organisations staff belong to, identified by their
// ODS codes, and imports them from CSV files.
package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
)

// Type is the kind of an organisation.
type Type string

// The kinds of organisation.
const (
	TypeTrust      Type = "trust"
	TypeGPPractice Type = "gp-practice"
	TypeICB        Type = "icb" // integrated care board, or its predecessor, the CCG
	TypeOther      Type = "other"
)

// ParseType reads a type as written in an import file, ignoring case and
// surrounding space. An empty s is TypeOther. Errors are *apperr.Error with
// code Invalid.
func ParseType(s string) (Type, error) {
	switch t := Type(strings.ToLower(strings.TrimSpace(s))); t {
	case "":
		return TypeOther, nil
	case TypeTrust, TypeGPPractice, TypeICB, TypeOther:
		return t, nil
	}
	return "", apperr.New(apperr.Invalid, "Enter a type of trust, gp-practice, icb or other")
}

// Organisation is an organisation staff can belong to.
type Organisation struct {
	Code   Code
	Name   string
	Type   Type
	Parent Code // the organisation above it, such as a practice's ICB; may be zero
	Active bool // inactive organisations are kept but not offered to new users
}

// Store reads and writes organisations.
type Store struct {
	db *db.DB
}

// NewStore returns a Store on d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

const selectColumns = `SELECT ods_code, name, org_type, COALESCE(parent_ods, ''), active FROM organisations`

// Get returns the organisation with code, active or not. It returns an
// *apperr.Error with code NotFound when there is none.
func (s *Store) Get(ctx context.Context, code Code) (Organisation, error) {
	row := s.db.QueryRowContext(ctx, selectColumns+` WHERE ods_code = $1`, code.String())
	o, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Organisation{}, apperr.Wrap(apperr.NotFound, "No organisation has the ODS code "+code.String(), err)
	}
	if err != nil {
		return Organisation{}, fmt.Errorf("org: get %s: %w", code, err)
	}
	return o, nil
}

// Search limits.
const (
	DefaultSearchLimit = 20
	MaxSearchLimit     = 100
	maxQueryLength     = 100
)

// Search returns active organisations whose code starts with query or whose
// name contains it, ignoring case: the one whose code is query exactly
// first, then the others by name. query is taken literally (% and _ are not
// wildcards). limit is DefaultSearchLimit when 0 or less and at most
// MaxSearchLimit. A blank query finds nothing.
func (s *Store) Search(ctx context.Context, query string, limit int) ([]Organisation, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, nil
	}
	if r := []rune(query); len(r) > maxQueryLength {
		query = string(r[:maxQueryLength])
	}
	if limit <= 0 {
		limit = DefaultSearchLimit
	}
	limit = min(limit, MaxSearchLimit)
	upper := strings.ToUpper(query)
	pattern := db.EscapeLike(query)
	// The operator comes from the Dialect, never from input.
	q := selectColumns + ` WHERE active
		AND (ods_code LIKE $1 ESCAPE '\' OR name ` + s.db.Dialect().ILike + ` $2 ESCAPE '\')
		ORDER BY CASE WHEN ods_code = $3 THEN 0 ELSE 1 END, name, ods_code
		LIMIT $4`
	rows, err := s.db.QueryContext(ctx, q, db.EscapeLike(upper)+"%", "%"+pattern+"%", upper, limit)
	if err != nil {
		return nil, fmt.Errorf("org: search: %w", err)
	}
	defer rows.Close()
	var out []Organisation
	for rows.Next() {
		o, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("org: search: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("org: search: %w", err)
	}
	return out, nil
}

// Count returns the number of organisations, active or not.
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM organisations`).Scan(&n); err != nil {
		return 0, fmt.Errorf("org: count: %w", err)
	}
	return n, nil
}

func scan(row interface{ Scan(...any) error }) (Organisation, error) {
	var o Organisation
	var code, typ, parent string
	if err := row.Scan(&code, &o.Name, &typ, &parent, &o.Active); err != nil {
		return Organisation{}, err
	}
	// Rows are written through ParseCode, so they are trusted as stored.
	o.Code, o.Type, o.Parent = Code{s: code}, Type(typ), Code{s: parent}
	return o, nil
}
