package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/numfmt"
	"github.com/psims/psims/internal/org"
)

// eventRoutes registers the pages that show recorded events: the lists
// with their filters and export, one event, and its amendment history.
func (s *Server) eventRoutes(r *router) {
	r.handleFunc("GET /events", s.requireUser(s.eventList))
	r.handleFunc("GET /events/export", s.requireUser(s.eventExport))
	r.handleFunc("GET /events/{ref}", s.requireUser(s.eventPage))
	r.handleFunc("GET /events/{ref}/history", s.requireUser(s.eventHistory))
}

// The code lists the filters offer.
const (
	physicalHarmList      = "level-of-physical-harm-5"
	psychologicalHarmList = "level-of-psychological-harm-5"
	serviceTypeList       = "service-type-5"
	safetyChallengeList   = "safety-challenges-5"
	agentList             = "agent-type-5"
)

// The date ranges of the filter form, by the name of their inputs.
var eventDateFields = []struct{ name, label string }{
	{"occurred-from", "Happened from"},
	{"occurred-to", "Happened to"},
	{"submitted-from", "Submitted from"},
	{"submitted-to", "Submitted to"},
}

// eventListForm is the filter form as typed.
type eventListForm struct {
	View, Org                       string
	Types, Physical, Psychological  []string
	Service, Challenge, Agent, Sort string
	Dates                           map[string]dateInput
	cursor                          string
	// Review is the review filters (review.go).
	Review reviewListForm
	// Query is the search box as typed; ref is the reference number it
	// names, when it names one.
	Query string
	ref   incident.Reference
}

// values is the form as a query string, without the page.
func (f eventListForm) values() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("view", f.View)
	set("q", f.Query)
	set("org", f.Org)
	for _, k := range []struct {
		name string
		vs   []string
	}{{"type", f.Types}, {"physical", f.Physical}, {"psychological", f.Psychological}} {
		for _, v := range k.vs {
			q.Add(k.name, v)
		}
	}
	for _, d := range eventDateFields {
		in := f.Dates[d.name]
		set(d.name+"-day", in.Day)
		set(d.name+"-month", in.Month)
		set(d.name+"-year", in.Year)
	}
	set("service", f.Service)
	set("challenge", f.Challenge)
	set("agent", f.Agent)
	set("sort", f.Sort)
	f.Review.values(q)
	return q
}

