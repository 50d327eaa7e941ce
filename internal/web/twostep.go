package web

import (
	"errors"
	"fmt"
	"html/template"
	"image/color"
	"net/http"
	"net/url"
	"strings"

	"github.com/boombuler/barcode/qr"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
)

// Two-step verification (T3): the second step of signing in, setting up an
// authenticator app, recovery codes, and an admin's reset.

// Paths of the second step, which a session that has not passed it may
// still reach.
const (
	secondStepPath = "/sign-in/two-step"
	setUpPath      = "/account/two-step/set-up"
)

func (s *Server) twoStepRoutes(r *router) {
	// Open to a session waiting for its second step, which may also have
	// terms to accept: those come after.
	r.open("GET "+secondStepPath, s.secondStepForm)
	// Not the per-address limit of the password: a session that reaches
	// this step has given the right password, and its codes are counted
	// by the account's own lockout.
	r.open("POST "+secondStepPath, s.secondStep)
	r.open("GET "+setUpPath, s.requireUser(s.setUpForm))
	r.open("POST "+setUpPath+"/start", s.requireUser(s.setUpStart))
	r.open("POST "+setUpPath, s.requireUser(s.setUpConfirm))

	r.handleFunc("GET /account/two-step", s.requireUser(s.twoStepPage))
	r.handleFunc("POST /account/two-step/recovery-codes", s.requireUser(s.newRecoveryCodes))
	r.handleFunc("POST /account/two-step/turn-off", s.requireUser(s.turnOffTwoStep))
	r.handleFunc("POST /admin/users/{id}/two-step/reset", s.requireUser(s.adminResetTwoStep))
}

