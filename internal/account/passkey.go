package account

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/textcheck"
)

// Passkeys (T3): WebAuthn credentials, through go-webauthn. A passkey
// signs a person in without a password (it proves both who they are and,
// as the authenticator verifies them, a second factor), or passes the
// second step after a password.

// Ceremony purposes, as stored in webauthn_ceremonies.purpose.
const (
	ceremonyRegister   = "register"
	ceremonySecondStep = "second-step"
	ceremonySignIn     = "sign-in"
	factorPasskey      = "passkey"
	ceremonyLife       = 5 * time.Minute
	maxPasskeyName     = 60
	maxPasskeys        = 10
)

// Passkey is a registered passkey, as its owner sees it.
type Passkey struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"added_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Ceremony is the first half of a WebAuthn exchange: Options is the JSON
// the browser's navigator.credentials call takes (its publicKey member),
// and Token names the ceremony when the answer is posted back.
type Ceremony struct {
	Token   string
	Options string
}

// errNoPasskey is the one refusal of a passkey that does not sign in, so
// that nothing tells which passkeys or accounts exist.
var errNoPasskey = apperr.New(apperr.Unauthorized, "That passkey did not work. Try again, or sign in with your email address and password.")

// errNoPasskeySecondStep is the refusal of a passkey at the second step.
var errNoPasskeySecondStep = apperr.New(apperr.Unauthorized, "That passkey did not work. Try again, or enter a code from your authenticator app.")

// errPasskeysUnavailable refuses a ceremony when PSIMS is reached at an
// IP address, which WebAuthn refuses as the relying party.
var errPasskeysUnavailable = apperr.New(apperr.Conflict, "Passkeys cannot be used at this address of PSIMS. Sign in with your email address and password.")

// PasskeysAvailable reports whether passkeys can work at the base URL: its
// host must be a name, as browsers (and go-webauthn) refuse an IP address
// as the relying party.
func (s *Service) PasskeysAvailable() bool {
	base, err := url.Parse(s.settings.BaseURL)
	return err == nil && base.Hostname() != "" && net.ParseIP(base.Hostname()) == nil
}

// webAuthn is the relying party: PSIMS at the host of its base URL.
func (s *Service) webAuthn() (*webauthn.WebAuthn, error) {
	if !s.PasskeysAvailable() {
		return nil, errPasskeysUnavailable
	}
	base, err := url.Parse(s.settings.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("account: passkeys need the base URL's host, not %q", s.settings.BaseURL)
	}
	w, err := webauthn.New(&webauthn.Config{
		RPID: base.Hostname(), RPDisplayName: "PSIMS",
		RPOrigins: []string{base.Scheme + "://" + base.Host},
	})
	if err != nil {
		return nil, fmt.Errorf("account: webauthn: %w", err)
	}
	return w, nil
}

// passkeyUser is an account as the WebAuthn library sees it.
type passkeyUser struct {
	u      User
	handle []byte
	creds  []webauthn.Credential
}

func (p passkeyUser) WebAuthnID() []byte                         { return p.handle }
func (p passkeyUser) WebAuthnName() string                       { return p.u.Email }
func (p passkeyUser) WebAuthnDisplayName() string                { return p.u.Name }
func (p passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }

// userHandle is the WebAuthn user handle of an account: a keyed hash of
// its id, so that it says nothing about the person or how many accounts
// there are, and needs no column of its own.
func (s *Service) userHandle(userID int64) []byte {
	mac := hmac.New(sha256.New, s.settings.SealKey)
	mac.Write([]byte("psims-passkey-user:" + strconv.FormatInt(userID, 10)))
	return mac.Sum(nil)
}

// rowsQuerier is what *db.DB and *db.Tx have for reading many rows.
type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Service) passkeyUser(ctx context.Context, q rowsQuerier, u User) (passkeyUser, error) {
	rows, err := q.QueryContext(ctx, `SELECT credential FROM passkeys WHERE user_id = $1 ORDER BY id`, u.ID)
	if err != nil {
		return passkeyUser{}, fmt.Errorf("account: read passkeys: %w", err)
	}
	defer rows.Close()
	p := passkeyUser{u: u, handle: s.userHandle(u.ID)}
	for rows.Next() {
		var raw string
		var c webauthn.Credential
		if err := rows.Scan(&raw); err != nil {
			return passkeyUser{}, fmt.Errorf("account: read passkeys: %w", err)
		}
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			return passkeyUser{}, fmt.Errorf("account: decode passkey: %w", err)
		}
		p.creds = append(p.creds, c)
	}
	return p, rows.Err()
}