// parseEventFilter reads the filter form from the query string and checks
// every value against the taxonomy, so an unknown code is an error the page
// names rather than a list that is silently empty.
func (s *Server) parseEventFilter(q url.Values) (incident.Filter, eventListForm, []FieldError) {
	trim := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	form := eventListForm{View: trim("view"), Org: trim("org"), Types: q["type"], Physical: q["physical"],
		Psychological: q["psychological"], Service: trim("service"), Challenge: trim("challenge"), Agent: trim("agent"),
		Sort: trim("sort"), Dates: map[string]dateInput{}, cursor: q.Get("page")}
	var f incident.Filter
	var errs []FieldError
	fail := func(field, message string) { errs = append(errs, FieldError{Field: field, Message: message}) }
	form.Query = trim("q")
	if search, err := incident.ParseSearch(form.Query); err != nil {
		fail("q", apperr.MessageOf(err))
	} else {
		f.Words, f.Reference, form.ref = search.Words, search.Reference, search.Reference
	}
	for _, v := range form.Types {
		t, err := incident.ParseType(v)
		if err != nil || len(form.Types) > len(incident.Types()) {
			fail("type", "Choose event types from the list")
			break
		}
		f.Types = append(f.Types, t)
	}
	dates := map[string]time.Time{}
	for _, d := range eventDateFields {
		in := dateInput{Day: q.Get(d.name + "-day"), Month: q.Get(d.name + "-month"), Year: q.Get(d.name + "-year")}
		if strings.TrimSpace(in.Day+in.Month+in.Year) == "" {
			form.Dates[d.name] = in
			continue
		}
		day, in, ok := parseDateInput(in, d.label, "")
		form.Dates[d.name] = in
		if !ok {
			fail(in.errorField(d.name), in.Message)
			continue
		}
		dates[d.name] = day
	}
	f.OccurredFrom, f.OccurredTo = dates["occurred-from"], dates["occurred-to"]
	f.SubmittedFrom, f.SubmittedTo = dates["submitted-from"], dates["submitted-to"]
	for _, r := range []struct {
		from, to time.Time
		field    string
		message  string
	}{
		{f.OccurredFrom, f.OccurredTo, "occurred-to", "Happened to must be the same as or after happened from"},
		{f.SubmittedFrom, f.SubmittedTo, "submitted-to", "Submitted to must be the same as or after submitted from"},
	} {
		if !r.from.IsZero() && !r.to.IsZero() && r.to.Before(r.from) {
			in := form.Dates[r.field]
			in.DayErr, in.MonthErr, in.YearErr, in.Message = true, true, true, r.message
			form.Dates[r.field] = in
			fail(r.field+"-day", r.message)
		}
	}
	codes := func(list string, values []string, field, message string) []string {
		l, _ := s.Taxonomy.List(list)
		for _, v := range values {
			if _, ok := l.Lookup(v); !ok || len(values) > len(l.Codes) {
				fail(field, message)
				return nil
			}
		}
		return values
	}
	f.PhysicalHarm = codes(physicalHarmList, form.Physical, "physical", "Choose levels of physical harm from the list")
	f.PsychologicalHarm = codes(psychologicalHarmList, form.Psychological, "psychological", "Choose levels of psychological harm from the list")
	one := func(list, value, field, message string) string {
		if value == "" {
			return ""
		}
		if c := codes(list, []string{value}, field, message); c != nil {
			return c[0]
		}
		return ""
	}
	f.ServiceType = one(serviceTypeList, form.Service, "service", "Choose a service type from the list")
	f.SafetyChallenge = one(safetyChallengeList, form.Challenge, "challenge", "Choose a safety challenge from the list")
	f.Agent = one(agentList, form.Agent, "agent", "Choose an agent from the list")
	form.Review = parseReviewFilter(q, &f, fail)
	if form.Sort != "" && !slices.Contains(append(incident.Sorts(), incident.ReviewSorts()...), incident.Sort(form.Sort)) {
		fail("sort", "Choose how to sort the events")
	} else {
		f.Sort = incident.Sort(form.Sort)
	}
	// Asked for when it happened, people want it in that order; reading an
	// organisation's events in date-happened order is also what lets a
	// month of a million events come back at once.
	if form.Sort == "" && (!f.OccurredFrom.IsZero() || !f.OccurredTo.IsZero()) {
		f.Sort = incident.OccurredNewest
		form.Sort = string(incident.OccurredNewest)
	}
	return f, form, errs
}

// eventView is whose events a list shows, as the policy allows.
type eventView struct {
	scope    incident.Scope
	mine     bool     // the viewer's own events
	orgs     []string // the organisations listed, when not every one
	all      bool     // every organisation
	canOrgs  bool     // the viewer may also see their organisation's events
	grants   []string // a read-only user's organisations, to choose from
	national bool     // the viewer may type any organisation
	review   bool     // the viewer may read the reviews of the events listed
}

// eventScope asks the policy whose events the request lists (see
// authz.ListEvents) and shows the refusal when the answer is no. It
// returns false when it has already answered the request; errs holds a
// problem with the organisation typed.
func (s *Server) eventScope(w http.ResponseWriter, r *http.Request, form *eventListForm, export bool) (eventView, []FieldError, bool) {
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return eventView{}, nil, false
	}
	req := authz.EventList{Mine: form.View == "mine", Orgs: form.View == "org", Export: export}
	var errs []FieldError
	if form.Org != "" {
		code, err := org.ParseCode(form.Org)
		if err != nil {
			errs = append(errs, FieldError{Field: "org", Message: apperr.MessageOf(err)})
		} else {
			req.Org = code.String()
		}
	}
	l, d, o := authz.ListEvents(sub, req)
	if d.Denied() {
		s.refuse(w, r, sub, d, o)
		return eventView{}, nil, false
	}
	// The form shows what is listed: an organisation only to those who may
	// choose one, "Your events" only to those who may see others' too.
	form.View, form.Org = "", req.Org
	if l.Mine() && l.OrgsToo {
		form.View = "mine"
	}
	if l.Mine() || (!l.AnyOrg && l.Granted == nil) {
		form.Org = ""
	}
	if !l.AnyOrg && l.Granted == nil {
		errs = nil
	}
	return eventView{scope: incident.Scope{All: l.All, Orgs: l.Orgs, ReporterID: l.ReporterID}, mine: l.Mine(),
		orgs: l.Orgs, all: l.All, canOrgs: l.OrgsToo, grants: l.Granted, national: l.AnyOrg, review: l.Review}, errs, true
}

