package account

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/emailaddr"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/textcheck"
)

// purposeEmailChange is the token that confirms a new email address.
const purposeEmailChange = "email_change"

// earliestIGTraining is the earliest training date anyone may record.
func earliestIGTraining() time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) }

// errProfileNotActive is returned when an account that is no longer active tries
// to change its profile.
var errProfileNotActive = apperr.New(apperr.Forbidden, "Your account is not active, so its details cannot be changed.")

// activeSelf re-reads the user inside tx and checks they may still act.
func activeSelf(ctx context.Context, tx *db.Tx, id int64) (User, error) {
	u, err := userByID(ctx, tx, id)
	if err != nil {
		return User{}, err
	}
	if u.Status != StatusActive {
		return User{}, errProfileNotActive
	}
	return u, nil
}

// checkProfileName and checkProfileJobRole apply the registration rules to a name and a
// job role, adding any problem to problems, and return the trimmed value.
// checkProfileName checks a full name, as given at registration or later.
func checkProfileName(problems *apperr.Fields, name string) string {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		problems.Add("name", "Enter your full name")
	case utf8.RuneCountInString(name) > maxTextLen:
		problems.Add("name", "Full name must be 200 characters or fewer")
	case !textcheck.Valid(name):
		problems.Add("name", textcheck.Message("Full name"))
	}
	return name
}

// checkProfileJobRole checks a job role, as given at registration or later.
func checkProfileJobRole(problems *apperr.Fields, jobRole string) string {
	jobRole = strings.TrimSpace(jobRole)
	switch {
	case jobRole == "":
		problems.Add("job_role", "Enter your job role, like staff nurse or pharmacist")
	case utf8.RuneCountInString(jobRole) > maxTextLen:
		problems.Add("job_role", "Job role must be 200 characters or fewer")
	case !textcheck.Valid(jobRole):
		problems.Add("job_role", textcheck.Message("Job role"))
	}
	return jobRole
}

// UpdateDetails changes the user's name and job role, with the same rules
// as registration. The audit log records which fields changed, never their
// values. Errors: Invalid (apperr.Fields), Forbidden when the account is no
// longer active.
func (s *Service) UpdateDetails(ctx context.Context, u User, name, jobRole, ip string) error {
	var problems apperr.Fields
	name = checkProfileName(&problems, name)
	jobRole = checkProfileJobRole(&problems, jobRole)
	if err := problems.Err(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := activeSelf(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		var changed []string
		if cur.Name != name {
			changed = append(changed, "name")
		}
		if cur.JobRole != jobRole {
			changed = append(changed, "job_role")
		}
		if len(changed) == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET name = $1, job_role = $2, updated_at = $3 WHERE id = $4`,
			name, jobRole, tx.Now, u.ID); err != nil {
			return fmt.Errorf("account: update details: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.update_details", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), Details: map[string]string{"fields": strings.Join(changed, ",")}, IP: ip})
	})
}

// RequestEmailChange starts a change of the user's email address. The
// person signs in again with their current password (a wrong one counts
// towards the lockout like a wrong sign-in). The new address gets a link
// that applies the change, and the current address is told a change was
// asked for. When the new address already has an account, its owner is told
// instead and no link is sent, but the caller sees the same outcome, so the
// form never reveals who is registered. Errors: Invalid (apperr.Fields on
// "email" and "current_password"), Forbidden when the account is no longer
// active.
func (s *Service) RequestEmailChange(ctx context.Context, u User, newEmail, currentPassword, ip string) error {
	cur, err := userByID(ctx, s.db, u.ID)
	if err != nil {
		return err
	}
	if cur.Status != StatusActive {
		return errProfileNotActive
	}
	var problems apperr.Fields
	var addr emailaddr.Address
	if strings.TrimSpace(newEmail) == "" {
		problems.Add("email", "Enter your new email address")
	} else if a, err := emailaddr.Parse(newEmail); err != nil {
		problems.Add("email", apperr.MessageOf(err))
	} else if a.String() == cur.Email {
		problems.Add("email", "Enter a different email address from the one your account uses now")
	} else {
		addr = a
	}
	if currentPassword == "" {
		problems.Add("current_password", "Enter your current password")
	}
	if err := problems.Err(); err != nil {
		return err
	}
	if err := s.reauthenticate(ctx, cur, currentPassword, ip); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := activeSelf(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET pending_email = $1, updated_at = $2 WHERE id = $3`,
			addr.String(), tx.Now, cur.ID); err != nil {
			return fmt.Errorf("account: store pending email: %w", err)
		}
		outcome := "link_sent"
		owner, err := userByEmail(ctx, tx, addr.String())
		switch {
		case err == nil:
			// Someone else has it: tell them, and leave nothing that could
			// apply the change.
			outcome = "address_taken"
			if _, err := tx.ExecContext(ctx, `DELETE FROM user_tokens WHERE user_id = $1 AND purpose = $2`, cur.ID, purposeEmailChange); err != nil {
				return fmt.Errorf("account: drop email change token: %w", err)
			}
			if _, err := s.mail.Enqueue(ctx, tx, mail.EmailChangeAddressTaken(owner.Email, owner.Name)); err != nil {
				return err
			}
		case apperr.CodeOf(err) == apperr.NotFound:
			token, err := issueToken(ctx, tx, cur.ID, purposeEmailChange, s.settings.VerifyTTL)
			if err != nil {
				return err
			}
			if _, err := s.mail.Enqueue(ctx, tx, mail.ConfirmEmailChange(addr.String(), cur.Name, s.link("/account/profile/email/confirm", token))); err != nil {
				return err
			}
		default:
			return err
		}
		if _, err := s.mail.Enqueue(ctx, tx, mail.EmailChangeRequested(cur.Email, cur.Name, addr.String())); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: cur.ID, Action: "account.email_change_requested", SubjectType: "user",
			SubjectID: strconv.FormatInt(cur.ID, 10), Details: map[string]string{"outcome": outcome}, IP: ip})
	})
}

