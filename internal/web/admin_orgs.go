package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/org"
)

// adminOrgRoutes registers the organisation browse and search pages for
// national admins.
func (s *Server) adminOrgRoutes(r *router) {
	r.handleFunc("GET /admin/organisations", s.adminOrgs)
	r.handleFunc("GET /admin/organisations/{code}", s.adminOrg)
}

// orgListForm is the search and filter form of the organisation list, as
// typed (unknown choices dropped).
type orgListForm struct {
	Query, Type, Active string
}

// orgRow is one organisation in a table.
type orgRow struct {
	Code, Name, Type string
	Parent           string // ODS code; empty when there is none
	Active           bool
	Users            int
}

// orgListData is what the organisation list shows besides the form.
type orgListData struct {
	Types      []userOption
	Actives    []userOption
	Rows       []orgRow
	Total      int
	From, To   int // the positions shown, from 1
	Pagination pagination
}

// orgCount is a number of users with one role or one status.
type orgCount struct {
	Label string
	Users int
}

// orgDetailData is what the page about one organisation shows.
type orgDetailData struct {
	Org        orgRow
	ParentName string
	Children   []orgRow
	ByRole     []orgCount
	ByStatus   []orgCount
	Users      int
	UsersURL   string
}

func newOrgRow(l org.Listed) orgRow {
	return orgRow{Code: l.Code.String(), Name: l.Name, Type: org.TypeLabel(l.Type), Parent: l.Parent.String(), Active: l.Active, Users: l.Users}
}

// adminOrgs lists organisations, searched by code or name and filtered by
// type and whether they are active, a page at a time.
func (s *Server) adminOrgs(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ListOrganisations, authz.Object{}) {
		return
	}
	q := r.URL.Query()
	form := orgListForm{Query: strings.TrimSpace(q.Get("q"))}
	f := org.OrgFilter{Query: form.Query}
	for _, t := range org.Types() {
		if q.Get("type") == string(t) {
			form.Type, f.Type = string(t), t
		}
	}
	switch q.Get("active") {
	case "yes":
		yes := true
		form.Active, f.Active = "yes", &yes
	case "no":
		no := false
		form.Active, f.Active = "no", &no
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		f.Page = n
	}
	res, err := s.Orgs.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}

	var data orgListData
	for _, t := range org.Types() {
		data.Types = append(data.Types, userOption{Value: string(t), Label: org.TypeLabel(t), Selected: form.Type == string(t)})
	}
	data.Actives = []userOption{
		{Value: "yes", Label: "Active", Selected: form.Active == "yes"},
		{Value: "no", Label: "Inactive", Selected: form.Active == "no"},
	}
	for _, l := range res.Orgs {
		data.Rows = append(data.Rows, newOrgRow(l))
	}
	data.Total = res.Total
	if len(res.Orgs) > 0 {
		data.From = (res.Page-1)*res.PerPage + 1
		data.To = data.From + len(res.Orgs) - 1
	}
	query := url.Values{}
	for k, v := range map[string]string{"q": form.Query, "type": form.Type, "active": form.Active} {
		if v != "" {
			query.Set(k, v)
		}
	}
	data.Pagination = paginate(res.Page, res.Pages(), pageLink("/admin/organisations", query))

	p := s.page(r, "Organisations")
	p.Form = form
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "admin-orgs", p)
}

// adminOrg shows one organisation: its details, parent and children, and
// how many users it has by role and status.
func (s *Server) adminOrg(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ListOrganisations, authz.Object{}) {
		return
	}
	code, err := org.ParseCode(r.PathValue("code"))
	if err != nil {
		s.notFound(w, r)
		return
	}
	if code.String() != r.PathValue("code") {
		// One address per organisation: /admin/organisations/RM1.
		http.Redirect(w, r, "/admin/organisations/"+url.PathEscape(code.String()), http.StatusMovedPermanently)
		return
	}
	ctx := r.Context()
	o, err := s.Orgs.Get(ctx, code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := orgDetailData{
		Org:      orgRow{Code: o.Code.String(), Name: o.Name, Type: org.TypeLabel(o.Type), Parent: o.Parent.String(), Active: o.Active},
		UsersURL: "/admin/users?" + url.Values{"org": {o.Code.String()}}.Encode(),
	}
	if !o.Parent.IsZero() {
		parent, err := s.Orgs.Get(ctx, o.Parent)
		switch {
		case err == nil:
			data.ParentName = parent.Name
		case apperr.CodeOf(err) != apperr.NotFound:
			s.fail(w, r, err)
			return
		}
	}
	children, err := s.Orgs.Children(ctx, code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, c := range children {
		data.Children = append(data.Children, newOrgRow(c))
	}
	counts, err := s.Orgs.UserCounts(ctx, code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	byRole, byStatus := map[string]int{}, map[string]int{}
	for _, c := range counts {
		byRole[c.Role] += c.Users
		byStatus[c.Status] += c.Users
		data.Users += c.Users
	}
	for _, role := range account.Roles() {
		data.ByRole = append(data.ByRole, orgCount{Label: account.RoleLabel(role), Users: byRole[string(role)]})
	}
	for _, st := range []account.Status{account.StatusActive, account.StatusPending, account.StatusUnverified,
		account.StatusSuspended, account.StatusDeactivated, account.StatusRejected} {
		data.ByStatus = append(data.ByStatus, orgCount{Label: account.StatusLabel(st), Users: byStatus[string(st)]})
	}
	p := s.page(r, o.Name)
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "admin-org", p)
}
