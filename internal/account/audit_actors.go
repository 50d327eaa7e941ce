package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
)

// The audit log keeps user IDs only; these are what its viewer and daily
// check (package audit) ask the owner of accounts. Service satisfies
// audit.Directory and audit.Admins.

// AuditActors returns the name and email address of each of the accounts
// ids that still exists; an erased account is left out.
func (s *Service) AuditActors(ctx context.Context, ids []int64) (map[int64]audit.Actor, error) {
	out := make(map[int64]audit.Actor, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	ph := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ph[i], args[i] = "$"+strconv.Itoa(i+1), id
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, email FROM users WHERE id IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("account: audit actors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var a audit.Actor
		if err := rows.Scan(&id, &a.Name, &a.Email); err != nil {
			return nil, fmt.Errorf("account: audit actors: %w", err)
		}
		out[id] = a
	}
	return out, rows.Err()
}

// AuditActorByEmail returns the ID of the account with that email address
// (lower-cased), and false when there is none.
func (s *Service) AuditActorByEmail(ctx context.Context, email string) (int64, bool, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM users WHERE email = $1`, strings.ToLower(strings.TrimSpace(email))).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("account: audit actor: %w", err)
	}
	return id, true, nil
}

// AuditOrgMembers returns the IDs of the accounts that belong to the
// organisation now, whatever their status. Someone who has moved
// organisation counts in their new one only.
func (s *Service) AuditOrgMembers(ctx context.Context, org string) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM users WHERE org_ods = $1 ORDER BY id`, org)
	if err != nil {
		return nil, fmt.Errorf("account: organisation members: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("account: organisation members: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// ActiveNationalAdmins returns every active national admin, inside tx, to
// be told when the audit log's chain is broken.
func (s *Service) ActiveNationalAdmins(ctx context.Context, tx *db.Tx) ([]mail.Addressee, error) {
	rows, err := tx.QueryContext(ctx, `SELECT email, name FROM users WHERE role = $1 AND status = $2 ORDER BY id`,
		RoleNationalAdmin, StatusActive)
	if err != nil {
		return nil, fmt.Errorf("account: national admins: %w", err)
	}
	defer rows.Close()
	var out []mail.Addressee
	for rows.Next() {
		var a mail.Addressee
		if err := rows.Scan(&a.Email, &a.Name); err != nil {
			return nil, fmt.Errorf("account: national admins: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
