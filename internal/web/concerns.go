package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/concern"
	"github.com/psims/psims/internal/datepart"
)

// concernRoutes registers concern reports (T5, T6): the form every
// signed-in user reaches from the footer and anyone else from the sign-in
// page, the page after sending, and the queue with its 48-hour clock for
// national admins (and, for the reports about their own users, for
// organisation admins), with each report's page and its actions.
//
// The form is open to people who are signed out because the terms ask
// anyone who knows of unauthorised access to report it, and the person
// who knows may be the one locked out. CSRF is the visitor cookie's, as on
// the sign-in page; the service limits reports per network address and per
// email address, and does the same work whether or not the addresses typed
// belong to accounts.
func (s *Server) concernRoutes(r *router) {
	r.handleFunc("GET /concerns/new", s.concernForm)
	r.handleFunc("POST /concerns", s.sendConcern)
	r.handleFunc("GET /concerns/sent/{ref}", s.concernSent)
	r.handleFunc("GET /admin/concerns", s.requireUser(s.concernQueue))
	r.handleFunc("GET /admin/concerns/{id}", s.requireUser(s.concernPage))
	r.handleFunc("POST /admin/concerns/{id}/notes", s.requireUser(s.concernNote))
	r.handleFunc("POST /admin/concerns/{id}/account", s.requireUser(s.concernAct))
	r.handleFunc("POST /admin/concerns/{id}/close", s.requireUser(s.concernClose))
}

// concernFormValues is what the concern form holds, as typed.
type concernFormValues struct {
	Kind, Text, NamedEmail      string
	ReporterName, ReporterEmail string
	When                        dateInput
}

// concernFormData is what the form shows besides the values.
type concernFormData struct {
	Kinds     []userOption
	Max, Used int
	// Email is where the receipt goes for someone signed in; "" when
	// signed out, who types it.
	Email string
}

// concernKindOptions are the radios of the form, with chosen selected.
func concernKindOptions(chosen string) []userOption {
	hints := map[concern.Kind]string{
		concern.UnauthorisedAccess: "Someone used an account that is not theirs, or saw records they should not have",
		concern.DeactivateUser:     "Someone has left, or should no longer use PSIMS, and their account is still open",
		concern.TermsBreach:        "Someone is not keeping to the terms of use, for example by sharing their password",
		concern.DataBreach:         "Personal data held in PSIMS may have been lost, changed or seen by someone who should not have seen it",
	}
	var out []userOption
	for _, k := range concern.Kinds() {
		out = append(out, userOption{Value: string(k), Label: k.Label(), Hint: hints[k], Selected: chosen == string(k)})
	}
	return out
}

func (s *Server) concernForm(w http.ResponseWriter, r *http.Request) {
	if viewerFrom(r.Context()) != nil && !s.authorize(w, r, authz.ReportConcern, authz.Object{}) {
		return
	}
	f := concernFormValues{}
	if k := concern.Kind(r.URL.Query().Get("kind")); k.Valid() {
		f.Kind = string(k)
	}
	s.renderConcernForm(w, r, http.StatusOK, f, nil, "")
}

// renderConcernForm shows the form with what was typed, its errors and a
// problem with the form as a whole (such as the hourly limit).
func (s *Server) renderConcernForm(w http.ResponseWriter, r *http.Request, status int, f concernFormValues, errs []FieldError, problem string) {
	p := s.page(r, "Report a concern")
	p.Form = f
	p.Errors = errs
	p.Problem = problem
	data := concernFormData{Kinds: concernKindOptions(f.Kind), Max: concern.MaxLength, Used: utf8.RuneCountInString(f.Text)}
	if v := viewerFrom(r.Context()); v != nil {
		data.Email = v.user.Email
	}
	p.Data = data
	s.render.Render(w, r, status, "concern-new", p)
}

// concernDate reads the optional date the form asks for: nothing when its
// boxes are blank, otherwise a real date no later than today.
func (s *Server) concernDate(d dateInput) (*time.Time, dateInput, bool) {
	d.Day, d.Month, d.Year = strings.TrimSpace(d.Day), strings.TrimSpace(d.Month), strings.TrimSpace(d.Year)
	if d.Day == "" && d.Month == "" && d.Year == "" {
		return nil, d, true
	}
	now := s.now().In(s.uk)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	t, p := datepart.Parse(d.Day, d.Month, d.Year, datepart.Rules{Label: "The date it happened", Missing: "Enter the date it happened",
		EarliestYear: 2000, Today: today})
	if p != nil {
		d.DayErr, d.MonthErr, d.YearErr = p.Parts.Has(datepart.Day), p.Parts.Has(datepart.Month), p.Parts.Has(datepart.Year)
		d.Message = p.Message
		return nil, d, false
	}
	return &t, d, true
}

