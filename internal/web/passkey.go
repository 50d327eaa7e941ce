package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
)

// Passkeys (T3): adding and removing them, signing in with one, and
// passing the second step with one. Each ceremony is two posts: the first
// makes the options and renders a page that asks the browser (passkey.js),
// the second sends the browser's answer in a normal form.

func (s *Server) passkeyRoutes(r *router) {
	r.handleFunc("GET /account/passkeys", s.requireUser(s.passkeysPage))
	r.handleFunc("POST /account/passkeys/new", s.requireUser(s.passkeyNew))
	r.handleFunc("POST /account/passkeys/new/finish", s.requireUser(s.passkeyNewFinish))
	r.handleFunc("POST /account/passkeys/{id}/remove", s.requireUser(s.passkeyRemove))
	r.open("POST /sign-in/passkey", s.limited(s.passkeySignIn))
	r.open("POST /sign-in/passkey/finish", s.limited(s.passkeySignInFinish))
	r.open("POST "+secondStepPath+"/passkey", s.passkeySecondStep)
	r.open("POST "+secondStepPath+"/passkey/finish", s.passkeySecondStepFinish)
}

// passkeysData is what the passkeys page shows.
type passkeysData struct {
	Passkeys []account.Passkey
}

var passkeyNotices = map[string]string{
	"added":   "Passkey added. You can use it to sign in.",
	"removed": "Passkey removed. Delete it from your device or password manager too, or it will still be offered when you sign in.",
}

func (s *Server) passkeysPage(w http.ResponseWriter, r *http.Request) {
	s.renderPasskeys(w, r, http.StatusOK, passkeyForm{}, nil, passkeyNotices[r.URL.Query().Get("done")])
}

// passkeyForm is the name typed for a new passkey.
type passkeyForm struct{ Name string }

