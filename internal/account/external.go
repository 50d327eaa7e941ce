package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/emailaddr"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/oidclogin"
)

// Sign-in through an OpenID Connect provider (P11). An identity at a
// provider is known by its issuer and subject, never by its email address:
// it signs in to the account it was linked to, and is linked only by
// someone signed in to that account.

// factorProvider is the second factor of a session whose provider showed
// (by acr or amr) that it checked one.
const factorProvider = "provider"

// OutcomeUnlinked is a provider sign-in whose identity no account has:
// SignInResult.Held holds it while its person signs in to link it, or
// registers.
const OutcomeUnlinked = "unlinked"

// OutcomeCheckEmail is a registration that waits for a link sent by email:
// to confirm an address the provider did not, or, when the address already
// has an account, to tell its owner.
const OutcomeCheckEmail = "check-email"

// heldFor is how long an unlinked identity is held.
const heldFor = 30 * time.Minute

// LinkedIdentity is a provider sign-in linked to an account, as its owner
// sees it.
type LinkedIdentity struct {
	ID         int64      `json:"id"`
	Provider   string     `json:"provider"`
	LinkedAt   time.Time  `json:"linked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// errHeldGone is what a person sees when the identity held for them has
// gone.
var errHeldGone = apperr.New(apperr.Invalid, "Your sign-in at your identity provider was more than 30 minutes ago, or has been used. Start again from the sign-in page.")

func startOf(id oidclogin.Identity) sessionStart {
	start := sessionStart{provider: id.Provider, oidcIssuer: id.Issuer, oidcSID: id.SID}
	if id.MFA {
		start.factor = factorProvider
	}
	return start
}

// SignInExternal signs in the account an identity is linked to, as SignIn
// does after a right password; the session has passed the second step
// when the provider showed it checked a second factor. An identity no
// account has is held (OutcomeUnlinked), and SignInResult.Held is the
// token to find it again. Errors: Unauthorized (wrapping ErrSignInFailed)
// for a locked account.
func (s *Service) SignInExternal(ctx context.Context, id oidclogin.Identity, c Client) (SignInResult, error) {
	var u User
	var held string
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var userID int64
		err := tx.QueryRowContext(ctx, `UPDATE oidc_identities SET last_used_at = $3 WHERE issuer = $1 AND subject = $2 RETURNING user_id`,
			id.Issuer, id.Subject, tx.Now).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			held, err = holdIdentity(ctx, tx, id)
			return err
		}
		if err != nil {
			return fmt.Errorf("account: find identity: %w", err)
		}
		if u, err = userByID(ctx, tx, userID); err != nil {
			return err
		}
		var locked bool
		if err := tx.QueryRowContext(ctx, `SELECT locked_until IS NOT NULL AND locked_until > $2 FROM users WHERE id = $1`, u.ID, tx.Now).Scan(&locked); err != nil {
			return fmt.Errorf("account: read lock: %w", err)
		}
		if locked {
			return apperr.Wrap(apperr.Unauthorized, "Your account is locked for now after too many wrong tries. "+s.lockoutRule()+".", ErrSignInFailed)
		}
		return nil
	})
	if errors.Is(err, ErrSignInFailed) {
		return SignInResult{Outcome: OutcomeFailed}, err
	}
	if err != nil {
		return SignInResult{}, err
	}
	if held != "" {
		return SignInResult{Outcome: OutcomeUnlinked, Held: held}, nil
	}
	return s.succeed(ctx, u, "", startOf(id), c)
}

// holdIdentity keeps id for heldFor and returns the token that finds it.
func holdIdentity(ctx context.Context, tx *db.Tx, id oidclogin.Identity) (string, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_held_identities WHERE expires_at <= $1`, tx.Now); err != nil {
		return "", fmt.Errorf("account: clear held identities: %w", err)
	}
	token, hash := newToken()
	_, err := tx.ExecContext(ctx, `INSERT INTO oidc_held_identities (token_hash, provider, issuer, subject, email, name, org_codes, mfa, sid, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		hash, id.Provider, id.Issuer, id.Subject, id.Email, id.Name, strings.Join(id.OrgCodes, ","), id.MFA, id.SID, tx.Now.Add(heldFor))
	if err != nil {
		return "", fmt.Errorf("account: hold identity: %w", err)
	}
	return token, nil
}

const heldColumns = `provider, issuer, subject, email, name, org_codes, mfa, sid`

func scanHeld(row interface{ Scan(...any) error }) (oidclogin.Identity, error) {
	var id oidclogin.Identity
	var orgs string
	err := row.Scan(&id.Provider, &id.Issuer, &id.Subject, &id.Email, &id.Name, &orgs, &id.MFA, &id.SID)
	if errors.Is(err, sql.ErrNoRows) {
		return oidclogin.Identity{}, errHeldGone
	}
	if err != nil {
		return oidclogin.Identity{}, fmt.Errorf("account: read held identity: %w", err)
	}
	if orgs != "" {
		id.OrgCodes = strings.Split(orgs, ",")
	}
	return id, nil
}

// HeldIdentity returns the identity held under token. Errors: Invalid
// when it has gone.
func (s *Service) HeldIdentity(ctx context.Context, token string) (oidclogin.Identity, error) {
	return scanHeld(s.db.QueryRowContext(ctx, `SELECT `+heldColumns+` FROM oidc_held_identities WHERE token_hash = $1 AND expires_at > $2`,
		hashToken(token), s.db.Now()))
}

// takeHeld removes the identity held under token and returns it.
func takeHeld(ctx context.Context, tx *db.Tx, token string) (oidclogin.Identity, error) {
	return scanHeld(tx.QueryRowContext(ctx, `DELETE FROM oidc_held_identities WHERE token_hash = $1 AND expires_at > $2 RETURNING `+heldColumns,
		hashToken(token), tx.Now))
}

// LinkIdentity links id to u, whose session has passed every step of
// signing in, so that signing in at the provider signs in to u. It is
// audited and emailed. Errors: Conflict when another account has it.
func (s *Service) LinkIdentity(ctx context.Context, u User, id oidclogin.Identity, label string, c Client) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error { return s.linkIdentity(ctx, tx, u, id, label, c) })
}

// LinkHeldIdentity is LinkIdentity for the identity held under token,
// which is used up. Errors: Invalid when it has gone, Conflict.
func (s *Service) LinkHeldIdentity(ctx context.Context, u User, token, label string, c Client) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		id, err := takeHeld(ctx, tx, token)
		if err != nil {
			return err
		}
		return s.linkIdentity(ctx, tx, u, id, label, c)
	})
}

func (s *Service) linkIdentity(ctx context.Context, tx *db.Tx, u User, id oidclogin.Identity, label string, c Client) error {
	var owner int64
	err := tx.QueryRowContext(ctx, `SELECT user_id FROM oidc_identities WHERE issuer = $1 AND subject = $2`, id.Issuer, id.Subject).Scan(&owner)
	switch {
	case err == nil && owner == u.ID:
		return nil // linked already: nothing to do
	case err == nil:
		return apperr.New(apperr.Conflict, "That "+label+" sign-in is already linked to another PSIMS account. Sign in to that account and remove it there first.")
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("account: find identity: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO oidc_identities (user_id, provider, issuer, subject, created_at) VALUES ($1, $2, $3, $4, $5)`,
		u.ID, id.Provider, id.Issuer, id.Subject, tx.Now)
	if db.IsUniqueViolation(err) {
		return apperr.New(apperr.Conflict, "That "+label+" sign-in is already linked to another PSIMS account.")
	}
	if err != nil {
		return fmt.Errorf("account: link identity: %w", err)
	}
	if err := audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.identity_link", SubjectType: "user",
		SubjectID: strconv.FormatInt(u.ID, 10), IP: c.IP, Details: map[string]string{"provider": id.Provider}}); err != nil {
		return err
	}
	_, err = s.mail.Enqueue(ctx, tx, mail.IdentityLinked(u.Email, u.Name, label, s.link("/account", "")))
	return err
}