// Passkeys lists the passkeys of the user, oldest first.
func (s *Service) Passkeys(ctx context.Context, userID int64) ([]Passkey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, created_at, last_used_at FROM passkeys WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("account: list passkeys: %w", err)
	}
	defer rows.Close()
	var out []Passkey
	for rows.Next() {
		var p Passkey
		var used sql.NullTime
		if err := rows.Scan(&p.ID, &p.Name, &p.CreatedAt, &used); err != nil {
			return nil, fmt.Errorf("account: list passkeys: %w", err)
		}
		p.LastUsedAt = timePtr(used)
		out = append(out, p)
	}
	return out, rows.Err()
}

// startCeremony keeps data for the answer and returns the ceremony's
// token, clearing out ceremonies that were never finished.
func (s *Service) startCeremony(ctx context.Context, userID int64, purpose string, data *webauthn.SessionData, options any) (Ceremony, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Ceremony{}, fmt.Errorf("account: encode ceremony: %w", err)
	}
	opts, err := json.Marshal(options)
	if err != nil {
		return Ceremony{}, fmt.Errorf("account: encode options: %w", err)
	}
	token, hash := newToken()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM webauthn_ceremonies WHERE expires_at < $1`, tx.Now); err != nil {
			return fmt.Errorf("account: clear ceremonies: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO webauthn_ceremonies (token_hash, user_id, purpose, data, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			hash, db.NullID(userID), purpose, string(raw), tx.Now.Add(ceremonyLife))
		if err != nil {
			return fmt.Errorf("account: store ceremony: %w", err)
		}
		return nil
	})
	if err != nil {
		return Ceremony{}, err
	}
	return Ceremony{Token: token, Options: string(opts)}, nil
}

// takeCeremony returns, once, the data of the caller's live ceremony.
func takeCeremony(ctx context.Context, tx *db.Tx, token string, userID int64, purpose string) (webauthn.SessionData, error) {
	var raw string
	err := tx.QueryRowContext(ctx, `DELETE FROM webauthn_ceremonies WHERE token_hash = $1 AND purpose = $2
		AND COALESCE(user_id, 0) = $3 AND expires_at > $4 RETURNING data`, hashToken(token), purpose, userID, tx.Now).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return webauthn.SessionData{}, apperr.New(apperr.Invalid, "That took too long or was already used. Try again.")
	}
	if err != nil {
		return webauthn.SessionData{}, fmt.Errorf("account: take ceremony: %w", err)
	}
	var data webauthn.SessionData
	if err := json.Unmarshal([]byte(raw), &data); err != nil {
		return webauthn.SessionData{}, fmt.Errorf("account: decode ceremony: %w", err)
	}
	return data, nil
}

// checkPasskeyName returns the name of a new passkey without the spaces
// around it. Errors: Invalid (field "name") for a name it cannot have.
func checkPasskeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", fieldError("name", "Enter a name for the passkey, such as the device it is on")
	case len([]rune(name)) > maxPasskeyName:
		return "", fieldError("name", fmt.Sprintf("Name must be %d characters or fewer", maxPasskeyName))
	case !textcheck.Valid(name):
		return "", fieldError("name", textcheck.Message("Name"))
	}
	return name, nil
}

// BeginPasskeyRegistration starts adding a passkey called name to u's
// account. The authenticator must keep the passkey (a discoverable
// credential) and verify its user, so the passkey alone can sign them in.
// The name is checked first, before the browser makes a passkey that a
// refused name would leave on the device, unknown here. Errors: Invalid
// (field "name") for a bad name, Conflict when u has the most passkeys.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, u User, name string) (Ceremony, error) {
	if _, err := checkPasskeyName(name); err != nil {
		return Ceremony{}, err
	}
	w, err := s.webAuthn()
	if err != nil {
		return Ceremony{}, err
	}
	pu, err := s.passkeyUser(ctx, s.db, u)
	if err != nil {
		return Ceremony{}, err
	}
	if len(pu.creds) >= maxPasskeys {
		return Ceremony{}, apperr.New(apperr.Conflict, fmt.Sprintf("You have %d passkeys, the most an account can have. Remove one you no longer use first.", maxPasskeys))
	}
	exclude := make([]protocol.CredentialDescriptor, 0, len(pu.creds))
	for _, c := range pu.creds {
		exclude = append(exclude, c.Descriptor())
	}
	creation, data, err := w.BeginRegistration(pu,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationRequired}),
		webauthn.WithExclusions(exclude))
	if err != nil {
		return Ceremony{}, fmt.Errorf("account: begin passkey registration: %w", err)
	}
	return s.startCeremony(ctx, u.ID, ceremonyRegister, data, creation.Response)
}

// FinishPasskeyRegistration checks the browser's answer and keeps the
// passkey under name; it is audited and u is emailed. Errors: Invalid
// (field "name") for a bad name, Invalid for an answer that does not
// check out or a ceremony that expired.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, u User, token, name, response string, c Client) error {
	name, err := checkPasskeyName(name)
	if err != nil {
		return err
	}
	w, err := s.webAuthn()
	if err != nil {
		return err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(response))
	if err != nil {
		return apperr.Wrap(apperr.Invalid, "Your browser did not make a passkey. Try again.", err)
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		data, err := takeCeremony(ctx, tx, token, u.ID, ceremonyRegister)
		if err != nil {
			return err
		}
		pu, err := s.passkeyUser(ctx, tx, u)
		if err != nil {
			return err
		}
		cred, err := w.CreateCredential(pu, data, parsed)
		if err != nil {
			return apperr.Wrap(apperr.Invalid, "That passkey could not be checked. Try again.", err)
		}
		raw, err := json.Marshal(cred)
		if err != nil {
			return fmt.Errorf("account: encode passkey: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO passkeys (user_id, credential_id, credential, name, created_at) VALUES ($1, $2, $3, $4, $5)`,
			u.ID, cred.ID, string(raw), name, tx.Now); err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.New(apperr.Conflict, "That passkey is already registered.")
			}
			return fmt.Errorf("account: store passkey: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.passkey_add", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), IP: c.IP, Details: map[string]string{"name": name}}); err != nil {
			return err
		}
		_, err = s.mail.Enqueue(ctx, tx, mail.PasskeyAdded(u.Email, u.Name, name, s.settings.BaseURL+"/account/passkeys"))
		return err
	})
}

