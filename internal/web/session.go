package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/ratelimit"
	"github.com/psims/psims/internal/terms"
)

// Cookie names. All are strictly necessary (see the cookies page).
const (
	sessionCookie = "psims_session"
	csrfCookie    = "psims_csrf"
	// deviceCookie is set only when a person asks for their browser to be
	// remembered after the second step of signing in (twostep.go).
	deviceCookie = "psims_device"
)

type ctxKey int

const (
	viewerKey ctxKey = iota
	csrfKey
)

// viewer is the signed-in user of a request.
type viewer struct {
	user    account.User
	session account.Session
	orgName string
	docs    terms.Status   // the documents the user must accept, or may read again
	subject *authz.Subject // worked out on first use by Server.subject
	// step is what the session still needs before its person may use the
	// service (see requireSecondStep).
	step account.SecondStep
}

func viewerFrom(ctx context.Context) *viewer {
	v, _ := ctx.Value(viewerKey).(*viewer)
	return v
}

// authenticate attaches the signed-in user, if any, to the request, and
// clears the cookie of a session that has ended.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil || strings.HasPrefix(r.URL.Path, "/static/") {
			next.ServeHTTP(w, r)
			return
		}
		u, sess, err := s.Accounts.Authenticate(r.Context(), c.Value)
		if err != nil {
			if apperr.CodeOf(err) != apperr.Unauthorized {
				s.fail(w, r, err)
				return
			}
			s.clearSessionCookie(w)
			next.ServeHTTP(w, r)
			return
		}
		sess.Token = c.Value
		v := &viewer{user: u, session: sess, orgName: u.OrgName, step: s.Accounts.SecondStepFor(u, sess)}
		if v.step == account.StepDone {
			// A session still at the second step reaches only that
			// step's pages, which ask nothing of the terms.
			if v.docs, err = s.Terms.Status(r.Context(), u.ID); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), viewerKey, v)))
	})
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// requireUser sends visitors who are not signed in to the sign-in page,
// which brings them back afterwards. A form posted without a live session
// is carried through the sign-in page (see interruptWithSignIn).
func (s *Server) requireUser(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if viewerFrom(r.Context()) == nil {
			if r.Method == http.MethodPost {
				// The session ended while a form was open: keep what
				// was sent (see held.go).
				s.interruptWithSignIn(w, r)
				return
			}
			http.Redirect(w, r, "/sign-in?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h(w, r)
	}
}

// safeNext returns next when it is a path on this site, and the signed-in
// home otherwise, so the sign-in page cannot send people elsewhere.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

// checkCSRF makes every form post carry the token of the session (or, when
// signed out, of the psims_csrf cookie), on top of the cross-origin check
// that runs before it. It also gives every visitor the cookie the token is
// bound to.
func (s *Server) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		binding := ""
		if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			binding = "session:" + c.Value
		} else if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
			binding = "visitor:" + c.Value
		}
		if binding == "" && !strings.HasPrefix(r.URL.Path, "/static/") {
			binding = "visitor:" + s.newVisitorCookie(w)
		}
		want := tokenFor(binding)
		if s.acceptsUpload(r) {
			// A file upload (library.go): its own larger limit, and the
			// file held on disk rather than in memory while it is read.
			ok := s.readUpload(w, r)
			defer closeUpload(r.MultipartForm)
			if !ok {
				return
			}
		} else if r.Method == http.MethodPost {
			// What was read is kept aside, so that a form over the limit
			// can be told which of its boxes was too long.
			var read bytes.Buffer
			r.Body = http.MaxBytesReader(w, struct {
				io.Reader
				io.Closer
			}{io.TeeReader(r.Body, &read), r.Body}, maxFormBytes)
			var tooLarge *http.MaxBytesError
			if err := r.ParseForm(); errors.As(err, &tooLarge) {
				s.formTooLarge(w, r, read.Bytes())
				return
			}
		}
		if r.Method == http.MethodPost && (oneClickUnsubscribe(r) || isBackChannelLogout(r)) {
			// The one-click unsubscribe address (RFC 8058, newsletters.go)
			// is posted by mail providers on the recipient's behalf, with
			// no cookie and no form token, and answers at once. The signed
			// token in its path is the authority: it names the one person
			// and the one consent it withdraws, and cannot be made or
			// altered without the server's key, so a forged cross-site
			// post can do nothing its sender could not. An OpenID Connect
			// provider's back-channel logout (oidc.go) is posted by the
			// provider's server, and its logout token, signed by the
			// provider, is the authority in the same way; it can only end
			// sessions. They are the only routes without the form token,
			// and both are rate-limited.
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), csrfKey, want)))
			return
		}
		if r.Method == http.MethodPost {
			got := r.PostFormValue("csrf_token")
			if binding == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
				if got != "" && strings.HasPrefix(binding, "visitor:") && sameOrigin(r) {
					// A token made for a session that has since ended (and
					// its cookie cleared), from a page of this site: offer
					// to sign in and send the form again rather than lose
					// it.
					if _, ok := s.holdRequest(r); ok {
						s.interruptWithSignIn(w, r)
						return
					}
				}
				p := s.page(r, "This form has expired")
				s.render.Render(w, r, http.StatusForbidden, "form-expired", p)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), csrfKey, want)))
	})
}

