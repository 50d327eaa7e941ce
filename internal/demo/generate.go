// Package demo makes synthetic organisations and users for demonstrations
// and benchmarks. Nothing it makes is real: organisation codes have the
// shape of ODS codes but are made up (and skip any code already stored),
// names are combinations of common given and family names, and every email
// address is at demo.psims.invalid, a domain that can never receive mail.
//
// Generate is pure and deterministic for a seed; Seed writes what it
// generates in one transaction through the loaders of the packages that own
// the tables (org.Store.Load, account.Service.Load), a few large statements
// each.
package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/org"
)

// EmailDomain is the domain of every demo address. The .invalid top-level
// domain is reserved (RFC 2606) and can never be delivered to.
const EmailDomain = "demo.psims.invalid"

// Defaults of Options.
const (
	DefaultOrgs  = 5000
	DefaultUsers = 100000
	DefaultSeed  = 1
)

// Options say how much to make.
type Options struct {
	Orgs  int    // organisations to add; at least 2
	Users int    // users to add; at least 2
	Seed  uint64 // the same seed makes the same data
	// Force adds to a database that already has users instead of refusing.
	Force bool
}

// Org is a generated organisation.
type Org struct {
	Code   org.Code
	Name   string
	Type   org.Type
	Parent org.Code // zero for integrated care boards
}

// User is a generated user. Its password is the one demo password.
type User struct {
	Email        string
	Name         string
	JobRole      string
	OrgCode      string
	Role         account.Role
	Status       account.Status
	CreatedAt    time.Time
	VerifiedAt   *time.Time
	ApprovedAt   *time.Time
	LastSignIn   *time.Time
	StatusReason string
	StatusAt     *time.Time
	IGTrainingAt *time.Time
	// ReadGrants are the organisations a read-only user may read.
	ReadGrants []string
}

// Data is everything Generate made.
type Data struct {
	Orgs  []Org
	Users []User
	// Biggest is the organisation with the most users.
	Biggest string
	// NationalAdmin and BiggestOrgAdmin are active accounts with current
	// IG training: a national admin, and an org admin of Biggest.
	NationalAdmin, BiggestOrgAdmin string
}

// These are common given and family names, combined at random: the
// combinations are made up, not real people.
var (
	givenNames = []string{"Aisha", "Alex", "Amelia", "Ben", "Charlotte", "Chloe", "Daniel", "David", "Elizabeth", "Emily",
		"Fatima", "George", "Grace", "Hannah", "Harry", "Isla", "Jack", "James", "Jessica", "Joseph", "Katie", "Laura",
		"Liam", "Lucy", "Mark", "Mary", "Mohammed", "Noah", "Olivia", "Oliver", "Priya", "Rachel", "Ryan", "Sam",
		"Sarah", "Sophie", "Thomas", "Tom", "William", "Zara"}
	familyNames = []string{"Ahmed", "Ali", "Baker", "Brown", "Clarke", "Cooper", "Davies", "Edwards", "Evans", "Green",
		"Hall", "Harris", "Hill", "Hughes", "Jackson", "Jones", "Khan", "King", "Lewis", "Martin", "Moore", "Morgan",
		"Patel", "Roberts", "Robinson", "Shah", "Smith", "Taylor", "Thomas", "Thompson", "Turner", "Walker", "White",
		"Williams", "Wilson", "Wood", "Wright", "Young"}
	jobRoles = []string{"Staff nurse", "Senior staff nurse", "Ward manager", "Healthcare assistant", "Consultant",
		"Specialty doctor", "Foundation doctor", "GP", "Practice nurse", "Practice manager", "Pharmacist",
		"Pharmacy technician", "Midwife", "Paramedic", "Physiotherapist", "Occupational therapist", "Radiographer",
		"Patient safety specialist", "Receptionist", "Porter"}
	trustWords    = []string{"Hospitals", "Teaching Hospitals", "Community Health", "Mental Health", "Healthcare", "Ambulance Service"}
	practiceWords = []string{"Medical Centre", "Surgery", "Health Centre", "Medical Practice", "Family Practice"}
	placeNames    = []string{"Ashford", "Brookfield", "Castleton", "Dunmore", "Eastwick", "Fairhaven", "Glenbrook",
		"Highfield", "Kingsmead", "Longridge", "Millbrook", "Northgate", "Oakham", "Pinewood", "Queensway", "Riverside",
		"Southcliffe", "Thornbury", "Upton", "Westfield"}
)