// RemovePasskey removes one of u's passkeys. Errors: NotFound when u has
// no such passkey.
func (s *Service) RemovePasskey(ctx context.Context, u User, id int64, c Client) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var name string
		err := tx.QueryRowContext(ctx, `DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING name`, id, u.ID).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "You have no such passkey.")
		}
		if err != nil {
			return fmt.Errorf("account: remove passkey: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.passkey_remove", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), IP: c.IP, Details: map[string]string{"name": name}}); err != nil {
			return err
		}
		_, err = s.mail.Enqueue(ctx, tx, mail.PasskeyRemoved(u.Email, u.Name, name))
		return err
	})
}

// BeginPasskeySecondStep starts the second step of signing in with one of
// u's passkeys. Errors: NotFound when u has none.
func (s *Service) BeginPasskeySecondStep(ctx context.Context, u User) (Ceremony, error) {
	w, err := s.webAuthn()
	if err != nil {
		return Ceremony{}, err
	}
	pu, err := s.passkeyUser(ctx, s.db, u)
	if err != nil {
		return Ceremony{}, err
	}
	if len(pu.creds) == 0 {
		return Ceremony{}, apperr.New(apperr.NotFound, "Your account has no passkey.")
	}
	assertion, data, err := w.BeginLogin(pu, webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return Ceremony{}, fmt.Errorf("account: begin passkey second step: %w", err)
	}
	return s.startCeremony(ctx, u.ID, ceremonySecondStep, data, assertion.Response)
}

