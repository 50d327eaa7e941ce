package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/oidclogin"
)

// Sign-in through OpenID Connect providers (P11): the buttons on the
// sign-in page, the provider's callback, linking a provider to an account
// and registering through one, and the provider's back-channel logout.

const (
	// oidcStateCookie holds a sign-in's state while the browser is at the
	// provider, so that only this browser can finish it.
	oidcStateCookie = "psims_oidc_state"
	// heldIdentityCookie holds the token of an identity no account is
	// linked to yet, while its person signs in to link it or registers.
	heldIdentityCookie = "psims_oidc_held"
	// linkHeldPath is where a signed-in person confirms linking a held
	// identity.
	linkHeldPath = "/account/sign-ins/link"
	// notLinkedPath says a provider's sign-in has no account yet.
	notLinkedPath = "/sign-in/not-linked"
)

func (s *Server) oidcRoutes(r *router) {
	// Starting a sign-in is a link, not a form: a form's post answered
	// with a redirect to the provider is refused by browsers unless the
	// Content-Security-Policy's form-action names every origin the
	// provider's login then passes through. A visitor who follows it
	// only starts a sign-in of their own.
	r.open("GET /sign-in/oidc/{name}", s.limited(s.oidcStart))
	r.open("GET /sign-in/oidc/{name}/callback", s.limited(s.oidcCallback))
	r.open("GET "+notLinkedPath, s.oidcUnlinked)
	r.open("GET /register/oidc", s.registerExternalForm)
	r.open("POST /register/oidc", s.limited(s.registerExternal))
	r.handleFunc("GET /account/sign-ins", s.requireUser(s.signInsPage))
	r.handleFunc("POST /account/sign-ins/{name}/link", s.requireUser(s.signInLinkStart))
	r.handleFunc("GET "+linkHeldPath, s.requireUser(s.linkHeldForm))
	r.handleFunc("POST "+linkHeldPath, s.requireUser(s.linkHeld))
	r.handleFunc("POST /account/sign-ins/{id}/remove", s.requireUser(s.signInRemove))
	r.open("POST /oidc/{name}/backchannel-logout", s.backChannelLogout)
}

// providerLabel is how people know the provider called name: its label,
// or its name when it is no longer configured.
func (s *Server) providerLabel(name string) string {
	for _, c := range s.OIDC.Choices() {
		if c.Name == name {
			return c.Label
		}
	}
	return name
}

