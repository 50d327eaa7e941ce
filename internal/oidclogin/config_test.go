package oidclogin

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// secretFiles reads the client secret files the tests name.
func secretFiles(name string) ([]byte, error) {
	switch name {
	case "/run/secrets/cis2":
		return []byte("  the-secret\n"), nil
	case "/run/secrets/empty":
		return []byte(" \n"), nil
	}
	return nil, errors.New("no such file")
}

// TestParseConfigReadsTheFlagAndTheSecretFile: every key of
// --oidc-provider, the defaults, and a clear refusal of each mistake. // P11
func TestParseConfigReadsTheFlagAndTheSecretFile(t *testing.T) {
	c, err := ParseConfig("name=cis2, label=NHS CIS2, issuer=https://am.nhsidentity.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/oidc,"+
		"client-id=psims,client-secret-file=/run/secrets/cis2,scopes=openid+email profile+nationalrbacaccess,acr=AAL3_ANY+AAL2_OR_AAL3_ANY,amr=mfa,trust-org=true", secretFiles)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "cis2" || c.Label != "NHS CIS2" || c.ClientID != "psims" || c.ClientSecret != "the-secret" || !c.TrustOrgs ||
		!slices.Equal(c.Scopes, []string{"email", "profile", "nationalrbacaccess"}) || !slices.Equal(c.ACR, []string{"AAL3_ANY", "AAL2_OR_AAL3_ANY"}) ||
		!slices.Equal(c.AMR, []string{"mfa"}) {
		t.Fatalf("parsed: %+v", c)
	}
	c, err = ParseConfig("name=okta,issuer=http://127.0.0.1:9999,client-id=x,client-secret-file=/run/secrets/cis2", secretFiles)
	if err != nil {
		t.Fatal(err)
	}
	if c.Label != "okta" || !slices.Equal(c.Scopes, []string{"email", "profile"}) || c.TrustOrgs || c.ACR != nil {
		t.Fatalf("defaults: %+v", c)
	}

	for value, want := range map[string]string{
		"":                 "not key=value",
		"name=cis2,issuer": "not key=value",
		"name=CIS2,issuer=https://a,client-id=x,client-secret-file=/run/secrets/cis2":            "lower-case",
		"name=cis2,issuer=http://idp.example,client-id=x,client-secret-file=/run/secrets/cis2":   "https",
		"name=cis2,issuer=not a url,client-id=x,client-secret-file=/run/secrets/cis2":            "https",
		"name=cis2,issuer=https://a,client-secret-file=/run/secrets/cis2":                        "client-id is required",
		"name=cis2,issuer=https://a,client-id=x":                                                 "client-secret-file is required",
		"name=cis2,issuer=https://a,client-id=x,client-secret-file=/nope":                        "read client-secret-file",
		"name=cis2,issuer=https://a,client-id=x,client-secret-file=/run/secrets/empty":           "is empty",
		"name=cis2,issuer=https://a,client-id=x,client-secret-file=/run/secrets/cis2,colour=red": "unknown key",
		"name=cis2,name=okta": "given twice",
		"name=cis2,issuer=https://a,client-id=x,client-secret-file=/run/secrets/cis2,trust-org=maybe": "trust-org must be true or false",
	} {
		if _, err := ParseConfig(value, secretFiles); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error saying %q", value, err, want)
		}
	}
}

// FuzzParseConfig: whatever the flag says, ParseConfig returns a provider
// with a usable name and issuer, or an error; it never panics. // P11
func FuzzParseConfig(f *testing.F) {
	f.Add("name=cis2,issuer=https://idp.example,client-id=x,client-secret-file=/run/secrets/cis2,scopes=a+b,acr=c,trust-org=yes")
	f.Add("name=a,,=,issuer==,label=\u00a0")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConfig(s, secretFiles)
		if err != nil {
			return
		}
		if !nameRE.MatchString(c.Name) || c.ClientID == "" || c.ClientSecret == "" || c.Label == "" {
			t.Fatalf("accepted %q as %+v", s, c)
		}
		if slices.Contains(c.Scopes, "openid") {
			t.Fatalf("openid kept among the extra scopes: %+v", c.Scopes)
		}
	})
}
