package web

// A held post is a form that was sent when the service could not act on it
// yet: the session had ended, or new terms had to be accepted first. Rather
// than lose what the person typed, the page that interrupts them (sign-in or
// the terms review) carries the posted fields as hidden inputs, and once
// they have signed in or accepted, a "Continue where you left off" page
// offers to send them again, to the same address, with a fresh form token.
//
// Nothing is kept on the server: the fields travel only between the
// person's own browser and the pages above, within the form size limit,
// and are never logged. The form token and any password are dropped. The
// continue page needs a deliberate click, and every page in the chain is a
// POST checked by the cross-origin protection and the form token, so
// another site cannot make someone re-send fields of its choosing.

import (
	"net/http"
	"net/url"
	pathpkg "path"
	"slices"
	"sort"
	"strings"
)

// Names of the hidden inputs that carry a held post.
const (
	heldPathField   = "held_path"
	heldFieldPrefix = "held."
)

// heldPost is a form post waiting to be sent again.
type heldPost struct {
	Path   string      // where it was posted: a path on this site
	Fields []heldField // what was posted, without the token or passwords
}

// heldField is one posted value. A name posted several times (checkboxes)
// gives one heldField per value, in the order they were posted.
type heldField struct{ Name, Value string }

// HiddenName is the name of the input that carries the field through the
// interrupting page.
func (f heldField) HiddenName() string { return heldFieldPrefix + f.Name }

// unheld are the posts never held: signing in and out, account recovery,
// the terms review itself and the public pages, where replaying a post
// would be wrong or pointless.
var unheld = []string{
	"POST /sign-in", "POST /sign-out", "POST /register", "POST /verify-email", "POST /verify-email/resend",
	"POST /password-reset", "POST /password-reset/new", "POST /review-terms", "POST /consent",
	"POST /account/sign-out-everywhere", "POST /cookies", "POST /report", "POST /session/extend",
	"POST /register/oidc", "POST /oidc/{name}/backchannel-logout",
}

// maxHeldBytes bounds what a held post may carry, leaving room in the
// interrupting page's own post (under maxFormBytes) for its fields.
const maxHeldBytes = maxFormBytes - 16<<10

// holdable reports whether path is a local address that takes a post the
// service may offer to send again.
func (s *Server) holdable(path string) bool {
	if path == "" || !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.ContainsAny(path, "\\?#\x00") ||
		pathpkg.Clean(path) != path {
		return false
	}
	u, err := url.Parse(path)
	if err != nil || u.Host != "" || u.Scheme != "" || u.Path != path {
		return false
	}
	req := &http.Request{Method: http.MethodPost, URL: u, Host: "localhost"}
	_, pattern := s.mux.Handler(req)
	return strings.HasPrefix(pattern, "POST /") && !slices.Contains(unheld, pattern)
}

// dropped reports whether a posted field must not be carried: the form
// token (a fresh one is issued), passwords, and held fields of an earlier
// interruption.
func dropped(name string) bool {
	lower := strings.ToLower(name)
	return name == "csrf_token" || name == heldPathField || strings.HasPrefix(name, heldFieldPrefix) ||
		strings.Contains(lower, "password") || strings.Contains(lower, "passphrase")
}

// holdRequest captures a post the service is about to interrupt. ok is
// false when it cannot or must not be held.
func (s *Server) holdRequest(r *http.Request) (heldPost, bool) {
	if r.Method != http.MethodPost || r.PostForm == nil || !s.holdable(r.URL.Path) {
		return heldPost{}, false
	}
	return newHeld(r.URL.Path, r.PostForm)
}

// heldFrom reads a held post back from the hidden inputs of an
// interrupting page's post.
func (s *Server) heldFrom(r *http.Request) (heldPost, bool) {
	path := r.PostFormValue(heldPathField)
	if path == "" || !s.holdable(path) {
		return heldPost{}, false
	}
	fields := url.Values{}
	for name, values := range r.PostForm {
		if inner, ok := strings.CutPrefix(name, heldFieldPrefix); ok && inner != "" {
			fields[inner] = values
		}
	}
	return newHeld(path, fields)
}

// newHeld builds a held post from posted values, dropping what must not be
// carried, in a stable order. ok is false when it is too large to carry
// through the interrupting page's own post.
func newHeld(path string, values url.Values) (heldPost, bool) {
	names := make([]string, 0, len(values))
	for name := range values {
		if !dropped(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	h := heldPost{Path: path}
	size := len(path)
	for _, name := range names {
		for _, v := range values[name] {
			h.Fields = append(h.Fields, heldField{Name: name, Value: v})
			// As the browser will send it on: URL-encoded, with "&" and "=".
			size += len(url.QueryEscape(heldFieldPrefix+name)) + len(url.QueryEscape(v)) + 2
		}
	}
	if size > maxHeldBytes {
		return heldPost{}, false
	}
	return h, true
}

// resumeData is what the "Continue where you left off" page shows.
type resumeData struct {
	Held heldPost
	// Back is a page to go to without sending the post again.
	Back string
}

// resume shows the page that sends a held post again. token is the form
// token of the session the page belongs to, which after sign-in is not the
// one the request arrived with; who, when not nil, is the person who has
// just signed in.
func (s *Server) resume(w http.ResponseWriter, r *http.Request, h heldPost, token string, who *Viewer) {
	p := s.page(r, "Continue where you left off")
	p.CSRFToken = token
	if who != nil {
		p.Viewer = who
	}
	p.Data = resumeData{Held: h, Back: s.backFor(h.Path)}
	s.render.Render(w, r, http.StatusOK, "resume", p)
}

// backFor is the page to offer instead of sending a held post again: the
// page at the same address when there is one (a draft's question shows
// what was saved), "Your account" otherwise.
func (s *Server) backFor(path string) string {
	u, err := url.Parse(path)
	if err != nil {
		return "/account"
	}
	_, pattern := s.mux.Handler(&http.Request{Method: http.MethodGet, URL: u, Host: "localhost"})
	if !strings.HasPrefix(pattern, "GET /") || pattern == "GET /" {
		return "/account"
	}
	return safeNext(path)
}

// interruptWithSignIn answers a post that arrived without a live session
// with the sign-in page, carrying what was posted so that it can be sent
// again after signing in. A post that cannot be held gets the sign-in
// page that comes back to the address it was sent to.
func (s *Server) interruptWithSignIn(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "Sign in")
	p.Viewer = nil
	p.Updated = nil
	p.CSRFToken = s.visitorToken(w, r)
	f := signInForm{Next: s.backFor(r.URL.Path), Interrupted: true}
	if h, ok := s.holdRequest(r); ok {
		f.Held = &h
	}
	p.Form = f
	s.render.Render(w, r, http.StatusUnauthorized, "account-sign-in", p)
}

// visitorToken is the form token of a visitor who is not signed in, for a
// page shown when a session has just ended: the token the request came
// with belongs to that session. It sets the psims_csrf cookie the token is
// bound to when the browser has none.
func (s *Server) visitorToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return tokenFor("visitor:" + c.Value)
	}
	return tokenFor("visitor:" + s.newVisitorCookie(w))
}