func (s *Server) sendConcern(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	if v != nil && !s.authorize(w, r, authz.ReportConcern, authz.Object{}) {
		return
	}
	pf := r.PostForm
	f := concernFormValues{Kind: pf.Get("kind"), Text: pf.Get("text"), NamedEmail: pf.Get("named_email"),
		When: dateInput{Day: pf.Get("when-day"), Month: pf.Get("when-month"), Year: pf.Get("when-year")}}
	sub := concern.Submission{Kind: concern.Kind(f.Kind), Text: f.Text, NamedEmail: f.NamedEmail, IP: s.client(r).IP}
	if v != nil {
		sub.ReporterID = v.user.ID
	} else {
		f.ReporterName, f.ReporterEmail = pf.Get("reporter_name"), pf.Get("reporter_email")
		sub.ReporterName, sub.ReporterEmail = f.ReporterName, f.ReporterEmail
	}
	happened, when, ok := s.concernDate(f.When)
	f.When, sub.HappenedOn = when, happened
	rc, err := s.Concerns.Report(r.Context(), sub)
	errs, hasFields := fieldErrors(err)
	if !ok {
		// The date's error goes where its boxes are: after what happened,
		// before the account's address.
		at := len(errs)
		for i, e := range errs {
			if e.Field == "named_email" {
				at = i
				break
			}
		}
		errs, hasFields = slices.Insert(errs, at, FieldError{Field: "when", Message: when.Message}), true
	}
	if hasFields {
		s.renderConcernForm(w, r, http.StatusUnprocessableEntity, f, errs, "")
		return
	}
	if apperr.CodeOf(err) == apperr.RateLimited {
		s.renderConcernForm(w, r, http.StatusTooManyRequests, f, nil, apperr.MessageOf(err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/concerns/sent/"+rc.Reference, http.StatusSeeOther)
}

// concernSent is the page after reporting. It shows the reference from
// its address and nothing else about the report, so anyone may see it.
func (s *Server) concernSent(w http.ResponseWriter, r *http.Request) {
	id, ok := concern.ParseReference(r.PathValue("ref"))
	if !ok {
		s.notFound(w, r)
		return
	}
	p := s.page(r, "Your report has been sent")
	p.Data = concern.Reference(id)
	s.render.Render(w, r, http.StatusOK, "concern-sent", p)
}

// concernClock says how long a report has left, or how long it has been
// overdue, at now, in hours and minutes.
func concernClock(rep concern.Report, now time.Time) string {
	if rep.Status == concern.StatusClosed {
		return "Closed"
	}
	d := rep.DueAt.Sub(now)
	if d < 0 {
		return "Overdue by " + hoursMinutes(-d)
	}
	return hoursMinutes(d) + " left"
}

// hoursMinutes writes d as "3 hours 5 minutes", "1 hour", "under a minute".
func hoursMinutes(d time.Duration) string {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.Itoa(n) + " " + unit + "s"
	}
	switch {
	case h == 0 && m == 0:
		return "under a minute"
	case h == 0:
		return plural(m, "minute")
	case m == 0:
		return plural(h, "hour")
	}
	return plural(h, "hour") + " " + plural(m, "minute")
}

// concernRow is one report in the queue.
type concernRow struct {
	concern.Report
	Clock   string
	Overdue bool
}

// concernQueueData is what the queue shows.
type concernQueueData struct {
	Rows                         []concernRow
	Statuses, Kinds              []userOption
	Total, From, To              int
	Open, Overdue                int
	OrgOnly                      bool // an organisation admin's view: its own users only
	Pagination                   pagination
	OverdueLink, OpenLink, Scope string
}

// concernScope is the organisation whose reports the viewer sees: "" for
// national admins (every report), their own for anyone else.
func concernScope(sub authz.Subject) string {
	if sub.Role == authz.NationalAdmin {
		return ""
	}
	return sub.Org
}

func (s *Server) concernQueue(w http.ResponseWriter, r *http.Request) {
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	scope := concernScope(sub)
	if !s.authorize(w, r, authz.ViewConcerns, authz.Object{Org: scope}) {
		return
	}
	q := r.URL.Query()
	f := concern.Filter{Org: scope, Status: concern.StatusOpen}
	query := url.Values{}
	switch st := concern.Status(q.Get("status")); st {
	case concern.StatusClosed, concern.StatusAny:
		f.Status = st
		query.Set("status", string(st))
	}
	if k := concern.Kind(q.Get("kind")); k.Valid() {
		f.Kind = k
		query.Set("kind", string(k))
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		f.Page = n
	}
	res, err := s.Concerns.Queue(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := concernQueueData{Total: res.Total, Open: res.Open, Overdue: res.Overdue, OrgOnly: scope != ""}
	data.Statuses = []userOption{
		{Value: string(concern.StatusOpen), Label: "Open", Selected: f.Status == concern.StatusOpen},
		{Value: string(concern.StatusClosed), Label: "Closed", Selected: f.Status == concern.StatusClosed},
		{Value: string(concern.StatusAny), Label: "Open or closed", Selected: f.Status == concern.StatusAny},
	}
	for _, k := range concern.Kinds() {
		data.Kinds = append(data.Kinds, userOption{Value: string(k), Label: k.Label(), Selected: f.Kind == k})
	}
	for _, rep := range res.Reports {
		data.Rows = append(data.Rows, concernRow{Report: s.ukConcern(rep), Clock: concernClock(rep, res.Now), Overdue: rep.Overdue(res.Now)})
	}
	if len(res.Reports) > 0 {
		data.From = (res.Page-1)*concern.PerPage + 1
		data.To = data.From + len(res.Reports) - 1
	}
	data.Pagination = paginate(res.Page, res.Pages(), pageLink("/admin/concerns", query))
	p := s.page(r, "Concern reports")
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "admin-concerns", p)
}

// ukConcern shows a report's times in UK time.
func (s *Server) ukConcern(rep concern.Report) concern.Report {
	rep.CreatedAt, rep.DueAt = rep.CreatedAt.In(s.uk), rep.DueAt.In(s.uk)
	if rep.ClosedAt != nil {
		t := rep.ClosedAt.In(s.uk)
		rep.ClosedAt = &t
	}
	return rep
}

// concernObject is what a report is, to the policy: a report about a user
// of the named account's organisation, or, naming nobody, the operator's.
func concernObject(rep concern.Report) authz.Object {
	return authz.Object{Org: rep.Named.Org, UserID: rep.Named.ID, Role: string(rep.Named.Role)}
}

// adminConcern loads the report named in the path for someone who may read
// it; anyone else gets what authorize shows (404 for another
// organisation's).
func (s *Server) adminConcern(w http.ResponseWriter, r *http.Request) (concern.Report, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return concern.Report{}, false
	}
	rep, err := s.Concerns.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return concern.Report{}, false
	}
	if !s.authorize(w, r, authz.ViewConcerns, concernObject(rep)) {
		return concern.Report{}, false
	}
	return rep, true
}

