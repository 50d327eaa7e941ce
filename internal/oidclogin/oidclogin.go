package oidclogin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
)

// loginTTL is how long a person has at their provider before the sign-in
// it started stops working.
const loginTTL = 10 * time.Minute

// Identity is a person as a provider vouched for them in a checked ID
// token.
type Identity struct {
	Provider string // the provider's configured name
	Label    string // how people know it
	Issuer   string
	Subject  string
	// Email is the address the provider verified, or "" when it did not
	// say it verified one.
	Email string
	Name  string
	// OrgCodes are the ODS codes of the organisations the provider says
	// the person works for, given only by a provider trusted for them
	// (Config.TrustOrgs).
	OrgCodes []string
	// MFA says the provider checked a second factor, by an acr or amr
	// value configured to show it.
	MFA bool
	// SID is the provider's session ID, which back-channel logout names.
	SID string
}

// Login is a sign-in come back from its provider.
type Login struct {
	Identity Identity
	Next     string // where the person was going
	// LinkUserID is the account the sign-in was started from to link the
	// identity to it, or 0 for signing in.
	LinkUserID int64
}

// Logout is a checked back-channel logout: end the sessions from this
// issuer's sign-ins with SID, or, when SID is "", every one of Subject's.
type Logout struct {
	Issuer  string
	Subject string
	SID     string
}

// Choice is a provider as the sign-in page offers it.
type Choice struct {
	Name  string
	Label string
}

// Service signs people in through the configured providers.
type Service struct {
	db      *db.DB
	baseURL string
	client  *http.Client
	configs []Config

	mu         sync.Mutex
	discovered map[string]*oidc.Provider
}

// New returns the service for the providers in configs. baseURL is
// PSIMS's public URL, which callbacks come back to; client makes the calls
// to providers (discovery, keys and code exchange). Providers are found
// (OpenID Connect discovery) on first use, so one that is down when PSIMS
// starts does not stop it.
func New(d *db.DB, baseURL string, configs []Config, client *http.Client) *Service {
	return &Service{db: d, baseURL: strings.TrimRight(baseURL, "/"), client: client, configs: configs,
		discovered: map[string]*oidc.Provider{}}
}

// Choices returns the providers people may sign in with, in the order
// configured. A nil Service has none.
func (s *Service) Choices() []Choice {
	if s == nil {
		return nil
	}
	out := make([]Choice, 0, len(s.configs))
	for _, c := range s.configs {
		out = append(out, Choice{Name: c.Name, Label: c.Label})
	}
	return out
}

// FormActions are the origins the browser is sent to when a form of
// PSIMS's starts a sign-in (the "Link" button, whose post Begin answers
// with a redirect to the provider): each provider's issuer and, once
// discovered, its
// authorization endpoint. A browser follows that redirect only when the
// Content-Security-Policy form-action of the page with the form names
// them. A nil Service has none.
func (s *Service) FormActions() []string {
	if s == nil {
		return nil
	}
	var out []string
	add := func(raw string) {
		if u, err := url.Parse(raw); err == nil && u.Scheme != "" && u.Host != "" {
			if o := u.Scheme + "://" + u.Host; !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.configs {
		add(c.Issuer)
		if p, ok := s.discovered[c.Name]; ok {
			add(p.Endpoint().AuthURL)
		}
	}
	return out
}

// CallbackPath is where provider name sends the browser back to; the
// provider must have BaseURL+CallbackPath(name) as a redirect URI.
func CallbackPath(name string) string { return "/sign-in/oidc/" + name + "/callback" }

// BackChannelLogoutPath is where provider name posts logout tokens.
func BackChannelLogoutPath(name string) string { return "/oidc/" + name + "/backchannel-logout" }

var errUnknownProvider = apperr.New(apperr.NotFound, "PSIMS does not sign in with that provider.")

func (s *Service) config(name string) (Config, error) {
	if s == nil {
		return Config{}, errUnknownProvider
	}
	for _, c := range s.configs {
		if c.Name == name {
			return c, nil
		}
	}
	return Config{}, errUnknownProvider
}

// providerUnavailable is what people see when a provider cannot be
// reached or answers with something PSIMS cannot use.
func providerUnavailable(c Config, err error) error {
	return apperr.Wrap(apperr.Unavailable, "PSIMS could not reach "+c.Label+" to sign you in. Try again in a few minutes, or sign in with your email address and password.", err)
}

// provider returns the discovered provider for c, discovering it the
// first time. A failed discovery is tried again on the next call.
func (s *Service) provider(ctx context.Context, c Config) (*oidc.Provider, error) {
	s.mu.Lock()
	p, ok := s.discovered[c.Name]
	s.mu.Unlock()
	if ok {
		return p, nil
	}
	dctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, s.client), 10*time.Second)
	defer cancel()
	// The provider keeps the HTTP client, not the context, for fetching
	// its signing keys later.
	p, err := oidc.NewProvider(dctx, c.Issuer)
	if err != nil {
		return nil, providerUnavailable(c, fmt.Errorf("oidclogin: discover %s: %w", c.Name, err))
	}
	s.mu.Lock()
	s.discovered[c.Name] = p
	s.mu.Unlock()
	return p, nil
}

