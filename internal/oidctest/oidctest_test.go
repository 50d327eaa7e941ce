package oidctest_test

import (
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/psims/psims/internal/oidctest"
)

const redirectURI = "http://127.0.0.1:8080/auth/oidc/callback"

// idClaims are the ID token claims PSIMS reads.
type idClaims struct {
	Nonce         string               `json:"nonce"`
	Email         string               `json:"email"`
	EmailVerified bool                 `json:"email_verified"`
	GivenName     string               `json:"given_name"`
	FamilyName    string               `json:"family_name"`
	Name          string               `json:"name"`
	ACR           string               `json:"acr"`
	AMR           []string             `json:"amr"`
	SID           string               `json:"sid"`
	Roles         []oidctest.NRBACRole `json:"nhsid_nrbac_roles"`
}

// relyingParty is what PSIMS will hold for one provider.
type relyingParty struct {
	provider *oidc.Provider
	config   oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newRelyingParty(t *testing.T, p *oidctest.Provider, c oidctest.Client, style oauth2.AuthStyle) *relyingParty {
	t.Helper()
	provider, err := oidc.NewProvider(t.Context(), p.Issuer())
	if err != nil {
		t.Fatalf("discover provider: %v", err)
	}
	endpoint := provider.Endpoint()
	endpoint.AuthStyle = style
	return &relyingParty{
		provider: provider,
		config: oauth2.Config{
			ClientID:     c.ID,
			ClientSecret: c.Secret,
			Endpoint:     endpoint,
			RedirectURL:  c.RedirectURIs[0],
			Scopes:       []string{oidc.ScopeOpenID, "email", "profile"},
		},
		verifier: provider.Verifier(&oidc.Config{ClientID: c.ID}),
	}
}

// signIn runs the authorization code flow with PKCE for the user and returns
// the raw ID token and the nonce it must carry.
func (rp *relyingParty) signIn(t *testing.T, p *oidctest.Provider, username, password string) (rawIDToken, nonce string) {
	t.Helper()
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	authURL := rp.config.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))

	callback := p.SignIn(t, browser(t), authURL, username, password)

	q := callback.Query()
	if got := callback.Scheme + "://" + callback.Host + callback.Path; got != rp.config.RedirectURL {
		t.Fatalf("callback = %s, want the redirect URI %s", got, rp.config.RedirectURL)
	}
	if q.Get("state") != state {
		t.Fatalf("callback state = %q, want %q", q.Get("state"), state)
	}
	token, err := rp.config.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange code: %v", err)
	}
	raw, ok := token.Extra("id_token").(string)
	if !ok || raw == "" {
		t.Fatal("token response has no id_token")
	}
	return raw, nonce
}

