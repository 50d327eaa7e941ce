package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/org"
)

// auditRoutes registers the audit log viewer and its export, for national
// admins (issue 13).
func (s *Server) auditRoutes(r *router) {
	r.handleFunc("GET /admin/audit", s.requireUser(s.auditLog))
	r.handleFunc("GET /admin/audit/download", s.requireUser(s.auditDownload))
}

// The date inputs of the audit filter, by the name of their inputs.
var auditDateFields = []struct{ name, label string }{
	{"from", "From"},
	{"to", "To"},
}

// auditForm is the filter form as typed.
type auditForm struct {
	Actor, Action, Type, Object, Org string
	Dates                            map[string]dateInput
	// OrgMatches are the organisations a name typed as the organisation
	// matches, to choose one from.
	OrgMatches []org.Organisation
}

// values is the form as a query string, without the page.
func (f auditForm) values() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("actor", f.Actor)
	set("action", f.Action)
	set("type", f.Type)
	set("object", f.Object)
	set("org", f.Org)
	for _, d := range auditDateFields {
		in := f.Dates[d.name]
		set(d.name+"-day", in.Day)
		set(d.name+"-month", in.Month)
		set(d.name+"-year", in.Year)
	}
	return q
}

// auditRow is one entry of the log as the page shows it.
type auditRow struct {
	ID                          int64
	At                          time.Time
	Actor, Action, Type, Object string
	Details, IP                 string
}

// auditData is what the viewer shows besides the form.
type auditData struct {
	Actions, Types []userOption
	DateFields     []eventDateData
	Rows           []auditRow
	// Newer and Older link to the neighbouring pages, with the filters.
	Newer, Older string
	DownloadURL  string
	Filtered     bool
	// OrgMatches are the organisations the name typed matches, each a
	// link to the log filtered by it, the other filters kept.
	OrgMatches []auditOrgMatch
}

// auditOrgMatch is one organisation to choose for the filter.
type auditOrgMatch struct{ Name, Code, URL string }