// Identities lists the provider sign-ins linked to the account.
func (s *Service) Identities(ctx context.Context, userID int64) ([]LinkedIdentity, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, provider, created_at, last_used_at FROM oidc_identities WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("account: list identities: %w", err)
	}
	defer rows.Close()
	var out []LinkedIdentity
	for rows.Next() {
		var li LinkedIdentity
		if err := rows.Scan(&li.ID, &li.Provider, &li.LinkedAt, &li.LastUsedAt); err != nil {
			return nil, fmt.Errorf("account: list identities: %w", err)
		}
		out = append(out, li)
	}
	return out, rows.Err()
}

// UnlinkIdentity removes one of u's provider sign-ins, unless it is the
// only way u has to sign in. It is audited and emailed. Errors: NotFound,
// Conflict.
func (s *Service) UnlinkIdentity(ctx context.Context, u User, identityID int64, label func(provider string) string, c Client) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var provider string
		err := tx.QueryRowContext(ctx, `DELETE FROM oidc_identities WHERE id = $1 AND user_id = $2 RETURNING provider`, identityID, u.ID).Scan(&provider)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "You have no such linked sign-in.")
		}
		if err != nil {
			return fmt.Errorf("account: unlink identity: %w", err)
		}
		var others bool
		if err := tx.QueryRowContext(ctx, `SELECT u.password_hash <> '' OR EXISTS (SELECT 1 FROM oidc_identities i WHERE i.user_id = u.id)
			OR EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = u.id) FROM users u WHERE u.id = $1`, u.ID).Scan(&others); err != nil {
			return fmt.Errorf("account: check other sign-ins: %w", err)
		}
		if !others {
			return apperr.New(apperr.Conflict, "This is the only way you have to sign in. Set a password first (use \"I have forgotten my password\" on the sign-in page), then remove it.")
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.identity_unlink", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), IP: c.IP, Details: map[string]string{"provider": provider}}); err != nil {
			return err
		}
		_, err = s.mail.Enqueue(ctx, tx, mail.IdentityUnlinked(u.Email, u.Name, label(provider)))
		return err
	})
}

