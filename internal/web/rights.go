package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/rights"
)

// rightsRoutes registers requests for erasure, restriction and objection
// (P15): the person's form and withdrawal under "Your data", and the
// national admins' queue.
func (s *Server) rightsRoutes(r *router) {
	r.handleFunc("GET /account/data/rights", s.requireUser(s.rightsForm))
	r.handleFunc("POST /account/data/rights", s.requireUser(s.rightsAsk))
	r.handleFunc("POST /account/data/rights/{id}/withdraw", s.requireUser(s.rightsWithdraw))
	r.handleFunc("GET /admin/rights", s.requireUser(s.rightsQueue))
	r.handleFunc("GET /admin/rights/{id}", s.requireUser(s.rightsRequest))
	r.handleFunc("POST /admin/rights/{id}/note", s.requireUser(s.rightsNote))
	r.handleFunc("POST /admin/rights/{id}/extend", s.requireUser(s.rightsExtend))
	r.handleFunc("POST /admin/rights/{id}/refuse", s.requireUser(s.rightsRefuse))
	r.handleFunc("POST /admin/rights/{id}/complete", s.requireUser(s.rightsComplete))
	r.handleFunc("POST /admin/rights/{id}/lift", s.requireUser(s.rightsLift))
}

// rightsRow is a request as a list shows it.
type rightsRow struct {
	rights.Request
	StatusTag   string
	Overdue     bool
	Due         string
	CanWithdraw bool
}

func rightsStatusTag(st rights.Status) string {
	switch st {
	case rights.Received, rights.InProgress:
		return "nhsuk-tag--blue"
	case rights.Extended:
		return "nhsuk-tag--orange"
	case rights.Completed:
		return "nhsuk-tag--green"
	}
	return "nhsuk-tag--grey"
}

func (s *Server) rightsRow(req rights.Request, now time.Time) rightsRow {
	row := rightsRow{Request: req, StatusTag: rightsStatusTag(req.Status), Overdue: req.Overdue(now),
		Due: req.DueAt.In(s.uk).Format("2 January 2006"), CanWithdraw: req.Status.Open() || (req.Kind == rights.Objection && req.InForce())}
	row.ReceivedAt = req.ReceivedAt.In(s.uk)
	return row
}

// rightsFormValues is what the request form holds, as typed.
type rightsFormValues struct{ Kind, Reason string }

func (s *Server) renderRightsForm(w http.ResponseWriter, r *http.Request, status int, f rightsFormValues, errs []FieldError, problem string) {
	p := s.page(r, "Ask for your data to be erased or restricted, or object to contact")
	p.Form = f
	p.Errors = errs
	p.Problem = problem
	p.Data = struct {
		Kinds []userOption
		Max   int
	}{Max: rights.MaxLength, Kinds: []userOption{
		{Value: string(rights.Erasure), Label: "Erase my data", Hint: "Your account is closed and everything about you is deleted. Events you recorded stay with their organisations but no longer say who recorded them.", Selected: f.Kind == string(rights.Erasure)},
		{Value: string(rights.Restriction), Label: "Restrict the processing of my data", Hint: "Your account becomes read-only, and you get no newsletters or alerts, until a national admin lifts the restriction.", Selected: f.Kind == string(rights.Restriction)},
		{Value: string(rights.Objection), Label: "Stop contacting me", Hint: "No newsletters, event alerts or invitations, from now on. This takes effect at once.", Selected: f.Kind == string(rights.Objection)},
	}}
	s.render.Render(w, r, status, "rights-ask", p)
}

func (s *Server) ownRights(w http.ResponseWriter, r *http.Request) (*viewer, bool) {
	v := viewerFrom(r.Context())
	if !s.authorize(w, r, authz.ManageOwnRights, authz.Object{UserID: v.user.ID}) {
		return nil, false
	}
	return v, true
}

func (s *Server) rightsForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.ownRights(w, r); !ok {
		return
	}
	s.renderRightsForm(w, r, http.StatusOK, rightsFormValues{Kind: r.URL.Query().Get("kind")}, nil, "")
}