// Generate makes opts.Orgs organisations whose codes are not in taken, and
// opts.Users users spread over them the way real ones are: a few large
// trusts with thousands of staff, many practices with a handful. now is the
// time the data is made at; emails are numbered from firstNumber so that a
// second run (with Force) does not repeat an address.
func Generate(opts Options, taken map[string]bool, now time.Time, firstNumber int) (Data, error) {
	if opts.Orgs < 2 || opts.Users < 2 {
		return Data{}, fmt.Errorf("demo: need at least 2 organisations and 2 users, not %d and %d", opts.Orgs, opts.Users)
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5053494d53)) // "PSIMS"
	orgs, err := generateOrgs(rng, opts.Orgs, taken)
	if err != nil {
		return Data{}, err
	}
	d := Data{Orgs: orgs}
	d.Users, d.Biggest = generateUsers(rng, orgs, opts.Users, now, firstNumber)
	for _, u := range d.Users {
		if u.Status != account.StatusActive || u.IGTrainingAt == nil || u.IGTrainingAt.Before(now.AddDate(-1, 0, 0)) {
			continue
		}
		if d.NationalAdmin == "" && u.Role == account.RoleNationalAdmin {
			d.NationalAdmin = u.Email
		}
		if d.BiggestOrgAdmin == "" && u.Role == account.RoleOrgAdmin && u.OrgCode == d.Biggest {
			d.BiggestOrgAdmin = u.Email
		}
	}
	return d, nil
}

