package demo

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/password"
)

// Rows per INSERT statement. Users take 14 parameters a row, so 300 rows
// stay far below both engines' limits on parameters while making 100,000
// users only a few hundred statements.
const (
	orgBatch   = 500
	userBatch  = 300
	grantBatch = 500
)

// Result says what Seed added and how to sign in to it.
type Result struct {
	Orgs       int
	Users      int
	ReadGrants int
	ByRole     map[account.Role]int
	ByStatus   map[account.Status]int
	// Password is the password of every demo user.
	Password string
	// Biggest is the organisation with the most users, and BiggestUsers how
	// many it has.
	Biggest      string
	BiggestUsers int
	// NationalAdmin and BiggestOrgAdmin are emails of active accounts with
	// current IG training: a national admin and an org admin of Biggest.
	NationalAdmin, BiggestOrgAdmin string
	// Elapsed is how long writing and analysing took, hashing the password
	// apart.
	Elapsed time.Duration
}

// Seed generates organisations and users as opts say (see Generate) and
// writes them, with one audit entry "demo.seed", in one transaction. Every
// user gets the same password hash, of a new random password (in the
// Result), hashed once with hasher: hashing each would take an hour for
// 100,000 users. Errors: Conflict when the database already has users and
// opts.Force is false.
func Seed(ctx context.Context, d *db.DB, hasher *password.Hasher, opts Options) (Result, error) {
	if opts.Orgs < 2 || opts.Users < 2 {
		return Result{}, apperr.New(apperr.Invalid, "A demo needs at least 2 organisations and 2 users.")
	}
	res := Result{Password: newPassword(), ByRole: map[account.Role]int{}, ByStatus: map[account.Status]int{}}
	hash, err := hasher.Hash(ctx, res.Password)
	if err != nil {
		return Result{}, fmt.Errorf("demo: hash the password: %w", err)
	}
	start := time.Now()
	err = d.InTx(ctx, func(tx *db.Tx) error {
		var users int
		var maxID int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(id), 0) FROM users`).Scan(&users, &maxID); err != nil {
			return fmt.Errorf("demo: count users: %w", err)
		}
		if users > 0 && !opts.Force {
			return apperr.New(apperr.Conflict, fmt.Sprintf("The database already has %d users, so no demo data was added. Use --force to add to them.", users))
		}
		taken, err := storedCodes(ctx, tx)
		if err != nil {
			return err
		}
		// An email's number is above every ID so far, so it is above the
		// number of any earlier demo user too.
		data, err := Generate(opts, taken, tx.Now, int(maxID)+1)
		if err != nil {
			return err
		}
		if err := insertOrgs(ctx, tx, data.Orgs); err != nil {
			return err
		}
		grants, err := insertUsers(ctx, tx, hash, data.Users)
		if err != nil {
			return err
		}
		if err := insertGrants(ctx, tx, grants); err != nil {
			return err
		}
		res.Orgs, res.Users, res.ReadGrants = len(data.Orgs), len(data.Users), len(grants)
		res.Biggest, res.NationalAdmin, res.BiggestOrgAdmin = data.Biggest, data.NationalAdmin, data.BiggestOrgAdmin
		for _, u := range data.Users {
			res.ByRole[u.Role]++
			res.ByStatus[u.Status]++
			if u.OrgCode == data.Biggest {
				res.BiggestUsers++
			}
		}
		details := map[string]string{
			"organisations": strconv.Itoa(res.Orgs),
			"users":         strconv.Itoa(res.Users),
			"read_grants":   strconv.Itoa(res.ReadGrants),
			"seed":          strconv.FormatUint(opts.Seed, 10),
		}
		for r, n := range res.ByRole {
			details["role_"+string(r)] = strconv.Itoa(n)
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "demo.seed", SubjectType: "database", SubjectID: "*", Details: details})
	})
	if err != nil {
		return Result{}, err
	}
	// Fresh statistics, so the query planners choose indexes for the new
	// sizes at once rather than when they next get round to it.
	for _, table := range []string{"organisations", "users", "read_grants"} {
		if _, err := d.ExecContext(ctx, "ANALYZE "+table); err != nil {
			return Result{}, fmt.Errorf("demo: analyze %s: %w", table, err)
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// newPassword returns a random password for the demo accounts: 20
// characters, long enough for the password policy.
func newPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	b := make([]byte, 20)
	rand.Read(b) // never fails; see crypto/rand
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	// Groups of five are easier to read out and type.
	return "demo-" + string(b[0:5]) + "-" + string(b[5:10]) + "-" + string(b[10:15]) + "-" + string(b[15:20])
}

func storedCodes(ctx context.Context, tx *db.Tx) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT ods_code FROM organisations`)
	if err != nil {
		return nil, fmt.Errorf("demo: read organisation codes: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("demo: read organisation codes: %w", err)
		}
		out[c] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("demo: read organisation codes: %w", err)
	}
	return out, nil
}