func (s *Server) rightsAsk(w http.ResponseWriter, r *http.Request) {
	v, ok := s.ownRights(w, r)
	if !ok {
		return
	}
	f := rightsFormValues{Kind: r.PostFormValue("kind"), Reason: r.PostFormValue("reason")}
	_, err := s.Rights.Ask(r.Context(), rights.Actor{ID: v.user.ID, IP: s.client(r).IP}, rights.Kind(f.Kind), f.Reason)
	if errs, ok := fieldErrors(err); ok {
		s.renderRightsForm(w, r, http.StatusUnprocessableEntity, f, errs, "")
		return
	}
	if apperr.CodeOf(err) == apperr.Conflict {
		s.renderRightsForm(w, r, http.StatusConflict, f, nil, apperr.MessageOf(err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/data?done="+url.QueryEscape(f.Kind), http.StatusSeeOther)
}

func (s *Server) rightsWithdraw(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	req, err := s.Rights.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Someone else's request is "not found", as if it did not exist.
	if d := authz.Decide(sub, authz.ManageOwnRights, authz.Object{UserID: req.UserID, Change: true}); d.Denied() {
		s.notFound(w, r)
		return
	}
	err = s.Rights.Withdraw(r.Context(), rights.Actor{ID: sub.UserID, IP: s.client(r).IP}, id)
	switch {
	case apperr.CodeOf(err) == apperr.Conflict:
		// Answered meanwhile: the page shows how it stands now.
		http.Redirect(w, r, "/account/data", http.StatusSeeOther)
	case err != nil:
		s.fail(w, r, err)
	default:
		http.Redirect(w, r, "/account/data?done=withdrawn", http.StatusSeeOther)
	}
}

// rightsNotices are the messages on "Your data" after a request, by the
// done= value of the redirect.
var rightsNotices = map[string]string{
	string(rights.Erasure):     "We have your request to erase your data. We have emailed you to confirm it.",
	string(rights.Restriction): "We have your request to restrict the processing of your data. We have emailed you to confirm it.",
	string(rights.Objection):   "You will not be contacted from now on. We have emailed you to confirm it.",
	"withdrawn":                "It has been withdrawn.",
}

// ownRightsRows lists the viewer's requests for "Your data".
func (s *Server) ownRightsRows(r *http.Request, userID int64) ([]rightsRow, error) {
	reqs, err := s.Rights.Mine(r.Context(), userID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	rows := make([]rightsRow, 0, len(reqs))
	for _, req := range reqs {
		rows = append(rows, s.rightsRow(req, now))
	}
	return rows, nil
}

// rightsQueueData is what the national admins' queue shows.
type rightsQueueData struct {
	Rows            []rightsRow
	Kinds, Statuses []userOption
	Total, From, To int
	Overdue         int
	Pagination      pagination
}

func (s *Server) rightsQueue(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageRightsRequests, authz.Object{}) {
		return
	}
	q := r.URL.Query()
	f := rights.Filter{Open: true}
	query := url.Values{}
	for _, k := range rights.Kinds() {
		if q.Get("kind") == string(k) {
			f.Kind = k
			query.Set("kind", string(k))
		}
	}
	switch st := q.Get("status"); st {
	case "":
	case "any":
		f.Open = false
		query.Set("status", st)
	default:
		for _, x := range rights.Statuses() {
			if st == string(x) {
				f.Status = x
				query.Set("status", st)
			}
		}
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		f.Page = n
	}
	res, err := s.Rights.Queue(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := rightsQueueData{Total: res.Total, Overdue: res.Overdue}
	for _, k := range rights.Kinds() {
		data.Kinds = append(data.Kinds, userOption{Value: string(k), Label: k.Label(), Selected: f.Kind == k})
	}
	data.Statuses = append(data.Statuses, userOption{Value: "any", Label: "Any", Selected: !f.Open && f.Status == ""})
	for _, st := range rights.Statuses() {
		data.Statuses = append(data.Statuses, userOption{Value: string(st), Label: st.Label(), Selected: f.Status == st})
	}
	now := s.now()
	for _, req := range res.Requests {
		data.Rows = append(data.Rows, s.rightsRow(req, now))
	}
	if len(res.Requests) > 0 {
		data.From = (res.Page-1)*rights.PerPage + 1
		data.To = data.From + len(res.Requests) - 1
	}
	data.Pagination = paginate(res.Page, res.Pages(), pageLink("/admin/rights", query))
	p := s.page(r, "Data rights requests")
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "admin-rights", p)
}

// rightsRequestData is what a request's page shows.
type rightsRequestData struct {
	rightsRow
	Person    *personSummary
	Notes     []rights.Note
	Note      string
	Months    string
	Extension string
	Refusal   string
	CanLift   bool
	MaxMonths int
}

// personSummary is the person behind a request, as their account stands.
type personSummary struct {
	Name, Email, Org, Role, Status string
	Restricted, Objected           bool
}

var rightsDone = map[string]string{
	"note":      "Your note has been saved.",
	"extended":  "The request has been extended and the person emailed the reason.",
	"refused":   "The request has been refused and the person emailed the reason.",
	"completed": "The request has been completed and the person emailed.",
	"lifted":    "The restriction has been lifted and the person emailed.",
}

func (s *Server) adminRights(w http.ResponseWriter, r *http.Request) (rights.Request, bool) {
	if !s.authorize(w, r, authz.ManageRightsRequests, authz.Object{}) {
		return rights.Request{}, false
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return rights.Request{}, false
	}
	req, err := s.Rights.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return rights.Request{}, false
	}
	return req, true
}

type rightsForms struct{ Note, Months, Extension, Refusal string }

func (s *Server) renderRightsRequest(w http.ResponseWriter, r *http.Request, status int, req rights.Request, f rightsForms, errs []FieldError, problem string) {
	data := rightsRequestData{rightsRow: s.rightsRow(req, s.now()), Notes: req.Notes, Note: f.Note, Months: f.Months,
		Extension: f.Extension, Refusal: f.Refusal, CanLift: req.Kind == rights.Restriction && req.InForce(), MaxMonths: rights.MaxExtension}
	for i := range data.Notes {
		data.Notes[i].CreatedAt = data.Notes[i].CreatedAt.In(s.uk)
	}
	if u, err := s.Accounts.UserWithOrg(r.Context(), req.UserID); err == nil && u.Email == req.UserEmail && req.UserEmail != "" {
		data.Person = &personSummary{Name: u.Name, Email: u.Email, Org: u.OrgName + " (" + u.OrgCode + ")", Role: string(u.Role),
			Status: string(u.Status), Restricted: u.RestrictedAt != nil, Objected: u.ContactObjectedAt != nil}
	}
	p := s.page(r, req.Kind.Label()+" request "+req.Reference())
	p.Data = data
	p.Errors = errs
	p.Problem = problem
	p.Notice = rightsDone[r.URL.Query().Get("done")]
	s.render.Render(w, r, status, "admin-rights-request", p)
}

func (s *Server) rightsRequest(w http.ResponseWriter, r *http.Request) {
	req, ok := s.adminRights(w, r)
	if !ok {
		return
	}
	s.renderRightsRequest(w, r, http.StatusOK, req, rightsForms{}, nil, "")
}

// rightsChanged goes back to the request after a change, or shows what was
// wrong with it, keeping what was typed.
func (s *Server) rightsChanged(w http.ResponseWriter, r *http.Request, req rights.Request, f rightsForms, err error, done string) {
	if errs, ok := fieldErrors(err); ok {
		s.renderRightsRequest(w, r, http.StatusUnprocessableEntity, req, f, errs, "")
		return
	}
	if apperr.CodeOf(err) == apperr.Conflict {
		if fresh, gerr := s.Rights.Get(r.Context(), req.ID); gerr == nil {
			req = fresh
		}
		s.renderRightsRequest(w, r, http.StatusConflict, req, f, nil, apperr.MessageOf(err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/rights/"+strconv.FormatInt(req.ID, 10)+"?done="+done, http.StatusSeeOther)
}

func (s *Server) rightsActor(r *http.Request) rights.Actor {
	return rights.Actor{ID: viewerFrom(r.Context()).user.ID, IP: s.client(r).IP}
}

func (s *Server) rightsNote(w http.ResponseWriter, r *http.Request) {
	req, ok := s.adminRights(w, r)
	if !ok {
		return
	}
	f := rightsForms{Note: r.PostFormValue("note")}
	s.rightsChanged(w, r, req, f, s.Rights.AddNote(r.Context(), s.rightsActor(r), req.ID, f.Note), "note")
}

func (s *Server) rightsExtend(w http.ResponseWriter, r *http.Request) {
	req, ok := s.adminRights(w, r)
	if !ok {
		return
	}
	f := rightsForms{Months: r.PostFormValue("months"), Extension: r.PostFormValue("reason")}
	months, _ := strconv.Atoi(f.Months)
	s.rightsChanged(w, r, req, f, s.Rights.Extend(r.Context(), s.rightsActor(r), req.ID, months, f.Extension), "extended")
}

func (s *Server) rightsRefuse(w http.ResponseWriter, r *http.Request) {
	req, ok := s.adminRights(w, r)
	if !ok {
		return
	}
	f := rightsForms{Refusal: r.PostFormValue("refusal")}
	s.rightsChanged(w, r, req, f, s.Rights.Refuse(r.Context(), s.rightsActor(r), req.ID, f.Refusal), "refused")
}

func (s *Server) rightsComplete(w http.ResponseWriter, r *http.Request) {
	req, ok := s.adminRights(w, r)
	if !ok {
		return
	}
	s.rightsChanged(w, r, req, rightsForms{}, s.Rights.Complete(r.Context(), s.rightsActor(r), req.ID), "completed")
}

func (s *Server) rightsLift(w http.ResponseWriter, r *http.Request) {
	req, ok := s.adminRights(w, r)
	if !ok {
		return
	}
	s.rightsChanged(w, r, req, rightsForms{}, s.Rights.Lift(r.Context(), s.rightsActor(r), req.ID), "lifted")
}