func (s *Service) oauth2Config(c Config, p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  s.baseURL + CallbackPath(c.Name),
		Scopes:       append([]string{oidc.ScopeOpenID}, c.Scopes...),
	}
}

// randomString returns 32 random bytes, base64url encoded.
func randomString() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("oidclogin: random: %v", err)) // never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func hashState(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

// Begin starts a sign-in at provider name and returns the URL to send the
// browser to and the state, which the browser must also hold (in a
// cookie) for Finish. next is where to go afterwards; linkUserID is the
// signed-in account to link the identity to, or 0 to sign in.
// Errors: NotFound, Unavailable.
func (s *Service) Begin(ctx context.Context, name, next string, linkUserID int64) (authURL, state string, err error) {
	c, err := s.config(name)
	if err != nil {
		return "", "", err
	}
	p, err := s.provider(ctx, c)
	if err != nil {
		return "", "", err
	}
	state, nonce, verifier := randomString(), randomString(), oauth2.GenerateVerifier()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_logins WHERE expires_at <= $1`, tx.Now); err != nil {
			return fmt.Errorf("oidclogin: clear old sign-ins: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO oidc_logins (state_hash, provider, nonce, verifier, next, link_user_id, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, hashState(state), c.Name, nonce, verifier, next, linkUserID, tx.Now.Add(loginTTL))
		if err != nil {
			return fmt.Errorf("oidclogin: store sign-in: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", "", err
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if len(c.ACR) > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", strings.Join(c.ACR, " ")))
	}
	return s.oauth2Config(c, p).AuthCodeURL(state, opts...), state, nil
}

// Callback is what the provider sent the browser back with.
type Callback struct {
	State string // the state query parameter
	// CookieState is the state the browser held since Begin; it must
	// match, so a sign-in cannot be finished in another browser.
	CookieState string
	Code        string
	// Error is the provider's error code, when it sent one instead of a
	// code (its free-text description is not shown: it comes from
	// elsewhere and says nothing a person can act on).
	Error string
}

// errStale is what a person sees when a sign-in cannot be finished: it
// was finished already, expired, or began in another browser.
var errStale = apperr.New(apperr.Invalid, "This sign-in has expired or was started in another browser. Start again.")

// Finish checks what provider name sent back: the state against the
// browser's and the stored sign-in (used once), then exchanges the code
// with the PKCE verifier and checks the ID token: its signature, issuer,
// audience, expiry and nonce. Errors: NotFound, Invalid for a stale or
// tampered sign-in, Unauthorized when the provider refused or its answer
// does not check out, Unavailable when it cannot be reached.
func (s *Service) Finish(ctx context.Context, name string, cb Callback) (Login, error) {
	c, err := s.config(name)
	if err != nil {
		return Login{}, err
	}
	if cb.State == "" || subtle.ConstantTimeCompare([]byte(cb.State), []byte(cb.CookieState)) != 1 {
		return Login{}, errStale
	}
	var nonce, verifier string
	var login Login
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `DELETE FROM oidc_logins WHERE state_hash = $1 AND provider = $2 AND expires_at > $3
			RETURNING nonce, verifier, next, link_user_id`, hashState(cb.State), c.Name, tx.Now).Scan(&nonce, &verifier, &login.Next, &login.LinkUserID)
		if errors.Is(err, sql.ErrNoRows) {
			return errStale
		}
		if err != nil {
			return fmt.Errorf("oidclogin: take sign-in: %w", err)
		}
		return nil
	})
	if err != nil {
		return Login{}, err
	}
	if cb.Error != "" {
		if cb.Error == "access_denied" {
			return Login{}, apperr.New(apperr.Unauthorized, "You did not finish signing in at "+c.Label+", so you are not signed in. Try again, or sign in with your email address and password.")
		}
		return Login{}, apperr.New(apperr.Unauthorized, c.Label+" could not sign you in ("+short(cb.Error)+"). Try again, or sign in with your email address and password.")
	}
	if cb.Code == "" {
		return Login{}, errStale
	}
	p, err := s.provider(ctx, c)
	if err != nil {
		return Login{}, err
	}
	cctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, s.client), 10*time.Second)
	defer cancel()
	tok, err := s.oauth2Config(c, p).Exchange(cctx, cb.Code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return Login{}, refused(c, fmt.Errorf("oidclogin: exchange code at %s: %w", c.Name, err))
		}
		return Login{}, providerUnavailable(c, fmt.Errorf("oidclogin: exchange code at %s: %w", c.Name, err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Login{}, refused(c, fmt.Errorf("oidclogin: %s gave no ID token", c.Name))
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: c.ClientID}).Verify(cctx, raw)
	if err != nil {
		return Login{}, refused(c, fmt.Errorf("oidclogin: check ID token from %s: %w", c.Name, err))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return Login{}, refused(c, fmt.Errorf("oidclogin: ID token from %s has the wrong nonce", c.Name))
	}
	id, err := identityOf(c, idt)
	if err != nil {
		return Login{}, refused(c, err)
	}
	login.Identity = id
	return login, nil
}

// refused is what people see when a provider's answer does not check out.
func refused(c Config, err error) error {
	return apperr.Wrap(apperr.Unauthorized, "PSIMS could not confirm your sign-in at "+c.Label+", so you are not signed in. Start again.", err)
}

// short keeps a provider's error code fit to show: a few plain characters.
func short(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, s)
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

// idClaims are the ID token claims PSIMS reads.
type idClaims struct {
	Email         string          `json:"email"`
	EmailVerified json.RawMessage `json:"email_verified"`
	Name          string          `json:"name"`
	GivenName     string          `json:"given_name"`
	FamilyName    string          `json:"family_name"`
	ACR           string          `json:"acr"`
	AMR           []string        `json:"amr"`
	SID           string          `json:"sid"`
	// NRBACRoles is NHS CIS2's list of the person's roles, each at an
	// organisation.
	NRBACRoles []struct {
		OrgCode string `json:"org_code"`
	} `json:"nhsid_nrbac_roles"`
}

// maxClaim bounds the text PSIMS keeps from a claim.
const maxClaim = 200

func identityOf(c Config, idt *oidc.IDToken) (Identity, error) {
	var cl idClaims
	if err := idt.Claims(&cl); err != nil {
		return Identity{}, fmt.Errorf("oidclogin: read claims from %s: %w", c.Name, err)
	}
	if idt.Subject == "" || len(idt.Subject) > 255 {
		return Identity{}, fmt.Errorf("oidclogin: %s gave a subject PSIMS cannot use", c.Name)
	}
	id := Identity{Provider: c.Name, Label: c.Label, Issuer: idt.Issuer, Subject: idt.Subject, SID: cl.SID}
	// email_verified is a boolean, but some providers send "true".
	if v := strings.Trim(string(cl.EmailVerified), `"`); v == "true" && len(cl.Email) <= maxClaim {
		id.Email = cl.Email
	}
	id.Name = strings.TrimSpace(cl.Name)
	if id.Name == "" {
		id.Name = strings.TrimSpace(cl.GivenName + " " + cl.FamilyName)
	}
	if len(id.Name) > maxClaim {
		id.Name = ""
	}
	if len(id.SID) > maxClaim {
		id.SID = ""
	}
	if c.TrustOrgs {
		for _, r := range cl.NRBACRoles {
			code := strings.ToUpper(strings.TrimSpace(r.OrgCode))
			if code != "" && len(code) <= 10 && !slices.Contains(id.OrgCodes, code) {
				id.OrgCodes = append(id.OrgCodes, code)
			}
		}
	}
	id.MFA = (cl.ACR != "" && slices.Contains(c.ACR, cl.ACR)) || slices.ContainsFunc(cl.AMR, func(m string) bool { return slices.Contains(c.AMR, m) })
	return id, nil
}

