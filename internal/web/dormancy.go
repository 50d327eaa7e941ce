package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/org"
)

// dormancyRoutes registers the pages about dormant accounts (P12, P13):
// the confirmation behind the link in a warning, which works without
// signing in; national admins' exemptions on a user's page; and the list
// an organisation's admins see of who is about to be deactivated.
func (s *Server) dormancyRoutes(r *router) {
	r.handleFunc("GET "+account.ConfirmActivePath, s.stillActiveForm)
	r.handleFunc("POST "+account.ConfirmActivePath, s.limited(s.stillActive))
	r.handleFunc("POST /admin/users/{id}/dormancy-exemption", s.requireUser(s.adminUserExempt))
	r.handleFunc("POST /admin/users/{id}/dormancy-exemption/remove", s.requireUser(s.adminUserUnexempt))
	r.handleFunc("GET /admin/users/dormant", s.requireUser(s.adminDormant))
}

func (s *Server) linkExpired(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "This link has expired")
	s.render.Render(w, r, http.StatusUnprocessableEntity, "account-link-expired", p)
}

// stillActiveForm shows the confirmation page for the link in a dormancy
// warning: following a link changes nothing; the button does.
func (s *Server) stillActiveForm(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if err := s.Accounts.CheckStillActiveToken(r.Context(), token); err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			s.linkExpired(w, r)
			return
		}
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Keep your PSIMS account")
	p.Data = token
	s.render.Render(w, r, http.StatusOK, "account-still-active", p)
}

func (s *Server) stillActive(w http.ResponseWriter, r *http.Request) {
	err := s.Accounts.ConfirmStillActive(r.Context(), r.PostFormValue("token"), s.client(r).IP)
	if apperr.CodeOf(err) == apperr.Invalid {
		s.linkExpired(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Your account will be kept")
	s.render.Render(w, r, http.StatusOK, "account-still-active-done", p)
}

func (s *Server) adminUserExempt(w http.ResponseWriter, r *http.Request) {
	u, ok := s.targetUser(w, r)
	if !ok || !s.authorize(w, r, authz.ExemptFromDormancy, targetObject(u)) {
		return
	}
	form := adminUserForm{ExemptionReason: r.PostFormValue("exemption_reason")}
	err := s.Accounts.SetExemption(r.Context(), viewerFrom(r.Context()).user, u.ID, form.ExemptionReason, s.client(r).IP)
	if errs, ok := fieldErrors(err); ok {
		s.renderAdminUser(w, r, http.StatusUnprocessableEntity, u, form, errs, "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/users/%d?done=exempt", u.ID), http.StatusSeeOther)
}

func (s *Server) adminUserUnexempt(w http.ResponseWriter, r *http.Request) {
	u, ok := s.targetUser(w, r)
	if !ok || !s.authorize(w, r, authz.ExemptFromDormancy, targetObject(u)) {
		return
	}
	err := s.Accounts.ClearExemption(r.Context(), viewerFrom(r.Context()).user, u.ID, s.client(r).IP)
	if apperr.CodeOf(err) == apperr.Conflict {
		// Removed by someone else just now: the page shows it as it is.
		http.Redirect(w, r, fmt.Sprintf("/admin/users/%d", u.ID), http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/users/%d?done=unexempt", u.ID), http.StatusSeeOther)
}

// dormantData is what the list of accounts about to be deactivated shows.
type dormantData struct {
	OrgCode, OrgName string
	Members          []account.DormantMember
	WarnAfter        string
	DeactivateAfter  string
	WindowDays       int
}

// adminDormant lists the accounts of an organisation (the viewer's own,
// or ?org= for national admins) that have been warned, or will be within
// 30 days, with their dates.
func (s *Server) adminDormant(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	code := v.user.OrgCode
	if q := strings.TrimSpace(r.URL.Query().Get("org")); q != "" {
		c, err := org.ParseCode(q)
		if err != nil {
			s.notFound(w, r)
			return
		}
		code = c.String()
	}
	if !s.authorize(w, r, authz.ViewDormancy, authz.Object{Org: code}) {
		return
	}
	o, err := s.Orgs.Get(r.Context(), parsedCode(code))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	members, err := s.Dormancy.UpcomingDormant(r.Context(), code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	policy := s.Dormancy.Policy()
	p := s.page(r, "Accounts about to be deactivated")
	p.Data = dormantData{OrgCode: code, OrgName: o.Name, Members: members, WarnAfter: policy.WarnAfter.Words(),
		DeactivateAfter: policy.DeactivateAfter.Words(), WindowDays: int(account.UpcomingWindow.Hours() / 24)}
	s.render.Render(w, r, http.StatusOK, "admin-dormant", p)
}