func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookie jar: %v", err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func TestSignInGivesAVerifiedIDTokenWithTheUsersClaims(t *testing.T) {
	t.Parallel()
	nurse := oidctest.User{
		Subject: "555000111222", Username: "nurse", Password: "correct horse",
		Email: "nurse@example.nhs.uk", EmailVerified: true,
		GivenName: "Ada", FamilyName: "Lovelace",
		ACR: "AAL3_ANY", AMR: []string{"sc", "pin"},
		OrgCodes: []string{"RBA", "RTH"},
	}
	clerk := oidctest.User{
		Subject: "555000333444", Username: "clerk", Password: "battery staple",
		Email: "clerk@example.nhs.uk",
	}
	tests := []struct {
		name  string
		style oauth2.AuthStyle
		user  oidctest.User
		acr   string
		amr   []string
		orgs  []string
	}{
		{"a smartcard user with roles, client_secret_basic", oauth2.AuthStyleInHeader, nurse, "AAL3_ANY", []string{"sc", "pin"}, []string{"RBA", "RTH"}},
		{"a smartcard user with roles, client_secret_post", oauth2.AuthStyleInParams, nurse, "AAL3_ANY", []string{"sc", "pin"}, []string{"RBA", "RTH"}},
		{"a password user with no acr and no roles", oauth2.AuthStyleInHeader, clerk, "", []string{"pwd"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := oidctest.Start(t, oidctest.Options{})
			c := oidctest.Client{ID: "psims", Secret: "s3cret", RedirectURIs: []string{redirectURI}}
			p.AddClient(c)
			p.AddUser(tt.user)
			rp := newRelyingParty(t, p, c, tt.style)

			raw, nonce := rp.signIn(t, p, tt.user.Username, tt.user.Password)
			idToken, err := rp.verifier.Verify(t.Context(), raw)
			if err != nil {
				t.Fatalf("verify ID token: %v", err)
			}
			var claims idClaims
			if err := idToken.Claims(&claims); err != nil {
				t.Fatalf("ID token claims: %v", err)
			}

			if idToken.Issuer != p.Issuer() || idToken.Subject != tt.user.Subject || !slices.Equal(idToken.Audience, []string{c.ID}) {
				t.Errorf("iss, sub, aud = %q, %q, %q; want %q, %q, [%q]", idToken.Issuer, idToken.Subject, idToken.Audience, p.Issuer(), tt.user.Subject, c.ID)
			}
			if life := idToken.Expiry.Sub(idToken.IssuedAt); life < 4*time.Minute || life > 6*time.Minute {
				t.Errorf("exp - iat = %v, want about 5 minutes", life)
			}
			if claims.Nonce != nonce {
				t.Errorf("nonce = %q, want %q", claims.Nonce, nonce)
			}
			if claims.Email != tt.user.Email || claims.EmailVerified != tt.user.EmailVerified {
				t.Errorf("email, email_verified = %q, %v; want %q, %v", claims.Email, claims.EmailVerified, tt.user.Email, tt.user.EmailVerified)
			}
			wantName := tt.user.GivenName + " " + tt.user.FamilyName
			if claims.GivenName != tt.user.GivenName || claims.FamilyName != tt.user.FamilyName || claims.Name != wantName {
				t.Errorf("given_name, family_name, name = %q, %q, %q; want %q, %q, %q", claims.GivenName, claims.FamilyName, claims.Name, tt.user.GivenName, tt.user.FamilyName, wantName)
			}
			if claims.ACR != tt.acr {
				t.Errorf("acr = %q, want %q", claims.ACR, tt.acr)
			}
			if !slices.Equal(claims.AMR, tt.amr) {
				t.Errorf("amr = %q, want %q", claims.AMR, tt.amr)
			}
			if claims.SID == "" || claims.SID != p.SID(t, tt.user.Subject) {
				t.Errorf("sid = %q, want %q from the provider", claims.SID, p.SID(t, tt.user.Subject))
			}
			var orgs []string
			for _, r := range claims.Roles {
				orgs = append(orgs, r.OrgCode)
				if r.PersonRoleID == "" || r.RoleName == "" {
					t.Errorf("role %+v lacks person_roleid or role_name", r)
				}
			}
			if !slices.Equal(orgs, tt.orgs) {
				t.Errorf("nhsid_nrbac_roles org codes = %q, want %q", orgs, tt.orgs)
			}
		})
	}
}

func TestEachSignInHasItsOwnSID(t *testing.T) {
	t.Parallel()
	p, c, u := startWithOneUser(t, oidctest.Client{})
	rp := newRelyingParty(t, p, c, oauth2.AuthStyleInHeader)

	sids := make([]string, 2)
	for i := range sids {
		raw, _ := rp.signIn(t, p, u.Username, u.Password)
		idToken, err := rp.verifier.Verify(t.Context(), raw)
		if err != nil {
			t.Fatalf("verify ID token: %v", err)
		}
		var claims idClaims
		if err := idToken.Claims(&claims); err != nil {
			t.Fatalf("ID token claims: %v", err)
		}
		sids[i] = claims.SID
	}
	if sids[0] == "" || sids[0] == sids[1] {
		t.Errorf("sids of two sign-ins = %q, want two different ones", sids)
	}
}

func TestTheCodeNeedsTheRightPKCEVerifier(t *testing.T) {
	t.Parallel()
	p, c, u := startWithOneUser(t, oidctest.Client{})
	rp := newRelyingParty(t, p, c, oauth2.AuthStyleInHeader)

	authURL := rp.config.AuthCodeURL("state", oidc.Nonce("nonce"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	callback := p.SignIn(t, browser(t), authURL, u.Username, u.Password)
	_, err := rp.config.Exchange(t.Context(), callback.Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("exchange with the wrong verifier: err = %v, want invalid_grant", err)
	}
}

func TestAWrongClientSecretIsRefused(t *testing.T) {
	t.Parallel()
	p, c, u := startWithOneUser(t, oidctest.Client{})
	c.Secret = "not the secret"
	rp := newRelyingParty(t, p, c, oauth2.AuthStyleInHeader)

	authURL := rp.config.AuthCodeURL("state", oidc.Nonce("nonce"))
	callback := p.SignIn(t, browser(t), authURL, u.Username, u.Password)
	_, err := rp.config.Exchange(t.Context(), callback.Query().Get("code"))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
		t.Fatalf("exchange with a wrong secret: err = %v, want invalid_client", err)
	}
}

func TestAnExpiredIDTokenIsRefused(t *testing.T) {
	t.Parallel()
	p, c, u := startWithOneUser(t, oidctest.Client{IDTokenLifetime: -time.Minute})
	rp := newRelyingParty(t, p, c, oauth2.AuthStyleInHeader)

	raw, _ := rp.signIn(t, p, u.Username, u.Password)
	_, err := rp.verifier.Verify(t.Context(), raw)
	var expired *oidc.TokenExpiredError
	if !errors.As(err, &expired) {
		t.Fatalf("verify expired ID token: err = %v, want a TokenExpiredError", err)
	}
}

func TestDiscoveryNamingAnotherIssuerIsRefused(t *testing.T) {
	t.Parallel()
	p := oidctest.Start(t, oidctest.Options{Issuer: "https://login.elsewhere.example"})
	if p.Issuer() == p.URL() {
		t.Fatalf("Issuer() = URL() = %q, want the configured issuer", p.URL())
	}

	_, err := oidc.NewProvider(t.Context(), p.URL())
	var mismatch *oidc.IssuerMismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("NewProvider(%q): err = %v, want an IssuerMismatchError", p.URL(), err)
	}
	if mismatch.Discovered != "https://login.elsewhere.example" {
		t.Errorf("discovered issuer = %q, want the configured one", mismatch.Discovered)
	}
}