// RegisterExternal creates an account for the identity held under token,
// from the registration form without a password: the account signs in
// through its provider. When r.Email is the address the provider verified,
// the account is verified at once, and approved as registration's rules
// say, or because a provider trusted for organisations named the one
// chosen; then it is signed in. Otherwise a link confirms the address
// first (OutcomeCheckEmail). An address that already has an account gets
// an email saying so, and the answer is the same (OutcomeCheckEmail).
// Errors: Invalid (apperr.Fields, or the identity has gone), Conflict
// when the identity was linked meanwhile.
func (s *Service) RegisterExternal(ctx context.Context, token string, r Registration, label string, c Client) (SignInResult, error) {
	addr, organisation, err := s.validate(ctx, r, false)
	if err != nil {
		return SignInResult{}, err
	}
	var u User
	var id oidclogin.Identity
	outcome := OutcomeCheckEmail
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if id, err = takeHeld(ctx, tx, token); err != nil {
			return err
		}
		if existing, err := userByEmail(ctx, tx, addr.String()); err == nil {
			_, err := s.mail.Enqueue(ctx, tx, mail.RegisteredThroughProvider(existing.Email, existing.Name, label, s.link("/sign-in", "")))
			return err
		} else if apperr.CodeOf(err) != apperr.NotFound {
			return err
		}
		verified := false
		if id.Email != "" {
			if va, err := emailaddr.Parse(id.Email); err == nil && va.String() == addr.String() {
				verified = true
			}
		}
		status, verifiedAt := StatusUnverified, (*time.Time)(nil)
		if verified {
			status, verifiedAt = StatusPending, &tx.Now
		}
		var userID int64
		err := tx.QueryRowContext(ctx, `INSERT INTO users (email, name, job_role, org_ods, role, status, password_hash, email_verified_at, created_at, updated_at, last_active_at)
			VALUES ($1, $2, $3, $4, $5, $6, '', $7, $8, $8, $8) RETURNING id`,
			addr.String(), strings.TrimSpace(r.Name), strings.TrimSpace(r.JobRole), organisation.Code.String(),
			RoleReporter, status, verifiedAt, tx.Now).Scan(&userID)
		if db.IsUniqueViolation(err) {
			return errAlreadyRegisteredRace
		}
		if err != nil {
			return fmt.Errorf("account: insert user: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_identities (user_id, provider, issuer, subject, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $5)`,
			userID, id.Provider, id.Issuer, id.Subject, tx.Now); err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.New(apperr.Conflict, "That "+label+" sign-in was linked to an account a moment ago. Sign in again.")
			}
			return fmt.Errorf("account: link identity: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: userID, Action: "account.register", SubjectType: "user",
			SubjectID: strconv.FormatInt(userID, 10), IP: c.IP,
			Details: map[string]string{"org": organisation.Code.String(), "provider": id.Provider, "email_verified_by_provider": strconv.FormatBool(verified)}}); err != nil {
			return err
		}
		if u, err = userByID(ctx, tx, userID); err != nil {
			return err
		}
		if !verified {
			return s.sendVerification(ctx, tx, u.ID, u.Email, u.Name)
		}
		outcome = OutcomePending
		how := ""
		switch {
		case slices.Contains(id.OrgCodes, organisation.Code.String()):
			how = howTrustedProvider
		case s.autoApproved(u.Email):
			how = howTrustedDomain
		}
		if how != "" {
			if err := s.approve(ctx, tx, u, 0, how); err != nil {
				return err
			}
			u.Status, outcome = StatusActive, OutcomeSuccess
		}
		return nil
	})
	if errors.Is(err, errAlreadyRegisteredRace) {
		return SignInResult{Outcome: OutcomeCheckEmail}, nil
	}
	if err != nil {
		return SignInResult{}, err
	}
	if outcome != OutcomeSuccess {
		return SignInResult{Outcome: outcome, User: u}, nil
	}
	return s.succeed(ctx, u, "", startOf(id), c)
}

