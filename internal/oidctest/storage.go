package oidctest

import (
	"context"
	"crypto/subtle"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/text/language"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// ScopeNationalRBACAccess is the NHS CIS2 scope that asks for the
// nhsid_nrbac_roles claim. The provider accepts it, but puts the claim in ID
// tokens whenever the user has OrgCodes, whether asked for or not.
const ScopeNationalRBACAccess = "nationalrbacaccess"

// ClaimNRBACRoles is the NHS CIS2 claim listing a person's national
// role-based access control roles, one object per role.
const ClaimNRBACRoles = "nhsid_nrbac_roles"

// defaultIDTokenLifetime is the ID token lifetime of a Client whose
// IDTokenLifetime is 0.
const defaultIDTokenLifetime = 5 * time.Minute

// Client is a confidential web client of the provider. It authenticates with
// client_secret_basic or client_secret_post, uses the authorization code
// flow, and may use PKCE with S256.
type Client struct {
	ID     string
	Secret string
	// RedirectURIs are the only redirect_uri values the provider accepts.
	RedirectURIs []string
	// IDTokenLifetime is how long ID tokens stay valid; 0 means 5 minutes.
	// A negative value issues ID tokens that have already expired, to prove
	// a relying party checks exp.
	IDTokenLifetime time.Duration
}

// User is a person who can sign in at the provider.
type User struct {
	// Subject is the sub claim.
	Subject            string
	Username, Password string
	Email              string
	EmailVerified      bool
	GivenName          string
	FamilyName         string
	// ACR is the acr claim of this user's ID tokens; "" leaves it out.
	ACR string
	// AMR is the amr claim of this user's ID tokens; nil means ["pwd"].
	AMR []string
	// OrgCodes become the NHS CIS2 claim nhsid_nrbac_roles, one role per
	// code, in every ID token of this user when non-empty.
	OrgCodes []string
}

// NRBACRole is one entry of the nhsid_nrbac_roles claim, with the fields
// PSIMS reads.
type NRBACRole struct {
	OrgCode      string `json:"org_code"`
	PersonRoleID string `json:"person_roleid"`
	RoleName     string `json:"role_name"`
}

// AddClient registers a client, replacing any with the same ID.
func (p *Provider) AddClient(c Client) {
	p.storage.addClient(c)
}

// AddUser adds a user, replacing any with the same Subject.
func (p *Provider) AddUser(u User) {
	p.storage.users.add(u)
}

// providerStorage is the example's in-memory storage with clients, users,
// ACR, AMR, sid and nhsid_nrbac_roles of this package. The embedded example
// storage keeps auth requests, codes, tokens and the signing key.
type providerStorage struct {
	*storage.Storage
	users *userStore

	mu      sync.Mutex
	clients map[string]*client
	// sids holds, per subject, the sid of the last ID token issued.
	sids map[string]string
}

func newProviderStorage() *providerStorage {
	users := &userStore{users: make(map[string]*user)}
	// A fresh, empty client map: the example's default map is package-level
	// and shared, and clients are looked up here instead anyway.
	return &providerStorage{
		Storage: storage.NewStorageWithClients(users, map[string]*storage.Client{}),
		users:   users,
		clients: make(map[string]*client),
		sids:    make(map[string]string),
	}
}

func (s *providerStorage) addClient(c Client) {
	lifetime := c.IDTokenLifetime
	if lifetime == 0 {
		lifetime = defaultIDTokenLifetime
	}
	cl := &client{
		Client:          storage.WebClient(c.ID, c.Secret, slices.Clone(c.RedirectURIs)...),
		secret:          c.Secret,
		idTokenLifetime: lifetime,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.ID] = cl
}

// GetClientByClientID implements op.Storage with this package's clients.
func (s *providerStorage) GetClientByClientID(_ context.Context, clientID string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok {
		return nil, fmt.Errorf("client %q not found", clientID)
	}
	return c, nil
}

// AuthorizeClientIDSecret implements op.Storage with this package's clients.
func (s *providerStorage) AuthorizeClientIDSecret(_ context.Context, clientID, clientSecret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok {
		return fmt.Errorf("client %q not found", clientID)
	}
	if subtle.ConstantTimeCompare([]byte(c.secret), []byte(clientSecret)) != 1 {
		return fmt.Errorf("client %q: wrong secret", clientID)
	}
	return nil
}

// AuthRequestByID wraps the example's auth request so that it reports the
// user's ACR and AMR.
func (s *providerStorage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	req, err := s.Storage.AuthRequestByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("auth request by id: %w", err)
	}
	return s.wrap(req)
}

// AuthRequestByCode wraps the example's auth request so that it reports the
// user's ACR and AMR.
func (s *providerStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	req, err := s.Storage.AuthRequestByCode(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("auth request by code: %w", err)
	}
	return s.wrap(req)
}

func (s *providerStorage) wrap(req op.AuthRequest) (op.AuthRequest, error) {
	inner, ok := req.(*storage.AuthRequest)
	if !ok {
		return nil, fmt.Errorf("unexpected auth request type %T", req)
	}
	return &authRequest{AuthRequest: inner, users: s.users}, nil
}

// CreateAccessToken unwraps the auth request, because the example storage
// finds the client ID by the request's concrete type.
func (s *providerStorage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	return s.Storage.CreateAccessToken(ctx, unwrap(req))
}

