package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apikey"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/org"
)

// adminUserRoutes registers the user administration pages for organisation
// and national admins: lists, search, export, suspension and roles.
func (s *Server) adminUserRoutes(r *router) {
	r.handleFunc("GET /admin/users", s.requireUser(s.adminUsers))
	r.handleFunc("GET /admin/users/export", s.requireUser(s.adminUsersExport))
	r.handleFunc("GET /admin/users/{id}", s.requireUser(s.adminUser))
	r.handleFunc("POST /admin/users/{id}/status", s.requireUser(s.adminUserStatus))
	r.handleFunc("POST /admin/users/{id}/role", s.requireUser(s.adminUserRole))
	r.handleFunc("POST /admin/users/{id}/read-grants", s.requireUser(s.adminUserReadGrants))
}

// userListForm is the search and filter form, as typed.
type userListForm struct {
	Query, Org, Role, Status string
	// OrgMatches are the organisations a name typed as the organisation
	// matches, to choose one from.
	OrgMatches []org.Organisation
}

// userOption is one choice in a select, radios or checkboxes.
type userOption struct {
	Value, Label, Hint string
	Selected           bool
}

// userRow is one person in the user list.
type userRow struct {
	ID                     int64
	Name, Email            string
	OrgName, OrgCode, Role string
	StatusLabel, StatusTag string
	IGDue                  bool
}

// userListData is what the user list page shows besides the form.
type userListData struct {
	CanChooseOrg bool   // the viewer may list any organisation, or all
	OrgName      string // the organisation listed, when there is one
	Roles        []userOption
	Statuses     []userOption
	Rows         []userRow
	Total        int
	From, To     int // the positions shown, from 1
	Pagination   pagination
	ExportURL    string
}

// userListScope reads the filter from the query string and chooses the
// organisation to list: the one asked for when the policy allows it, and
// otherwise the viewer's own (so an organisation admin who edits the address
// still sees only their own organisation's people).
func (s *Server) userListScope(r *http.Request, a authz.Action) (account.UserFilter, userListForm, []FieldError, error) {
	q := r.URL.Query()
	form := userListForm{Query: strings.TrimSpace(q.Get("q")), Org: strings.TrimSpace(q.Get("org")), Role: q.Get("role"), Status: q.Get("status")}
	f := account.UserFilter{Query: form.Query}
	if _, err := account.ParseRole(form.Role); err == nil {
		f.Role = account.Role(form.Role)
	} else {
		form.Role = ""
	}
	if slices.Contains(account.FilterStatuses(), account.Status(form.Status)) {
		f.Status = account.Status(form.Status)
	} else {
		form.Status = ""
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		f.Page = n
	}
	sub, err := s.subject(r)
	if err != nil {
		return f, form, nil, err
	}
	var errs []FieldError
	if form.Org != "" {
		// A code or part of a name (orgsearch.go).
		code, matches, problem, err := s.orgFilter(r.Context(), form.Org)
		if err != nil {
			return f, form, nil, err
		}
		if problem != "" {
			errs = append(errs, FieldError{Field: "org", Message: problem})
			form.OrgMatches = matches
		} else {
			form.Org = code
			f.Org = code
		}
	}
	if !authz.Decide(sub, a, authz.Object{Org: f.Org}).Allowed {
		f.Org = sub.Org
		errs = nil
		if !authz.Decide(sub, a, authz.Object{}).Allowed {
			// The organisation box is not shown to this viewer.
			form.Org = ""
		}
	}
	return f, form, errs, nil
}