// wrongCurrentPassword is the field error for a wrong current password.
func (s *Service) wrongCurrentPassword() error {
	return apperr.Fields{{Field: "current_password", Message: "Your current password is wrong. " + s.lockoutRule()}}
}

// reauthenticate checks the signed-in user's current password, counting the
// attempt through the sign-in lockout.
func (s *Service) reauthenticate(ctx context.Context, u User, plain, ip string) error {
	attempt, err := s.claimAttempt(ctx, u.ID)
	if err != nil {
		return err
	}
	if attempt == 0 {
		_ = s.hasher.VerifyDummy(ctx, plain) // equal work whatever the outcome
		return s.reauthFailed(ctx, u, "locked", ip)
	}
	ok, _, err := s.hasher.Verify(ctx, plain, u.passwordHash)
	if err != nil {
		return fmt.Errorf("account: check current password: %w", err)
	}
	if !ok {
		if attempt >= s.settings.LockoutThreshold {
			if err := s.lock(ctx, u, Client{IP: ip}); err != nil {
				return err
			}
		}
		return s.reauthFailed(ctx, u, "wrong_password", ip)
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET failed_attempts = 0, failed_window_start = NULL WHERE id = $1`, u.ID); err != nil {
			return fmt.Errorf("account: reset attempts: %w", err)
		}
		return nil
	})
}

func (s *Service) reauthFailed(ctx context.Context, u User, reason, ip string) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		return audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.reauthenticate_failed", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), Details: map[string]string{"reason": reason}, IP: ip})
	})
	if err != nil {
		return err
	}
	return s.wrongCurrentPassword()
}

// ErrEmailTaken is returned when a confirmed new address has meanwhile been
// taken by another account. The person confirming has proved they hold the
// address, so saying so reveals nothing new to them.
var ErrEmailTaken = apperr.New(apperr.Conflict, "Another account started using this email address before you confirmed it, so your email address has not changed.")

// CheckEmailChangeToken reports whether an email change link still works,
// so the confirmation button is only offered for a link that can be used.
// Errors: Invalid.
func (s *Service) CheckEmailChangeToken(ctx context.Context, token string) error {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_tokens WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3`,
		hashToken(token), purposeEmailChange, s.db.Now()).Scan(&n)
	if err != nil {
		return fmt.Errorf("account: check email change token: %w", err)
	}
	if n == 0 {
		return errBadLink
	}
	return nil
}

