package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/org"
)

// requestRoutes registers the approval queue and the pages where users ask
// for another role.
func (s *Server) requestRoutes(r *router) {
	r.handleFunc("GET /admin/approvals", s.approvalQueue)
	r.handleFunc("GET /admin/approvals/registrations/{id}", s.registrationDecisionForm)
	r.handleFunc("POST /admin/approvals/registrations/{id}", s.decideRegistration)
	r.handleFunc("GET /admin/approvals/requests/{id}", s.requestDecisionForm)
	r.handleFunc("POST /admin/approvals/requests/{id}", s.decideRequest)

	r.handleFunc("GET /account/role-request", s.roleRequestPage)
	r.handleFunc("POST /account/role-request", s.requestRole)
	r.handleFunc("POST /account/role-request/withdraw", s.withdrawRoleRequest)
}

// Notices shown after a redirect, chosen by a fixed key in the query so
// that a link cannot put words on the page.
var requestNotices = map[string]string{
	"registration-approved": "Registration approved. We have emailed the person to say they can now sign in.",
	"registration-rejected": "Registration rejected. We have emailed the person with your reason.",
	"request-approved":      "Request approved. We have emailed the person; they need to sign in again to use the change.",
	"request-rejected":      "Request rejected. We have emailed the person with your reason.",
	"role-requested":        "Your request has been sent to your organisation's admins.",
	"role-withdrawn":        "Your request has been withdrawn.",
}

// queueRow is one line of the approval queue.
type queueRow struct {
	Link     string
	Name     string
	Email    string
	What     string // what is asked for
	Org      string // the person's organisation now
	Role     string // the person's account type now
	JobRole  string
	Since    time.Time
	Decision string // "registration" or "request", for the visually hidden link text
}

// queueData is what the approval queue shows.
type queueData struct {
	AllOrgs       bool
	OrgName       string // the organisation chosen, for national admins
	Registrations []queueRow
	Requests      []queueRow
	// RegPages and ReqPages page each list on its own (keyset pages).
	RegPages, ReqPages pagination
	// Shows are the choices of what to show; ShowRegistrations and
	// ShowRequests say which lists the choice keeps.
	Shows                           []userOption
	ShowRegistrations, ShowRequests bool
	Filtered                        bool // a search or organisation is chosen
	PerPage                         int
}

// queueForm is the approval queue's search, as typed, with the
// organisations a name typed as the organisation matches.
type queueForm struct {
	Query, Org, Show string
	OrgMatches       []org.Organisation
}

// queueShows are the choices of what the queue shows, by the "show"
// query value: both lists, or one list (or one kind of request).
var queueShows = []userOption{
	{Value: "", Label: "Everything waiting"},
	{Value: "registrations", Label: "New registrations"},
	{Value: string(account.KindRole), Label: "Requests for a new account type"},
	{Value: string(account.KindOrgMove), Label: "Requests to move organisation"},
}

// approvalScope is the organisation whose queue the admin sees: "" when the
// policy lets them decide for every organisation, otherwise their own. ok is
// false when the refusal page has been shown.
func (s *Server) approvalScope(w http.ResponseWriter, r *http.Request) (scope string, ok bool) {
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return "", false
	}
	if authz.Decide(sub, authz.DecideRegistration, authz.Object{}).Allowed {
		return "", true
	}
	if !s.authorize(w, r, authz.DecideRegistration, authz.Object{Org: sub.Org}) {
		return "", false
	}
	return sub.Org, true
}

// requestObject is what a request is, to the policy: for a move, the role
// the person will have in the new organisation.
func requestObject(req account.Request) authz.Object {
	role := string(req.RequestedRole)
	if req.Kind == account.KindOrgMove {
		role = authz.Reporter
	}
	return authz.Object{Org: req.OrgCode, UserID: req.UserID, Role: string(req.UserRole), NewRole: role}
}

// requestWhat says in words what a request asks for.
func requestWhat(req account.Request) string {
	if req.Kind == account.KindOrgMove {
		return "To move to " + req.OrgName + " (" + req.OrgCode + ")"
	}
	return "To become " + withArticle(account.RoleInWords(req.RequestedRole))
}

// withArticle puts "a" or "an" before a role.
func withArticle(role string) string {
	if role != "" && (role[0] == 'o' || role[0] == 'a' || role[0] == 'e' || role[0] == 'i' || role[0] == 'u') {
		return "an " + role
	}
	return "a " + role
}