// PassSecondStepWithPasskey checks the browser's answer for the second
// step of sess, as PassSecondStep does a code, and returns the session
// with its new token. Errors: Unauthorized for an answer that does not
// check out; Invalid for a ceremony that expired.
func (s *Service) PassSecondStepWithPasskey(ctx context.Context, u User, sess Session, token, response string, c Client) (Session, error) {
	w, err := s.webAuthn()
	if err != nil {
		return Session{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(response))
	if err != nil {
		return Session{}, apperr.Wrap(apperr.Unauthorized, errNoPasskeySecondStep.Message, err)
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		data, err := takeCeremony(ctx, tx, token, u.ID, ceremonySecondStep)
		if err != nil {
			return err
		}
		pu, err := s.passkeyUser(ctx, tx, u)
		if err != nil {
			return err
		}
		// A signature counter that went backwards is the sign of a copied
		// authenticator: refused.
		cred, err := w.ValidateLogin(pu, data, parsed)
		if err != nil || cred.Authenticator.CloneWarning {
			return apperr.Wrap(apperr.Unauthorized, errNoPasskeySecondStep.Message, err)
		}
		if err := usePasskey(ctx, tx, u.ID, cred); err != nil {
			return err
		}
		if sess, err = passSession(ctx, tx, sess, factorPasskey); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.second_step", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), IP: c.IP, Details: map[string]string{"factor": factorPasskey}})
	})
	if err != nil {
		return Session{}, err
	}
	return sess, nil
}

// usePasskey stores a passkey's new counters after a sign-in with it.
func usePasskey(ctx context.Context, tx *db.Tx, userID int64, cred *webauthn.Credential) error {
	raw, err := json.Marshal(cred)
	if err != nil {
		return fmt.Errorf("account: encode passkey: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE passkeys SET credential = $1, last_used_at = $2 WHERE credential_id = $3 AND user_id = $4`,
		string(raw), tx.Now, cred.ID, userID); err != nil {
		return fmt.Errorf("account: store passkey use: %w", err)
	}
	return nil
}

// BeginPasskeySignIn starts signing in with a passkey, before anyone is
// known: the browser offers the passkeys it holds for PSIMS.
func (s *Service) BeginPasskeySignIn(ctx context.Context) (Ceremony, error) {
	w, err := s.webAuthn()
	if err != nil {
		return Ceremony{}, err
	}
	assertion, data, err := w.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return Ceremony{}, fmt.Errorf("account: begin passkey sign-in: %w", err)
	}
	return s.startCeremony(ctx, 0, ceremonySignIn, data, assertion.Response)
}

// SignInWithPasskey checks the browser's answer and signs its owner in as
// SignIn does a password, with a session that has passed the second step:
// the authenticator verified its user. Errors: Unauthorized (wrapping
// ErrSignInFailed) for an answer that does not check out, a passkey nobody
// has, or a locked account; Invalid for a ceremony that expired.
func (s *Service) SignInWithPasskey(ctx context.Context, token, response string, c Client) (SignInResult, error) {
	w, err := s.webAuthn()
	if err != nil {
		return SignInResult{}, err
	}
	refused := apperr.Wrap(apperr.Unauthorized, errNoPasskey.Message, ErrSignInFailed)
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(response))
	if err != nil {
		return SignInResult{Outcome: OutcomeFailed}, refused
	}
	var u User
	var cred *webauthn.Credential
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		data, err := takeCeremony(ctx, tx, token, 0, ceremonySignIn)
		if err != nil {
			return err
		}
		handler := func(rawID, userHandle []byte) (webauthn.User, error) {
			var userID int64
			if err := tx.QueryRowContext(ctx, `SELECT user_id FROM passkeys WHERE credential_id = $1`, rawID).Scan(&userID); err != nil {
				return nil, fmt.Errorf("account: passkey owner: %w", err)
			}
			if !bytes.Equal(userHandle, s.userHandle(userID)) {
				return nil, errors.New("account: passkey user handle does not match its owner")
			}
			if u, err = userByID(ctx, tx, userID); err != nil {
				return nil, err
			}
			return s.passkeyUser(ctx, tx, u)
		}
		if cred, err = w.ValidateDiscoverableLogin(handler, data, parsed); err != nil || cred.Authenticator.CloneWarning {
			return refused // a counter gone backwards: a copied authenticator
		}
		var locked bool
		if err := tx.QueryRowContext(ctx, `SELECT locked_until IS NOT NULL AND locked_until > $2 FROM users WHERE id = $1`, u.ID, tx.Now).Scan(&locked); err != nil {
			return fmt.Errorf("account: read lock: %w", err)
		}
		if locked {
			return refused
		}
		return usePasskey(ctx, tx, u.ID, cred)
	})
	if err != nil {
		if errors.Is(err, ErrSignInFailed) {
			return SignInResult{Outcome: OutcomeFailed}, err
		}
		return SignInResult{}, err
	}
	return s.succeed(ctx, u, "", sessionStart{factor: factorPasskey}, c)
}
