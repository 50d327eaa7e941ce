package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/terms"
)

// Cookie names. Both are strictly necessary (see the cookies page).
const (
	sessionCookie = "psims_session"
	csrfCookie    = "psims_csrf"
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
		docs, err := s.Terms.Status(r.Context(), u.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v := &viewer{user: u, session: sess, orgName: u.OrgName, docs: docs}
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
// which brings them back afterwards.
func (s *Server) requireUser(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if viewerFrom(r.Context()) == nil {
			http.Redirect(w, r, "/sign-in?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h(w, r)
	}
}

// safeNext returns next when it is a path on this site, and "/account"
// otherwise, so the sign-in page cannot send people elsewhere.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/account"
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/account"
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
			var b [32]byte
			rand.Read(b[:])
			v := base64.RawURLEncoding.EncodeToString(b[:])
			http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true,
				Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
			binding = "visitor:" + v
		}
		want := tokenFor(binding)
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			got := r.PostFormValue("csrf_token")
			if binding == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
				p := s.page(r, "This form has expired")
				s.render.Render(w, r, http.StatusForbidden, "form-expired", p)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), csrfKey, want)))
	})
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

// client describes where the request came from. The service listens behind
// no proxy it trusts, so the address is the connection's.
func client(r *http.Request) account.Client {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return account.Client{IP: ip, UserAgent: r.UserAgent()}
}

// limited applies the per-IP rate limit for sign-in, registration and reset.
func (s *Server) limited(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.limiter.allow(client(r).IP, time.Now()) {
			w.Header().Set("Retry-After", "60")
			p := s.page(r, "Too many attempts")
			s.render.Render(w, r, http.StatusTooManyRequests, "too-many-requests", p)
			return
		}
		h(w, r)
	}
}

// ipLimiter allows each IP address a number of requests per window. It is a
// fixed-window counter kept in memory: with several processes each applies
// its own limit, which the account lockout (kept in the database) backs up.
type ipLimiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	start  time.Time
	counts map[string]int
}

func newIPLimiter(limit int, window time.Duration) *ipLimiter {
	return &ipLimiter{limit: limit, window: window, counts: map[string]int{}}
}

func (l *ipLimiter) allow(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.start) >= l.window {
		l.start = now
		clear(l.counts)
	}
	if l.counts[ip] >= l.limit {
		return false
	}
	l.counts[ip]++
	return true
}