// requireSecondStep keeps a session that has passed the password but not
// the second step of signing in to the pages of that step: anything else
// sends it to enter a code, or to set up an app when the account's role
// needs one and it has none.
func (s *Server) requireSecondStep(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := viewerFrom(r.Context())
		if v == nil || v.step == account.StepDone || secondStepOpen(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		target := secondStepPath
		if v.step == account.StepEnrol {
			target = setUpPath
		}
		if r.Method == http.MethodGet {
			target += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
}

// secondStepOpen reports whether a session waiting for its second step may
// reach path.
func secondStepOpen(path string) bool {
	switch path {
	case secondStepPath, secondStepPath + "/passkey", secondStepPath + "/passkey/finish",
		setUpPath, setUpPath + "/start", "/sign-out", "/healthz", "/readyz", "/metrics":
		return true
	}
	return strings.HasPrefix(path, "/static/")
}

// secondStepForm is what the second step's form holds.
type secondStepForm struct {
	Next string
	Held *heldPost
	// HasPasskey offers a passkey instead of a code.
	HasPasskey bool
	// Remember asks for this browser to be remembered.
	Remember bool
}

func (s *Server) secondStepForm(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	if v == nil || v.step != account.StepVerify {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.renderSecondStep(w, r, http.StatusOK, secondStepForm{Next: safeNext(r.URL.Query().Get("next"))}, nil)
}

func (s *Server) renderSecondStep(w http.ResponseWriter, r *http.Request, status int, f secondStepForm, errs []FieldError) {
	if v := viewerFrom(r.Context()); v != nil {
		keys, err := s.Accounts.Passkeys(r.Context(), v.user.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f.HasPasskey = len(keys) > 0
	}
	p := s.page(r, "Enter the code from your authenticator app")
	p.Form = f
	p.Errors = errs
	s.render.Render(w, r, status, "account-two-step-verify", p)
}

// secondStep checks the code, and on success sets the new session's
// cookie and goes on to where the person was going, or sends on the form
// held through sign-in.
func (s *Server) secondStep(w http.ResponseWriter, r *http.Request) {
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
	sess, err := s.Accounts.PassSecondStep(r.Context(), v.user, v.session, r.PostFormValue("code"), s.client(r))
	if errs, ok := fieldErrors(err); ok {
		s.renderSecondStep(w, r, http.StatusUnprocessableEntity, f, errs)
		return
	}
	if errors.Is(err, account.ErrSignInFailed) {
		s.renderSecondStep(w, r, http.StatusUnauthorized, f, []FieldError{{Field: "code", Message: apperr.MessageOf(err)}})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.passedSecondStep(w, r, v, sess, f)
}

// passedSecondStep sets the cookie of the session that has just passed
// the second step (it has a new token) and goes on to where the person
// was going, or sends on the form held through signing in.
func (s *Server) passedSecondStep(w http.ResponseWriter, r *http.Request, v *viewer, sess account.Session, f secondStepForm) {
	s.setSessionCookie(w, sess.Token)
	if f.Remember {
		token, err := s.Accounts.RememberDevice(r.Context(), v.user, sess, s.client(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: token, Path: "/", MaxAge: int(account.RememberFor.Seconds()),
			HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
	}
	if f.Held != nil {
		who := &Viewer{Name: v.user.Name, Email: v.user.Email, Role: string(v.user.Role), OrgName: v.orgName}
		s.resume(w, r, *f.Held, tokenFor("session:"+sess.Token), who)
		return
	}
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
}

// forgetDevice forgets one of the viewer's remembered browsers.
func (s *Server) forgetDevice(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	if err := s.Accounts.ForgetDevice(r.Context(), v.user.ID, id, s.client(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?done=forgotten", http.StatusSeeOther)
}

// secondStepFormFrom reads the second step's form as posted.
func (s *Server) secondStepFormFrom(r *http.Request) secondStepForm {
	f := secondStepForm{Next: safeNext(r.PostFormValue("next")), Remember: r.PostFormValue("remember") == "yes"}
	if h, ok := s.heldFrom(r); ok {
		f.Held = &h
	}
	return f
}

// setUpData is what the set-up page shows.
type setUpData struct {
	Required bool // the account's role needs it
	Setup    *account.TOTPSetup
	QR       template.HTML
}

// setUpForm shows, before an app is being set up, what is needed and a
// button to start; once started, the QR code, the secret and a box for the
// first code.
func (s *Server) setUpForm(w http.ResponseWriter, r *http.Request) {
	s.renderSetUp(w, r, http.StatusOK, nil)
}

func (s *Server) renderSetUp(w http.ResponseWriter, r *http.Request, status int, errs []FieldError) {
	v := viewerFrom(r.Context())
	data := setUpData{Required: s.Accounts.RequiresTwoStep(v.user.Role)}
	setup, err := s.Accounts.PendingTOTP(r.Context(), v.user)
	switch {
	case err == nil:
		data.Setup = &setup
		if data.QR, err = qrSVG(setup.URL); err != nil {
			s.fail(w, r, err)
			return
		}
	case apperr.CodeOf(err) == apperr.NotFound:
		// Not started: the page offers to start.
	case apperr.CodeOf(err) == apperr.Conflict:
		http.Redirect(w, r, "/account/two-step", http.StatusSeeOther)
		return
	default:
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Set up an authenticator app")
	p.Form = secondStepForm{Next: safeNext(r.URL.Query().Get("next"))}
	p.Errors = errs
	p.Data = data
	s.render.Render(w, r, status, "account-two-step-set-up", p)
}

func (s *Server) setUpStart(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	_, err := s.Accounts.StartTOTP(r.Context(), v.user)
	if apperr.CodeOf(err) == apperr.Conflict {
		http.Redirect(w, r, "/account/two-step", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, setUpPath+"?next="+url.QueryEscape(safeNext(r.PostFormValue("next"))), http.StatusSeeOther)
}

// recoveryCodesData is the page that shows new recovery codes, once.
type recoveryCodesData struct {
	Codes []string
	Next  string
	First bool // just set up, rather than replaced
}

func (s *Server) setUpConfirm(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	codes, sess, err := s.Accounts.ConfirmTOTP(r.Context(), v.user, v.session, r.PostFormValue("code"), s.client(r))
	if errs, ok := fieldErrors(err); ok {
		r.URL.RawQuery = url.Values{"next": {r.PostFormValue("next")}}.Encode()
		s.renderSetUp(w, r, http.StatusUnprocessableEntity, errs)
		return
	}
	if c := apperr.CodeOf(err); c == apperr.NotFound || c == apperr.Conflict {
		http.Redirect(w, r, setUpPath, http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setSessionCookie(w, sess.Token)
	s.renderRecoveryCodes(w, r, recoveryCodesData{Codes: codes, Next: safeNext(r.PostFormValue("next")), First: true},
		tokenFor("session:"+sess.Token))
}

// renderRecoveryCodes shows new codes; csrf, when not empty, is the form
// token of a session that has just been given a new token.
func (s *Server) renderRecoveryCodes(w http.ResponseWriter, r *http.Request, data recoveryCodesData, csrf string) {
	// Shown once: no copy is kept by the browser either.
	w.Header().Set("Cache-Control", "no-store")
	p := s.page(r, "Save your recovery codes")
	if csrf != "" {
		p.CSRFToken = csrf
		if p.Viewer != nil {
			p.Viewer.Pending = false
		}
	}
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "account-recovery-codes", p)
}

// twoStepData is what the security settings page shows.
type twoStepData struct {
	Status account.TwoStepStatus
}

var twoStepNotices = map[string]string{
	"off": "Two-step verification is off. Signing in needs only your password.",
}

func (s *Server) twoStepPage(w http.ResponseWriter, r *http.Request) {
	s.renderTwoStep(w, r, http.StatusOK, nil, twoStepNotices[r.URL.Query().Get("done")])
}

func (s *Server) renderTwoStep(w http.ResponseWriter, r *http.Request, status int, errs []FieldError, notice string) {
	v := viewerFrom(r.Context())
	st, err := s.Accounts.TwoStep(r.Context(), v.user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Two-step verification")
	p.Data = twoStepData{Status: st}
	p.Errors = errs
	p.Notice = notice
	s.render.Render(w, r, status, "account-two-step", p)
}

func (s *Server) newRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	codes, err := s.Accounts.NewRecoveryCodes(r.Context(), v.user, s.client(r))
	if apperr.CodeOf(err) == apperr.Conflict {
		http.Redirect(w, r, "/account/two-step", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderRecoveryCodes(w, r, recoveryCodesData{Codes: codes, Next: "/account/two-step"}, "")
}

func (s *Server) turnOffTwoStep(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	err := s.Accounts.TurnOffTwoStep(r.Context(), v.user, r.PostFormValue("code"), s.client(r))
	if errs, ok := fieldErrors(err); ok {
		s.renderTwoStep(w, r, http.StatusUnprocessableEntity, errs, "")
		return
	}
	if errors.Is(err, account.ErrSignInFailed) {
		s.renderTwoStep(w, r, http.StatusUnauthorized, []FieldError{{Field: "code", Message: apperr.MessageOf(err)}}, "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/two-step?done=off", http.StatusSeeOther)
}

func (s *Server) adminResetTwoStep(w http.ResponseWriter, r *http.Request) {
	u, ok := s.targetUser(w, r)
	if !ok || !s.authorize(w, r, authz.ResetTwoStep, targetObject(u)) {
		return
	}
	form := adminUserForm{TwoStepReason: r.PostFormValue("two_step_reason")}
	err := s.Accounts.ResetTwoStep(r.Context(), viewerFrom(r.Context()).user.ID, u, form.TwoStepReason, s.client(r))
	if errs, ok := fieldErrors(err); ok {
		for i := range errs {
			errs[i].Field = "two_step_reason"
		}
		s.renderAdminUser(w, r, http.StatusUnprocessableEntity, u, form, errs, "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/users/%d?done=two-step", u.ID), http.StatusSeeOther)
}

// qrSVG draws the QR code of content as an SVG image, one square a module
// with a quiet zone of four around, for authenticator apps to scan. It
// needs no script and no image request.
func qrSVG(content string) (template.HTML, error) {
	code, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		return "", fmt.Errorf("web: qr code: %w", err)
	}
	size := code.Bounds().Dx()
	const quiet = 4
	var path strings.Builder
	for y := range size {
		for x := range size {
			if dark(code.At(x, y)) {
				fmt.Fprintf(&path, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	full := size + 2*quiet
	return template.HTML(fmt.Sprintf(`<svg class="app-qr-code" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="200" height="200" role="img" aria-label="QR code to scan with your authenticator app" shape-rendering="crispEdges"><rect width="%d" height="%d" fill="#fff"/><path d="%s" fill="#000"/></svg>`,
		full, full, full, full, path.String())), nil
}

// dark reports whether a module of the code is dark.
func dark(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r+g+b < 3*0x8000
}