func (s *Server) approvalQueue(w http.ResponseWriter, r *http.Request) {
	scope, ok := s.approvalScope(w, r)
	if !ok {
		return
	}
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	form := queueForm{Query: strings.TrimSpace(q.Get("q")), Org: strings.TrimSpace(q.Get("org")), Show: q.Get("show")}
	if !slices.ContainsFunc(queueShows, func(o userOption) bool { return o.Value == form.Show }) {
		form.Show = ""
	}
	data := queueData{AllOrgs: scope == "", Filtered: form.Query != "" || form.Org != "" || form.Show != "", PerPage: account.QueuePerPage,
		ShowRegistrations: form.Show == "" || form.Show == "registrations",
		ShowRequests:      form.Show != "registrations"}
	for _, o := range queueShows {
		o.Selected = o.Value == form.Show
		data.Shows = append(data.Shows, o)
	}
	p := s.page(r, "Registrations and requests to approve")
	p.Notice = requestNotices[r.URL.Query().Get("done")]
	f := account.QueueFilter{Org: scope, Query: form.Query}
	if scope != "" {
		// An organisation admin sees their own queue whatever the address says.
		form.Org = ""
	} else if form.Org != "" {
		// A code or part of a name (orgsearch.go).
		code, matches, problem, err := s.orgFilter(r.Context(), form.Org)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if problem != "" {
			form.OrgMatches = matches
			p.Form, p.Data = form, data
			p.Errors = []FieldError{{Field: "org", Message: problem}}
			s.render.Render(w, r, http.StatusUnprocessableEntity, "requests", p)
			return
		}
		form.Org, f.Org = code, code
		if o, err := s.Orgs.Get(r.Context(), parsedCode(code)); err == nil {
			data.OrgName = o.Name
		}
	}
	p.Form = form
	rf := f
	rf.After, _ = account.ParseQueueCursor(q.Get("reg-after"))
	rf.Before, _ = account.ParseQueueCursor(q.Get("reg-before"))
	// Only what the policy lets this admin decide is listed.
	var regs account.QueuePage[account.User]
	if data.ShowRegistrations {
		regs, err = s.Accounts.PendingRegistrationPage(r.Context(), rf, func(u account.User) bool {
			return authz.Decide(sub, authz.DecideRegistration, authz.Object{Org: u.OrgCode, UserID: u.ID}).Allowed
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	qf := f
	qf.After, _ = account.ParseQueueCursor(q.Get("req-after"))
	qf.Before, _ = account.ParseQueueCursor(q.Get("req-before"))
	if form.Show == string(account.KindRole) || form.Show == string(account.KindOrgMove) {
		qf.Kind = account.RequestKind(form.Show)
	}
	var reqs account.QueuePage[account.Request]
	if data.ShowRequests {
		reqs, err = s.Accounts.PendingRequestPage(r.Context(), qf, func(req account.Request) bool {
			return authz.Decide(sub, authz.DecideRequest, requestObject(req)).Allowed
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	for _, u := range regs.Rows {
		data.Registrations = append(data.Registrations, queueRow{
			Link: "/admin/approvals/registrations/" + strconv.FormatInt(u.ID, 10), Name: u.Name, Email: u.Email,
			JobRole: u.JobRole, Org: u.OrgName + " (" + u.OrgCode + ")", Since: account.RegistrationWaitingSince(u), Decision: "registration",
		})
	}
	for _, req := range reqs.Rows {
		data.Requests = append(data.Requests, queueRow{
			Link: "/admin/approvals/requests/" + strconv.FormatInt(req.ID, 10), Name: req.UserName, Email: req.UserEmail,
			What: requestWhat(req), Org: req.UserOrgName + " (" + req.UserOrgCode + ")", Role: account.RoleInWords(req.UserRole),
			Since: req.CreatedAt, Decision: "request",
		})
	}
	// Each list's links keep the search and the other list's place.
	link := func(set map[string]string) string {
		v := url.Values{}
		for k, val := range map[string]string{"q": form.Query, "org": form.Org, "show": form.Show,
			"reg-after": q.Get("reg-after"), "reg-before": q.Get("reg-before"),
			"req-after": q.Get("req-after"), "req-before": q.Get("req-before")} {
			if val != "" {
				v.Set(k, val)
			}
		}
		for k, val := range set {
			v.Del(k)
			if val != "" {
				v.Set(k, val)
			}
		}
		if len(v) == 0 {
			return "/admin/approvals"
		}
		return "/admin/approvals?" + v.Encode()
	}
	if regs.Prev.ID != 0 {
		data.RegPages.Previous = link(map[string]string{"reg-after": "", "reg-before": regs.Prev.String()})
	}
	if regs.Next.ID != 0 {
		data.RegPages.Next = link(map[string]string{"reg-before": "", "reg-after": regs.Next.String()})
	}
	if reqs.Prev.ID != 0 {
		data.ReqPages.Previous = link(map[string]string{"req-after": "", "req-before": reqs.Prev.String()})
	}
	if reqs.Next.ID != 0 {
		data.ReqPages.Next = link(map[string]string{"req-before": "", "req-after": reqs.Next.String()})
	}
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "requests", p)
}

// decisionRow is one row of an NHS.UK summary list.
type decisionRow struct{ Key, Value string }

// decisionForm is what an admin typed on a decision page.
type decisionForm struct {
	Decision string // "approve" or "reject"
	Reason   string
}

// decisionData is what a decision page shows besides the form.
type decisionData struct {
	Heading string
	Intro   string
	Rows    []decisionRow
	Action  string
	Approve string // the label of the approve option
	Reject  string
}

func (s *Server) registrationDecisionPage(r *http.Request, target account.User) Page {
	p := s.page(r, "Approve or reject a registration")
	orgText := target.OrgCode
	if code, err := org.ParseCode(target.OrgCode); err == nil {
		if o, err := s.Orgs.Get(r.Context(), code); err == nil {
			orgText = o.Name + " (" + target.OrgCode + ")"
		}
	}
	confirmed := ""
	if target.EmailVerifiedAt != nil {
		confirmed = target.EmailVerifiedAt.Format("2 January 2006")
	}
	p.Data = decisionData{
		Heading: "Approve or reject a registration",
		Intro:   "This person has confirmed their email address and is waiting for approval to use PSIMS as a reporter. Approve them only if they work for the organisation shown below.",
		Rows: []decisionRow{
			{"Name", target.Name},
			{"Job role", target.JobRole},
			{"Organisation", orgText},
			{"Email address", target.Email},
			{"Registered", target.CreatedAt.Format("2 January 2006")},
			{"Email address confirmed", confirmed},
		},
		Action:  "/admin/approvals/registrations/" + strconv.FormatInt(target.ID, 10),
		Approve: "Approve: they can sign in and record patient safety events",
		Reject:  "Reject: they cannot use PSIMS with this account",
	}
	p.Form = decisionForm{}
	return p
}

// loadRegistration finds the user in the path and checks the viewer may
// decide their registration. A user that does not exist gets the same 404
// as one of another organisation.
func (s *Server) loadRegistration(w http.ResponseWriter, r *http.Request) (account.User, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.requireViewerOr404(w, r)
		return account.User{}, false
	}
	target, err := s.Accounts.UserByID(r.Context(), id)
	if apperr.CodeOf(err) == apperr.NotFound {
		s.requireViewerOr404(w, r)
		return account.User{}, false
	}
	if err != nil {
		s.fail(w, r, err)
		return account.User{}, false
	}
	if !s.authorize(w, r, authz.DecideRegistration, authz.Object{Org: target.OrgCode, UserID: target.ID}) {
		return account.User{}, false
	}
	if target.Status != account.StatusPending {
		s.fail(w, r, apperr.New(apperr.Conflict, "This registration is no longer waiting for approval. Someone may have decided it already."))
		return account.User{}, false
	}
	return target, true
}

// requireViewerOr404 answers for something that does not exist: visitors
// who are not signed in are sent to sign in (as for anything that does), and
// everyone else gets 404.
func (s *Server) requireViewerOr404(w http.ResponseWriter, r *http.Request) {
	if viewerFrom(r.Context()) == nil {
		s.requireUser(s.notFound)(w, r)
		return
	}
	s.notFound(w, r)
}

func (s *Server) registrationDecisionForm(w http.ResponseWriter, r *http.Request) {
	target, ok := s.loadRegistration(w, r)
	if !ok {
		return
	}
	s.render.Render(w, r, http.StatusOK, "requests-decide", s.registrationDecisionPage(r, target))
}

// readDecision reads the decision form, returning the problems with it.
func readDecision(r *http.Request) (decisionForm, bool, []FieldError) {
	f := decisionForm{Decision: r.PostFormValue("decision"), Reason: r.PostFormValue("reason")}
	switch f.Decision {
	case "approve":
		return f, true, nil
	case "reject":
		return f, false, nil
	}
	f.Decision = ""
	return f, false, []FieldError{{Field: "decision", Message: "Select whether to approve or reject"}}
}

// decisionFailed shows the decision page again for a form with mistakes,
// and the error page for anything else.
func (s *Server) decisionFailed(w http.ResponseWriter, r *http.Request, p Page, f decisionForm, problems []FieldError, err error) {
	if errs, ok := fieldErrors(err); ok {
		problems = append(problems, errs...)
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Form = f
	p.Errors = problems
	s.render.Render(w, r, http.StatusUnprocessableEntity, "requests-decide", p)
}

func (s *Server) decideRegistration(w http.ResponseWriter, r *http.Request) {
	target, ok := s.loadRegistration(w, r)
	if !ok {
		return
	}
	f, approve, problems := readDecision(r)
	if problems != nil {
		s.decisionFailed(w, r, s.registrationDecisionPage(r, target), f, problems, nil)
		return
	}
	v := viewerFrom(r.Context())
	if err := s.Accounts.DecideRegistration(r.Context(), v.user.ID, target, approve, f.Reason, s.client(r).IP); err != nil {
		s.decisionFailed(w, r, s.registrationDecisionPage(r, target), f, nil, err)
		return
	}
	done := "registration-approved"
	if !approve {
		done = "registration-rejected"
	}
	http.Redirect(w, r, "/admin/approvals?done="+done, http.StatusSeeOther)
}

// loadRequest finds the request in the path and checks the viewer may
// decide it, the same way as loadRegistration.
func (s *Server) loadRequest(w http.ResponseWriter, r *http.Request) (account.Request, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.requireViewerOr404(w, r)
		return account.Request{}, false
	}
	req, err := s.Accounts.RequestByID(r.Context(), id)
	if apperr.CodeOf(err) == apperr.NotFound {
		s.requireViewerOr404(w, r)
		return account.Request{}, false
	}
	if err != nil {
		s.fail(w, r, err)
		return account.Request{}, false
	}
	if !s.authorize(w, r, authz.DecideRequest, requestObject(req)) {
		return account.Request{}, false
	}
	if req.Status != account.ReqPending {
		s.fail(w, r, apperr.New(apperr.Conflict, "This request is no longer waiting for a decision. It may have been decided or withdrawn."))
		return account.Request{}, false
	}
	return req, true
}

func (s *Server) requestDecisionPage(r *http.Request, req account.Request) Page {
	d := decisionData{
		Rows: []decisionRow{
			{"Name", req.UserName},
			{"Email address", req.UserEmail},
			{"Organisation now", req.UserOrgName + " (" + req.UserOrgCode + ")"},
			{"Account type now", account.RoleInWords(req.UserRole)},
			{"Asking", requestWhat(req)},
			{"Why they need it", req.Justification},
			{"Asked on", req.CreatedAt.Format("2 January 2006")},
		},
		Action: "/admin/approvals/requests/" + strconv.FormatInt(req.ID, 10),
		Reject: "Reject: nothing changes for them",
	}
	if req.Kind == account.KindOrgMove {
		d.Heading = "Approve or reject a move to your organisation"
		d.Intro = "This person wants to move their PSIMS account to " + req.OrgName + ". Approve it only if they now work for " + req.OrgName + ". Until you decide, they cannot see either organisation's data."
		d.Approve = "Approve: their account moves here as a reporter, and they sign in again"
	} else {
		d.Heading = "Approve or reject a request for a new account type"
		d.Intro = "This person wants to become " + withArticle(account.RoleInWords(req.RequestedRole)) + " for " + req.OrgName + ". This lets them see information about other people, so approve it only if their work needs it."
		d.Approve = "Approve: they become " + withArticle(account.RoleInWords(req.RequestedRole)) + ", and sign in again"
	}
	p := s.page(r, d.Heading)
	p.Data = d
	p.Form = decisionForm{}
	return p
}

func (s *Server) requestDecisionForm(w http.ResponseWriter, r *http.Request) {
	req, ok := s.loadRequest(w, r)
	if !ok {
		return
	}
	s.render.Render(w, r, http.StatusOK, "requests-decide", s.requestDecisionPage(r, req))
}

func (s *Server) decideRequest(w http.ResponseWriter, r *http.Request) {
	req, ok := s.loadRequest(w, r)
	if !ok {
		return
	}
	f, approve, problems := readDecision(r)
	if problems != nil {
		s.decisionFailed(w, r, s.requestDecisionPage(r, req), f, problems, nil)
		return
	}
	v := viewerFrom(r.Context())
	if err := s.Accounts.DecideRequest(r.Context(), v.user.ID, req, approve, f.Reason, s.client(r).IP); err != nil {
		s.decisionFailed(w, r, s.requestDecisionPage(r, req), f, nil, err)
		return
	}
	done := "request-approved"
	if !approve {
		done = "request-rejected"
	}
	http.Redirect(w, r, "/admin/approvals?done="+done, http.StatusSeeOther)
}

// roleOption is one account type a user may ask for.
type roleOption struct {
	Value       string
	Label       string
	Description string
}

// roleRequestForm is what a user typed when asking for a role.
type roleRequestForm struct {
	Role          string
	Justification string
}

// roleRequestData is what the role request page shows besides the form.
type roleRequestData struct {
	CurrentRole string
	Options     []roleOption
	Pending     *account.Request
	PendingWhat string
}

func (s *Server) roleRequestData(r *http.Request, u account.User) (roleRequestData, error) {
	d := roleRequestData{CurrentRole: account.RoleInWords(u.Role)}
	pending, err := s.Accounts.PendingRequestFor(r.Context(), u.ID, account.KindRole)
	if err != nil {
		return d, err
	}
	if pending != nil {
		d.Pending = pending
		d.PendingWhat = requestWhat(*pending)
		return d, nil
	}
	descriptions := map[account.Role]string{
		account.RoleReviewer: "Review, filter and export all patient safety events recorded for your organisation.",
		account.RoleOrgAdmin: "Approve registrations and requests for your organisation, manage its users and see its usage reports.",
	}
	for _, role := range account.RequestableRoles() {
		if role == u.Role {
			continue
		}
		label := account.RoleInWords(role)
		d.Options = append(d.Options, roleOption{Value: string(role), Label: strings.ToUpper(label[:1]) + label[1:], Description: descriptions[role]})
	}
	return d, nil
}

// roleRequester authorises the signed-in user to manage their own account and
// returns them; ok is false when a refusal has been shown.
func (s *Server) roleRequester(w http.ResponseWriter, r *http.Request) (account.User, bool) {
	v := viewerFrom(r.Context())
	var id int64
	if v != nil {
		id = v.user.ID
	}
	if !s.authorize(w, r, authz.ManageOwnAccount, authz.Object{UserID: id}) {
		return account.User{}, false
	}
	return v.user, true
}

func (s *Server) roleRequestPage(w http.ResponseWriter, r *http.Request) {
	u, ok := s.roleRequester(w, r)
	if !ok {
		return
	}
	data, err := s.roleRequestData(r, u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Ask for a different account type")
	p.Notice = requestNotices[r.URL.Query().Get("done")]
	p.Form = roleRequestForm{}
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "role-request", p)
}

func (s *Server) requestRole(w http.ResponseWriter, r *http.Request) {
	u, ok := s.roleRequester(w, r)
	if !ok {
		return
	}
	f := roleRequestForm{Role: r.PostFormValue("role"), Justification: r.PostFormValue("justification")}
	err := s.Accounts.RequestRole(r.Context(), u, account.Role(f.Role), f.Justification, s.client(r).IP)
	if err == nil {
		http.Redirect(w, r, "/account/role-request?done=role-requested", http.StatusSeeOther)
		return
	}
	errs, ok := fieldErrors(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	data, derr := s.roleRequestData(r, u)
	if derr != nil {
		s.fail(w, r, derr)
		return
	}
	p := s.page(r, "Ask for a different account type")
	p.Form = f
	p.Data = data
	p.Errors = errs
	s.render.Render(w, r, http.StatusUnprocessableEntity, "role-request", p)
}

func (s *Server) withdrawRoleRequest(w http.ResponseWriter, r *http.Request) {
	u, ok := s.roleRequester(w, r)
	if !ok {
		return
	}
	// Withdrawing what is no longer waiting (say, from a second tab) shows
	// the page as it now is, rather than an error.
	id, _ := strconv.ParseInt(r.PostFormValue("request_id"), 10, 64)
	err := s.Accounts.WithdrawRequest(r.Context(), u, id, s.client(r).IP)
	if apperr.CodeOf(err) == apperr.NotFound {
		http.Redirect(w, r, "/account/role-request", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/role-request?done=role-withdrawn", http.StatusSeeOther)
}