func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request) {
	f, form, errs, err := s.userListScope(r, authz.ListUsers)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.authorize(w, r, authz.ListUsers, authz.Object{Org: f.Org}) {
		return
	}
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Manage users")
	p.Form = form
	data := userListData{CanChooseOrg: authz.Decide(sub, authz.ListUsers, authz.Object{}).Allowed}
	for _, role := range account.Roles() {
		data.Roles = append(data.Roles, userOption{Value: string(role), Label: account.RoleLabel(role), Selected: form.Role == string(role)})
	}
	for _, st := range account.FilterStatuses() {
		data.Statuses = append(data.Statuses, userOption{Value: string(st), Label: account.StatusLabel(st), Selected: form.Status == string(st)})
	}
	status := http.StatusOK
	if len(errs) > 0 {
		p.Errors = errs
		p.Data = data
		s.render.Render(w, r, http.StatusUnprocessableEntity, "admin-users", p)
		return
	}
	res, err := s.Accounts.ListUsers(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if f.Org != "" && len(res.Users) > 0 {
		data.OrgName = res.Users[0].OrgName
	} else if f.Org != "" {
		if o, err := s.Orgs.Get(r.Context(), parsedCode(f.Org)); err == nil {
			data.OrgName = o.Name
		}
	}
	for _, u := range res.Users {
		data.Rows = append(data.Rows, userRow{ID: u.ID, Name: u.Name, Email: u.Email, OrgName: u.OrgName, OrgCode: u.OrgCode,
			Role: account.RoleLabel(u.Role), StatusLabel: account.StatusLabel(u.Status), StatusTag: userStatusTag(u.Status),
			IGDue: s.igDue(u)})
	}
	data.Total = res.Total
	if len(res.Users) > 0 {
		data.From = (res.Page-1)*res.PerPage + 1
		data.To = data.From + len(res.Users) - 1
	}
	query := url.Values{}
	for k, v := range map[string]string{"q": form.Query, "org": form.Org, "role": form.Role, "status": form.Status} {
		if v != "" {
			query.Set(k, v)
		}
	}
	data.ExportURL = "/admin/users/export"
	if len(query) > 0 {
		data.ExportURL += "?" + query.Encode()
	}
	data.Pagination = paginate(res.Page, res.Pages(), pageLink("/admin/users", query))
	p.Data = data
	s.render.Render(w, r, status, "admin-users", p)
}

// parsedCode turns an ODS code that has already been parsed back into a Code.
func parsedCode(s string) org.Code {
	c, _ := org.ParseCode(s)
	return c
}

// igDue reports whether u's role needs IG training and it is missing or out
// of date (T18).
func (s *Server) igDue(u account.User) bool {
	return u.Status == account.StatusActive && authz.SeesOthersData(string(u.Role)) && !s.Accounts.IGCurrent(u)
}

// userStatusTag is the NHS.UK tag colour for a status.
func userStatusTag(st account.Status) string {
	switch st {
	case account.StatusActive:
		return "nhsuk-tag--green"
	case account.StatusPending:
		return "nhsuk-tag--blue"
	case account.StatusSuspended:
		return "nhsuk-tag--orange"
	case account.StatusDeactivated:
		return "nhsuk-tag--red"
	}
	return "nhsuk-tag--grey"
}

// csvDownload sends its headers on the first write, so an error before any
// data can still be shown as a page.
type csvDownload struct {
	w        http.ResponseWriter
	filename string
	started  bool
}

func (c *csvDownload) Write(b []byte) (int, error) {
	if !c.started {
		c.started = true
		h := c.w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+c.filename+`"`)
		h.Set("Cache-Control", "no-store")
		c.w.WriteHeader(http.StatusOK)
	}
	return c.w.Write(b)
}

func (s *Server) adminUsersExport(w http.ResponseWriter, r *http.Request) {
	f, _, errs, err := s.userListScope(r, authz.ExportUsers)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.authorize(w, r, authz.ExportUsers, authz.Object{Org: f.Org}) {
		return
	}
	if len(errs) > 0 {
		s.fail(w, r, apperr.New(apperr.Invalid, errs[0].Message))
		return
	}
	scope := "all"
	if f.Org != "" {
		scope = strings.ToLower(f.Org)
	}
	v := viewerFrom(r.Context())
	out := &csvDownload{w: w, filename: fmt.Sprintf("psims-users-%s-%s.csv", scope, time.Now().UTC().Format("2006-01-02"))}
	if err := s.Accounts.ExportUsers(r.Context(), f, v.user.ID, s.client(r).IP, out); err != nil {
		if !out.started {
			s.fail(w, r, err)
			return
		}
		// Part of the file has gone: all that can be done is to log it.
		s.Logger.ErrorContext(r.Context(), "user export failed", "err", err, "request_id", RequestID(r.Context()))
	}
	if !out.started {
		// The writer only writes once the CSV has something in it; the
		// header line always is, so this does not happen, but never send
		// an empty 200 without the right type.
		out.Write(nil)
	}
}

// adminUserForm is what the forms on a user's page hold.
type adminUserForm struct {
	Status, Reason, Role, Orgs string
	// ExemptionReason is why the account is kept when not used (P12).
	ExemptionReason string
	// TwoStepReason is why an admin resets the person's two-step
	// verification.
	TwoStepReason string
}

// adminUserData is what a user's page shows.
type adminUserData struct {
	User          account.User
	RoleLabel     string
	StatusLabel   string
	StatusTag     string
	NeedsIG       bool // the role needs IG training (T18)
	IGDue         bool
	ReadGrants    []string
	StatusOptions []userOption
	RoleOptions   []userOption
	CanGrant      bool
	// CanDisclose offers a legal disclosure export about the user (P18).
	CanDisclose bool
	// CanExempt offers to keep the account out of the dormancy sweep, or
	// put it back (P12).
	CanExempt bool
	// APIKeys are the organisation API keys the person made that still
	// work, for an admin who manages them: keys are the organisation's and
	// outlive a suspension, so the page says so (T6, issue 16).
	APIKeys []userAPIKey
	// TwoStep is the person's two-step verification, and CanResetTwoStep
	// offers to remove it for someone who has lost their app (T3).
	TwoStep         account.TwoStepStatus
	CanResetTwoStep bool
}