// CreateAccessAndRefreshTokens unwraps the auth request, because the
// example storage finds the client ID by the request's concrete type.
func (s *providerStorage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	return s.Storage.CreateAccessAndRefreshTokens(ctx, unwrap(req), currentRefreshToken)
}

func unwrap(req op.TokenRequest) op.TokenRequest {
	if r, ok := req.(*authRequest); ok {
		return r.AuthRequest
	}
	return req
}

// SetUserinfoFromRequest fills the claims of an ID token: the example's
// standard claims for the scopes, then sid and nhsid_nrbac_roles.
func (s *providerStorage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, req, scopes); err != nil {
		return fmt.Errorf("set userinfo for %q: %w", req.GetSubject(), err)
	}
	u, ok := s.users.byID(req.GetSubject())
	if !ok {
		return fmt.Errorf("set userinfo: user %q not found", req.GetSubject())
	}
	if roles := u.roles(); len(roles) > 0 {
		info.AppendClaims(ClaimNRBACRoles, roles)
	}
	// The example has no sessions, so each sign-in's auth request ID serves
	// as its session ID. Refresh requests have no auth request and no sid.
	if ar, ok := req.(op.AuthRequest); ok {
		sid := ar.GetID()
		info.AppendClaims("sid", sid)
		s.mu.Lock()
		s.sids[req.GetSubject()] = sid
		s.mu.Unlock()
	}
	return nil
}

// lastSID returns the sid of the last ID token issued to subject.
func (s *providerStorage) lastSID(subject string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sid, ok := s.sids[subject]
	return sid, ok
}

// client is the example's web client with this package's secret, ID token
// lifetime and claims in ID tokens.
type client struct {
	*storage.Client
	secret          string
	idTokenLifetime time.Duration
}

// IDTokenLifetime implements op.Client.
func (c *client) IDTokenLifetime() time.Duration {
	return c.idTokenLifetime
}

// IDTokenUserinfoClaimsAssertion implements op.Client. It is true so that
// the email and profile claims land in the ID token itself, not only at the
// userinfo endpoint, as PSIMS reads them from the ID token.
func (c *client) IDTokenUserinfoClaimsAssertion() bool {
	return true
}

// DevMode implements op.Client. The example's web client is in dev mode,
// which relaxes redirect URI checks; a confidential client using the code
// flow may use http redirect URIs without it.
func (c *client) DevMode() bool {
	return false
}

// IsScopeAllowed implements op.Client: besides the standard scopes, only the
// CIS2 scope for roles is kept.
func (c *client) IsScopeAllowed(scope string) bool {
	return scope == ScopeNationalRBACAccess
}

// authRequest is the example's auth request reporting the signed-in user's
// ACR and AMR.
type authRequest struct {
	*storage.AuthRequest
	users *userStore
}

// GetACR implements op.AuthRequest.
func (a *authRequest) GetACR() string {
	u, ok := a.users.byID(a.GetSubject())
	if !ok {
		return ""
	}
	return u.ACR
}

// GetAMR implements op.AuthRequest.
func (a *authRequest) GetAMR() []string {
	amr := a.AuthRequest.GetAMR() // ["pwd"] once signed in, else nil
	if amr == nil {
		return nil
	}
	if u, ok := a.users.byID(a.GetSubject()); ok && u.AMR != nil {
		return slices.Clone(u.AMR)
	}
	return amr
}

// user is a User with the example's view of it.
type user struct {
	User
	example storage.User
}

// roles returns the user's nhsid_nrbac_roles, one per org code.
func (u *user) roles() []NRBACRole {
	roles := make([]NRBACRole, 0, len(u.OrgCodes))
	for i, code := range u.OrgCodes {
		roles = append(roles, NRBACRole{
			OrgCode: code,
			// CIS2 role IDs are 12-digit numbers; these are made up but
			// stable for a user.
			PersonRoleID: fmt.Sprintf("%012d", i+1),
			RoleName:     `"Clinical":"Clinical Provision":"Nurse Access Role"`,
		})
	}
	return roles
}

// userStore implements the example's storage.UserStore.
type userStore struct {
	mu    sync.Mutex
	users map[string]*user // by subject
}

func (s *userStore) add(u User) {
	u.AMR = slices.Clone(u.AMR)
	u.OrgCodes = slices.Clone(u.OrgCodes)
	nu := &user{
		User: u,
		example: storage.User{
			ID:                u.Subject,
			Username:          u.Username,
			Password:          u.Password,
			FirstName:         u.GivenName,
			LastName:          u.FamilyName,
			Email:             u.Email,
			EmailVerified:     u.EmailVerified,
			PreferredLanguage: language.BritishEnglish,
		},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.Subject] = nu
}

func (s *userStore) byID(subject string) (*user, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[subject]
	return u, ok
}

// GetUserByID implements storage.UserStore. It returns a copy, so the
// example cannot change a user.
func (s *userStore) GetUserByID(subject string) *storage.User {
	u, ok := s.byID(subject)
	if !ok {
		return nil
	}
	example := u.example
	return &example
}

// GetUserByUsername implements storage.UserStore.
func (s *userStore) GetUserByUsername(username string) *storage.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.Username == username {
			example := u.example
			return &example
		}
	}
	return nil
}

// ExampleClientID implements storage.UserStore. The example uses it only for
// its JWT profile service user, which these tests do not use.
func (s *userStore) ExampleClientID() string {
	return storage.ServiceUserID
}
