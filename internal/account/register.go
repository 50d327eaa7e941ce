package account

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/emailaddr"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/org"
)

// Registration is what a person gives to register (P1: name, job role,
// organisation and email, and nothing else about them).
type Registration struct {
	Name            string
	JobRole         string
	OrgCode         string
	Email           string
	Password        string
	ConfirmPassword string
}

// maxTextLen bounds the short text fields.
const maxTextLen = 200

// validate checks every field and returns all problems in form order, with
// the parsed email and organisation when they are valid. withPassword is
// false for an account that signs in through an OpenID Connect provider
// and has no password.
func (s *Service) validate(ctx context.Context, r Registration, withPassword bool) (emailaddr.Address, org.Organisation, error) {
	var problems apperr.Fields
	name := checkProfileName(&problems, r.Name)
	checkProfileJobRole(&problems, r.JobRole)
	var organisation org.Organisation
	if strings.TrimSpace(r.OrgCode) == "" {
		problems.Add("org", "Enter the ODS code of your organisation, or search for it by name")
	} else if code, err := org.ParseCode(r.OrgCode); err != nil {
		problems.Add("org", apperr.MessageOf(err))
	} else if o, err := s.orgs.Get(ctx, code); apperr.CodeOf(err) == apperr.NotFound || (err == nil && !o.Active) {
		problems.Add("org", "No active organisation has the ODS code "+code.String()+". Search for your organisation by name")
	} else if err != nil {
		return emailaddr.Address{}, org.Organisation{}, err
	} else {
		organisation = o
	}
	var addr emailaddr.Address
	if strings.TrimSpace(r.Email) == "" {
		problems.Add("email", "Enter your work email address")
	} else if a, err := emailaddr.Parse(r.Email); err != nil {
		problems.Add("email", apperr.MessageOf(err))
	} else {
		addr = a
	}
	switch {
	case !withPassword:
	case r.Password == "":
		problems.Add("password", "Enter a password")
	default:
		if err := s.policy.Check(r.Password, r.Email, name); err != nil {
			problems.Add("password", apperr.MessageOf(err))
		} else if r.ConfirmPassword != r.Password {
			problems.Add("confirm_password", "The passwords do not match. Enter the same password twice")
		}
	}
	return addr, organisation, problems.Err()
}

// Register creates an unverified account and emails a verification link.
// When the address already has an account, nothing changes and that address
// is told someone tried to register with it, so the form never reveals who
// is registered. Errors: Invalid (apperr.Fields).
func (s *Service) Register(ctx context.Context, r Registration, ip string) error {
	err := s.register(ctx, r, ip)
	if errors.Is(err, errAlreadyRegisteredRace) {
		return nil
	}
	return err
}

// errAlreadyRegisteredRace rolls back a registration that lost a race for
// its email address.
var errAlreadyRegisteredRace = errors.New("account: address registered at the same moment")