// userAPIKey is a working key the person made, with where to manage it.
type userAPIKey struct {
	Name, Prefix, Org, Manage string
}

// Notices after a change, by the done= value of the redirect.
var adminUserNotices = map[string]string{
	"suspended":   "Account suspended. They have been signed out and sent an email.",
	"deactivated": "Account deactivated. They have been signed out and sent an email.",
	"active":      "Account reinstated. They can sign in again and have been sent an email.",
	"role":        "Account type changed. They have been signed out and sent an email.",
	"grants":      "Organisations they can read have been updated.",
	"exempt":      "The account will be kept when it is not used. Any warning has been cancelled.",
	"unexempt":    "The account is no longer exempt: it will be warned and deactivated if it is not used.",
	"two-step":    "Two-step verification reset. They have been signed out and sent an email, and will set up an app again when they next sign in if their account type needs one.",
}

// targetUser loads the user named in the path, or shows 404 and returns
// false. A user who does not exist gets the same page as one in another
// organisation, so nobody can find out which IDs exist.
func (s *Server) targetUser(w http.ResponseWriter, r *http.Request) (account.User, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return account.User{}, false
	}
	u, err := s.Accounts.UserWithOrg(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return account.User{}, false
	}
	if u.Status == account.StatusErased {
		s.notFound(w, r) // a tombstone is nobody (P15)
		return account.User{}, false
	}
	return u, true
}

func targetObject(u account.User) authz.Object {
	return authz.Object{Org: u.OrgCode, UserID: u.ID, Role: string(u.Role)}
}

// roleChange is the object of giving u the role to.
func roleChange(u account.User, to account.Role) authz.Object {
	o := targetObject(u)
	o.NewRole = string(to)
	return o
}

func (s *Server) adminUser(w http.ResponseWriter, r *http.Request) {
	u, ok := s.targetUser(w, r)
	if !ok || !s.authorize(w, r, authz.ViewUser, targetObject(u)) {
		return
	}
	form := adminUserForm{}
	s.renderAdminUser(w, r, http.StatusOK, u, form, nil, adminUserNotices[r.URL.Query().Get("done")])
}

func (s *Server) renderAdminUser(w http.ResponseWriter, r *http.Request, status int, u account.User, form adminUserForm, errs []FieldError, notice string) {
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := adminUserData{User: u, RoleLabel: account.RoleLabel(u.Role), StatusLabel: account.StatusLabel(u.Status),
		StatusTag: userStatusTag(u.Status), NeedsIG: authz.SeesOthersData(string(u.Role)), IGDue: s.igDue(u)}
	if u.Role == account.RoleReadOnly {
		grants, err := s.Accounts.ReadGrants(r.Context(), u.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data.ReadGrants = grants
		data.CanGrant = authz.Decide(sub, authz.ManageReadGrants, targetObject(u)).Allowed
		if data.CanGrant && form.Orgs == "" && len(errs) == 0 {
			form.Orgs = strings.Join(grants, "\n")
		}
	}
	if authz.Decide(sub, authz.ChangeStatus, targetObject(u)).Allowed {
		for _, st := range account.StatusChanges(u.Status) {
			o := userOption{Value: string(st), Selected: form.Status == string(st)}
			switch st {
			case account.StatusSuspended:
				o.Label, o.Hint = "Suspend", "They cannot sign in until the account is reinstated."
			case account.StatusDeactivated:
				o.Label, o.Hint = "Deactivate", "Close the account, for example when they leave. It can be reinstated later."
			case account.StatusActive:
				o.Label, o.Hint = "Reinstate", "They can sign in again."
			}
			data.StatusOptions = append(data.StatusOptions, o)
		}
	}
	for _, role := range account.Roles() {
		if role != u.Role && authz.Decide(sub, authz.ChangeRole, roleChange(u, role)).Allowed {
			data.RoleOptions = append(data.RoleOptions, userOption{Value: string(role), Label: account.RoleLabel(role), Selected: form.Role == string(role)})
		}
	}
	if data.TwoStep, err = s.Accounts.TwoStep(r.Context(), u); err != nil {
		s.fail(w, r, err)
		return
	}
	data.CanResetTwoStep = authz.Decide(sub, authz.ResetTwoStep, targetObject(u)).Allowed
	data.CanDisclose = authz.Decide(sub, authz.DiscloseUserData, targetObject(u)).Allowed
	data.CanExempt = authz.Decide(sub, authz.ExemptFromDormancy, targetObject(u)).Allowed
	if data.APIKeys, err = s.apiKeysMadeBy(r, sub, u); err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, u.Name)
	p.Form = form
	p.Errors = errs
	p.Notice = notice
	p.Data = data
	s.render.Render(w, r, status, "admin-user", p)
}