// backChannelEvent is the event a logout token must carry.
const backChannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutMaxAge is how old a logout token may be.
const logoutMaxAge = 5 * time.Minute

// errBadLogout is the answer to a logout token that does not check out.
var errBadLogout = apperr.New(apperr.Invalid, "invalid logout token")

// VerifyLogout checks a back-channel logout token from provider name
// (OpenID Connect Back-Channel Logout 1.0): signed by the provider, for
// PSIMS, recent, with the logout event, no nonce, and a subject or session
// ID. Errors: NotFound, Invalid, Unavailable.
func (s *Service) VerifyLogout(ctx context.Context, name, token string) (Logout, error) {
	c, err := s.config(name)
	if err != nil {
		return Logout{}, err
	}
	p, err := s.provider(ctx, c)
	if err != nil {
		return Logout{}, err
	}
	if token == "" || len(token) > 16<<10 {
		return Logout{}, errBadLogout
	}
	vctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, s.client), 10*time.Second)
	defer cancel()
	// Logout tokens need not expire; their age is checked below instead.
	t, err := p.Verifier(&oidc.Config{ClientID: c.ClientID, SkipExpiryCheck: true}).Verify(vctx, token)
	if err != nil {
		return Logout{}, apperr.Wrap(apperr.Invalid, errBadLogout.Error(), err)
	}
	var cl struct {
		Events map[string]json.RawMessage `json:"events"`
		Nonce  *string                    `json:"nonce"`
		SID    string                     `json:"sid"`
	}
	if err := t.Claims(&cl); err != nil {
		return Logout{}, apperr.Wrap(apperr.Invalid, errBadLogout.Error(), err)
	}
	now := s.db.Now()
	_, event := cl.Events[backChannelEvent]
	switch {
	case !event, cl.Nonce != nil, t.Subject == "" && cl.SID == "",
		t.IssuedAt.IsZero(), now.Sub(t.IssuedAt) > logoutMaxAge, t.IssuedAt.Sub(now) > time.Minute:
		return Logout{}, errBadLogout
	}
	return Logout{Issuer: t.Issuer, Subject: t.Subject, SID: cl.SID}, nil
}