// EndProviderSessions ends the sessions a provider's back-channel logout
// names: those from the issuer's sign-ins with the logout's session ID,
// or, without one, every session from the issuer's sign-ins of the
// account its subject is linked to. It is audited for each account and
// returns how many sessions ended.
func (s *Service) EndProviderSessions(ctx context.Context, lo oidclogin.Logout) (int, error) {
	var n int
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var userID int64
		if lo.Subject != "" {
			err := tx.QueryRowContext(ctx, `SELECT user_id FROM oidc_identities WHERE issuer = $1 AND subject = $2`, lo.Issuer, lo.Subject).Scan(&userID)
			if errors.Is(err, sql.ErrNoRows) {
				return nil // nobody here has that identity
			}
			if err != nil {
				return fmt.Errorf("account: find identity: %w", err)
			}
		}
		var rows *sql.Rows
		var err error
		switch {
		case lo.SID != "" && userID != 0:
			rows, err = tx.QueryContext(ctx, `DELETE FROM sessions WHERE oidc_issuer = $1 AND oidc_sid = $2 AND user_id = $3 RETURNING user_id`, lo.Issuer, lo.SID, userID)
		case lo.SID != "":
			rows, err = tx.QueryContext(ctx, `DELETE FROM sessions WHERE oidc_issuer = $1 AND oidc_sid = $2 RETURNING user_id`, lo.Issuer, lo.SID)
		default:
			rows, err = tx.QueryContext(ctx, `DELETE FROM sessions WHERE oidc_issuer = $1 AND user_id = $2 RETURNING user_id`, lo.Issuer, userID)
		}
		if err != nil {
			return fmt.Errorf("account: end provider sessions: %w", err)
		}
		ended := map[int64]int{}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("account: end provider sessions: %w", err)
			}
			ended[id]++
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("account: end provider sessions: %w", err)
		}
		ids := make([]int64, 0, len(ended))
		for id := range ended {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			if err := audit.Record(ctx, tx, audit.Entry{ActorID: id, Action: "account.provider_sign_out", SubjectType: "user",
				SubjectID: strconv.FormatInt(id, 10), Details: map[string]string{"sessions": strconv.Itoa(ended[id])}}); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}