func (s *Server) renderPasskeys(w http.ResponseWriter, r *http.Request, status int, f passkeyForm, errs []FieldError, notice string) {
	v := viewerFrom(r.Context())
	keys, err := s.Accounts.Passkeys(r.Context(), v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Passkeys")
	p.Form = f
	p.Errors = errs
	p.Notice = notice
	p.Data = passkeysData{Passkeys: keys}
	s.render.Render(w, r, status, "account-passkeys", p)
}

// ceremonyData is what a page that asks the browser for a passkey holds.
type ceremonyData struct {
	Title    string
	Action   string // where the answer is posted
	Kind     string // "create" or "get"
	Ceremony account.Ceremony
	Name     string // of a passkey being added
	Next     string
	Held     *heldPost
	Remember bool   // the second step's "remember this browser"
	Back     string // where to go instead
}

func (s *Server) renderCeremony(w http.ResponseWriter, r *http.Request, d ceremonyData) {
	w.Header().Set("Cache-Control", "no-store")
	p := s.page(r, d.Title)
	p.Data = d
	s.render.Render(w, r, http.StatusOK, "account-passkey-ceremony", p)
}

func (s *Server) passkeyNew(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	f := passkeyForm{Name: r.PostFormValue("name")}
	if !s.Accounts.PasskeysAvailable() {
		// The page says passkeys cannot be used at this address.
		s.renderPasskeys(w, r, http.StatusConflict, f, nil, "")
		return
	}
	c, err := s.Accounts.BeginPasskeyRegistration(r.Context(), v.user, f.Name)
	if errs, ok := fieldErrors(err); ok {
		s.renderPasskeys(w, r, http.StatusUnprocessableEntity, f, errs, "")
		return
	}
	if apperr.CodeOf(err) == apperr.Conflict {
		s.renderPasskeys(w, r, http.StatusConflict, f, []FieldError{{Field: "name", Message: apperr.MessageOf(err)}}, "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderCeremony(w, r, ceremonyData{Title: "Add a passkey", Action: "/account/passkeys/new/finish", Kind: "create",
		Ceremony: c, Name: f.Name, Back: "/account/passkeys"})
}

func (s *Server) passkeyNewFinish(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	f := passkeyForm{Name: r.PostFormValue("name")}
	err := s.Accounts.FinishPasskeyRegistration(r.Context(), v.user, r.PostFormValue("token"), f.Name, r.PostFormValue("credential"), s.client(r))
	if errs, ok := fieldErrors(err); ok {
		s.renderPasskeys(w, r, http.StatusUnprocessableEntity, f, errs, "")
		return
	}
	if c := apperr.CodeOf(err); err != nil && (c == apperr.Invalid || c == apperr.Conflict) {
		s.renderPasskeys(w, r, http.StatusUnprocessableEntity, f, []FieldError{{Field: "name", Message: apperr.MessageOf(err)}}, "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/passkeys?done=added", http.StatusSeeOther)
}

func (s *Server) passkeyRemove(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	if err := s.Accounts.RemovePasskey(r.Context(), v.user, id, s.client(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/passkeys?done=removed", http.StatusSeeOther)
}

// passkeySignIn starts signing in with a passkey from the sign-in page.
func (s *Server) passkeySignIn(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	d := ceremonyData{Title: "Sign in with a passkey", Action: "/sign-in/passkey/finish", Kind: "get",
		Next: next, Back: "/sign-in?next=" + url.QueryEscape(next)}
	if h, ok := s.heldFrom(r); ok {
		d.Held = &h
	}
	c, err := s.Accounts.BeginPasskeySignIn(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Ceremony = c
	s.renderCeremony(w, r, d)
}

func (s *Server) passkeySignInFinish(w http.ResponseWriter, r *http.Request) {
	f := signInForm{Next: safeNext(r.PostFormValue("next"))}
	if h, ok := s.heldFrom(r); ok {
		f.Held = &h
	}
	res, err := s.Accounts.SignInWithPasskey(r.Context(), r.PostFormValue("token"), r.PostFormValue("credential"), s.signInClient(r))
	if res.Outcome != "" {
		s.Metrics.SignIn(res.Outcome)
	}
	if errors.Is(err, account.ErrSignInFailed) || apperr.CodeOf(err) == apperr.Invalid {
		p := s.page(r, "Sign in")
		p.Form = f
		p.Errors = []FieldError{{Field: "email", Message: apperr.MessageOf(err)}}
		s.render.Render(w, r, http.StatusUnauthorized, "account-sign-in", p)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.afterSignIn(w, r, res, f)
}

func (s *Server) passkeySecondStep(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	if v == nil {
		s.interruptWithSignIn(w, r)
		return
	}
	f := s.secondStepFormFrom(r)
	d := ceremonyData{Title: "Use your passkey", Action: secondStepPath + "/passkey/finish", Kind: "get",
		Next: f.Next, Held: f.Held, Remember: f.Remember, Back: secondStepPath + "?next=" + url.QueryEscape(f.Next)}
	if v.step != account.StepVerify {
		http.Redirect(w, r, d.Next, http.StatusSeeOther)
		return
	}
	c, err := s.Accounts.BeginPasskeySecondStep(r.Context(), v.user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Ceremony = c
	s.renderCeremony(w, r, d)
}

func (s *Server) passkeySecondStepFinish(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	f := s.secondStepFormFrom(r)
	if v == nil {
		s.interruptWithSignIn(w, r)
		return
	}
	if v.step != account.StepVerify {
		http.Redirect(w, r, f.Next, http.StatusSeeOther)
		return
	}
	sess, err := s.Accounts.PassSecondStepWithPasskey(r.Context(), v.user, v.session, r.PostFormValue("token"), r.PostFormValue("credential"), s.client(r))
	if c := apperr.CodeOf(err); err != nil && (c == apperr.Unauthorized || c == apperr.Invalid) {
		s.renderSecondStep(w, r, http.StatusUnauthorized, f, []FieldError{{Field: "code", Message: apperr.MessageOf(err)}})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.passedSecondStep(w, r, v, sess, f)
}
