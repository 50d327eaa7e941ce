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
	StatusRejected    Status = "rejected"    // registration refused by an admin
	StatusErased      Status = "erased"      // erased on request (P15): a tombstone that only keeps the id
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
	ID      int64
	Email   string
	Name    string
	JobRole string
	OrgCode string
	OrgName string // filled only where the query joins organisations
	// TwoStep is true when the account has a confirmed authenticator app;
	// filled only by Authenticate.
	TwoStep         bool
	Role            Role
	Status          Status
	EmailVerifiedAt *time.Time
	ApprovedAt      *time.Time
	LastSignInAt    *time.Time
	CreatedAt       time.Time
	// StatusReason is why an admin last changed the status (suspension,
	// deactivation, rejection); empty otherwise.
	StatusReason    string
	StatusChangedAt *time.Time
	// IGTrainingAt is when the user last completed information governance
	// training, as they recorded it (T18).
	IGTrainingAt *time.Time
	// PendingEmail is a new address waiting to be verified (P14).
	PendingEmail string
	// PendingOrgCode is an organisation the user asked to move to, waiting
	// for its admin's approval (P14).
	PendingOrgCode string
	// RestrictedAt is when processing of the person's data was restricted
	// at their request (P15): the account is read-only until it is lifted.
	RestrictedAt *time.Time
	// ContactObjectedAt is when the person objected to being contacted
	// (newsletters, notifications, invitations; P7, P15).
	ContactObjectedAt *time.Time
	// LastActiveAt is the person's last own activity (a sign-in or a
	// dormancy confirmation; P12). DormancyWarnedAt and
	// DormancyDeactivateAt are the running dormancy countdown, nil when
	// there is none.
	LastActiveAt         time.Time
	DormancyWarnedAt     *time.Time
	DormancyDeactivateAt *time.Time
	// ExemptionReason, when set, keeps the account out of the dormancy
	// sweep; ExemptionBy (a national admin) set it at ExemptionAt.
	ExemptionReason string
	ExemptionBy     int64
	ExemptionAt     *time.Time

	passwordHash string
}

// HasPassword reports whether the account has a password; one made
// through an OpenID Connect provider has none until its person sets one
// by resetting it.
func (u User) HasPassword() bool { return u.passwordHash != "" }

// userColumns are the columns scanUser reads, from users aliased as u.
const userColumns = `u.id, u.email, u.name, u.job_role, u.org_ods, u.role, u.status, u.password_hash,
	u.email_verified_at, u.approved_at, u.last_sign_in_at, u.created_at,
	u.status_reason, u.status_changed_at, u.ig_training_at, COALESCE(u.pending_email, ''), COALESCE(u.pending_org_ods, ''),
	u.restricted_at, u.contact_objected_at,
	u.last_active_at, u.dormancy_warned_at, u.dormancy_deactivate_at, u.exemption_reason, COALESCE(u.exemption_by, 0), u.exemption_at`

// rowScanner is what *sql.Row and *sql.Rows have in common.
type rowScanner interface{ Scan(dest ...any) error }

func scanUser(r rowScanner) (User, error) {
	var u User
	var verified, approved, lastSignIn, statusChanged, igTraining, restricted, objected, lastActive, warned, deactivate, exempted sql.NullTime
	err := r.Scan(&u.ID, &u.Email, &u.Name, &u.JobRole, &u.OrgCode, &u.Role, &u.Status, &u.passwordHash,
		&verified, &approved, &lastSignIn, &u.CreatedAt,
		&u.StatusReason, &statusChanged, &igTraining, &u.PendingEmail, &u.PendingOrgCode, &restricted, &objected,
		&lastActive, &warned, &deactivate, &u.ExemptionReason, &u.ExemptionBy, &exempted)
	if err != nil {
		return User{}, err
	}
	u.EmailVerifiedAt = timePtr(verified)
	u.ApprovedAt = timePtr(approved)
	u.LastSignInAt = timePtr(lastSignIn)
	u.StatusChangedAt = timePtr(statusChanged)
	u.IGTrainingAt = timePtr(igTraining)
	u.RestrictedAt = timePtr(restricted)
	u.ContactObjectedAt = timePtr(objected)
	u.LastActiveAt = u.CreatedAt.UTC()
	if lastActive.Valid {
		u.LastActiveAt = lastActive.Time.UTC()
	}
	u.DormancyWarnedAt = timePtr(warned)
	u.DormancyDeactivateAt = timePtr(deactivate)
	u.ExemptionAt = timePtr(exempted)
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
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.email = $1`, email))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, apperr.New(apperr.NotFound, "No account has that email address.")
	}
	if err != nil {
		return User{}, fmt.Errorf("account: user by email: %w", err)
	}
	return u, nil
}

func userByID(ctx context.Context, q querier, id int64) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id))
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

// Contact returns the user's name and email address, for reports that
// show a person who consented to it (usage reports, P19). Errors:
// NotFound.
func (s *Service) Contact(ctx context.Context, userID int64) (name, email string, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT name, email FROM users WHERE id = $1`, userID).Scan(&name, &email)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", apperr.New(apperr.NotFound, "No such account.")
	}
	if err != nil {
		return "", "", fmt.Errorf("account: contact: %w", err)
	}
	return name, email, nil
}
