package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/datepart"
	"github.com/psims/psims/internal/org"
)

// profileRoutes registers the pages where users keep their own details
// current (P14) and record their information governance training (T18).
func (s *Server) profileRoutes(r *router) {
	r.handleFunc("GET /account/profile", s.profilePage)
	r.handleFunc("GET /account/profile/details", s.profileDetailsForm)
	r.handleFunc("POST /account/profile/details", s.profileDetails)
	r.handleFunc("GET /account/profile/email", s.profileEmailForm)
	r.handleFunc("POST /account/profile/email", s.limited(s.profileEmail))
	r.handleFunc("POST /account/profile/email/cancel", s.profileEmailCancel)
	// Confirming a new address needs no session: the person may open the
	// link on another device, and the token is the proof.
	r.handleFunc("GET /account/profile/email/confirm", s.profileEmailConfirmForm)
	r.handleFunc("POST /account/profile/email/confirm", s.limited(s.profileEmailConfirm))
	r.handleFunc("GET /account/profile/email/changed", s.infoPage("profile-email-changed", "Your email address has changed"))
	r.handleFunc("GET /account/profile/organisation", s.profileOrgForm)
	r.handleFunc("POST /account/profile/organisation", s.profileOrg)
	r.handleFunc("POST /account/profile/organisation/withdraw", s.profileOrgWithdraw)
	r.handleFunc("GET /account/ig-training", s.igTrainingForm)
	r.handleFunc("POST /account/ig-training", s.igTraining)
}

// self authorises the signed-in user to manage their own account and
// returns them. When it returns false the response has been written (the
// sign-in page for visitors).
func (s *Server) self(w http.ResponseWriter, r *http.Request) (*viewer, bool) {
	v := viewerFrom(r.Context())
	var id int64
	if v != nil {
		id = v.user.ID
	}
	if !s.authorize(w, r, authz.ManageOwnAccount, authz.Object{UserID: id}) {
		return nil, false
	}
	return v, true
}

// profileNotice is the success message for a change named in the "done"
// query of the page a form redirects to. Only fixed messages are shown, so
// the query cannot put words on the page.
func profileNotice(done string, u account.User) string {
	switch done {
	case "details":
		return "Your name and job role have been saved."
	case "email":
		if u.PendingEmail != "" {
			return "Check your inbox at " + u.PendingEmail + ". We have sent a link to confirm your new email address."
		}
	case "email-cancelled":
		return "Your email address will not change."
	case "organisation":
		return "Your request to move organisation has been sent. An administrator at your new organisation will decide."
	case "organisation-withdrawn":
		return "You have withdrawn your request to move organisation."
	case "ig-training":
		return "Your information governance training date has been saved."
	}
	return ""
}

// profileData is what "Your details" shows.
type profileData struct {
	User           account.User
	OrgName        string
	PendingOrgName string
	RoleLabel      string
	IG             igStatus
	// Alerts lists the event alerts chosen, for reviewers and organisation
	// admins; ShowAlerts is false for other roles.
	ShowAlerts bool
	Alerts     []string
}

// igStatus is the state of a user's information governance training.
type igStatus struct {
	Required   bool // the role sees other people's data (T18)
	Recorded   bool
	On         time.Time
	ValidUntil time.Time
	Current    bool
	Months     int // how long training counts
}

func (s *Server) igStatus(u account.User) igStatus {
	st := igStatus{Required: authz.SeesOthersData(string(u.Role)), Current: s.Accounts.IGCurrent(u),
		Months: s.Accounts.Settings().IGTrainingValidMonths}
	if until, ok := s.Accounts.IGValidUntil(u); ok {
		st.Recorded, st.On, st.ValidUntil = true, *u.IGTrainingAt, until
	}
	return st
}

// orgName returns the name of the organisation with the code, or the code
// itself when it cannot be found.
func (s *Server) orgName(r *http.Request, code string) (string, error) {
	c, err := org.ParseCode(code)
	if err != nil {
		return code, nil
	}
	o, err := s.Orgs.Get(r.Context(), c)
	if apperr.CodeOf(err) == apperr.NotFound {
		return code, nil
	}
	if err != nil {
		return "", err
	}
	return o.Name, nil
}

