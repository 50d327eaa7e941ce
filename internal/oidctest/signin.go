package oidctest

import (
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// maxHops bounds the requests SignIn makes, so a redirect loop fails the test
// instead of hanging it.
const maxHops = 10

// The example's login page is a small fixed template; these pick out what a
// browser would use from it.
var (
	formActionRE = regexp.MustCompile(`<form[^>]*\saction="([^"]*)"`)
	formIDRE     = regexp.MustCompile(`<input[^>]*\sname="id"[^>]*\svalue="([^"]*)"`)
	loginErrorRE = regexp.MustCompile(`color:\s*red[^>]*>([^<]*)<`)
)

// SignIn plays the person at the provider. Starting from authURL, the URL
// the relying party redirected the browser to, it follows redirects with c,
// fills the provider's login form with username and password, and follows
// redirects until the next one would leave the provider. It returns that
// redirect, the relying party's redirect URI with code and state, without
// requesting it. It fails the test if the provider refuses the sign-in or
// answers anything unexpected.
//
// c is used as given (its cookie jar, transport and timeout), except that
// SignIn follows redirects itself; c is not changed.
func (p *Provider) SignIn(t testing.TB, c *http.Client, authURL, username, password string) *url.URL {
	t.Helper()

	client := *c
	client.CheckRedirect = func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}

	next, err := url.Parse(authURL)
	if err != nil {
		t.Fatalf("oidctest: sign in: parse auth URL: %v", err)
	}
	var form url.Values // non-nil means POST the form to next
	submitted := false
	for range maxHops {
		resp, body := p.fetch(t, &client, next, form)
		form = nil

		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := resp.Location()
			if err != nil {
				t.Fatalf("oidctest: sign in: redirect from %s: %v", next, err)
			}
			if !p.owns(loc) {
				return loc
			}
			next = loc

		case resp.StatusCode == http.StatusOK && formIDRE.Match(body):
			if submitted {
				t.Fatalf("oidctest: sign in: provider refused %q: %s", username, loginError(body))
			}
			action, id, err := loginForm(body)
			if err != nil {
				t.Fatalf("oidctest: sign in: login page at %s: %v", next, err)
			}
			next = next.ResolveReference(action)
			form = url.Values{"id": {id}, "username": {username}, "password": {password}}
			submitted = true

		default:
			t.Fatalf("oidctest: sign in: %s answered %s: %s", next, resp.Status, body)
		}
	}
	t.Fatalf("oidctest: sign in: still at the provider after %d requests, at %s", maxHops, next)
	return nil
}

// fetch GETs u, or POSTs form to it when form is non-nil, and returns the
// response with its body read and closed.
func (p *Provider) fetch(t testing.TB, c *http.Client, u *url.URL, form url.Values) (*http.Response, []byte) {
	t.Helper()
	method, reqBody := http.MethodGet, io.Reader(nil)
	if form != nil {
		method, reqBody = http.MethodPost, strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u.String(), reqBody)
	if err != nil {
		t.Fatalf("oidctest: sign in: new request: %v", err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("oidctest: sign in: %s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("oidctest: sign in: read %s: %v", u, err)
	}
	return resp, body
}

// owns reports whether u is an address of the provider itself, at its own
// URL or at its issuer.
func (p *Provider) owns(u *url.URL) bool {
	for _, s := range []string{p.URL(), p.issuer} {
		base, err := url.Parse(s)
		if err == nil && u.Scheme == base.Scheme && u.Host == base.Host {
			return true
		}
	}
	return false
}

// loginForm returns the action and hidden auth request ID of the example's
// login form.
func loginForm(body []byte) (action *url.URL, id string, err error) {
	m := formActionRE.FindSubmatch(body)
	if m == nil {
		return nil, "", errors.New("no form action")
	}
	action, err = url.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		return nil, "", fmt.Errorf("parse form action: %w", err)
	}
	m = formIDRE.FindSubmatch(body)
	if m == nil {
		return nil, "", errors.New("no auth request ID in the form")
	}
	return action, html.UnescapeString(string(m[1])), nil
}

// loginError returns the error the login page shows, or a placeholder.
func loginError(body []byte) string {
	if m := loginErrorRE.FindSubmatch(body); m != nil && len(strings.TrimSpace(string(m[1]))) > 0 {
		return html.UnescapeString(strings.TrimSpace(string(m[1])))
	}
	return "the login page came back without an error message"
}
