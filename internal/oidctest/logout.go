package oidctest

import (
	"crypto/rand"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// EventBackChannelLogout is the member of a logout token's events claim
// that marks it as a back-channel logout token.
const EventBackChannelLogout = "http://schemas.openid.net/event/backchannel-logout"

// logoutTokenLifetime is the exp of logout tokens, which Back-Channel Logout
// 1.0 requires; it is short, as the spec recommends.
const logoutTokenLifetime = 2 * time.Minute

// LogoutToken returns a back-channel logout token (OpenID Connect
// Back-Channel Logout 1.0) for clientID, signed with the provider's own
// signing key, the one in its JWKS, with header typ "logout+jwt". It carries
// iss, aud, iat now, exp two minutes on, a random jti, the events claim
// {"http://schemas.openid.net/event/backchannel-logout": {}}, and sub and
// sid unless they are "". The spec requires at least one of sub and sid, so
// passing neither makes a token a relying party must refuse.
func (p *Provider) LogoutToken(t testing.TB, clientID, subject, sid string) string {
	t.Helper()

	key, err := p.storage.SigningKey(t.Context())
	if err != nil {
		t.Fatalf("oidctest: logout token: signing key: %v", err)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{
			Algorithm: key.SignatureAlgorithm(),
			Key:       jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()},
		},
		(&jose.SignerOptions{}).WithType("logout+jwt"),
	)
	if err != nil {
		t.Fatalf("oidctest: logout token: signer: %v", err)
	}

	now := time.Now()
	claims := &oidc.LogoutTokenClaims{
		Issuer:     p.issuer,
		Subject:    subject,
		Audience:   oidc.Audience{clientID},
		IssuedAt:   oidc.FromTime(now),
		Expiration: oidc.FromTime(now.Add(logoutTokenLifetime)),
		JWTID:      rand.Text(),
		Events:     map[string]any{EventBackChannelLogout: struct{}{}},
		SessionID:  sid,
	}
	token, err := crypto.Sign(claims, signer)
	if err != nil {
		t.Fatalf("oidctest: logout token: sign: %v", err)
	}
	return token
}

// SID returns the sid claim of the last ID token the provider issued to the
// user with this subject. The example provider has no sessions, so the sid
// is the ID of the sign-in's auth request: a new one for every sign-in. It
// fails the test if no ID token has been issued to the user.
func (p *Provider) SID(t testing.TB, subject string) string {
	t.Helper()
	sid, ok := p.storage.lastSID(subject)
	if !ok {
		t.Fatalf("oidctest: sid: no ID token issued to %q yet", subject)
	}
	return sid
}