// auditQuery reads the filter form from the query string and checks each
// value, returning the query, the form as typed and what is wrong with it.
func (s *Server) auditQuery(r *http.Request) (audit.Query, auditForm, []userOption, []userOption, []FieldError, error) {
	ctx := r.Context()
	in := r.URL.Query()
	trim := func(k string) string { return strings.TrimSpace(in.Get(k)) }
	form := auditForm{Actor: trim("actor"), Action: trim("action"), Type: trim("type"), Object: trim("object"), Org: trim("org"),
		Dates: map[string]dateInput{}}
	var q audit.Query
	var errs []FieldError
	fail := func(field, message string) { errs = append(errs, FieldError{Field: field, Message: message}) }

	actions, err := s.AuditLog.Actions(ctx)
	if err != nil {
		return q, form, nil, nil, nil, err
	}
	types, err := s.AuditLog.SubjectTypes(ctx)
	if err != nil {
		return q, form, nil, nil, nil, err
	}
	if form.Actor != "" {
		q.Actor = form.Actor
		if !strings.Contains(form.Actor, "@") && !strings.EqualFold(form.Actor, "system") {
			if n, err := strconv.ParseInt(form.Actor, 10, 64); err != nil || n <= 0 {
				fail("actor", "Enter the actor’s email address, their user number, or “system”")
			}
		}
	}
	if form.Action != "" {
		if !slices.Contains(actions, form.Action) {
			fail("action", "Choose an action from the list")
		}
		q.Action = form.Action
	}
	if form.Type != "" {
		if !slices.Contains(types, form.Type) {
			fail("type", "Choose a type of object from the list")
		}
		q.SubjectType = form.Type
	}
	if form.Object != "" {
		if form.Type == "" {
			fail("type", "Choose the type of the object you entered")
		}
		q.SubjectID = form.Object
	}
	if form.Org != "" {
		// A code or part of a name (orgsearch.go).
		code, matches, problem, err := s.orgFilter(ctx, form.Org)
		if err != nil {
			return q, form, nil, nil, nil, err
		}
		if problem != "" {
			fail("org", problem)
			form.OrgMatches = matches
		} else {
			form.Org, q.Org = code, code
		}
	}
	dates := map[string]time.Time{}
	for _, d := range auditDateFields {
		din := dateInput{Day: in.Get(d.name + "-day"), Month: in.Get(d.name + "-month"), Year: in.Get(d.name + "-year")}
		if strings.TrimSpace(din.Day+din.Month+din.Year) == "" {
			form.Dates[d.name] = din
			continue
		}
		day, din, ok := parseDateInput(din, d.label, "")
		form.Dates[d.name] = din
		if !ok {
			fail(din.errorField(d.name), din.Message)
			continue
		}
		dates[d.name] = day
	}
	if from, to := dates["from"], dates["to"]; !from.IsZero() && !to.IsZero() && to.Before(from) {
		const message = "To must be the same as or after from"
		din := form.Dates["to"]
		din.DayErr, din.MonthErr, din.YearErr, din.Message = true, true, true, message
		form.Dates["to"] = din
		fail("to-day", message)
	}
	// Days are UK days, as every date on the pages is.
	if from, ok := dates["from"]; ok {
		q.From = time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, s.uk)
	}
	if to, ok := dates["to"]; ok {
		q.To = time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, s.uk)
	}
	if n, err := strconv.ParseInt(in.Get("before"), 10, 64); err == nil && n > 0 {
		q.Before = n
	} else if n, err := strconv.ParseInt(in.Get("after"), 10, 64); err == nil && n > 0 {
		q.After = n
	}
	var actionOpts, typeOpts []userOption
	for _, a := range actions {
		actionOpts = append(actionOpts, userOption{Value: a, Label: a, Selected: a == form.Action})
	}
	for _, t := range types {
		typeOpts = append(typeOpts, userOption{Value: t, Label: t, Selected: t == form.Type})
	}
	return q, form, actionOpts, typeOpts, errs, nil
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ViewAuditLog, authz.Object{}) {
		return
	}
	q, form, actions, types, errs, err := s.auditQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Audit log")
	p.Form = form
	data := auditData{Actions: actions, Types: types}
	for _, d := range auditDateFields {
		data.DateFields = append(data.DateFields, eventDateData{Name: d.name, Label: d.label, Input: form.Dates[d.name]})
	}
	for _, o := range form.OrgMatches {
		v := form.values()
		v.Set("org", o.Code.String())
		data.OrgMatches = append(data.OrgMatches, auditOrgMatch{Name: o.Name, Code: o.Code.String(), URL: "/admin/audit?" + v.Encode()})
	}
	if len(errs) > 0 {
		p.Errors = errs
		p.Data = data
		s.render.Render(w, r, http.StatusUnprocessableEntity, "admin-audit", p)
		return
	}
	res, err := s.AuditLog.Search(r.Context(), q)
	if err != nil {
		if fe, ok := fieldErrors(err); ok {
			p.Errors = fe
			p.Data = data
			s.render.Render(w, r, http.StatusUnprocessableEntity, "admin-audit", p)
			return
		}
		s.fail(w, r, err)
		return
	}
	for _, row := range res.Rows {
		data.Rows = append(data.Rows, auditRow{ID: row.ID, At: row.At.In(s.uk), Actor: row.ActorLabel, Action: row.Action,
			Type: row.SubjectType, Object: row.SubjectID, Details: audit.DetailsText(row.Details), IP: row.IP})
	}
	values := form.values()
	data.Filtered = len(values) > 0
	link := func(k string, id int64) string {
		if id == 0 {
			return ""
		}
		v := form.values()
		v.Set(k, strconv.FormatInt(id, 10))
		return "/admin/audit?" + v.Encode()
	}
	data.Older, data.Newer = link("before", res.Older), link("after", res.Newer)
	if data.Newer == "" && (q.Before > 0 || q.After > 0) && len(res.Rows) == 0 {
		// Past either end: offer the newest page again.
		data.Newer = "/admin/audit"
		if len(values) > 0 {
			data.Newer += "?" + values.Encode()
		}
	}
	data.DownloadURL = "/admin/audit/download"
	if len(values) > 0 {
		data.DownloadURL += "?" + values.Encode()
	}
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "admin-audit", p)
}

// auditDownload sends the rows the filters choose as CSV, every page of
// them, and records the download in the log itself.
func (s *Server) auditDownload(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ViewAuditLog, authz.Object{}) {
		return
	}
	q, _, _, _, errs, err := s.auditQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(errs) > 0 {
		s.fail(w, r, apperr.New(apperr.Invalid, errs[0].Message+". Go back to the audit log and correct the filters."))
		return
	}
	v := viewerFrom(r.Context())
	out := &csvDownload{w: w, filename: "psims-audit-log-" + s.now().UTC().Format("2006-01-02") + ".csv"}
	if _, err := s.AuditLog.Export(r.Context(), q, v.user.ID, s.client(r).IP, out); err != nil {
		if !out.started {
			s.fail(w, r, err)
			return
		}
		// Part of the file has gone: all that can be done is to log it.
		s.Logger.ErrorContext(r.Context(), "audit log export failed", "err", err, "request_id", RequestID(r.Context()))
	}
	if !out.started {
		out.Write(nil)
	}
}
