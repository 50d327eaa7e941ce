package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/psims/psims/internal/db"
)

// Contactable is a person a newsletter or an invitation may be sent to.
type Contactable struct {
	ID      int64
	Email   string
	Name    string
	Role    Role
	OrgCode string
}

// ContactFilter chooses the people a mailing goes to: those who consent
// now to Purpose (a consent purpose of internal/terms, such as
// "newsletter" or "research"), and, when not empty, who hold one of Roles
// and belong to one of Orgs.
type ContactFilter struct {
	Purpose string
	Roles   []Role
	Orgs    []string
}

// where is the condition every contactable person meets, with the filter's
// placeholders numbered from $1; args are their values. Only active
// accounts whose processing is not restricted and who have not objected to
// being contacted (P15) and who consent now to the purpose qualify.
func (f ContactFilter) where() (string, []any) {
	args := []any{StatusActive, f.Purpose}
	var b strings.Builder
	b.WriteString(`u.status = $1 AND u.restricted_at IS NULL AND u.contact_objected_at IS NULL
		AND EXISTS (SELECT 1 FROM consents c WHERE c.user_id = u.id AND c.purpose = $2 AND c.granted)`)
	in := func(column string, values []string) {
		if len(values) == 0 {
			return
		}
		b.WriteString(" AND " + column + " IN (")
		for i, v := range values {
			if i > 0 {
				b.WriteString(", ")
			}
			args = append(args, v)
			b.WriteString("$" + strconv.Itoa(len(args)))
		}
		b.WriteString(")")
	}
	roles := make([]string, len(f.Roles))
	for i, r := range f.Roles {
		roles[i] = string(r)
	}
	in("u.role", roles)
	in("u.org_ods", f.Orgs)
	return b.String(), args
}

// Contactable returns up to limit people the filter chooses whose id is
// greater than after, in id order: one page of a mailing's recipients,
// read inside the caller's transaction so that queueing them and moving
// the mailing's cursor past them commit together. A withdrawal of consent,
// an objection or a restriction takes effect on the next page.
func (s *Service) Contactable(ctx context.Context, tx *db.Tx, f ContactFilter, after int64, limit int) ([]Contactable, error) {
	where, args := f.where()
	args = append(args, after, limit)
	n := len(args)
	rows, err := tx.QueryContext(ctx, `SELECT u.id, u.email, u.name, u.role, u.org_ods FROM users u
		WHERE `+where+` AND u.id > $`+strconv.Itoa(n-1)+` ORDER BY u.id LIMIT $`+strconv.Itoa(n), args...)
	if err != nil {
		return nil, fmt.Errorf("account: contactable: %w", err)
	}
	defer rows.Close()
	var out []Contactable
	for rows.Next() {
		var c Contactable
		if err := rows.Scan(&c.ID, &c.Email, &c.Name, &c.Role, &c.OrgCode); err != nil {
			return nil, fmt.Errorf("account: contactable: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account: contactable: %w", err)
	}
	return out, nil
}

// CountContactable counts the people the filter chooses now: a mailing's
// audience size.
func (s *Service) CountContactable(ctx context.Context, f ContactFilter) (int, error) {
	where, args := f.where()
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users u WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("account: count contactable: %w", err)
	}
	return n, nil
}

// StillContactable reports whether the address belongs to an active
// account whose processing is not restricted, who has not objected to
// being contacted, and who consents now to purpose: asked again just
// before a newsletter or invitation already queued is sent, so that an
// unsubscribe or objection is honoured at once.
func (s *Service) StillContactable(ctx context.Context, email, purpose string) (bool, error) {
	where, args := ContactFilter{Purpose: purpose}.where()
	args = append(args, email)
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT u.id FROM users u WHERE `+where+` AND u.email = $`+strconv.Itoa(len(args)), args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("account: still contactable: %w", err)
	}
	return true, nil
}
