package org

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/psims/psims/internal/db"
)

// This file is browsing organisations for national admins: a filtered,
// paged list, the organisations under one, and how many users each has.

// Paging of organisation lists.
const (
	DefaultPerPage = 25
	MaxPerPage     = 100
)

// OrgFilter chooses organisations for the admin list. The zero value is
// every organisation, active or not, first page.
type OrgFilter struct {
	Query   string // the start of the ODS code, or part of the name, any case
	Type    Type   // "" means any type
	Active  *bool  // nil means active or not
	Page    int    // from 1; 0 means 1
	PerPage int    // 0 means DefaultPerPage; at most MaxPerPage
}

// Listed is an organisation in a list, with how many user accounts belong
// to it (in any role or status).
type Listed struct {
	Organisation
	Users int
}

// OrgPage is one page of an organisation list.
type OrgPage struct {
	Orgs    []Listed
	Total   int // organisations matching the filter, on every page
	Page    int
	PerPage int
}

// Pages is how many pages the whole list takes (at least 1).
func (p OrgPage) Pages() int {
	if p.PerPage <= 0 || p.Total <= 0 {
		return 1
	}
	return (p.Total + p.PerPage - 1) / p.PerPage
}

// Types lists every organisation type, in the order lists offer them.
func Types() []Type { return []Type{TypeTrust, TypeGPPractice, TypeICB, TypeOther} }

// TypeLabel is how a type is named to people.
func TypeLabel(t Type) string {
	switch t {
	case TypeTrust:
		return "Trust"
	case TypeGPPractice:
		return "GP practice"
	case TypeICB:
		return "Integrated care board"
	case TypeOther:
		return "Other"
	}
	return string(t)
}

// listedColumns are the columns scanListed reads, from organisations
// aliased as o.
const listedColumns = `o.ods_code, o.name, o.org_type, COALESCE(o.parent_ods, ''), o.active,
	(SELECT COUNT(*) FROM users u WHERE u.org_ods = o.ods_code)`

func scanListed(row interface{ Scan(...any) error }) (Listed, error) {
	var l Listed
	var code, typ, parent string
	if err := row.Scan(&code, &l.Name, &typ, &parent, &l.Active, &l.Users); err != nil {
		return Listed{}, err
	}
	l.Code, l.Type, l.Parent = Code{s: code}, Type(typ), Code{s: parent}
	return l, nil
}

// List returns one page of the organisations f chooses, ordered by name
// (the one whose code is the query exactly first), with the total. An
// unknown type finds nothing. The query is taken literally.
func (s *Store) List(ctx context.Context, f OrgFilter) (OrgPage, error) {
	f.Query = strings.TrimSpace(f.Query)
	if r := []rune(f.Query); len(r) > maxQueryLength {
		f.Query = string(r[:maxQueryLength])
	}
	if f.Page < 1 {
		f.Page = 1
	}
	if f.PerPage <= 0 {
		f.PerPage = DefaultPerPage
	}
	f.PerPage = min(f.PerPage, MaxPerPage)

	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	exact := ""
	if f.Query != "" {
		upper := strings.ToUpper(f.Query)
		// The operator comes from the Dialect, never from input.
		conds = append(conds, "(o.ods_code LIKE "+arg(db.EscapeLike(upper)+"%")+` ESCAPE '\' OR o.name `+
			s.db.Dialect().ILike+" "+arg("%"+db.EscapeLike(f.Query)+"%")+` ESCAPE '\')`)
		exact = upper
	}
	if f.Type != "" {
		conds = append(conds, "o.org_type = "+arg(string(f.Type)))
	}
	if f.Active != nil {
		conds = append(conds, "o.active = "+arg(*f.Active))
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}

	page := OrgPage{Page: f.Page, PerPage: f.PerPage}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM organisations o`+where, args...).Scan(&page.Total); err != nil {
		return OrgPage{}, fmt.Errorf("org: list: count: %w", err)
	}
	q := `SELECT ` + listedColumns + ` FROM organisations o` + where +
		` ORDER BY CASE WHEN o.ods_code = ` + arg(exact) + ` THEN 0 ELSE 1 END, o.name, o.ods_code` +
		` LIMIT ` + arg(f.PerPage) + ` OFFSET ` + arg((f.Page-1)*f.PerPage)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return OrgPage{}, fmt.Errorf("org: list: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		l, err := scanListed(rows)
		if err != nil {
			return OrgPage{}, fmt.Errorf("org: list: %w", err)
		}
		page.Orgs = append(page.Orgs, l)
	}
	if err := rows.Err(); err != nil {
		return OrgPage{}, fmt.Errorf("org: list: %w", err)
	}
	return page, nil
}

// maxChildren bounds Children: an integrated care board has a few hundred
// practices and trusts at most.
const maxChildren = 2000

// Children returns the organisations whose parent is code, active or not,
// by name, with their user counts (at most 2,000).
func (s *Store) Children(ctx context.Context, code Code) ([]Listed, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+listedColumns+` FROM organisations o
		WHERE o.parent_ods = $1 ORDER BY o.name, o.ods_code LIMIT $2`, code.String(), maxChildren)
	if err != nil {
		return nil, fmt.Errorf("org: children of %s: %w", code, err)
	}
	defer rows.Close()
	var out []Listed
	for rows.Next() {
		l, err := scanListed(rows)
		if err != nil {
			return nil, fmt.Errorf("org: children of %s: %w", code, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("org: children of %s: %w", code, err)
	}
	return out, nil
}

// UserCount is how many user accounts of an organisation have one role and
// one status.
type UserCount struct {
	Role   string
	Status string
	Users  int
}

// UserCounts returns how many user accounts of the organisation code has, by
// role and status (only the combinations that occur), ordered by role then
// status. It reads counts only, never anyone's details.
func (s *Store) UserCounts(ctx context.Context, code Code) ([]UserCount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT role, status, COUNT(*) FROM users
		WHERE org_ods = $1 GROUP BY role, status ORDER BY role, status`, code.String())
	if err != nil {
		return nil, fmt.Errorf("org: user counts of %s: %w", code, err)
	}
	defer rows.Close()
	var out []UserCount
	for rows.Next() {
		var c UserCount
		if err := rows.Scan(&c.Role, &c.Status, &c.Users); err != nil {
			return nil, fmt.Errorf("org: user counts of %s: %w", code, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("org: user counts of %s: %w", code, err)
	}
	return out, nil
}