// values writes the VALUES list of a multi-row INSERT: rows groups of
// perRow placeholders numbered from first, each group starting with the
// shared placeholders given (such as "$1, ").
func values(b *strings.Builder, rows, perRow, first int, shared string) {
	n := first
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		b.WriteString(shared)
		for j := range perRow {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(n))
			n++
		}
		b.WriteByte(')')
	}
}

func insertOrgs(ctx context.Context, tx *db.Tx, orgs []Org) error {
	for start := 0; start < len(orgs); start += orgBatch {
		batch := orgs[start:min(start+orgBatch, len(orgs))]
		var b strings.Builder
		b.WriteString(`INSERT INTO organisations (ods_code, name, org_type, parent_ods, active, created_at, updated_at) VALUES `)
		values(&b, len(batch), 7, 1, "")
		args := make([]any, 0, 7*len(batch))
		for _, o := range batch {
			var parent any
			if !o.Parent.IsZero() {
				parent = o.Parent.String()
			}
			args = append(args, o.Code.String(), o.Name, string(o.Type), parent, true, tx.Now, tx.Now)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("demo: add organisations: %w", err)
		}
	}
	return nil
}

// grant is one organisation a read-only user may read.
type grant struct {
	userID int64
	org    string
}

// insertUsers adds the users, all with the password hash, and returns the
// read grants of the read-only ones, with their new IDs.
func insertUsers(ctx context.Context, tx *db.Tx, hash string, users []User) ([]grant, error) {
	const perRow = 14
	var grants []grant
	for start := 0; start < len(users); start += userBatch {
		batch := users[start:min(start+userBatch, len(users))]
		var b strings.Builder
		b.WriteString(`INSERT INTO users (password_hash, email, name, job_role, org_ods, role, status,
			email_verified_at, approved_at, last_sign_in_at, created_at, updated_at, status_reason, status_changed_at, ig_training_at)
			VALUES `)
		values(&b, len(batch), perRow, 2, "$1, ")
		b.WriteString(` RETURNING id, email`)
		args := make([]any, 0, 1+perRow*len(batch))
		args = append(args, hash)
		byEmail := map[string][]string{}
		for _, u := range batch {
			args = append(args, u.Email, u.Name, u.JobRole, u.OrgCode, string(u.Role), string(u.Status),
				timeArg(u.VerifiedAt), timeArg(u.ApprovedAt), timeArg(u.LastSignIn), u.CreatedAt.UTC(), u.CreatedAt.UTC(),
				u.StatusReason, timeArg(u.StatusAt), timeArg(u.IGTrainingAt))
			if len(u.ReadGrants) > 0 {
				byEmail[u.Email] = u.ReadGrants
			}
		}
		rows, err := tx.QueryContext(ctx, b.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("demo: add users: %w", err)
		}
		for rows.Next() {
			var id int64
			var email string
			if err := rows.Scan(&id, &email); err != nil {
				rows.Close()
				return nil, fmt.Errorf("demo: add users: %w", err)
			}
			for _, o := range byEmail[email] {
				grants = append(grants, grant{userID: id, org: o})
			}
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("demo: add users: %w", err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("demo: add users: %w", err)
		}
	}
	return grants, nil
}

func insertGrants(ctx context.Context, tx *db.Tx, grants []grant) error {
	for start := 0; start < len(grants); start += grantBatch {
		batch := grants[start:min(start+grantBatch, len(grants))]
		var b strings.Builder
		b.WriteString(`INSERT INTO read_grants (user_id, org_ods, granted_at) VALUES `)
		values(&b, len(batch), 3, 1, "")
		args := make([]any, 0, 3*len(batch))
		for _, g := range batch {
			args = append(args, g.userID, g.org, tx.Now)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("demo: add read grants: %w", err)
		}
	}
	return nil
}

// timeArg is t in UTC for a nullable column: NULL when t is nil.
func timeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}