func TestLogoutTokenVerifiesAgainstTheProvidersKeys(t *testing.T) {
	t.Parallel()
	p, c, u := startWithOneUser(t, oidctest.Client{})
	rp := newRelyingParty(t, p, c, oauth2.AuthStyleInHeader)
	rp.signIn(t, p, u.Username, u.Password)
	sid := p.SID(t, u.Subject)

	tests := []struct {
		name     string
		sub, sid string
	}{
		{"with sub and sid", u.Subject, sid},
		{"with sub only", u.Subject, ""},
		{"with sid only", "", sid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := p.LogoutToken(t, c.ID, tt.sub, tt.sid)
			verifier := rp.provider.Verifier(&oidc.Config{ClientID: c.ID, SkipExpiryCheck: true})
			token, err := verifier.Verify(t.Context(), raw)
			if err != nil {
				t.Fatalf("verify logout token: %v", err)
			}
			var claims struct {
				Sub    string                    `json:"sub"`
				SID    string                    `json:"sid"`
				JTI    string                    `json:"jti"`
				IAT    int64                     `json:"iat"`
				Nonce  *string                   `json:"nonce"`
				Events map[string]map[string]any `json:"events"`
			}
			if err := token.Claims(&claims); err != nil {
				t.Fatalf("logout token claims: %v", err)
			}
			if token.Issuer != p.Issuer() || claims.Sub != tt.sub || claims.SID != tt.sid {
				t.Errorf("iss, sub, sid = %q, %q, %q; want %q, %q, %q", token.Issuer, claims.Sub, claims.SID, p.Issuer(), tt.sub, tt.sid)
			}
			if event, ok := claims.Events[oidctest.EventBackChannelLogout]; !ok || len(event) != 0 {
				t.Errorf("events = %v, want {%q: {}}", claims.Events, oidctest.EventBackChannelLogout)
			}
			if claims.JTI == "" || claims.Nonce != nil {
				t.Errorf("jti = %q, nonce = %v; want a jti and no nonce", claims.JTI, claims.Nonce)
			}
			if age := time.Since(time.Unix(claims.IAT, 0)); age < -time.Minute || age > time.Minute {
				t.Errorf("iat is %v ago, want now", age)
			}
		})
	}

	t.Run("from another provider is refused", func(t *testing.T) {
		other := oidctest.Start(t, oidctest.Options{})
		raw := other.LogoutToken(t, c.ID, u.Subject, "")
		verifier := rp.provider.Verifier(&oidc.Config{ClientID: c.ID, SkipExpiryCheck: true, SkipIssuerCheck: true})
		if _, err := verifier.Verify(t.Context(), raw); err == nil {
			t.Fatal("a logout token signed by another provider's key verified")
		}
	})
}

// startWithOneUser starts a provider with one client, c with its ID, secret
// and redirect URI filled in, and one user.
func startWithOneUser(t *testing.T, c oidctest.Client) (*oidctest.Provider, oidctest.Client, oidctest.User) {
	t.Helper()
	p := oidctest.Start(t, oidctest.Options{})
	c.ID, c.Secret, c.RedirectURIs = "psims", "s3cret", []string{redirectURI}
	p.AddClient(c)
	u := oidctest.User{
		Subject: "555000999888", Username: "reporter", Password: "pa55word",
		Email: "reporter@example.nhs.uk", EmailVerified: true,
		GivenName: "Grace", FamilyName: "Hopper",
	}
	p.AddUser(u)
	return p, c, u
}