// ConfirmEmailChange applies a change of email address through the link
// sent to the new address. It ends every session of the account, so the
// person signs in again with the new address, and tells the old address.
// The link works once. Errors: Invalid for a wrong, used or expired link;
// ErrEmailTaken.
func (s *Service) ConfirmEmailChange(ctx context.Context, token, ip string) (User, error) {
	var user User
	taken := false
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		id, err := useToken(ctx, tx, token, purposeEmailChange)
		if err != nil {
			return err
		}
		u, err := userByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if u.PendingEmail == "" || u.Status != StatusActive {
			return errBadLink
		}
		subject := strconv.FormatInt(u.ID, 10)
		if other, err := userByEmail(ctx, tx, u.PendingEmail); err == nil && other.ID != u.ID {
			taken = true
			if _, err := tx.ExecContext(ctx, `UPDATE users SET pending_email = NULL, updated_at = $1 WHERE id = $2`, tx.Now, u.ID); err != nil {
				return fmt.Errorf("account: clear pending email: %w", err)
			}
			return audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.email_change_failed", SubjectType: "user",
				SubjectID: subject, Details: map[string]string{"reason": "address_taken"}, IP: ip})
		} else if err != nil && apperr.CodeOf(err) != apperr.NotFound {
			return err
		}
		old := u.Email
		if _, err := tx.ExecContext(ctx, `UPDATE users SET email = pending_email, pending_email = NULL, email_verified_at = $1, updated_at = $1 WHERE id = $2`,
			tx.Now, u.ID); db.IsUniqueViolation(err) {
			// Taken by another account a moment ago.
			return ErrEmailTaken
		} else if err != nil {
			return fmt.Errorf("account: change email: %w", err)
		}
		if err := endAllSessions(ctx, tx, u.ID); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.email_changed", SubjectType: "user",
			SubjectID: subject, IP: ip}); err != nil {
			return err
		}
		if _, err := s.mail.Enqueue(ctx, tx, mail.EmailChanged(old, u.Name, u.PendingEmail)); err != nil {
			return err
		}
		u.Email, u.PendingEmail = u.PendingEmail, ""
		user = u
		return nil
	})
	if err != nil {
		return User{}, err
	}
	if taken {
		return User{}, ErrEmailTaken
	}
	return user, nil
}

// CancelEmailChange forgets a change of email address that has not been
// confirmed, so its link stops working.
func (s *Service) CancelEmailChange(ctx context.Context, u User, ip string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := userByID(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if cur.PendingEmail == "" {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET pending_email = NULL, updated_at = $1 WHERE id = $2`, tx.Now, u.ID); err != nil {
			return fmt.Errorf("account: cancel email change: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_tokens WHERE user_id = $1 AND purpose = $2`, u.ID, purposeEmailChange); err != nil {
			return fmt.Errorf("account: drop email change token: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.email_change_cancelled", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), IP: ip})
	})
}

