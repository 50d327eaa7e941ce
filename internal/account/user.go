// Package account owns users, their credentials, email verification,
// approval, sign-in with lockout, password reset and sessions.
package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
)

// Status is where an account is in its life.
type Status string

// The statuses. Only active accounts can sign in.
const (
	StatusUnverified  Status = "unverified"  // registered; email address not yet verified
	StatusPending     Status = "pending"     // verified; waiting for approval
	StatusActive      Status = "active"      // approved; may sign in
	StatusSuspended   Status = "suspended"   // barred for now
	StatusDeactivated Status = "deactivated" // closed
)

// Role is what a user may do. See ../shared/DESIGN.md "Who uses it".
type Role string

// The roles.
const (
	RoleReporter      Role = "reporter"
	RoleReviewer      Role = "reviewer"
	RoleOrgAdmin      Role = "org-admin"
	RoleReadOnly      Role = "read-only"
	RoleNationalAdmin Role = "national-admin"
)

// Roles lists every role.
func Roles() []Role {
	return []Role{RoleReporter, RoleReviewer, RoleOrgAdmin, RoleReadOnly, RoleNationalAdmin}
}

// ParseRole returns the role called s, or an Invalid error.
func ParseRole(s string) (Role, error) {
	if slices.Contains(Roles(), Role(s)) {
		return Role(s), nil
	}
	return "", apperr.New(apperr.Invalid, fmt.Sprintf("Role must be one of reporter, reviewer, org-admin, read-only or national-admin, not %q", s))
}

// User is a registered person.
type User struct {
	ID              int64
	Email           string
	Name            string
	JobRole         string
	OrgCode         string
	OrgName         string // filled only where the query joins organisations
	Role            Role
	Status          Status
	EmailVerifiedAt *time.Time
	ApprovedAt      *time.Time
	LastSignInAt    *time.Time
	CreatedAt       time.Time

	passwordHash string
}

const userColumns = `id, email, name, job_role, org_ods, role, status, password_hash,
	email_verified_at, approved_at, last_sign_in_at, created_at`

// rowScanner is what *sql.Row and *sql.Rows have in common.
type rowScanner interface{ Scan(dest ...any) error }

func scanUser(r rowScanner) (User, error) {
	var u User
	var verified, approved, lastSignIn sql.NullTime
	err := r.Scan(&u.ID, &u.Email, &u.Name, &u.JobRole, &u.OrgCode, &u.Role, &u.Status, &u.passwordHash,
		&verified, &approved, &lastSignIn, &u.CreatedAt)
	if err != nil {
		return User{}, err
	}
	u.EmailVerifiedAt = timePtr(verified)
	u.ApprovedAt = timePtr(approved)
	u.LastSignInAt = timePtr(lastSignIn)
	return u, nil
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.UTC()
	return &v
}

// querier is a read pool or a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func userByEmail(ctx context.Context, q querier, email string) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, email))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, apperr.New(apperr.NotFound, "No account has that email address.")
	}
	if err != nil {
		return User{}, fmt.Errorf("account: user by email: %w", err)
	}
	return u, nil
}

func userByID(ctx context.Context, q querier, id int64) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, apperr.New(apperr.NotFound, "No such account.")
	}
	if err != nil {
		return User{}, fmt.Errorf("account: user by id: %w", err)
	}
	return u, nil
}

// UserByEmail returns the user with that (already normalised) email address.
// Errors: NotFound.
func (s *Service) UserByEmail(ctx context.Context, email string) (User, error) {
	return userByEmail(ctx, s.db, email)
}

// UserByID returns the user with that ID. Errors: NotFound.
func (s *Service) UserByID(ctx context.Context, id int64) (User, error) {
	return userByID(ctx, s.db, id)
}

func setStatus(ctx context.Context, tx *db.Tx, id int64, status Status) error {
	_, err := tx.ExecContext(ctx, `UPDATE users SET status = $1, updated_at = $2 WHERE id = $3`, status, tx.Now, id)
	if err != nil {
		return fmt.Errorf("account: set status: %w", err)
	}
	return nil
}