// eventRow is one event in a list.
type eventRow struct {
	Reference                      string
	Type, Org, Occurred, Submitted string
	Harm                           []string
	Service                        string
	Review                         string // where its review stands, for those who may read it
}

// eventListData is what the list page shows besides the form.
type eventListData struct {
	Heading, Lede string
	Mine, CanOrgs bool
	National      bool
	Grants        []userOption
	ShowOrg       bool
	Types         []userOption
	Physical      []userOption
	Psychological []userOption
	Services      []userOption
	Challenges    []userOption
	Agents        []userOption
	Sorts         []userOption
	Dates         []eventDateData
	Rows          []eventRow
	CountText     string
	Pagination    pagination
	ExportURL     string
	// ExportChooses is true when the export leads to a page choosing a
	// data sharing agreement (sharing.go) rather than to the file.
	ExportChooses    bool
	MineURL, OrgsURL string
	Filtered         bool
	// Review is the review filters and column (review.go).
	Review reviewListData
	names  map[int64]string
	// NoReference is a reference number searched for that found nothing
	// the viewer may see.
	NoReference string
}

// eventDateData is one date range input of the filter form.
type eventDateData struct {
	Name, Label string
	Input       dateInput
}

// options lists a code list as choices, with chosen ones selected.
func (s *Server) options(list string, chosen ...string) []userOption {
	l, _ := s.Taxonomy.List(list)
	out := make([]userOption, 0, len(l.Codes))
	for _, c := range l.Codes {
		out = append(out, userOption{Value: c.Code, Label: c.Display, Selected: slices.Contains(chosen, c.Code)})
	}
	return out
}

func (s *Server) eventList(w http.ResponseWriter, r *http.Request) {
	filter, form, errs := s.parseEventFilter(r.URL.Query())
	view, orgErrs, ok := s.eventScope(w, r, &form, false)
	if !ok {
		return
	}
	errs = scopeReviewFilter(&filter, &form, view.review, viewerFrom(r.Context()).user.ID, errs)
	errs = append(orgErrs, errs...)
	data := s.eventListPage(r, view, form)
	p := s.page(r, data.Heading)
	p.Form = form
	if len(errs) > 0 {
		p.Errors = errs
		p.Data = data
		s.render.Render(w, r, http.StatusUnprocessableEntity, "events", p)
		return
	}
	if form.ref != "" {
		s.eventByReference(w, r, form.ref, p, data)
		return
	}
	at, err := incident.ParseCursor(form.cursor, filter.Sort)
	if err != nil {
		// A page link that does not fit the order chosen starts again.
		at = incident.Cursor{}
	}
	res, err := s.Incidents.List(r.Context(), view.scope, filter, at, incident.DefaultPerPage)
	if errs, ok := fieldErrors(err); ok {
		p.Errors = errs
		p.Data = data
		s.render.Render(w, r, http.StatusUnprocessableEntity, "events", p)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	physical, _ := s.Taxonomy.List(physicalHarmList)
	psychological, _ := s.Taxonomy.List(psychologicalHarmList)
	services, _ := s.Taxonomy.List(serviceTypeList)
	for _, e := range res.Events {
		row := eventRow{Reference: string(e.Reference), Type: e.Type.Label(), Org: e.OrgCode,
			Occurred: occurredText(e.OccurredFrom, e.OccurredTo), Submitted: e.SubmittedAt.Format("2 January 2006"),
			Service: "Not recorded"}
		if e.PhysicalHarm != "" {
			row.Harm = append(row.Harm, physical.Display(e.PhysicalHarm))
		}
		if e.PsychologicalHarm != "" {
			row.Harm = append(row.Harm, psychological.Display(e.PsychologicalHarm))
		}
		if e.ServiceType != "" {
			row.Service = services.Display(e.ServiceType)
		}
		if view.review {
			row.Review = s.reviewCell(r, e, data.names)
		}
		data.Rows = append(data.Rows, row)
	}
	switch {
	case res.More:
		data.CountText = fmt.Sprintf("More than %s events found", numfmt.Thousands(res.Count))
	case res.Count == 1:
		data.CountText = "1 event found"
	default:
		data.CountText = fmt.Sprintf("%s events found", numfmt.Thousands(res.Count))
	}
	link := func(c incident.Cursor) string {
		if c.IsZero() {
			return ""
		}
		q := form.values()
		q.Set("page", c.String())
		return "/events?" + q.Encode()
	}
	data.Pagination = pagination{Previous: link(res.Previous), Next: link(res.Next)}
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "events", p)
}