// RequestOrgMove asks to move the user to the organisation with the ODS code
// newOrg. The request waits for that organisation's admins (see
// DecideRequest); meanwhile the user sees neither organisation's data.
// justification is optional. Withdraw it with WithdrawOrgMove. Errors:
// Invalid (apperr.Fields on "org" and "justification"), Conflict when a move
// is already waiting or the account is no longer active.
func (s *Service) RequestOrgMove(ctx context.Context, u User, newOrg, justification, ip string) error {
	var problems apperr.Fields
	var code org.Code
	if strings.TrimSpace(newOrg) == "" {
		problems.Add("org", "Enter the ODS code of your new organisation, or search for it by name")
	} else if c, err := org.ParseCode(newOrg); err != nil {
		problems.Add("org", apperr.MessageOf(err))
	} else if o, err := s.orgs.Get(ctx, c); apperr.CodeOf(err) == apperr.NotFound || (err == nil && !o.Active) {
		problems.Add("org", "No active organisation has the ODS code "+c.String()+". Search for your new organisation by name")
	} else if err != nil {
		return err
	} else if c.String() == u.OrgCode {
		problems.Add("org", errSameOrg)
	} else {
		code = c
	}
	justification = strings.TrimSpace(justification)
	if utf8.RuneCountInString(justification) > maxJustification {
		problems.Add("justification", "Why you are moving must be 1000 characters or fewer")
	} else if !textcheck.Valid(justification) {
		problems.Add("justification", textcheck.Message("Why you are moving"))
	}
	if err := problems.Err(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := lockRequestUser(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if cur.Status != StatusActive {
			return apperr.New(apperr.Conflict, "Only active accounts can ask to move organisation.")
		}
		if cur.OrgCode == code.String() {
			return apperr.Fields{{Field: "org", Message: errSameOrg}}
		}
		if err := checkNoPending(ctx, tx, cur.ID, KindOrgMove); err != nil {
			return err
		}
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO access_requests (user_id, kind, org_ods, requested_role, justification, status, created_at)
			VALUES ($1, $2, $3, '', $4, $5, $6) RETURNING id`,
			cur.ID, KindOrgMove, code.String(), justification, ReqPending, tx.Now).Scan(&id)
		if err != nil {
			return fmt.Errorf("account: insert organisation move: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET pending_org_ods = $1, updated_at = $2 WHERE id = $3`, code.String(), tx.Now, cur.ID); err != nil {
			return fmt.Errorf("account: store pending organisation: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: cur.ID, Action: "request.org_move", SubjectType: "access_request",
			SubjectID: strconv.FormatInt(id, 10),
			Details:   map[string]string{"user": strconv.FormatInt(cur.ID, 10), "org": code.String(), "from_org": cur.OrgCode},
			IP:        ip})
	})
}

// errSameOrg is the message for asking to move to one's own organisation.
const errSameOrg = "You are already in this organisation. Choose the organisation you are moving to"

// WithdrawOrgMove withdraws the user's waiting organisation move, so they
// see their own organisation's data again. Errors: Conflict when no move is
// waiting (it may have just been decided).
func (s *Service) WithdrawOrgMove(ctx context.Context, u User, ip string) error {
	errNone := apperr.New(apperr.Conflict, "You have no move to another organisation waiting. It may have just been approved or rejected.")
	req, err := s.PendingRequestFor(ctx, u.ID, KindOrgMove)
	if err != nil {
		return err
	}
	if req == nil {
		return errNone
	}
	err = s.WithdrawRequest(ctx, u, req.ID, ip)
	if apperr.CodeOf(err) == apperr.NotFound {
		return errNone
	}
	return err
}

// IGValidUntil returns when the user's recorded information governance
// training stops counting, and false when none is recorded (T18).
func (s *Service) IGValidUntil(u User) (time.Time, bool) {
	if u.IGTrainingAt == nil {
		return time.Time{}, false
	}
	return u.IGTrainingAt.AddDate(0, s.settings.IGTrainingValidMonths, 0), true
}

// RecordIGTraining records the day the user last completed information
// governance training, stored as midnight UTC of that day. The day may not
// be in the future or before 1 January 2000. Errors: Invalid
// (apperr.Fields on "ig_date"), Forbidden when the account is no longer
// active.
func (s *Service) RecordIGTraining(ctx context.Context, u User, completedOn time.Time, ip string) error {
	day := time.Date(completedOn.Year(), completedOn.Month(), completedOn.Day(), 0, 0, 0, 0, time.UTC)
	now := s.db.Now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	switch {
	case day.After(today):
		return apperr.Fields{{Field: "ig_date", Message: "Date you completed the training must be today or in the past"}}
	case day.Before(earliestIGTraining()):
		return apperr.Fields{{Field: "ig_date", Message: "Date you completed the training must be the same as or after 1 January 2000"}}
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := activeSelf(ctx, tx, u.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET ig_training_at = $1, updated_at = $2 WHERE id = $3`, day, tx.Now, u.ID); err != nil {
			return fmt.Errorf("account: record IG training: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.ig_training", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), Details: map[string]string{"completed_on": day.Format(time.DateOnly)}, IP: ip})
	})
}