func (s *Server) profilePage(w http.ResponseWriter, r *http.Request) {
	v, ok := s.self(w, r)
	if !ok {
		return
	}
	u := v.user
	d := profileData{User: u, OrgName: v.orgName, RoleLabel: account.RoleLabel(u.Role), IG: s.igStatus(u)}
	if u.PendingOrgCode != "" {
		name, err := s.orgName(r, u.PendingOrgCode)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.PendingOrgName = name
	}
	if account.GetsAlerts(u) {
		prefs, err := s.Accounts.AlertPrefs(r.Context(), u.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.ShowAlerts, d.Alerts = true, alertSummary(prefs)
	}
	p := s.page(r, "Your details")
	p.Data = d
	p.Notice = profileNotice(r.URL.Query().Get("done"), u)
	s.render.Render(w, r, http.StatusOK, "profile", p)
}

// detailsForm is the name and job role form.
type detailsForm struct{ Name, JobRole string }

func (s *Server) profileDetailsForm(w http.ResponseWriter, r *http.Request) {
	v, ok := s.self(w, r)
	if !ok {
		return
	}
	p := s.page(r, "Change your name and job role")
	p.Form = detailsForm{Name: v.user.Name, JobRole: v.user.JobRole}
	s.render.Render(w, r, http.StatusOK, "profile-details", p)
}

func (s *Server) profileDetails(w http.ResponseWriter, r *http.Request) {
	v, ok := s.self(w, r)
	if !ok {
		return
	}
	f := detailsForm{Name: r.PostFormValue("name"), JobRole: r.PostFormValue("job_role")}
	err := s.Accounts.UpdateDetails(r.Context(), v.user, f.Name, f.JobRole, s.client(r).IP)
	if err == nil {
		http.Redirect(w, r, "/account/profile?done=details", http.StatusSeeOther)
		return
	}
	errs, ok := fieldErrors(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Change your name and job role")
	p.Form = f
	p.Errors = errs
	s.render.Render(w, r, http.StatusUnprocessableEntity, "profile-details", p)
}

// emailChangeForm is the new address form; the password is never sent back.
type emailChangeForm struct{ Email string }

// emailChangeData is what the email page shows besides the form.
type emailChangeData struct {
	Current string
	Pending string
}

func (s *Server) profileEmailForm(w http.ResponseWriter, r *http.Request) {
	v, ok := s.self(w, r)
	if !ok {
		return
	}
	p := s.page(r, "Change your email address")
	p.Form = emailChangeForm{}
	p.Data = emailChangeData{Current: v.user.Email, Pending: v.user.PendingEmail}
	s.render.Render(w, r, http.StatusOK, "profile-email", p)
}

func (s *Server) profileEmail(w http.ResponseWriter, r *http.Request) {
	v, ok := s.self(w, r)
	if !ok {
		return
	}
	f := emailChangeForm{Email: strings.TrimSpace(r.PostFormValue("email"))}
	err := s.Accounts.RequestEmailChange(r.Context(), v.user, f.Email, r.PostFormValue("current_password"), s.client(r).IP)
	if err == nil {
		http.Redirect(w, r, "/account/profile?done=email", http.StatusSeeOther)
		return
	}
	errs, ok := fieldErrors(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Change your email address")
	p.Form = f
	p.Data = emailChangeData{Current: v.user.Email, Pending: v.user.PendingEmail}
	p.Errors = errs
	s.render.Render(w, r, http.StatusUnprocessableEntity, "profile-email", p)
}

func (s *Server) profileEmailCancel(w http.ResponseWriter, r *http.Request) {
	v, ok := s.self(w, r)
	if !ok {
		return
	}
	if err := s.Accounts.CancelEmailChange(r.Context(), v.user, s.client(r).IP); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/profile?done=email-cancelled", http.StatusSeeOther)
}

// profileEmailConfirmForm shows a button that applies the change. Applying
// is a POST, so mail scanners that follow links change nothing.
func (s *Server) profileEmailConfirmForm(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if err := s.Accounts.CheckEmailChangeToken(r.Context(), token); err != nil {
		s.emailLinkFailed(w, r, err)
		return
	}
	p := s.page(r, "Confirm your new email address")
	p.Data = token
	s.render.Render(w, r, http.StatusOK, "profile-email-confirm", p)
}

func (s *Server) profileEmailConfirm(w http.ResponseWriter, r *http.Request) {
	_, err := s.Accounts.ConfirmEmailChange(r.Context(), r.PostFormValue("token"), s.client(r).IP)
	if err != nil {
		s.emailLinkFailed(w, r, err)
		return
	}
	// Every session of the account has ended; this browser's too, if any.
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/account/profile/email/changed", http.StatusSeeOther)
}

// emailLinkFailed explains a confirmation link that cannot be used.
func (s *Server) emailLinkFailed(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, account.ErrEmailTaken):
		p := s.page(r, "Your email address has not changed")
		p.Data = apperr.MessageOf(err)
		s.render.Render(w, r, http.StatusConflict, "profile-email-taken", p)
	case apperr.CodeOf(err) == apperr.Invalid:
		p := s.page(r, "This link has expired")
		s.render.Render(w, r, http.StatusUnprocessableEntity, "profile-email-expired", p)
	default:
		s.fail(w, r, err)
	}
}

// orgMoveForm is the organisation move form, searched the same way as on
// the registration form.
type orgMoveForm struct {
	OrgQuery      string
	Org           string
	Justification string
}

// orgMoveData is what the organisation page shows besides the form.
type orgMoveData struct {
	CurrentName string
	CurrentCode string
	Pending     *account.Request
	Searched    bool
	Results     []org.Organisation
}

func (s *Server) orgMoveData(r *http.Request, v *viewer) (orgMoveData, error) {
	d := orgMoveData{CurrentName: v.orgName, CurrentCode: v.user.OrgCode}
	req, err := s.Accounts.PendingRequestFor(r.Context(), v.user.ID, account.KindOrgMove)
	if err != nil {
		return d, err
	}
	d.Pending = req
	return d, nil
}

func (s *Server) profileOrgForm(w http.ResponseWriter, r *http.Request) {
	v, ok := s.self(w, r)
	if !ok {
		return
	}
	d, err := s.orgMoveData(r, v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Move to another organisation")
	p.Form = orgMoveForm{}
	p.Data = d
	s.render.Render(w, r, http.StatusOK, "profile-organisation", p)
}

// profileOrg handles both buttons of the organisation form: "Search" finds
// organisations without JavaScript and shows the form again with
// everything kept; "Send request" asks to move.
func (s *Server) profileOrg(w http.ResponseWriter, r *http.Request) {
	v, ok := s.self(w, r)
	if !ok {
		return
	}
	f := orgMoveForm{
		OrgQuery:      strings.TrimSpace(r.PostFormValue("org_query")),
		Org:           r.PostFormValue("org"),
		Justification: r.PostFormValue("justification"),
	}
	d, err := s.orgMoveData(r, v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Move to another organisation")
	p.Form = f
	search := func() error {
		d.Searched = true
		res, err := s.Orgs.Search(r.Context(), f.OrgQuery, orgResultsLimit)
		d.Results = res
		return err
	}
	if r.PostFormValue("action") == "search" {
		if f.OrgQuery == "" {
			p.Errors = []FieldError{{Field: "org_query", Message: "Enter the name or ODS code of your new organisation to search for it"}}
		} else if err := search(); err != nil {
			s.fail(w, r, err)
			return
		}
		p.Data = d
		status := http.StatusOK
		if p.Errors != nil {
			status = http.StatusUnprocessableEntity
		}
		s.render.Render(w, r, status, "profile-organisation", p)
		return
	}

	code := f.Org
	if code == "" {
		code = f.OrgQuery
	}
	err = s.Accounts.RequestOrgMove(r.Context(), v.user, code, f.Justification, s.client(r).IP)
	if err == nil {
		http.Redirect(w, r, "/account/profile?done=organisation", http.StatusSeeOther)
		return
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
	for i, fe := range errs {
		if fe.Field != "org" {
			continue
		}
		// The error links to the box the person types in.
		errs[i].Field = "org_query"
		if f.OrgQuery != "" {
			if err := search(); err != nil {
				s.fail(w, r, err)
				return
			}
		}
	}
	p.Data = d
	p.Errors = errs
	s.render.Render(w, r, http.StatusUnprocessableEntity, "profile-organisation", p)
}

func (s *Server) profileOrgWithdraw(w http.ResponseWriter, r *http.Request) {
	v, ok := s.self(w, r)
	if !ok {
		return
	}
	if err := s.Accounts.WithdrawOrgMove(r.Context(), v.user, s.client(r).IP); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/profile?done=organisation-withdrawn", http.StatusSeeOther)
}

// igDateField names the parts of the training date input.
const igDateField = "ig_date"

// dateInput is what was typed in an NHS.UK date input, and which of its
// parts have an error.
type dateInput struct {
	Day, Month, Year          string
	DayErr, MonthErr, YearErr bool
	Message                   string // the error shown above the parts
}

// errorField is the id of the part an error summary links to: the first
// part with an error.
func (d dateInput) errorField(name string) string {
	switch {
	case d.DayErr:
		return name + "-day"
	case d.MonthErr:
		return name + "-month"
	}
	return name + "-year"
}

// parseDateInput checks a date typed into day, month and year boxes with
// datepart.Parse, in NHS.UK style. label starts the messages, as in "Date
// you completed the training must include a month"; missing is the
// message when nothing was typed. It returns the date, or d (its parts
// trimmed) with the message and the parts in error set.
func parseDateInput(d dateInput, label, missing string) (time.Time, dateInput, bool) {
	d.Day, d.Month, d.Year = strings.TrimSpace(d.Day), strings.TrimSpace(d.Month), strings.TrimSpace(d.Year)
	t, p := datepart.Parse(d.Day, d.Month, d.Year, datepart.Rules{Label: label, Missing: missing})
	if p != nil {
		d.DayErr, d.MonthErr, d.YearErr = p.Parts.Has(datepart.Day), p.Parts.Has(datepart.Month), p.Parts.Has(datepart.Year)
		d.Message = p.Message
		return time.Time{}, d, false
	}
	return t, d, true
}

// igTrainingData is what the IG training page shows besides the form.
type igTrainingData struct {
	IG igStatus
}

func (s *Server) igTrainingForm(w http.ResponseWriter, r *http.Request) {
	v, ok := s.self(w, r)
	if !ok {
		return
	}
	p := s.page(r, "Information governance training")
	p.Form = dateInput{}
	p.Data = igTrainingData{IG: s.igStatus(v.user)}
	p.Notice = profileNotice(r.URL.Query().Get("done"), v.user)
	s.render.Render(w, r, http.StatusOK, "ig-training", p)
}

func (s *Server) igTraining(w http.ResponseWriter, r *http.Request) {
	v, ok := s.self(w, r)
	if !ok {
		return
	}
	in := dateInput{Day: r.PostFormValue(igDateField + "-day"), Month: r.PostFormValue(igDateField + "-month"), Year: r.PostFormValue(igDateField + "-year")}
	day, in, valid := parseDateInput(in, "Date you completed the training", "Enter the date you completed the training")
	if valid {
		err := s.Accounts.RecordIGTraining(r.Context(), v.user, day, s.client(r).IP)
		if err == nil {
			http.Redirect(w, r, "/account/ig-training?done=ig-training", http.StatusSeeOther)
			return
		}
		errs, ok := fieldErrors(err)
		if !ok {
			s.fail(w, r, err)
			return
		}
		in.DayErr, in.MonthErr, in.YearErr = true, true, true
		in.Message = errs[0].Message
	}
	p := s.page(r, "Information governance training")
	p.Form = in
	p.Data = igTrainingData{IG: s.igStatus(v.user)}
	p.Errors = []FieldError{{Field: in.errorField(igDateField), Message: in.Message}}
	s.render.Render(w, r, http.StatusUnprocessableEntity, "ig-training", p)
}