// generateOrgs makes n organisations: about 1% integrated care boards, 5%
// trusts, 4% other organisations (pharmacies) and the rest GP practices,
// each trust and practice under a board.
func generateOrgs(rng *rand.Rand, n int, taken map[string]bool) ([]Org, error) {
	icbs := max(1, n/100)
	trusts := max(1, n*5/100)
	others := n * 4 / 100
	practices := n - icbs - trusts - others
	used := map[string]bool{}
	// code draws codes of a shape until one is free; a shape has far more
	// codes than any sensible demo asks for, so a few tries are enough.
	code := func(shape func() string) (org.Code, error) {
		for range 1000 {
			s := shape()
			if used[s] || taken[s] {
				continue
			}
			c, err := org.ParseCode(s)
			if err != nil {
				return org.Code{}, fmt.Errorf("demo: generated code %q: %w", s, err)
			}
			used[s] = true
			return c, nil
		}
		return org.Code{}, fmt.Errorf("demo: no free organisation code left; ask for fewer organisations")
	}
	const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	const letters = "ABCDEFGHJKLMNPRSTUVWY"
	pick := func(set string) byte { return set[rng.IntN(len(set))] }
	shapes := []struct {
		n     int
		typ   org.Type
		shape func() string
		name  func(i int) string
	}{
		// Boards: Q and two letters or digits, such as QMM.
		{icbs, org.TypeICB, func() string { return string([]byte{'Q', pick(alnum), pick(alnum)}) },
			func(i int) string {
				return fmt.Sprintf("Demo %s Integrated Care Board %d", placeNames[i%len(placeNames)], i+1)
			}},
		// Trusts: R and two letters or digits, such as RM1.
		{trusts, org.TypeTrust, func() string { return string([]byte{'R', pick(alnum), pick(alnum)}) },
			func(i int) string {
				return fmt.Sprintf("Demo %s %s NHS Trust %d", placeNames[rng.IntN(len(placeNames))], trustWords[rng.IntN(len(trustWords))], i+1)
			}},
		// Pharmacies: F and four letters or digits with a digit, such as FL479.
		{others, org.TypeOther, func() string {
			return string([]byte{'F', pick(letters), pick(alnum), '0' + byte(rng.IntN(10)), pick(alnum)})
		}, func(i int) string {
			return fmt.Sprintf("Demo %s Pharmacy %d", placeNames[rng.IntN(len(placeNames))], i+1)
		}},
		// Practices: a letter and five digits, such as P87657.
		{practices, org.TypeGPPractice, func() string { return fmt.Sprintf("%c%05d", pick(letters), rng.IntN(100000)) },
			func(i int) string {
				return fmt.Sprintf("Demo %s %s %d", placeNames[rng.IntN(len(placeNames))], practiceWords[rng.IntN(len(practiceWords))], i+1)
			}},
	}
	out := make([]Org, 0, n)
	var boards []org.Code
	for _, s := range shapes {
		for i := range s.n {
			c, err := code(s.shape)
			if err != nil {
				return nil, err
			}
			o := Org{Code: c, Name: s.name(i), Type: s.typ}
			if s.typ == org.TypeICB {
				boards = append(boards, c)
			} else if s.typ != org.TypeOther {
				o.Parent = boards[rng.IntN(len(boards))]
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// generateUsers spreads n users over orgs: 70% over trusts with weights
// falling as 1/rank^0.8 (so the first few have thousands), 25% over
// practices evenly (a handful each), 5% over boards and pharmacies. The
// first users are the national admins and an org admin of the biggest
// organisation, so there is always one of each to sign in as.
func generateUsers(rng *rand.Rand, orgs []Org, n int, now time.Time, firstNumber int) ([]User, string) {
	var trusts, practices, rest []string
	for _, o := range orgs {
		switch o.Type {
		case org.TypeTrust:
			trusts = append(trusts, o.Code.String())
		case org.TypeGPPractice:
			practices = append(practices, o.Code.String())
		default:
			rest = append(rest, o.Code.String())
		}
	}
	trustWeights := make([]float64, len(trusts))
	total := 0.0
	for i := range trusts {
		total += 1 / math.Pow(float64(i+1), 0.8)
		trustWeights[i] = total
	}
	pickOrg := func() string {
		r := rng.Float64()
		switch {
		case r < 0.70 || (len(practices) == 0 && len(rest) == 0):
			x := rng.Float64() * total
			return trusts[sort.SearchFloat64s(trustWeights, x)]
		case (r < 0.95 && len(practices) > 0) || len(rest) == 0:
			return practices[rng.IntN(len(practices))]
		default:
			return rest[rng.IntN(len(rest))]
		}
	}
	nationalOrg := trusts[0]
	if len(rest) > 0 {
		nationalOrg = rest[0]
	}
	nationals := min(10, max(1, n/20000))

	users := make([]User, 0, n)
	for i := range n {
		given, family := givenNames[rng.IntN(len(givenNames))], familyNames[rng.IntN(len(familyNames))]
		u := User{
			Name:    given + " " + family,
			Email:   fmt.Sprintf("%s.%s.%d@%s", strings.ToLower(given), strings.ToLower(family), firstNumber+i, EmailDomain),
			JobRole: jobRoles[rng.IntN(len(jobRoles))],
			OrgCode: pickOrg(),
			Role:    pickRole(rng),
			Status:  pickStatus(rng),
		}
		switch {
		case i < nationals:
			u.Role, u.Status, u.OrgCode, u.JobRole = account.RoleNationalAdmin, account.StatusActive, nationalOrg, "Patient safety specialist"
		case i == nationals:
			// Moved to the biggest organisation below, once it is known.
			u.Role, u.Status = account.RoleOrgAdmin, account.StatusActive
		}
		if u.Role == account.RoleNationalAdmin && i >= nationals {
			// National admins are only the handful above.
			u.Role = account.RoleReporter
		}
		fillDates(rng, &u, now, i <= nationals)
		if u.Role == account.RoleReadOnly {
			for range 1 + rng.IntN(3) {
				g := trusts[rng.IntN(len(trusts))]
				if !slices.Contains(u.ReadGrants, g) {
					u.ReadGrants = append(u.ReadGrants, g)
				}
			}
		}
		users = append(users, u)
	}
	counts := map[string]int{}
	for _, u := range users {
		counts[u.OrgCode]++
	}
	biggest := trusts[0]
	for _, o := range orgs {
		if counts[o.Code.String()] > counts[biggest] {
			biggest = o.Code.String()
		}
	}
	users[nationals].OrgCode = biggest
	return users, biggest
}

// pickRole draws a role: 85% reporter, 8% reviewer, 3% org admin, 1%
// read-only, and the remaining 3% reporter too (national admins are made
// apart).
func pickRole(rng *rand.Rand) account.Role {
	switch r := rng.IntN(100); {
	case r < 8:
		return account.RoleReviewer
	case r < 11:
		return account.RoleOrgAdmin
	case r < 12:
		return account.RoleReadOnly
	}
	return account.RoleReporter
}

// pickStatus draws a status: 90% active, 4% waiting for approval, 1% email
// not confirmed, 2% suspended, 3% deactivated.
func pickStatus(rng *rand.Rand) account.Status {
	switch r := rng.IntN(100); {
	case r < 4:
		return account.StatusPending
	case r < 5:
		return account.StatusUnverified
	case r < 7:
		return account.StatusSuspended
	case r < 10:
		return account.StatusDeactivated
	}
	return account.StatusActive
}

// fillDates sets the dates that fit the user's status: created over the
// last two years, IG training over the last 18 months (so about a third is
// due) or never, sign-ins since creation. current forces training within
// the last six months.
func fillDates(rng *rand.Rand, u *User, now time.Time, current bool) {
	day := 24 * time.Hour
	ago := func(maxDays int) time.Time {
		return now.Add(-time.Duration(rng.Int64N(int64(maxDays) * int64(day)))).Truncate(time.Second)
	}
	between := func(from time.Time) time.Time {
		span := now.Sub(from)
		if span <= 0 {
			return from
		}
		return from.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Second)
	}
	ptr := func(t time.Time) *time.Time { return &t }
	u.CreatedAt = ago(730)
	switch {
	case current:
		u.IGTrainingAt = ptr(ago(180))
	case rng.IntN(10) > 0:
		u.IGTrainingAt = ptr(ago(548))
	}
	if u.Status == account.StatusUnverified {
		return
	}
	u.VerifiedAt = ptr(u.CreatedAt.Add(time.Duration(rng.IntN(3600)) * time.Second))
	if u.Status == account.StatusPending {
		return
	}
	u.ApprovedAt = ptr(between(*u.VerifiedAt))
	if rng.IntN(5) > 0 {
		u.LastSignIn = ptr(between(*u.ApprovedAt))
	}
	switch u.Status {
	case account.StatusSuspended:
		u.StatusReason, u.StatusAt = "Demo data: suspended while a concern is looked into", ptr(between(*u.ApprovedAt))
	case account.StatusDeactivated:
		u.StatusReason, u.StatusAt = "Demo data: left the organisation", ptr(between(*u.ApprovedAt))
	}
}
