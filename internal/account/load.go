package account

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/psims/psims/internal/db"
)

// This file loads many users at once, for demonstrations and benchmarks
// (internal/demo, internal/bench), in the caller's transaction so that a
// demo is all there or not there at all. Registration and Create stay the
// paths for real people.

// Rows per INSERT statement: a few hundred parameters each (users take
// 16 a row, grants 2). That is far below both engines' limits, and small
// enough for SQLite's driver, which looks up each numbered parameter among
// all of them, in time growing with the square of their number: 100,000
// users took three to four times as long to load 300 a statement as 50.
const (
	loadUserBatch  = 50
	loadGrantBatch = 250
)

// LoadUser is one user for Load, with the columns a demonstration sets.
type LoadUser struct {
	Email        string
	PasswordHash string // a PHC string from password.Hasher
	Name         string
	JobRole      string
	OrgCode      string
	Role         Role
	Status       Status
	CreatedAt    time.Time // also the time of the last update
	VerifiedAt   *time.Time
	ApprovedAt   *time.Time
	LastSignInAt *time.Time
	StatusReason string
	StatusAt     *time.Time
	IGTrainingAt *time.Time
	// ReadGrants are the organisations a read-only user may read.
	ReadGrants []string
	// LastActiveAt is the person's last sign-in or dormancy confirmation;
	// nil means LastSignInAt, or CreatedAt for one who never signed in.
	LastActiveAt *time.Time
}

// lastActive is the user's last activity as the dormancy sweep reads it.
func (u LoadUser) lastActive() time.Time {
	switch {
	case u.LastActiveAt != nil:
		return u.LastActiveAt.UTC()
	case u.LastSignInAt != nil:
		return u.LastSignInAt.UTC()
	}
	return u.CreatedAt.UTC()
}

// CountUsers returns how many users there are and the highest user ID (0
// when there are none), read in tx: what a load checks before adding to
// them.
func (s *Service) CountUsers(ctx context.Context, tx *db.Tx) (n int, maxID int64, err error) {
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(id), 0) FROM users`).Scan(&n, &maxID); err != nil {
		return 0, 0, fmt.Errorf("account: count users: %w", err)
	}
	return n, maxID, nil
}

// Load adds users and their read grants in tx, many to a statement, and
// returns the users' new IDs in the order of users. Nothing is sent and
// nothing audited: the caller records what the load was. Each user needs
// an email, a password hash, a known role and status; an email already
// stored, or an organisation that is not, fails the load, and so the
// caller's transaction.
func (s *Service) Load(ctx context.Context, tx *db.Tx, users []LoadUser) ([]int64, error) {
	for i, u := range users {
		if u.Email == "" || u.PasswordHash == "" || !slices.Contains(Roles(), u.Role) || !knownStatus(u.Status) {
			return nil, fmt.Errorf("account: load user %d: it needs an email, a password hash, a role and a status", i)
		}
	}
	ids := make([]int64, 0, len(users))
	for start := 0; start < len(users); start += loadUserBatch {
		batch := users[start:min(start+loadUserBatch, len(users))]
		got, err := loadUsers(ctx, tx, batch)
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
	}
	type grant struct {
		userID int64
		org    string
	}
	var grants []grant
	for i, u := range users {
		for _, o := range u.ReadGrants {
			grants = append(grants, grant{ids[i], o})
		}
	}
	for start := 0; start < len(grants); start += loadGrantBatch {
		batch := grants[start:min(start+loadGrantBatch, len(grants))]
		q := `INSERT INTO read_grants (granted_at, user_id, org_ods) VALUES ` + db.Values(len(batch), 2, 2, "$1, ")
		args := make([]any, 0, 1+2*len(batch))
		args = append(args, tx.Now)
		for _, g := range batch {
			args = append(args, g.userID, g.org)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return nil, fmt.Errorf("account: load read grants: %w", err)
		}
	}
	return ids, nil
}

// loadUsers inserts one statement's users and returns their IDs in order.
// The IDs come back by email, which is unique, since neither engine
// promises RETURNING in the order of VALUES.
func loadUsers(ctx context.Context, tx *db.Tx, batch []LoadUser) ([]int64, error) {
	const perRow = 16
	q := `INSERT INTO users (email, password_hash, name, job_role, org_ods, role, status,
		email_verified_at, approved_at, last_sign_in_at, created_at, updated_at, status_reason, status_changed_at, ig_training_at,
		last_active_at)
		VALUES ` + db.Values(len(batch), perRow, 1, "") + ` RETURNING id, email`
	args := make([]any, 0, perRow*len(batch))
	for _, u := range batch {
		args = append(args, u.Email, u.PasswordHash, u.Name, u.JobRole, u.OrgCode, string(u.Role), string(u.Status),
			nullTime(u.VerifiedAt), nullTime(u.ApprovedAt), nullTime(u.LastSignInAt), u.CreatedAt.UTC(), u.CreatedAt.UTC(),
			u.StatusReason, nullTime(u.StatusAt), nullTime(u.IGTrainingAt), u.lastActive())
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("account: load users: %w", err)
	}
	defer rows.Close()
	byEmail := make(map[string]int64, len(batch))
	for rows.Next() {
		var id int64
		var email string
		if err := rows.Scan(&id, &email); err != nil {
			return nil, fmt.Errorf("account: load users: %w", err)
		}
		byEmail[email] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account: load users: %w", err)
	}
	ids := make([]int64, len(batch))
	for i, u := range batch {
		if ids[i] = byEmail[u.Email]; ids[i] == 0 {
			return nil, fmt.Errorf("account: load users: %s was not stored", u.Email)
		}
	}
	return ids, nil
}

// knownStatus reports whether st is one of the statuses.
func knownStatus(st Status) bool {
	switch st {
	case StatusUnverified, StatusPending, StatusActive, StatusSuspended, StatusDeactivated, StatusRejected:
		return true
	}
	return false
}

// nullTime is t in UTC for a nullable column: NULL when t is nil.
func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// Member is a user's ID and organisation.
type Member struct {
	ID      int64
	OrgCode string
}

// Members returns every user, whatever their status, in ID order: the
// people synthetic events are recorded by (past events may have been
// recorded by people whose accounts have since closed).
func (s *Service) Members(ctx context.Context) ([]Member, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, org_ods FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("account: members: %w", err)
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.ID, &m.OrgCode); err != nil {
			return nil, fmt.Errorf("account: members: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account: members: %w", err)
	}
	return out, nil
}

// Analyze refreshes the statistics the query planner keeps on users and
// read grants, so that after a large Load it chooses indexes for the new
// sizes at once rather than when it next gets round to it.
func (s *Service) Analyze(ctx context.Context) error {
	for _, table := range []string{"users", "read_grants"} {
		if _, err := s.db.ExecContext(ctx, "ANALYZE "+table); err != nil {
			return fmt.Errorf("account: analyze %s: %w", table, err)
		}
	}
	return nil
}