func (s *Server) adminUserStatus(w http.ResponseWriter, r *http.Request) {
	u, ok := s.targetUser(w, r)
	if !ok || !s.authorize(w, r, authz.ChangeStatus, targetObject(u)) {
		return
	}
	form := adminUserForm{Status: r.PostFormValue("status"), Reason: r.PostFormValue("reason")}
	to := account.Status(form.Status)
	if !slices.Contains(account.StatusChanges(u.Status), to) {
		s.renderAdminUser(w, r, http.StatusUnprocessableEntity, u, form,
			[]FieldError{{Field: "status", Message: "Choose what to do with this account"}}, "")
		return
	}
	err := s.Accounts.SetStatus(r.Context(), viewerFrom(r.Context()).user, u, to, form.Reason, s.client(r).IP)
	if errs, ok := fieldErrors(err); ok {
		s.renderAdminUser(w, r, http.StatusUnprocessableEntity, u, form, errs, "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/users/%d?done=%s", u.ID, to), http.StatusSeeOther)
}

func (s *Server) adminUserRole(w http.ResponseWriter, r *http.Request) {
	u, ok := s.targetUser(w, r)
	if !ok {
		return
	}
	form := adminUserForm{Role: r.PostFormValue("role")}
	role, err := account.ParseRole(form.Role)
	if err != nil {
		// No role chosen. Anyone who may give this person some role is
		// told to choose one; anyone else gets the usual refusal.
		sub, err := s.subject(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		some := ""
		for _, candidate := range account.Roles() {
			if authz.Decide(sub, authz.ChangeRole, roleChange(u, candidate)).Allowed {
				some = string(candidate)
				break
			}
		}
		if !s.authorize(w, r, authz.ChangeRole, roleChange(u, account.Role(some))) {
			return
		}
		s.renderAdminUser(w, r, http.StatusUnprocessableEntity, u, adminUserForm{},
			[]FieldError{{Field: "role", Message: "Choose an account type"}}, "")
		return
	}
	if !s.authorize(w, r, authz.ChangeRole, roleChange(u, role)) {
		return
	}
	err = s.Accounts.SetRole(r.Context(), viewerFrom(r.Context()).user.ID, u, role, s.client(r).IP)
	if errs, ok := fieldErrors(err); ok {
		s.renderAdminUser(w, r, http.StatusUnprocessableEntity, u, form, errs, "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/users/%d?done=role", u.ID), http.StatusSeeOther)
}

func (s *Server) adminUserReadGrants(w http.ResponseWriter, r *http.Request) {
	u, ok := s.targetUser(w, r)
	if !ok || !s.authorize(w, r, authz.ManageReadGrants, targetObject(u)) {
		return
	}
	form := adminUserForm{Orgs: r.PostFormValue("orgs")}
	codes := strings.FieldsFunc(form.Orgs, func(c rune) bool {
		return c == ',' || c == ';' || c == ' ' || c == '\n' || c == '\r' || c == '\t'
	})
	err := s.Accounts.SetReadGrants(r.Context(), viewerFrom(r.Context()).user.ID, u, codes, s.client(r).IP)
	if errs, ok := fieldErrors(err); ok {
		s.renderAdminUser(w, r, http.StatusUnprocessableEntity, u, form, errs, "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/users/%d?done=grants", u.ID), http.StatusSeeOther)
}

// apiKeysMadeBy lists the working API keys u made that sub may manage.
func (s *Server) apiKeysMadeBy(r *http.Request, sub authz.Subject, u account.User) ([]userAPIKey, error) {
	keys, err := s.APIKeys.MadeBy(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []userAPIKey
	for _, k := range keys {
		if k.Status(now) != apikey.Active || authz.Decide(sub, authz.ManageAPIKeys, authz.Object{Org: k.Org}).Denied() {
			continue
		}
		manage := apiKeysPath
		if sub.Role == string(account.RoleNationalAdmin) {
			manage += "?org=" + url.QueryEscape(k.Org)
		}
		out = append(out, userAPIKey{Name: k.Name, Prefix: k.Prefix, Org: k.Org, Manage: manage})
	}
	return out, nil
}