// concernActionForm holds what the report page's forms were sent with.
type concernActionForm struct {
	Note, Status, Reason, Outcome, OutcomeText string
}

// concernPageData is what a report's page shows.
type concernPageData struct {
	Report  concern.Report
	Entries []concern.Entry
	Clock   string
	Overdue bool
	// ShowReporter is whether the viewer sees who reported it: the
	// operator's staff only, so that staff can report a colleague without
	// their organisation's admins knowing who did.
	ShowReporter bool
	// NamedLink is the named account's admin page, when the viewer may
	// open it.
	NamedLink     string
	NamedStatus   string       // the named account's status in words
	StatusOptions []userOption // what the viewer may do to the named account
	CanClose      bool
	Outcomes      []userOption
	// Open is whether the report is still open: notes and actions are
	// taken only then.
	Open bool
}

var concernNotices = map[string]string{
	"note":        "Your note has been added.",
	"suspended":   "The account has been suspended. They have been signed out and sent an email, and the report is named in the audit log.",
	"deactivated": "The account has been deactivated. They have been signed out and sent an email, and the report is named in the audit log.",
	"closed":      "The report has been closed and the reporter has been emailed the outcome.",
}

func (s *Server) renderConcern(w http.ResponseWriter, r *http.Request, status int, rep concern.Report, form concernActionForm, errs []FieldError, problem string) {
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	entries, err := s.Concerns.Entries(r.Context(), rep.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for i := range entries {
		entries[i].CreatedAt = entries[i].CreatedAt.In(s.uk)
	}
	now := s.now()
	data := concernPageData{Report: s.ukConcern(rep), Entries: entries, Clock: concernClock(rep, now), Overdue: rep.Overdue(now),
		ShowReporter: sub.Role == authz.NationalAdmin, Open: rep.Status == concern.StatusOpen}
	data.NamedStatus = strings.ToLower(account.StatusLabel(rep.Named.Status))
	if rep.Named.ID != 0 && authz.Decide(sub, authz.ViewUser, concernObject(rep)).Allowed {
		data.NamedLink = fmt.Sprintf("/admin/users/%d", rep.Named.ID)
	}
	if data.Open && rep.Named.ID != 0 && authz.Decide(sub, authz.ChangeStatus, concernObject(rep)).Allowed {
		for _, st := range account.StatusChanges(rep.Named.Status) {
			o := userOption{Value: string(st), Selected: form.Status == string(st)}
			switch st {
			case account.StatusSuspended:
				o.Label, o.Hint = "Suspend the account", "They are signed out at once and cannot sign in until it is reinstated."
			case account.StatusDeactivated:
				o.Label, o.Hint = "Deactivate the account", "They are signed out at once and the account is closed. It can be reinstated later."
			default:
				continue
			}
			data.StatusOptions = append(data.StatusOptions, o)
		}
	}
	data.CanClose = data.Open && authz.Decide(sub, authz.CloseConcern, concernObject(rep)).Allowed
	for _, o := range concern.Outcomes() {
		label := o.Label()
		data.Outcomes = append(data.Outcomes, userOption{Value: string(o), Label: strings.ToUpper(label[:1]) + label[1:], Selected: form.Outcome == string(o)})
	}
	p := s.page(r, concernTitle(rep))
	p.Form = form
	p.Errors = errs
	p.Problem = problem
	p.Notice = concernNotices[r.URL.Query().Get("done")]
	p.Data = data
	s.render.Render(w, r, status, "admin-concern", p)
}

// concernTitle names a report, as in "Unauthorised access CR-00042".
func concernTitle(rep concern.Report) string { return rep.Kind.Label() + " " + rep.Reference() }

func (s *Server) concernPage(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.adminConcern(w, r)
	if !ok {
		return
	}
	s.renderConcern(w, r, http.StatusOK, rep, concernActionForm{}, nil, "")
}

// concernChanged goes back to the report after a change, or shows what was
// wrong: field errors (422) and conflicts (409) on the report's page with
// what was typed.
func (s *Server) concernChanged(w http.ResponseWriter, r *http.Request, rep concern.Report, form concernActionForm, err error, done string) {
	if errs, ok := fieldErrors(err); ok {
		s.renderConcern(w, r, http.StatusUnprocessableEntity, rep, form, errs, "")
		return
	}
	if apperr.CodeOf(err) == apperr.Conflict || apperr.CodeOf(err) == apperr.Invalid {
		s.renderConcern(w, r, http.StatusConflict, rep, form, nil, apperr.MessageOf(err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/concerns/%d?done=%s", rep.ID, done), http.StatusSeeOther)
}

func (s *Server) concernAction(r *http.Request) concern.Action {
	return concern.Action{Actor: viewerFrom(r.Context()).user, IP: s.client(r).IP}
}

func (s *Server) concernNote(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.adminConcern(w, r)
	if !ok || !s.authorize(w, r, authz.NoteConcern, concernObject(rep)) {
		return
	}
	form := concernActionForm{Note: r.PostFormValue("note")}
	s.concernChanged(w, r, rep, form, s.Concerns.AddNote(r.Context(), s.concernAction(r), rep.ID, form.Note), "note")
}

func (s *Server) concernAct(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.adminConcern(w, r)
	if !ok {
		return
	}
	form := concernActionForm{Status: r.PostFormValue("status"), Reason: r.PostFormValue("reason")}
	if rep.Named.ID == 0 {
		s.concernChanged(w, r, rep, form, apperr.New(apperr.Conflict, "This report names no account."), "")
		return
	}
	u, err := s.Accounts.UserWithOrg(r.Context(), rep.Named.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.authorize(w, r, authz.ChangeStatus, targetObject(u)) {
		return
	}
	to := account.Status(form.Status)
	if to != account.StatusSuspended && to != account.StatusDeactivated {
		s.concernChanged(w, r, rep, form, apperr.Fields{{Field: "status", Message: "Choose whether to suspend or deactivate the account"}}, "")
		return
	}
	s.concernChanged(w, r, rep, form, s.Concerns.Act(r.Context(), s.concernAction(r), rep.ID, u, to, form.Reason), string(to))
}

func (s *Server) concernClose(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.adminConcern(w, r)
	if !ok || !s.authorize(w, r, authz.CloseConcern, concernObject(rep)) {
		return
	}
	form := concernActionForm{Outcome: r.PostFormValue("outcome"), OutcomeText: r.PostFormValue("outcome_text")}
	err := s.Concerns.Close(r.Context(), s.concernAction(r), rep.ID, concern.Outcome(form.Outcome), form.OutcomeText)
	s.concernChanged(w, r, rep, form, err, "closed")
}
