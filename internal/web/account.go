package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/org"
)

// registerForm is what the registration form holds. The password is never
// sent back to the browser.
type registerForm struct {
	Name     string
	JobRole  string
	OrgQuery string // what was typed in the organisation box
	Org      string // the ODS code chosen from search results
	Email    string
}

// registerData is what the registration page shows besides the form.
type registerData struct {
	Searched bool
	Results  []org.Organisation
	// External is set when the person is registering through an OpenID
	// Connect provider they signed in at: the account has no password.
	External *externalSignUp
}

// externalSignUp is a registration through an OpenID Connect provider:
// the token of the identity held for it, how people know the provider,
// and the address it verified ("" when none).
type externalSignUp struct {
	token string
	Label string
	Email string
}

// Action is where the registration form posts.
func (d registerData) Action() string {
	if d.External != nil {
		return "/register/oidc"
	}
	return "/register"
}

const orgResultsLimit = 20

func (s *Server) registerForm(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "Create an account")
	p.Form = registerForm{}
	p.Data = registerData{}
	s.render.Render(w, r, http.StatusOK, "account-register", p)
}

// register handles both buttons of the registration form: "Search" finds
// organisations by name or code without JavaScript and shows the form again
// with everything kept; "Create account" registers.
func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	s.registerWith(w, r, nil)
}

// registerWith is register, through an OpenID Connect provider when ext is
// set.
func (s *Server) registerWith(w http.ResponseWriter, r *http.Request, ext *externalSignUp) {
	f := registerForm{
		Name:     r.PostFormValue("name"),
		JobRole:  r.PostFormValue("job_role"),
		OrgQuery: strings.TrimSpace(r.PostFormValue("org_query")),
		Org:      r.PostFormValue("org"),
		Email:    r.PostFormValue("email"),
	}
	p := s.page(r, "Create an account")
	p.Form = f
	data := registerData{External: ext}

	search := func() error {
		data.Searched = true
		res, err := s.Orgs.Search(r.Context(), f.OrgQuery, orgResultsLimit)
		data.Results = res
		return err
	}
	if r.PostFormValue("action") == "search" {
		if f.OrgQuery == "" {
			p.Errors = []FieldError{{Field: "org_query", Message: "Enter the name or ODS code of your organisation to search for it"}}
		} else if err := search(); err != nil {
			s.fail(w, r, err)
			return
		}
		p.Data = data
		s.render.Render(w, r, http.StatusOK, "account-register", p)
		return
	}

	code := f.Org
	if code == "" {
		code = f.OrgQuery
	}
	reg := account.Registration{Name: f.Name, JobRole: f.JobRole, OrgCode: code, Email: f.Email}
	var err error
	if ext != nil {
		var res account.SignInResult
		res, err = s.Accounts.RegisterExternal(r.Context(), ext.token, reg, ext.Label, s.signInClient(r))
		if err == nil {
			s.clearHeldIdentity(w)
			s.afterExternalRegistration(w, r, res)
			return
		}
	} else {
		reg.Password, reg.ConfirmPassword = r.PostFormValue("password"), r.PostFormValue("confirm_password")
		if err = s.Accounts.Register(r.Context(), reg, s.client(r).IP); err == nil {
			http.Redirect(w, r, "/register/check-email", http.StatusSeeOther)
			return
		}
	}
	errs, ok := fieldErrors(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	if f.Org == "" {
		// Text that is not a code is searched for, not refused as one.
		problem, err := s.orgQueryProblem(r.Context(), f.OrgQuery)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if problem != "" {
			errs = replaceFieldError(errs, "org", problem)
		}
	}
	for _, fe := range errs {
		field := fe.Field
		if field == "org" {
			// The error links to the box the person types in.
			field = "org_query"
			if f.OrgQuery != "" {
				if err := search(); err != nil {
					s.fail(w, r, err)
					return
				}
			}
		}
		p.Errors = append(p.Errors, FieldError{Field: field, Message: fe.Message})
	}
	p.Data = data
	s.render.Render(w, r, http.StatusUnprocessableEntity, "account-register", p)
}

// verifyEmailForm shows a button to confirm the address. Confirming is a
// POST, so mail scanners that follow links change nothing.
func (s *Server) verifyEmailForm(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "Confirm your email address")
	p.Data = r.URL.Query().Get("token")
	s.render.Render(w, r, http.StatusOK, "account-verify", p)
}