// sameOrigin reports whether the browser says the request came from a page
// of this site. The cross-origin check lets through requests that say
// nothing (old browsers, programs); a held form needs the positive word.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	origin, err := url.Parse(r.Header.Get("Origin"))
	return err == nil && origin.Host != "" && origin.Host == r.Host
}

// newVisitorCookie gives the browser a new psims_csrf cookie, the secret a
// visitor's form tokens are bound to, and returns its value.
func (s *Server) newVisitorCookie(w http.ResponseWriter) string {
	var b [32]byte
	rand.Read(b[:])
	v := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
	return v
}

// maxFormBytes bounds the size of a posted form.
const maxFormBytes = 1 << 20

// tokenFor derives the form token from the secret cookie value it is bound
// to; only someone who can read the cookie can make it.
func tokenFor(binding string) string {
	sum := sha256.Sum256([]byte("psims-form-token:" + binding))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func csrfToken(r *http.Request) string {
	t, _ := r.Context().Value(csrfKey).(string)
	return t
}

// client describes where the request came from: the connection's address,
// or behind a trusted proxy the address it forwarded for.
func (s *Server) client(r *http.Request) account.Client {
	return account.Client{IP: s.ClientIPs.From(r), UserAgent: r.UserAgent()}
}

// termsClient is client as the terms service takes it.
func (s *Server) termsClient(r *http.Request) terms.Client {
	return terms.Client{IP: s.ClientIPs.From(r), UserAgent: r.UserAgent()}
}

// signInClient is client with the token of the browser, when it was
// remembered after an earlier second step of signing in.
func (s *Server) signInClient(r *http.Request) account.Client {
	c := s.client(r)
	if k, err := r.Cookie(deviceCookie); err == nil {
		c.DeviceToken = k.Value
	}
	return c
}

// RateLimits decides per-key limits kept in the database; *ratelimit.Store
// is one.
type RateLimits interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (ratelimit.Decision, error)
}

// allowed takes one of the requests the address may make under the limit
// named kind (limit per window). When none is left it sets Retry-After
// and returns false. A database error lets the request through, logged:
// the limits slow abuse, and a broken limit must not shut people out.
func (s *Server) allowed(w http.ResponseWriter, r *http.Request, kind string, limit int, window time.Duration) bool {
	if s.RateLimits == nil {
		return true
	}
	d, err := s.RateLimits.Allow(r.Context(), kind+":"+rateKey(s.client(r).IP), limit, window, time.Now())
	if err != nil {
		s.Logger.Error("rate limit", "limit", kind, "err", err)
		return true
	}
	if !d.Allowed {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.RetryAfter.Seconds()))))
	}
	return d.Allowed
}

// rateKey is the part of an address a limit counts by: the whole IPv4
// address, or the /64 network of an IPv6 one, since one household or
// server is usually given a whole /64 and could otherwise step through it.
func rateKey(ip string) string { return ratelimit.Network(ip) }

// limited applies the per-address limit of sign-in, registration and reset.
func (s *Server) limited(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.allowed(w, r, "signin", s.SignInRate, time.Minute) {
			p := s.page(r, "Too many attempts")
			s.render.Render(w, r, http.StatusTooManyRequests, "too-many-requests", p)
			return
		}
		h(w, r)
	}
}