func (s *Service) register(ctx context.Context, r Registration, ip string) error {
	addr, organisation, err := s.validate(ctx, r, true)
	if err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, r.Password)
	if err != nil {
		return fmt.Errorf("account: register: %w", err)
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		existing, err := userByEmail(ctx, tx, addr.String())
		if err == nil {
			_, err := s.mail.Enqueue(ctx, tx, mail.AlreadyRegistered(existing.Email, existing.Name, s.link("/sign-in", ""), s.link("/password-reset", "")))
			return err
		}
		if apperr.CodeOf(err) != apperr.NotFound {
			return err
		}
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO users (email, name, job_role, org_ods, role, status, password_hash, created_at, updated_at, last_active_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $8) RETURNING id`,
			addr.String(), strings.TrimSpace(r.Name), strings.TrimSpace(r.JobRole), organisation.Code.String(),
			RoleReporter, StatusUnverified, hash, tx.Now).Scan(&id)
		if db.IsUniqueViolation(err) {
			// Registered a moment ago by a request running alongside this
			// one: the same answer as for any taken address.
			return errAlreadyRegisteredRace
		}
		if err != nil {
			return fmt.Errorf("account: insert user: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: id, Action: "account.register", SubjectType: "user",
			SubjectID: strconv.FormatInt(id, 10), Details: map[string]string{"org": organisation.Code.String()}, IP: ip}); err != nil {
			return err
		}
		return s.sendVerification(ctx, tx, id, addr.String(), strings.TrimSpace(r.Name))
	})
}

func (s *Service) sendVerification(ctx context.Context, tx *db.Tx, id int64, email, name string) error {
	token, err := issueToken(ctx, tx, id, purposeVerify, s.settings.VerifyTTL)
	if err != nil {
		return err
	}
	_, err = s.mail.Enqueue(ctx, tx, mail.VerifyEmail(email, name, s.link("/verify-email", token)))
	return err
}

// link is an absolute URL to path, with the token as its query when given.
func (s *Service) link(path, token string) string {
	u := strings.TrimRight(s.settings.BaseURL, "/") + path
	if token != "" {
		u += "?token=" + url.QueryEscape(token)
	}
	return u
}

// ResendVerification sends a new verification link when the address has an
// unverified account, and does nothing otherwise; the caller says the same
// either way.
func (s *Service) ResendVerification(ctx context.Context, email string) error {
	addr, err := emailaddr.Parse(email)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		u, err := userByEmail(ctx, tx, addr.String())
		if apperr.CodeOf(err) == apperr.NotFound {
			return nil
		}
		if err != nil {
			return err
		}
		if u.Status != StatusUnverified {
			return nil
		}
		return s.sendVerification(ctx, tx, u.ID, u.Email, u.Name)
	})
}

// VerifyEmail uses a verification link. The account is approved at once when
// its address is on a trusted domain, and otherwise waits for approval.
// Errors: Invalid for a wrong, used or expired link.
func (s *Service) VerifyEmail(ctx context.Context, token, ip string) (User, error) {
	var user User
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		id, err := useToken(ctx, tx, token, purposeVerify)
		if err != nil {
			return err
		}
		u, err := userByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if u.Status != StatusUnverified {
			user = u
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET email_verified_at = $1, status = $2, updated_at = $1 WHERE id = $3`,
			tx.Now, StatusPending, id); err != nil {
			return fmt.Errorf("account: verify: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: id, Action: "account.verify_email", SubjectType: "user",
			SubjectID: strconv.FormatInt(id, 10), IP: ip}); err != nil {
			return err
		}
		u.Status = StatusPending
		if s.autoApproved(u.Email) {
			if err := s.approve(ctx, tx, u, 0, howTrustedDomain); err != nil {
				return err
			}
			u.Status = StatusActive
		}
		user = u
		return nil
	})
	return user, err
}

func (s *Service) autoApproved(email string) bool {
	_, domain, _ := strings.Cut(email, "@")
	return slices.Contains(s.settings.AutoApproveDomains, domain)
}

// Approve lets a pending account sign in and emails its owner. actorID is the
// approver, 0 for the command line. Errors: NotFound, Conflict when the
// account is not waiting for approval.
func (s *Service) Approve(ctx context.Context, email string, actorID int64) (User, error) {
	addr, err := emailaddr.Parse(email)
	if err != nil {
		return User{}, err
	}
	var user User
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		u, err := userByEmail(ctx, tx, addr.String())
		if err != nil {
			return err
		}
		switch u.Status {
		case StatusPending:
		case StatusUnverified:
			return apperr.New(apperr.Conflict, "This account's email address has not been verified yet.")
		default:
			return apperr.New(apperr.Conflict, "This account is not waiting for approval (it is "+string(u.Status)+").")
		}
		if err := s.approve(ctx, tx, u, actorID, "approved"); err != nil {
			return err
		}
		u.Status = StatusActive
		user = u
		return nil
	})
	return user, err
}