func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request) {
	u, err := s.Accounts.VerifyEmail(r.Context(), r.PostFormValue("token"), s.client(r).IP)
	if apperr.CodeOf(err) == apperr.Invalid {
		p := s.page(r, "This link has expired")
		s.render.Render(w, r, http.StatusUnprocessableEntity, "account-link-expired", p)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if u.Status == account.StatusActive {
		p := s.page(r, "Your email address is confirmed")
		p.Notice = "Your email address is confirmed and your account is ready."
		s.render.Render(w, r, http.StatusOK, "account-verified", p)
		return
	}
	http.Redirect(w, r, "/pending-approval", http.StatusSeeOther)
}

type emailForm struct{ Email string }

func (s *Server) resendForm(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "Get a new confirmation link")
	p.Form = emailForm{}
	s.render.Render(w, r, http.StatusOK, "account-resend", p)
}

func (s *Server) resend(w http.ResponseWriter, r *http.Request) {
	f := emailForm{Email: r.PostFormValue("email")}
	if err := s.Accounts.ResendVerification(r.Context(), f.Email); err != nil {
		if account.IsInvalid(err) {
			p := s.page(r, "Get a new confirmation link")
			p.Form = f
			p.Errors = []FieldError{{Field: "email", Message: apperr.MessageOf(err)}}
			s.render.Render(w, r, http.StatusUnprocessableEntity, "account-resend", p)
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/register/check-email", http.StatusSeeOther)
}

type signInForm struct {
	Email string
	Next  string
	// Held is a form sent after the session ended, to send again once
	// signed in (see held.go).
	Held *heldPost
	// Interrupted is true when the page answers a form sent without a
	// session.
	Interrupted bool
	// Linking is how people know the provider whose sign-in is held for
	// this browser, when signing in is to link it (oidc.go).
	Linking string
}

func (s *Server) signInForm(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "Sign in")
	next := safeNext(r.URL.Query().Get("next"))
	p.Form = signInForm{Next: next, Linking: s.linkingLabel(r, next)}
	s.render.Render(w, r, http.StatusOK, "account-sign-in", p)
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	f := signInForm{Email: r.PostFormValue("email"), Next: safeNext(r.PostFormValue("next"))}
	f.Linking = s.linkingLabel(r, f.Next)
	if h, ok := s.heldFrom(r); ok {
		f.Held = &h
	}
	p := s.page(r, "Sign in")
	p.Form = f
	plain := r.PostFormValue("password")
	if strings.TrimSpace(f.Email) == "" || plain == "" {
		if strings.TrimSpace(f.Email) == "" {
			p.Errors = append(p.Errors, FieldError{Field: "email", Message: "Enter your email address"})
		}
		if plain == "" {
			p.Errors = append(p.Errors, FieldError{Field: "password", Message: "Enter your password"})
		}
		s.render.Render(w, r, http.StatusUnprocessableEntity, "account-sign-in", p)
		return
	}
	res, err := s.Accounts.SignIn(r.Context(), f.Email, plain, s.signInClient(r))
	if res.Outcome != "" {
		s.Metrics.SignIn(res.Outcome)
	}
	if errors.Is(err, account.ErrSignInFailed) {
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

// afterSignIn answers a sign-in that proved who the person is (by password
// or passkey): a session and where they were going, or the second step, or
// why the account cannot be used yet.
func (s *Server) afterSignIn(w http.ResponseWriter, r *http.Request, res account.SignInResult, f signInForm) {
	switch res.Outcome {
	case account.OutcomeSuccess:
		// A new session ID at sign-in: any session a visitor had before is
		// replaced, never upgraded.
		s.setSessionCookie(w, res.Session.Token)
		s.recordSignIn(r, res.User, res.Session.Token)
		switch res.Step {
		case account.StepVerify:
			// The code is asked for on this response, so a held form
			// stays in the page.
			p := s.page(r, "Enter the code from your authenticator app")
			p.Viewer = &Viewer{Name: res.User.Name, Email: res.User.Email, Role: string(res.User.Role), OrgName: res.User.OrgName, Pending: true}
			p.CSRFToken = tokenFor("session:" + res.Session.Token)
			keys, err := s.Accounts.Passkeys(r.Context(), res.User.ID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			p.Form = secondStepForm{Next: f.Next, Held: f.Held, HasPasskey: len(keys) > 0}
			s.render.Render(w, r, http.StatusOK, "account-two-step-verify", p)
			return
		case account.StepEnrol:
			http.Redirect(w, r, setUpPath+"?next="+url.QueryEscape(f.Next), http.StatusSeeOther)
			return
		}
		if f.Held != nil {
			// The form comes with a token of the new session.
			who := &Viewer{Name: res.User.Name, Email: res.User.Email, Role: string(res.User.Role), OrgName: res.User.OrgName}
			s.resume(w, r, *f.Held, tokenFor("session:"+res.Session.Token), who)
			return
		}
		http.Redirect(w, r, f.Next, http.StatusSeeOther)
	case account.OutcomeUnverified:
		p := s.page(r, "Confirm your email address first")
		p.Form = emailForm{Email: res.User.Email}
		s.render.Render(w, r, http.StatusForbidden, "account-unverified", p)
	case account.OutcomePending:
		http.Redirect(w, r, "/pending-approval", http.StatusSeeOther)
	default:
		p := s.page(r, "You cannot sign in")
		s.render.Render(w, r, http.StatusForbidden, "account-barred", p)
	}
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if v := viewerFrom(r.Context()); v != nil {
		if err := s.Accounts.SignOut(r.Context(), v.session, s.client(r).IP); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.clearSessionCookie(w)
	p := s.page(r, "You have signed out")
	p.Viewer = nil
	p.CSRFToken = ""
	s.render.Render(w, r, http.StatusOK, "account-signed-out", p)
}

func (s *Server) signOutEverywhere(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	if err := s.Accounts.SignOutEverywhere(r.Context(), v.user.ID, s.client(r).IP); err != nil {
		s.fail(w, r, err)
		return
	}
	s.clearSessionCookie(w)
	p := s.page(r, "You have signed out on every device")
	p.Viewer = nil
	p.CSRFToken = ""
	s.render.Render(w, r, http.StatusOK, "account-signed-out", p)
}

// accountData is what "Your account" shows.
type accountData struct {
	User      account.User
	OrgName   string
	RoleLabel string
	Sessions  []account.Session
	// Devices are the browsers remembered after the second step.
	Devices []account.Device
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	sessions, err := s.Accounts.Sessions(r.Context(), v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	devices, err := s.Accounts.Devices(r.Context(), v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Your account")
	p.Notice = map[string]string{"forgotten": "That browser is forgotten: signing in there needs the second step again."}[r.URL.Query().Get("done")]
	p.Data = accountData{User: v.user, OrgName: v.orgName, RoleLabel: account.RoleLabel(v.user.Role), Sessions: sessions, Devices: devices}
	s.render.Render(w, r, http.StatusOK, "account", p)
}

func (s *Server) resetRequestForm(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "Reset your password")
	p.Form = emailForm{}
	s.render.Render(w, r, http.StatusOK, "account-reset-request", p)
}

func (s *Server) resetRequest(w http.ResponseWriter, r *http.Request) {
	f := emailForm{Email: r.PostFormValue("email")}
	err := s.Accounts.RequestReset(r.Context(), f.Email, s.client(r).IP)
	if account.IsInvalid(err) {
		p := s.page(r, "Reset your password")
		p.Form = f
		msg := apperr.MessageOf(err)
		if strings.TrimSpace(f.Email) == "" {
			msg = "Enter your email address"
		}
		p.Errors = []FieldError{{Field: "email", Message: msg}}
		s.render.Render(w, r, http.StatusUnprocessableEntity, "account-reset-request", p)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/password-reset/sent", http.StatusSeeOther)
}

func (s *Server) resetForm(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if err := s.Accounts.CheckResetToken(r.Context(), token); err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			p := s.page(r, "This link has expired")
			s.render.Render(w, r, http.StatusUnprocessableEntity, "account-link-expired", p)
			return
		}
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Choose a new password")
	p.Data = token
	s.render.Render(w, r, http.StatusOK, "account-reset", p)
}

func (s *Server) reset(w http.ResponseWriter, r *http.Request) {
	token := r.PostFormValue("token")
	err := s.Accounts.ResetPassword(r.Context(), token, r.PostFormValue("password"), r.PostFormValue("confirm_password"), s.client(r).IP)
	if err == nil {
		s.clearSessionCookie(w)
		p := s.page(r, "Your password has been changed")
		p.Viewer = nil
		s.render.Render(w, r, http.StatusOK, "account-reset-done", p)
		return
	}
	if errs, ok := fieldErrors(err); ok {
		p := s.page(r, "Choose a new password")
		p.Data = token
		p.Errors = errs
		s.render.Render(w, r, http.StatusUnprocessableEntity, "account-reset", p)
		return
	}
	if apperr.CodeOf(err) == apperr.Invalid {
		p := s.page(r, "This link has expired")
		s.render.Render(w, r, http.StatusUnprocessableEntity, "account-link-expired", p)
		return
	}
	s.fail(w, r, err)
}