func (s *Server) setShortCookie(w http.ResponseWriter, name, value, path string, maxAge int) {
	// Lax, so the browser sends it on the provider's redirect back.
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearHeldIdentity(w http.ResponseWriter) {
	s.setShortCookie(w, heldIdentityCookie, "", "/", -1)
}

// oidcStart sends the browser to the provider to sign in.
func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request) {
	authURL, state, err := s.OIDC.Begin(r.Context(), r.PathValue("name"), safeNext(r.URL.Query().Get("next")), 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirectToProvider(w, r, authURL, state)
}

func (s *Server) redirectToProvider(w http.ResponseWriter, r *http.Request, authURL, state string) {
	s.setShortCookie(w, oidcStateCookie, state, "/sign-in/oidc/", 600)
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

// oidcCallback finishes a sign-in at a provider: it links the identity
// to the signed-in account that asked, or signs in to the account it is
// linked to, or holds it while its person links or registers.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cb := oidclogin.Callback{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error")}
	if c, err := r.Cookie(oidcStateCookie); err == nil {
		cb.CookieState = c.Value
	}
	s.setShortCookie(w, oidcStateCookie, "", "/sign-in/oidc/", -1)
	name := r.PathValue("name")
	login, err := s.OIDC.Finish(r.Context(), name, cb)
	if err != nil {
		s.signInProblem(w, r, err)
		return
	}
	if login.LinkUserID != 0 {
		v := viewerFrom(r.Context())
		if v == nil || v.user.ID != login.LinkUserID || v.step != account.StepDone {
			s.signInProblem(w, r, apperr.New(apperr.Unauthorized, "You were signed out before "+login.Identity.Label+" sent you back, so nothing was linked. Sign in and try again."))
			return
		}
		if err := s.Accounts.LinkIdentity(r.Context(), v.user, login.Identity, login.Identity.Label, s.client(r)); err != nil {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/account/sign-ins?done=linked", http.StatusSeeOther)
		return
	}
	res, err := s.Accounts.SignInExternal(r.Context(), login.Identity, s.signInClient(r))
	if res.Outcome != "" {
		s.Metrics.SignIn(res.Outcome)
	}
	if err != nil {
		s.signInProblem(w, r, err)
		return
	}
	if res.Outcome == account.OutcomeUnlinked {
		s.setShortCookie(w, heldIdentityCookie, res.Held, "/", 1800)
		http.Redirect(w, r, notLinkedPath, http.StatusSeeOther)
		return
	}
	s.afterSignIn(w, r, res, signInForm{Next: login.Next})
}

// signInProblem shows the sign-in page with what went wrong at the
// provider, or the error page for anything else.
func (s *Server) signInProblem(w http.ResponseWriter, r *http.Request, err error) {
	status := map[apperr.Code]int{apperr.Invalid: http.StatusBadRequest, apperr.Unauthorized: http.StatusUnauthorized,
		apperr.Unavailable: http.StatusServiceUnavailable}[apperr.CodeOf(err)]
	if status == 0 {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Sign in")
	p.Form = signInForm{Next: "/"}
	p.Problem = apperr.MessageOf(err)
	s.render.Render(w, r, status, "account-sign-in", p)
}

// heldIdentity returns the identity held for this browser and the token
// that finds it; ok is false, with a page shown, when there is none.
func (s *Server) heldIdentity(w http.ResponseWriter, r *http.Request) (oidclogin.Identity, string, bool) {
	c, err := r.Cookie(heldIdentityCookie)
	if err != nil || c.Value == "" {
		s.heldGone(w, r)
		return oidclogin.Identity{}, "", false
	}
	id, err := s.Accounts.HeldIdentity(r.Context(), c.Value)
	if apperr.CodeOf(err) == apperr.Invalid {
		s.clearHeldIdentity(w)
		s.heldGone(w, r)
		return oidclogin.Identity{}, "", false
	}
	if err != nil {
		s.fail(w, r, err)
		return oidclogin.Identity{}, "", false
	}
	id.Label = s.providerLabel(id.Provider)
	return id, c.Value, true
}

// linkingLabel is how people know the provider whose sign-in is held for
// this browser, when next is the page that links it, and "" otherwise.
func (s *Server) linkingLabel(r *http.Request, next string) string {
	if next != linkHeldPath {
		return ""
	}
	c, err := r.Cookie(heldIdentityCookie)
	if err != nil || c.Value == "" {
		return ""
	}
	id, err := s.Accounts.HeldIdentity(r.Context(), c.Value)
	if err != nil {
		return "" // gone: the link page will say so
	}
	return s.providerLabel(id.Provider)
}

func (s *Server) heldGone(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "Start signing in again")
	s.render.Render(w, r, http.StatusBadRequest, "account-oidc-expired", p)
}

// oidcUnlinked offers the two ways on for an identity no account has.
func (s *Server) oidcUnlinked(w http.ResponseWriter, r *http.Request) {
	id, _, ok := s.heldIdentity(w, r)
	if !ok {
		return
	}
	p := s.page(r, "Your "+id.Label+" sign-in is not linked to a PSIMS account")
	p.Data = id
	s.render.Render(w, r, http.StatusOK, "account-oidc-unlinked", p)
}

// registerExternalForm is the registration form for an identity no
// account has, filled in from what its provider said.
func (s *Server) registerExternalForm(w http.ResponseWriter, r *http.Request) {
	id, token, ok := s.heldIdentity(w, r)
	if !ok {
		return
	}
	f := registerForm{Name: id.Name, Email: id.Email}
	d := registerData{External: &externalSignUp{token: token, Label: id.Label, Email: id.Email}}
	if len(id.OrgCodes) == 1 {
		// The organisation the provider named, chosen and shown by name.
		res, err := s.Orgs.Search(r.Context(), id.OrgCodes[0], orgResultsLimit)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, o := range res {
			if o.Code.String() == id.OrgCodes[0] {
				f.OrgQuery, f.Org = id.OrgCodes[0], id.OrgCodes[0]
				d.Searched, d.Results = true, res
			}
		}
	}
	p := s.page(r, "Create an account")
	p.Form = f
	p.Data = d
	s.render.Render(w, r, http.StatusOK, "account-register", p)
}

func (s *Server) registerExternal(w http.ResponseWriter, r *http.Request) {
	id, token, ok := s.heldIdentity(w, r)
	if !ok {
		return
	}
	s.registerWith(w, r, &externalSignUp{token: token, Label: id.Label, Email: id.Email})
}

// afterExternalRegistration answers a registration through a provider:
// signed in, waiting for approval, or an email to look for.
func (s *Server) afterExternalRegistration(w http.ResponseWriter, r *http.Request, res account.SignInResult) {
	switch res.Outcome {
	case account.OutcomeCheckEmail:
		http.Redirect(w, r, "/register/check-email", http.StatusSeeOther)
	default:
		s.afterSignIn(w, r, res, signInForm{Next: "/"})
	}
}

// signInsData is what the linked sign-ins page shows.
type signInsData struct {
	// HasPassword says the account has a password, which a provider
	// stands in for; CanRemove that it has another way in than any one
	// linked provider, so a link may be removed.
	HasPassword, CanRemove bool
	Linked                 []linkedSignIn
	// Offer are the providers the account may still link.
	Offer []oidclogin.Choice
}

type linkedSignIn struct {
	account.LinkedIdentity
	Label string
}

var signInNotices = map[string]string{
	"linked":  "Linked. You can now sign in to PSIMS through it.",
	"removed": "Removed. It can no longer sign you in to PSIMS.",
}

func (s *Server) signInsPage(w http.ResponseWriter, r *http.Request) {
	s.renderSignIns(w, r, http.StatusOK, "")
}

func (s *Server) renderSignIns(w http.ResponseWriter, r *http.Request, status int, problem string) {
	v := viewerFrom(r.Context())
	ids, err := s.Accounts.Identities(r.Context(), v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	keys, err := s.Accounts.Passkeys(r.Context(), v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := signInsData{HasPassword: v.user.HasPassword()}
	d.CanRemove = d.HasPassword || len(ids) > 1 || len(keys) > 0
	linked := map[string]bool{}
	for _, id := range ids {
		d.Linked = append(d.Linked, linkedSignIn{LinkedIdentity: id, Label: s.providerLabel(id.Provider)})
		linked[id.Provider] = true
	}
	for _, c := range s.OIDC.Choices() {
		if !linked[c.Name] {
			d.Offer = append(d.Offer, c)
		}
	}
	p := s.page(r, "Sign in through another service")
	p.Notice = signInNotices[r.URL.Query().Get("done")]
	p.Problem = problem
	p.Data = d
	s.render.Render(w, r, status, "account-sign-ins", p)
}

// signInLinkStart sends a signed-in person to a provider to link it.
func (s *Server) signInLinkStart(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	authURL, state, err := s.OIDC.Begin(r.Context(), r.PathValue("name"), "/account/sign-ins", v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirectToProvider(w, r, authURL, state)
}

// linkHeldForm asks a person who has just signed in to confirm linking the
// identity held for their browser.
func (s *Server) linkHeldForm(w http.ResponseWriter, r *http.Request) {
	id, _, ok := s.heldIdentity(w, r)
	if !ok {
		return
	}
	p := s.page(r, "Link "+id.Label+" to your PSIMS account")
	p.Data = id
	s.render.Render(w, r, http.StatusOK, "account-oidc-link", p)
}

func (s *Server) linkHeld(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, token, ok := s.heldIdentity(w, r)
	if !ok {
		return
	}
	if err := s.Accounts.LinkHeldIdentity(r.Context(), v.user, token, id.Label, s.client(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.clearHeldIdentity(w)
	http.Redirect(w, r, "/account/sign-ins?done=linked", http.StatusSeeOther)
}

func (s *Server) signInRemove(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	err := s.Accounts.UnlinkIdentity(r.Context(), v.user, id, s.providerLabel, s.client(r))
	if apperr.CodeOf(err) == apperr.Conflict {
		s.renderSignIns(w, r, http.StatusConflict, apperr.MessageOf(err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/sign-ins?done=removed", http.StatusSeeOther)
}

// backChannelLogout ends the sessions a provider's logout token names
// (OpenID Connect Back-Channel Logout 1.0). The provider's server posts
// it, with no cookie or form token: the token's signature is the
// authority, so checkCSRF lets it through (isBackChannelLogout).
func (s *Server) backChannelLogout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !s.allowed(w, r, "backchannel", backChannelRate, time.Minute) {
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	lo, err := s.OIDC.VerifyLogout(r.Context(), r.PathValue("name"), r.PostFormValue("logout_token"))
	if err == nil {
		_, err = s.Accounts.EndProviderSessions(r.Context(), lo)
	}
	switch c := apperr.CodeOf(err); {
	case err == nil:
		w.WriteHeader(http.StatusOK)
	case c == apperr.Invalid || c == apperr.NotFound:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"the logout token was not accepted"}`))
	default:
		if !errors.Is(err, r.Context().Err()) {
			s.Logger.ErrorContext(r.Context(), "back-channel logout", "err", err)
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}
}

// backChannelRate is how many logout posts one address may make a minute:
// generous, as a provider may end many sessions at once, but a bound on
// anyone sending tokens that make PSIMS fetch the provider's keys.
const backChannelRate = 300

// isBackChannelLogout reports whether r is a provider's back-channel
// logout post, which carries no form token.
func isBackChannelLogout(r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/oidc/")
	if !ok {
		return false
	}
	name, ok := strings.CutSuffix(rest, "/backchannel-logout")
	return ok && name != "" && !strings.Contains(name, "/") && url.PathEscape(name) == name
}
