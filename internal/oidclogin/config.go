// Package oidclogin signs people in through external OpenID Connect
// providers, such as NHS CIS2 Authentication or Okta (P11): PSIMS is the
// relying party. It sends the browser to a provider with the authorization
// code flow, PKCE, state and nonce, and turns what comes back into an
// Identity it has checked; it also checks the provider's back-channel
// logout tokens. Which account an identity belongs to is the account
// package's business.
package oidclogin

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Config is one provider, as given to --oidc-provider.
type Config struct {
	// Name identifies the provider in URLs and the database: lower-case
	// letters, digits and hyphens.
	Name string
	// Label is how people know the provider, on the button that signs in
	// with it ("Sign in with NHS CIS2"); Name when not given.
	Label        string
	Issuer       string
	ClientID     string
	ClientSecret string
	// Scopes are asked for besides openid; email and profile when none
	// are given.
	Scopes []string
	// ACR are the authentication context classes that show the provider
	// checked a second factor; they are also asked for (acr_values). AMR
	// are authentication methods that show the same. An ID token with
	// either satisfies PSIMS's two-step verification; with neither
	// configured, a provider's sign-in never does.
	ACR []string
	AMR []string
	// TrustOrgs says the provider's organisation claim (NHS CIS2's ODS
	// codes in nhsid_nrbac_roles) may approve someone's membership of an
	// organisation it names.
	TrustOrgs bool
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// ParseConfig reads one --oidc-provider value: comma-separated key=value
// pairs name, issuer, client-id and client-secret-file (required), and
// label, scopes, acr, amr and trust-org (optional). scopes, acr and amr
// hold several values separated by spaces or "+". readFile reads the
// client secret's file (os.ReadFile); the secret never appears on a
// command line.
func ParseConfig(s string, readFile func(string) ([]byte, error)) (Config, error) {
	var c Config
	var secretFile string
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || key == "" {
			return Config{}, fmt.Errorf("%q is not key=value", part)
		}
		if seen[key] {
			return Config{}, fmt.Errorf("%s is given twice", key)
		}
		seen[key] = true
		value = strings.TrimSpace(value)
		switch key {
		case "name":
			c.Name = value
		case "label":
			c.Label = value
		case "issuer":
			c.Issuer = value
		case "client-id":
			c.ClientID = value
		case "client-secret-file":
			secretFile = value
		case "scopes":
			c.Scopes = splitValues(value)
		case "acr":
			c.ACR = splitValues(value)
		case "amr":
			c.AMR = splitValues(value)
		case "trust-org":
			switch value {
			case "true", "yes":
				c.TrustOrgs = true
			case "false", "no":
			default:
				return Config{}, fmt.Errorf("trust-org must be true or false, not %q", value)
			}
		default:
			return Config{}, fmt.Errorf("unknown key %q (name, label, issuer, client-id, client-secret-file, scopes, acr, amr, trust-org)", key)
		}
	}
	if !nameRE.MatchString(c.Name) {
		return Config{}, errors.New("name must be 1 to 32 lower-case letters, digits and hyphens, such as name=cis2")
	}
	if c.Label == "" {
		c.Label = c.Name
	}
	u, err := url.Parse(c.Issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return Config{}, fmt.Errorf("%s: issuer must be an https URL (http only on loopback, for testing), not %q", c.Name, c.Issuer)
	}
	if c.ClientID == "" {
		return Config{}, fmt.Errorf("%s: client-id is required", c.Name)
	}
	if secretFile == "" {
		return Config{}, fmt.Errorf("%s: client-secret-file is required", c.Name)
	}
	secret, err := readFile(secretFile)
	if err != nil {
		return Config{}, fmt.Errorf("%s: read client-secret-file: %w", c.Name, err)
	}
	if c.ClientSecret = strings.TrimSpace(string(secret)); c.ClientSecret == "" {
		return Config{}, fmt.Errorf("%s: client-secret-file %s is empty", c.Name, secretFile)
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"email", "profile"}
	}
	c.Scopes = slices.DeleteFunc(c.Scopes, func(s string) bool { return s == "openid" })
	return c, nil
}

func splitValues(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '+' })
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}
