// Package oidctest runs a real OpenID Connect provider on loopback for tests
// of PSIMS as a relying party.
//
// The provider is the example provider of github.com/zitadel/oidc/v3 (its
// exampleop router and in-memory storage), imported rather than copied, with
// a thin storage wrapper that adds what PSIMS needs to see in ID tokens: acr,
// amr, sid and the NHS CIS2 claim nhsid_nrbac_roles. Each Provider has its own
// storage, clients, users and signing key, so parallel tests cannot see each
// other's state; nothing here touches the example's package-level client
// registry.
package oidctest

import (
	"net/http/httptest"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
)

// Provider is a running OpenID Connect provider on 127.0.0.1, served by
// httptest and closed by t.Cleanup. Its methods are safe to call from
// several goroutines.
type Provider struct {
	server  *httptest.Server
	issuer  string
	storage *providerStorage
}

// Options configures a Provider.
type Options struct {
	// Issuer is the issuer the provider advertises in discovery and puts in
	// its tokens; "" means its own URL. A different value lets a test prove
	// that a relying party refuses a provider whose discovery document names
	// another issuer. With a foreign issuer only discovery is meaningful: the
	// provider's other endpoints are advertised at the foreign address.
	Issuer string
}

// Start starts a provider on 127.0.0.1 with no clients and no users, and
// registers its shutdown with t.Cleanup.
func Start(t testing.TB, opts Options) *Provider {
	t.Helper()

	// The issuer is usually the server's own URL, which is known only once
	// it listens, so take the listener first and start serving afterwards.
	server := httptest.NewUnstartedServer(nil)
	base := "http://" + server.Listener.Addr().String()
	issuer := opts.Issuer
	if issuer == "" {
		issuer = base
	}

	st := newProviderStorage()
	// A nil logger keeps exampleop from replacing the process-wide slog
	// default; wrapServer false serves the op.Provider directly. The example
	// already allows an http issuer (op.WithAllowInsecure), which is safe
	// here because the provider listens on loopback only.
	server.Config.Handler = exampleop.SetupServer(issuer, st, nil, false)
	server.Start()
	t.Cleanup(server.Close)

	return &Provider{server: server, issuer: issuer, storage: st}
}

// URL returns the base URL the provider listens on, http://127.0.0.1:PORT.
func (p *Provider) URL() string {
	return p.server.URL
}

// Issuer returns the issuer the provider advertises: Options.Issuer, or URL
// when that was "".
func (p *Provider) Issuer() string {
	return p.issuer
}
