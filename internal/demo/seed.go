package demo

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/password"
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

// SeedUsersPerTx is how many users Seed writes in one transaction (and
// organisations, in 2 per user): a transaction this small holds SQLite's
// one write lock for a few milliseconds, so a running server's writers
// (sign-ins, submissions, the job queue) wait no longer than that between
// batches instead of for the whole seed, and never run out of their busy
// timeout.
const SeedUsersPerTx = 100

// Seed generates organisations and users as opts say (see Generate) and
// writes them through their owners' loaders (orgs and accounts) in short
// transactions of SeedUsersPerTx users, so that a server running on the same
// database keeps writing meanwhile, then one audit entry "demo.seed". Every
// user gets the same password hash, of a new random password (in the
// Result), hashed once with hasher: hashing each would take an hour for
// 100,000 users. When the database fails part way, the batches already
// written stay (it is demo data; run again with --force to add more).
// Errors: Conflict when the database already has users and opts.Force is
// false.
func Seed(ctx context.Context, d *db.DB, orgs *org.Store, accounts *account.Service, hasher *password.Hasher, opts Options) (Result, error) {
	if opts.Orgs < 2 || opts.Users < 2 {
		return Result{}, apperr.New(apperr.Invalid, "A demo needs at least 2 organisations and 2 users.")
	}
	res := Result{Password: newPassword(), ByRole: map[account.Role]int{}, ByStatus: map[account.Status]int{}}
	hash, err := hasher.Hash(ctx, res.Password)
	if err != nil {
		return Result{}, fmt.Errorf("demo: hash the password: %w", err)
	}
	start := time.Now()
	var data Data
	// A short first transaction decides what to add; generating happens
	// inside it only because it needs the codes and IDs it reads.
	err = d.InTx(ctx, func(tx *db.Tx) error {
		users, maxID, err := accounts.CountUsers(ctx, tx)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if users > 0 && !opts.Force {
			return apperr.New(apperr.Conflict, fmt.Sprintf("The database already has %d users, so no demo data was added. Use --force to add to them.", users))
		}
		taken, err := orgs.Codes(ctx, tx)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		// An email's number is above every ID so far, so it is above the
		// number of any earlier demo user too.
		data, err = Generate(opts, taken, tx.Now, int(maxID)+1)
		return err
	})
	if err != nil {
		return Result{}, err
	}
	// Organisations come first, parents before children as Generate lists
	// them, so every user's organisation is stored before its batch.
	rows := loadOrgs(data.Orgs)
	for i := 0; i < len(rows); i += 2 * SeedUsersPerTx {
		batch := rows[i:min(i+2*SeedUsersPerTx, len(rows))]
		if err := ShareWrites(ctx, d, func() error {
			return d.InTx(ctx, func(tx *db.Tx) error { return orgs.Load(ctx, tx, batch) })
		}); err != nil {
			return Result{}, fmt.Errorf("demo: %w", err)
		}
	}
	people := loadUsers(hash, data.Users)
	for i := 0; i < len(people); i += SeedUsersPerTx {
		batch := people[i:min(i+SeedUsersPerTx, len(people))]
		if err := ShareWrites(ctx, d, func() error {
			return d.InTx(ctx, func(tx *db.Tx) error {
				_, err := accounts.Load(ctx, tx, batch)
				return err
			})
		}); err != nil {
			return Result{}, fmt.Errorf("demo: %w", err)
		}
	}
	res.Orgs, res.Users = len(data.Orgs), len(data.Users)
	res.Biggest, res.NationalAdmin, res.BiggestOrgAdmin = data.Biggest, data.NationalAdmin, data.BiggestOrgAdmin
	for _, u := range data.Users {
		res.ReadGrants += len(u.ReadGrants)
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
	if err := d.InTx(ctx, func(tx *db.Tx) error {
		return audit.Record(ctx, tx, audit.Entry{Action: "demo.seed", SubjectType: "database", SubjectID: "*", Details: details})
	}); err != nil {
		return Result{}, err
	}
	// Fresh statistics, so the query planners choose indexes for the new
	// sizes at once rather than when they next get round to it.
	if err := orgs.Analyze(ctx); err != nil {
		return Result{}, fmt.Errorf("demo: %w", err)
	}
	if err := accounts.Analyze(ctx); err != nil {
		return Result{}, fmt.Errorf("demo: %w", err)
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

// loadOrgs turns generated organisations into rows for org.Store.Load.
func loadOrgs(orgs []Org) []org.Organisation {
	out := make([]org.Organisation, len(orgs))
	for i, o := range orgs {
		out[i] = org.Organisation{Code: o.Code, Name: o.Name, Type: o.Type, Parent: o.Parent, Active: true}
	}
	return out
}

// loadUsers turns generated users into rows for account.Service.Load, each
// with the one password hash.
func loadUsers(hash string, users []User) []account.LoadUser {
	out := make([]account.LoadUser, len(users))
	for i, u := range users {
		out[i] = account.LoadUser{Email: u.Email, PasswordHash: hash, Name: u.Name, JobRole: u.JobRole, OrgCode: u.OrgCode,
			Role: u.Role, Status: u.Status, CreatedAt: u.CreatedAt, VerifiedAt: u.VerifiedAt, ApprovedAt: u.ApprovedAt,
			LastSignInAt: u.LastSignIn, StatusReason: u.StatusReason, StatusAt: u.StatusAt, IGTrainingAt: u.IGTrainingAt,
			ReadGrants: u.ReadGrants}
	}
	return out
}

// ShareWrites runs write, one short transaction of a long load, and on
// SQLite then waits as long as it took before returning. SQLite has one
// write lock and no queue for it: a connection that finds it taken polls
// now and then, so a loader that begins its next transaction at once can
// keep another process's writers out until their busy timeout runs out.
// The pause leaves the lock free about half the time, so they get in within
// a transaction or two. PostgreSQL locks rows, so there it does not wait.
func ShareWrites(ctx context.Context, d *db.DB, write func() error) error {
	start := time.Now()
	if err := write(); err != nil {
		return err
	}
	if !d.Dialect().OneWriter {
		return nil
	}
	t := time.NewTimer(max(time.Since(start), time.Millisecond))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