// eventListPage fills what the list page shows whatever the results.
func (s *Server) eventListPage(r *http.Request, view eventView, form eventListForm) eventListData {
	data := eventListData{Mine: view.mine, CanOrgs: view.canOrgs, National: view.national,
		ShowOrg: view.all || len(view.orgs) > 1}
	switch {
	case view.mine:
		data.Heading, data.Lede = "Your events", "Patient safety events you recorded."
	case view.all:
		data.Heading, data.Lede = "Events", "Patient safety events recorded at every organisation."
	default:
		data.Heading = "Events"
		names := make([]string, 0, len(view.orgs))
		for _, code := range view.orgs {
			name, err := s.orgName(r, code)
			if err != nil || name == code {
				names = append(names, code)
				continue
			}
			names = append(names, fmt.Sprintf("%s (%s)", name, code))
		}
		data.Lede = "Patient safety events recorded at " + strings.Join(names, ", ") + "."
		if len(names) == 0 {
			data.Lede = "You have not been given access to any organisation's events. Ask the service's administrators if you need it."
		}
	}
	for _, code := range view.grants {
		data.Grants = append(data.Grants, userOption{Value: code, Label: code, Selected: form.Org == code})
	}
	for _, t := range incident.Types() {
		data.Types = append(data.Types, userOption{Value: string(t), Label: t.Label(), Selected: slices.Contains(form.Types, string(t))})
	}
	data.Physical = s.options(physicalHarmList, form.Physical...)
	data.Psychological = s.options(psychologicalHarmList, form.Psychological...)
	data.Services = s.options(serviceTypeList, form.Service)
	data.Challenges = s.options(safetyChallengeList, form.Challenge)
	data.Agents = s.options(agentList, form.Agent)
	sorts := incident.Sorts()
	if view.review {
		sorts = append(sorts, incident.ReviewSorts()...)
	}
	for _, o := range sorts {
		data.Sorts = append(data.Sorts, userOption{Value: string(o), Label: o.Label(),
			Selected: form.Sort == string(o) || (form.Sort == "" && o == incident.SubmittedNewest)})
	}
	data.Review, data.names = s.reviewListPage(r, view, form)
	for _, d := range eventDateFields {
		data.Dates = append(data.Dates, eventDateData{Name: d.name, Label: d.label, Input: form.Dates[d.name]})
	}
	q := form.values()
	q.Del("view")
	data.Filtered = len(q) > 0 && !(len(q) == 1 && q.Has("org"))
	if !view.mine {
		// An export outside the recording organisation first chooses a
		// data sharing agreement, on a page: the link is not a download.
		if sub, err := s.subject(r); err == nil {
			data.ExportChooses = authz.ExportNeedsAgreement(sub)
		}
		data.ExportURL = "/events/export"
		if len(q) > 0 {
			data.ExportURL += "?" + q.Encode()
		}
	}
	data.MineURL, data.OrgsURL = "/events?view=mine", "/events?view=org"
	return data
}

// occurredText says when an event happened: a day, or the days it can
// have happened between.
func occurredText(from, to time.Time) string {
	if from.Equal(to) {
		return from.Format("2 January 2006")
	}
	return "Between " + from.Format("2 January 2006") + " and " + to.Format("2 January 2006")
}

func (s *Server) eventExport(w http.ResponseWriter, r *http.Request) {
	filter, form, errs := s.parseEventFilter(r.URL.Query())
	view, orgErrs, ok := s.eventScope(w, r, &form, true)
	if !ok {
		return
	}
	errs = scopeReviewFilter(&filter, &form, view.review, viewerFrom(r.Context()).user.ID, errs)
	if errs = append(orgErrs, errs...); len(errs) > 0 {
		s.fail(w, r, apperr.New(apperr.Invalid, errs[0].Message))
		return
	}
	// An export outside the recording organisation runs only under a
	// data sharing agreement (T15; sharing.go).
	if sub, err := s.subject(r); err != nil {
		s.fail(w, r, err)
		return
	} else if authz.ExportNeedsAgreement(sub) {
		s.eventExportUnderAgreement(w, r, sub, view, filter, form)
		return
	}
	v := viewerFrom(r.Context())
	out := &csvDownload{w: w, filename: "psims-events-" + time.Now().UTC().Format("2006-01-02") + ".csv"}
	_, err := s.Incidents.Export(r.Context(), s.Taxonomy, view.scope, filter, s.forms.ExportColumns(), incident.ExportOptions{}, v.user.ID, incident.Client{IP: s.client(r).IP}, out)
	if err != nil {
		if !out.started {
			s.fail(w, r, err)
			return
		}
		// Part of the file has gone: all that can be done is to log it.
		s.Logger.ErrorContext(r.Context(), "event export failed", "err", err, "request_id", RequestID(r.Context()))
	}
	if !out.started {
		out.Write(nil)
	}
}