func (s *Service) approve(ctx context.Context, tx *db.Tx, u User, actorID int64, how string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE users SET status = $1, approved_at = $2, updated_at = $2 WHERE id = $3 AND status = $4`,
		StatusActive, tx.Now, u.ID, StatusPending); err != nil {
		return fmt.Errorf("account: approve: %w", err)
	}
	if err := audit.Record(ctx, tx, audit.Entry{ActorID: actorID, Action: "account.approve", SubjectType: "user",
		SubjectID: strconv.FormatInt(u.ID, 10), Details: map[string]string{"how": how}}); err != nil {
		return err
	}
	if how == howTrustedDomain || how == howTrustedProvider {
		// The page the person is on already says the account is ready.
		return nil
	}
	_, err := s.mail.Enqueue(ctx, tx, mail.Approved(u.Email, u.Name, s.link("/sign-in", "")))
	return err
}

// howTrustedDomain records an approval that came from the email domain.
const howTrustedDomain = "trusted email domain"

// howTrustedProvider records an approval that came from an OpenID Connect
// provider trusted to say which organisations a person works for.
const howTrustedProvider = "trusted identity provider"

// NewUser is an account an operator creates from the command line.
type NewUser struct {
	Email    string
	Name     string
	JobRole  string
	OrgCode  string
	Role     Role
	Password string
	// IGTrainingOn is the day the person last completed information
	// governance training, or nil when not known. Roles that see other
	// people's data need it before they can use those pages (T18).
	IGTrainingOn *time.Time
}

// Create makes an active, verified account directly, for operators (for
// example the first national admin). Errors: Invalid, Conflict when the email
// is taken. An IG training day must be today or earlier and still current
// (within the configured months): recording one that has already lapsed
// would leave the account refused exactly as if none were given, so it is
// refused here (apperr.Fields on "ig_training") instead of hiding the
// problem until the first sign-in.
func (s *Service) Create(ctx context.Context, n NewUser) (User, error) {
	jobRole := n.JobRole
	if strings.TrimSpace(jobRole) == "" {
		jobRole = "Not given"
	}
	addr, organisation, err := s.validate(ctx, Registration{Name: n.Name, JobRole: jobRole, OrgCode: n.OrgCode,
		Email: n.Email, Password: n.Password, ConfirmPassword: n.Password}, true)
	if err != nil {
		return User{}, err
	}
	if _, err := ParseRole(string(n.Role)); err != nil {
		return User{}, err
	}
	var igDay time.Time
	if n.IGTrainingOn != nil {
		if igDay, err = s.currentIGDay(*n.IGTrainingOn); err != nil {
			return User{}, err
		}
	}
	hash, err := s.hasher.Hash(ctx, n.Password)
	if err != nil {
		return User{}, fmt.Errorf("account: create: %w", err)
	}
	var user User
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := userByEmail(ctx, tx, addr.String()); err == nil {
			return apperr.New(apperr.Conflict, "An account with this email address already exists.")
		} else if apperr.CodeOf(err) != apperr.NotFound {
			return err
		}
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO users (email, name, job_role, org_ods, role, status, password_hash,
			email_verified_at, approved_at, created_at, updated_at, last_active_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $8, $8, $8) RETURNING id`,
			addr.String(), strings.TrimSpace(n.Name), strings.TrimSpace(jobRole), organisation.Code.String(), n.Role,
			StatusActive, hash, tx.Now).Scan(&id)
		if db.IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "An account with this email address already exists.")
		}
		if err != nil {
			return fmt.Errorf("account: insert user: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{Action: "account.create", SubjectType: "user",
			SubjectID: strconv.FormatInt(id, 10), Details: map[string]string{"role": string(n.Role), "org": organisation.Code.String()}}); err != nil {
			return err
		}
		if n.IGTrainingOn != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, igDay, id); err != nil {
				return fmt.Errorf("account: record IG training: %w", err)
			}
			// The same action the profile page records, so the audit log
			// reads alike whichever way the date arrived.
			if err := audit.Record(ctx, tx, audit.Entry{Action: "account.ig_training", SubjectType: "user",
				SubjectID: strconv.FormatInt(id, 10), Details: map[string]string{"completed_on": igDay.Format(time.DateOnly), "via": "command line"}}); err != nil {
				return err
			}
		}
		user, err = userByID(ctx, tx, id)
		return err
	})
	return user, err
}

// IsInvalid reports whether err is a validation failure a form should show.
func IsInvalid(err error) bool {
	var f apperr.Fields
	return errors.As(err, &f) || apperr.CodeOf(err) == apperr.Invalid
}

// currentIGDay returns completedOn as a day (midnight UTC) when it is today
// or earlier and its training still counts. Errors: Invalid (apperr.Fields
// on "ig_training").
func (s *Service) currentIGDay(completedOn time.Time) (time.Time, error) {
	day := time.Date(completedOn.Year(), completedOn.Month(), completedOn.Day(), 0, 0, 0, 0, time.UTC)
	now := s.db.Now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	months := s.settings.IGTrainingValidMonths
	switch {
	case day.After(today):
		return time.Time{}, apperr.Fields{{Field: "ig_training", Message: "IG training date must be today or in the past"}}
	case !now.Before(day.AddDate(0, months, 0)):
		return time.Time{}, apperr.Fields{{Field: "ig_training", Message: fmt.Sprintf(
			"IG training date must be within the last %d months, or the account would be refused organisation data; give the date of current training, or leave it out and record it later", months)}}
	}
	return day, nil
}
