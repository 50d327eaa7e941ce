package account

import (
	"context"
	"fmt"
	"strconv"

	"github.com/riverqueue/river"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/emailaddr"
	"github.com/psims/psims/internal/mail"
)

// ResetArgs is the job that sends a password reset link: RequestReset
// queues it for every well-formed address, known or not.
type ResetArgs struct {
	Email string `json:"email"`
	IP    string `json:"ip"`
}

// Kind names the job.
func (ResetArgs) Kind() string { return "password_reset_link" }

// InsertOpts gives the job few attempts: a link that cannot be sent soon
// is better asked for again than sent late.
func (ResetArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

// RequestReset asks for a password reset link to be emailed to the address
// when it has an account that may sign in or is waiting to. It only queues
// a job, the same single write whatever the address, so neither the answer
// nor the time it takes tells anybody whether an address is registered;
// the job (SendResetLink) does the rest. Errors: Invalid for an address
// that is not one.
func (s *Service) RequestReset(ctx context.Context, email, ip string) error {
	addr, err := emailaddr.Parse(email)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		return s.jobs.InsertTx(ctx, tx, ResetArgs{Email: addr.String(), IP: ip}, nil)
	})
}

// SendResetLink emails a reset link to the address when it has an account
// that may sign in or is waiting to, and does nothing otherwise. It is the
// work of the job RequestReset queues.
func (s *Service) SendResetLink(ctx context.Context, email, ip string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		u, err := userByEmail(ctx, tx, email)
		if apperr.CodeOf(err) == apperr.NotFound {
			return nil
		}
		if err != nil {
			return err
		}
		if u.Status == StatusSuspended || u.Status == StatusDeactivated {
			return nil
		}
		token, err := issueToken(ctx, tx, u.ID, purposeReset, s.settings.ResetTTL)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.password_reset_requested", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), IP: ip}); err != nil {
			return err
		}
		_, err = s.mail.Enqueue(ctx, tx, mail.ResetPassword(u.Email, u.Name, s.link("/password-reset/new", token)))
		return err
	})
}

// AddResetWorker registers the job that sends reset links. accounts gives
// the service once it is made: it is made after the job runner it queues
// through, and jobs run only once the runner starts, by which time it is.
func AddResetWorker(workers *river.Workers, accounts func() *Service) {
	river.AddWorker(workers, &resetWorker{accounts: accounts})
}

type resetWorker struct {
	river.WorkerDefaults[ResetArgs]
	accounts func() *Service
}

func (w *resetWorker) Work(ctx context.Context, job *river.Job[ResetArgs]) error {
	return w.accounts().SendResetLink(ctx, job.Args.Email, job.Args.IP)
}

// CheckResetToken reports whether a reset link still works, so the form is
// only shown for a link that can be used. Errors: Invalid.
func (s *Service) CheckResetToken(ctx context.Context, token string) error {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_tokens WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3`,
		hashToken(token), purposeReset, s.db.Now()).Scan(&n)
	if err != nil {
		return fmt.Errorf("account: check reset token: %w", err)
	}
	if n == 0 {
		return errBadLink
	}
	return nil
}

// ResetPassword sets a new password through a reset link, ends every session
// of the account and clears any lockout. The link works once. Errors: Invalid
// (apperr.Fields for the password, or a bad link).
func (s *Service) ResetPassword(ctx context.Context, token, plain, confirm, ip string) error {
	if err := s.CheckResetToken(ctx, token); err != nil {
		return err
	}
	var u User
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var userID int64
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM user_tokens WHERE token_hash = $1`, hashToken(token)).Scan(&userID)
		if err != nil {
			return errBadLink
		}
		u, err = userByID(ctx, tx, userID)
		return err
	})
	if err != nil {
		return err
	}
	var problems apperr.Fields
	if plain == "" {
		problems.Add("password", "Enter a new password")
	} else if err := s.policy.Check(plain, u.Email, u.Name); err != nil {
		problems.Add("password", apperr.MessageOf(err))
	} else if confirm != plain {
		problems.Add("confirm_password", "The passwords do not match. Enter the same password twice")
	}
	if err := problems.Err(); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, plain)
	if err != nil {
		return fmt.Errorf("account: reset: %w", err)
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		id, err := useToken(ctx, tx, token, purposeReset)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, failed_attempts = 0, failed_window_start = NULL,
			locked_until = NULL, updated_at = $2 WHERE id = $3`, hash, tx.Now, id); err != nil {
			return fmt.Errorf("account: store new password: %w", err)
		}
		if err := endAllSessions(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: id, Action: "account.password_reset", SubjectType: "user",
			SubjectID: strconv.FormatInt(id, 10), IP: ip})
	})
}