// viewEvent loads the event named in the path and checks the viewer may
// see it, recording the view when it is someone else's (T14). It shows 404
// for a reference that is malformed or unknown, and for an event the
// viewer may not know exists.
func (s *Server) viewEvent(w http.ResponseWriter, r *http.Request, page string) (incident.Event, bool) {
	ref, err := incident.ParseReference(r.PathValue("ref"))
	if err != nil {
		s.notFound(w, r)
		return incident.Event{}, false
	}
	ev, err := s.Incidents.ByReference(r.Context(), ref)
	if err != nil {
		s.fail(w, r, err)
		return incident.Event{}, false
	}
	if !s.authorize(w, r, authz.ViewRecord, authz.Object{Org: ev.OrgCode, UserID: ev.ReporterID}) {
		return incident.Event{}, false
	}
	v := viewerFrom(r.Context())
	if v.user.ID != ev.ReporterID {
		if err := s.Incidents.RecordView(r.Context(), ev.ID, v.user.ID, page, incident.Client{IP: s.client(r).IP}); err != nil {
			s.fail(w, r, err)
			return incident.Event{}, false
		}
	}
	return ev, true
}

// eventPageData is what an event's page shows.
type eventPageData struct {
	Event        incident.Event
	Type, Source string
	OrgName      string
	Occurred     string
	Answers      []form.Row
	Mine         bool
	// RecordedBy is who recorded it, in the words of its history page.
	RecordedBy string
	// ChangeURL starts the links that change an answer, when the viewer
	// may; empty otherwise.
	ChangeURL string
	// Review is the review panel, for those who may read it (review.go).
	Review *reviewPanel
}

func (s *Server) eventPage(w http.ResponseWriter, r *http.Request) {
	ev, ok := s.viewEvent(w, r, "event")
	if !ok {
		return
	}
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.showEvent(w, r, ev, sub, http.StatusOK, nil, nil)
}

// showEvent renders an event's page, with the review form as typed (in)
// and its problems when it is shown again after a refused change.
func (s *Server) showEvent(w http.ResponseWriter, r *http.Request, ev incident.Event, sub authz.Subject, status int, in *reviewForm, errs []FieldError) {
	name, err := s.orgName(r, ev.OrgCode)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Event "+string(ev.Reference))
	mine := sub.UserID == ev.ReporterID
	by, err := s.authorName(r, ev, ev.ReporterID, 1, sub.UserID, map[int64]string{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := eventPageData{Event: ev, Type: ev.Type.Label(), Source: ev.Source.Label(), OrgName: name,
		Occurred: occurredText(ev.OccurredFrom, ev.OccurredTo), Answers: s.answerRows(ev, ev.Answers, authz.Reviews(sub), mine),
		Mine: mine, RecordedBy: by}
	if authz.Decide(sub, authz.AmendRecord, authz.Object{Org: ev.OrgCode, UserID: ev.ReporterID}).Allowed {
		data.ChangeURL = "/events/" + string(ev.Reference) + "/change/"
		// Answers nobody may change have no link.
		for i, row := range data.Answers {
			if st, ok := form.Find(s.eventSteps(ev, ev.Answers, sub), row.Step); ok && !s.changeable(ev, sub, st) {
				data.Answers[i].Step = ""
			}
		}
	}
	if data.Review, err = s.reviewPanelFor(r, ev, sub, in, errs); err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	switch {
	case q.Get("changed") != "":
		p.Notice = "Your change has been saved as a new version. The earlier versions are kept."
	case q.Get("reviewed") != "":
		p.Notice = "The review has been updated."
	case q.Get("noted") != "":
		p.Notice = "Your note has been changed. The earlier text is kept."
	}
	p.Errors = errs
	p.Data = data
	s.render.Render(w, r, status, "event", p)
}

// eventVersionData is one version on the history page.
type eventVersionData struct {
	Version int
	Author  string
	At      time.Time
	Reason  string
	Answers []form.Row
}

// eventHistoryData is what the history page shows.
type eventHistoryData struct {
	Event    incident.Event
	Type     string
	Versions []eventVersionData
}

func (s *Server) eventHistory(w http.ResponseWriter, r *http.Request) {
	ev, ok := s.viewEvent(w, r, "history")
	if !ok {
		return
	}
	versions, err := s.Incidents.Versions(r.Context(), ev.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := map[int64]string{}
	data := eventHistoryData{Event: ev, Type: ev.Type.Label()}
	viewer := viewerFrom(r.Context()).user.ID
	for i := len(versions) - 1; i >= 0; i-- {
		v := versions[i]
		author, err := s.versionAuthor(r, ev, v, viewer, names)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data.Versions = append(data.Versions, eventVersionData{Version: v.Version, Author: author, At: v.CreatedAt,
			Reason: v.Reason, Answers: s.answerRows(ev, v.Answers, true, viewer == ev.ReporterID)})
	}
	p := s.page(r, "History of event "+string(ev.Reference))
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "event-history", p)
}

// versionAuthor is who made a version of the event: a person, or the
// organisation's local risk management system through one of its API keys
// (issue 16), named by the key.
func (s *Server) versionAuthor(r *http.Request, ev incident.Event, v incident.Version, viewer int64, names map[int64]string) (string, error) {
	if v.KeyID == 0 {
		return s.authorName(r, ev, v.AuthorID, v.Version, viewer, names)
	}
	k, err := s.APIKeys.Get(r.Context(), v.KeyID)
	if err != nil {
		return "", err
	}
	return "Local risk management system, with API key “" + k.Name + "”", nil
}

// authorName is who wrote a version of the event, looked up once per
// person, in the same words on the event's page and its history: "You"
// for the viewer, the person's name and organisation for staff, "A member
// of the public" for the first version of a public report.
func (s *Server) authorName(r *http.Request, ev incident.Event, id int64, version int, viewer int64, names map[int64]string) (string, error) {
	switch {
	case id == 0 && version == 1 && ev.Source == incident.Public:
		return "A member of the public", nil
	case id == 0 && version == 1 && ev.Source == incident.System:
		return "Local risk management system, through the API", nil
	case id == 0:
		return "A deleted account", nil
	case id == viewer:
		return "You", nil
	}
	if n, ok := names[id]; ok {
		return n, nil
	}
	u, err := s.Accounts.UserWithOrg(r.Context(), id)
	switch {
	case apperr.CodeOf(err) == apperr.NotFound:
		names[id] = "A deleted account"
	case err != nil:
		return "", err
	default:
		names[id] = accountLabel(u)
	}
	return names[id], nil
}

// accountLabel names the account that recorded or wrote something: an
// erased person is nobody (P15).
func accountLabel(u account.User) string {
	if u.Status == account.StatusErased {
		return account.ErasedName
	}
	return fmt.Sprintf("%s, %s", u.Name, u.OrgName)
}

// answerRows lists an event's answers under the form's questions, in the
// form's order, with display text from the taxonomy. Reviewers also see
// the governance questions; questions about the person recording are
// worded for the reader (own is true for that person).
func (s *Server) answerRows(ev incident.Event, a incident.Answers, reviewer, own bool) []form.Row {
	return s.forms.RowsFor(ev.Type, ev.Source == incident.Public, a, form.Reader{Own: own, Governance: reviewer})
}

// eventByReference answers a search for a reference number: the event's
// page when the viewer may see it, and otherwise a list that found
// nothing, the same whether the event does not exist or is not theirs to
// see, so that a search reveals nothing.
func (s *Server) eventByReference(w http.ResponseWriter, r *http.Request, ref incident.Reference, p Page, data eventListData) {
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ev, err := s.Incidents.ByReference(r.Context(), ref)
	switch {
	case err == nil && authz.Decide(sub, authz.ViewRecord, authz.Object{Org: ev.OrgCode, UserID: ev.ReporterID}).Allowed:
		http.Redirect(w, r, "/events/"+string(ev.Reference), http.StatusSeeOther)
		return
	case err != nil && apperr.CodeOf(err) != apperr.NotFound:
		s.fail(w, r, err)
		return
	}
	data.CountText = "No event found with reference " + string(ref)
	data.NoReference = string(ref)
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "events", p)
}
