package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/terms"
)

// recordRoutes registers staff recording: choosing the type of event, one
// page per question saved to a draft at every step, "check your answers",
// the recording statement and submission (T7, T12, T15).
func (s *Server) recordRoutes(r *router) {
	r.handleFunc("GET /events/new", s.requireUser(s.newEventForm))
	r.handleFunc("POST /events/new", s.requireUser(s.newEvent))
	r.handleFunc("GET /events/{ref}/submitted", s.requireUser(s.submittedPage))
	r.handleFunc("GET /drafts", s.requireUser(s.draftsPage))
	r.handleFunc("GET /drafts/{id}/check", s.requireUser(s.checkAnswersPage))
	r.handleFunc("GET /drafts/{id}/statement", s.requireUser(s.statementPage))
	r.handleFunc("POST /drafts/{id}/statement", s.requireUser(s.submitDraft))
	r.handleFunc("GET /drafts/{id}/delete", s.requireUser(s.deleteDraftForm))
	r.handleFunc("POST /drafts/{id}/delete", s.requireUser(s.deleteDraft))
	r.handleFunc("GET /drafts/{id}/{step}", s.requireUser(s.questionPage))
	r.handleFunc("POST /drafts/{id}/{step}", s.requireUser(s.answerQuestion))
}

// option is one choice of a radio, checkbox or select question.
type option struct {
	Value, Label string
	Checked      bool
	// Reveals is the question asked only after this option is chosen,
	// shown inside it (an NHS.UK conditional reveal); nil when none.
	Reveals *questionView
}

// questionView is one question as the "question" partial renders it.
type questionView struct {
	Name    string // field name and input id
	Kind    form.Kind
	Heading string
	Caption string
	Hint    string
	Page    bool // the question is the page's heading
	Options []option
	Value   string
	// Day, Month, Year, Years and Months fill date and age inputs.
	Day, Month, Year, Years, Months string
	Error                           string
	ErrorField                      string // the input the error is about
	// Revealed is the option that reveals the question ("Yes, I know the
	// date"), when it is shown inside one: without JavaScript every
	// revealed question shows, so each says which answer it belongs to.
	Revealed string
}

// newQuestionView builds the view of step's question from what was posted
// or stored (values use the form package's field names), with the errors
// given for it. name is the field name the page uses for the question.
func newQuestionView(step form.Step, heading, name string, values url.Values, errs []FieldError) questionView {
	q := step.Question
	v := questionView{Name: name, Kind: q.Kind, Heading: heading, Hint: q.Hint, Value: values.Get(form.FieldAnswer),
		Day: values.Get(form.FieldDay), Month: values.Get(form.FieldMonth), Year: values.Get(form.FieldYear),
		Years: values.Get(form.FieldYears), Months: values.Get(form.FieldMonths)}
	switch q.Kind {
	case form.YesNo:
		for _, o := range []option{{Value: "yes", Label: "Yes"}, {Value: "no", Label: "No"}} {
			o.Checked = v.Value == o.Value
			v.Options = append(v.Options, o)
		}
	case form.Radios, form.Checkboxes, form.Select:
		chosen := values[form.FieldAnswer]
		for _, c := range q.List.Codes {
			v.Options = append(v.Options, option{Value: c.Code, Label: c.Display, Checked: slices.Contains(chosen, c.Code)})
		}
	}
	if len(errs) > 0 {
		v.Error = errs[0].Message
		v.ErrorField = errs[0].Field
	}
	return v
}

// questionPageData is what the question page shows.
type questionPageData struct {
	Action   string // where the form posts
	Back     string // the back link
	Question questionView
	// Amend is true when the page changes a submitted event: it asks why.
	Amend  bool
	Reason string
	// Pending, when not empty, is an amendment's answers changed so far
	// and not yet saved, with the version they change and the signature
	// that lets them come back unaltered.
	Pending, PendingMAC string
	Base                int
	Return              string // "check" when the page was reached from "check your answers"
	// OrgResults are the organisations found by the name typed in an
	// organisation question, shown to choose from (see orgsearch.go).
	OrgResults []org.Organisation
}

// canRecord asks the policy whether the viewer may record events, showing
// the refusal when not.
func (s *Server) canRecord(w http.ResponseWriter, r *http.Request) (authz.Subject, bool) {
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return sub, false
	}
	return sub, s.authorize(w, r, authz.RecordEvents, authz.Object{UserID: sub.UserID})
}

// caption names the form a page belongs to.
func caption(t incident.Type) string {
	switch t {
	case incident.GoodCare:
		return "Record good care"
	case incident.Risk:
		return "Record a risk"
	case incident.Outcome:
		return "Record a poor outcome"
	}
	return "Record an incident"
}

type newEventData struct {
	Options []option
	Drafts  int
}

func (s *Server) newEventForm(w http.ResponseWriter, r *http.Request) {
	sub, ok := s.canRecord(w, r)
	if !ok {
		return
	}
	s.renderNewEvent(w, r, sub, http.StatusOK, "", nil)
}

func (s *Server) renderNewEvent(w http.ResponseWriter, r *http.Request, sub authz.Subject, status int, chosen string, errs []FieldError) {
	drafts, err := s.Incidents.Drafts(r.Context(), sub.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	hints := map[incident.Type]string{
		incident.Incident: "Something unexpected that could have harmed, or did harm, one or more patients",
		incident.GoodCare: "Care that went well and that others could learn from",
		incident.Risk:     "Something that could cause harm in the future",
		incident.Outcome:  "A poor outcome for a patient whose cause is not yet known",
	}
	data := newEventData{Drafts: len(drafts)}
	for _, t := range incident.Types() {
		data.Options = append(data.Options, option{Value: string(t), Label: t.Label() + ": " + hints[t], Checked: chosen == string(t)})
	}
	p := s.page(r, "What do you want to record?")
	p.Errors, p.Data = errs, data
	s.render.Render(w, r, status, "record-new", p)
}

func (s *Server) newEvent(w http.ResponseWriter, r *http.Request) {
	sub, ok := s.canRecord(w, r)
	if !ok {
		return
	}
	t, err := incident.ParseType(r.PostFormValue("type"))
	if err != nil {
		s.renderNewEvent(w, r, sub, http.StatusUnprocessableEntity, "", []FieldError{{Field: "type", Message: "Select what you want to record"}})
		return
	}
	id, err := s.Incidents.SaveDraft(r.Context(), sub.UserID, 0, t, incident.Answers{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	first := s.forms.Steps(t, incident.Answers{}, authz.Reviews(sub))[0]
	http.Redirect(w, r, draftPath(id, first.Slug), http.StatusSeeOther)
}

func draftPath(id int64, step string) string { return fmt.Sprintf("/drafts/%d/%s", id, step) }

// loadDraft checks the viewer may record and returns their draft named in
// the path; anything else, including another person's draft, is not found.
func (s *Server) loadDraft(w http.ResponseWriter, r *http.Request) (authz.Subject, incident.Draft, bool) {
	sub, ok := s.canRecord(w, r)
	if !ok {
		return sub, incident.Draft{}, false
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return sub, incident.Draft{}, false
	}
	d, err := s.Incidents.Draft(r.Context(), sub.UserID, id)
	if err != nil {
		s.fail(w, r, err)
		return sub, incident.Draft{}, false
	}
	return sub, d, true
}

// draftStep returns the draft's step named in the path.
func (s *Server) draftStep(w http.ResponseWriter, r *http.Request, sub authz.Subject, d incident.Draft) ([]form.Step, form.Step, bool) {
	steps := s.forms.Steps(d.Type, d.Answers, authz.Reviews(sub))
	step, ok := form.Find(steps, r.PathValue("step"))
	if !ok {
		s.notFound(w, r)
	}
	return steps, step, ok
}

func (s *Server) questionPage(w http.ResponseWriter, r *http.Request) {
	sub, d, ok := s.loadDraft(w, r)
	if !ok {
		return
	}
	steps, step, ok := s.draftStep(w, r, sub, d)
	if !ok {
		return
	}
	values := form.FormValues(step, d.Answers)
	if step.Question.Kind == form.Org && len(values) == 0 {
		values.Set(form.FieldAnswer, sub.Org)
	}
	s.renderQuestion(w, r, d, steps, step, http.StatusOK, values, nil)
}

func (s *Server) renderQuestion(w http.ResponseWriter, r *http.Request, d incident.Draft, steps []form.Step, step form.Step, status int, values url.Values, errs []FieldError) {
	back := "/events/new"
	if prev, ok := form.Previous(steps, step.Slug); ok {
		back = draftPath(d.ID, prev.Slug)
	}
	ret := ""
	if r.FormValue("return") == "check" {
		ret, back = "check", draftPath(d.ID, "check")
	}
	q := newQuestionView(step, step.Heading(d.Answers), form.FieldAnswer, values, errs)
	q.Page, q.Caption = true, caption(d.Type)
	p := s.page(r, q.Heading)
	p.Errors = errs
	data := questionPageData{Action: draftPath(d.ID, step.Slug), Back: back, Question: q, Return: ret}
	if typed := strings.TrimSpace(values.Get(form.FieldAnswer)); step.Question.Kind == form.Org && len(errs) > 0 && utf8.RuneCountInString(typed) >= minOrgSearch {
		// The matches of the name typed, to choose from.
		res, err := s.Orgs.Search(r.Context(), typed, orgResultsLimit)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data.OrgResults = res
	}
	p.Data = data
	s.render.Render(w, r, status, "record-question", p)
}

// checkOrg refuses an ODS code no organisation has.
func (s *Server) checkOrg(ctx context.Context, code string) ([]FieldError, error) {
	c, err := org.ParseCode(code)
	if err != nil {
		return []FieldError{{Field: form.FieldAnswer, Message: apperr.MessageOf(err)}}, nil
	}
	_, err = s.Orgs.Get(ctx, c)
	if apperr.CodeOf(err) == apperr.NotFound {
		return []FieldError{{Field: form.FieldAnswer, Message: "No organisation has the ODS code " + code + ". Check the code, or ask your organisation's PSIMS administrator"}}, nil
	}
	return nil, err
}

func (s *Server) answerQuestion(w http.ResponseWriter, r *http.Request) {
	sub, d, ok := s.loadDraft(w, r)
	if !ok {
		return
	}
	steps, step, ok := s.draftStep(w, r, sub, d)
	if !ok {
		return
	}
	answers, errs, err := s.applyAnswer(r.Context(), d.Answers, step, r.PostForm)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if errs == nil {
		_, err = s.Incidents.SaveDraft(r.Context(), sub.UserID, d.ID, d.Type, answers)
		errs = answerErrors(err)
		if err != nil && errs == nil {
			s.fail(w, r, err)
			return
		}
	}
	if errs != nil {
		s.renderQuestion(w, r, d, steps, step, http.StatusUnprocessableEntity, r.PostForm, errs)
		return
	}
	if r.PostFormValue("action") == "save" {
		http.Redirect(w, r, "/drafts?saved="+strconv.FormatInt(d.ID, 10), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, draftPath(d.ID, nextStep(s.forms.Steps(d.Type, answers, authz.Reviews(sub)), step.Slug, answers, r.PostFormValue("return") == "check")), http.StatusSeeOther)
}

// applyAnswer records one posted answer, checking an organisation exists.
func (s *Server) applyAnswer(ctx context.Context, a incident.Answers, step form.Step, posted url.Values) (incident.Answers, []FieldError, error) {
	if chosen := posted.Get("org"); step.Question.Kind == form.Org && chosen != "" {
		// An organisation chosen from the matches of a name (orgsearch.go).
		posted = url.Values{form.FieldAnswer: {chosen}}
	}
	answers, problems := s.forms.Apply(a, step, posted, s.now())
	if problems != nil {
		errs, _ := fieldErrors(problems)
		return s.orgAnswerErrors(ctx, step, posted, errs)
	}
	if step.Question.Kind == form.Org {
		if errs, err := s.checkOrg(ctx, step.Value(answers)); errs != nil || err != nil {
			if err != nil {
				return nil, nil, err
			}
			return s.orgAnswerErrors(ctx, step, posted, errs)
		}
	}
	return answers, nil, nil
}

// orgAnswerErrors gives an organisation question's refusal of text that is
// not a known code the words of a search: choose from the matches the page
// shows. Other questions' errors pass through.
func (s *Server) orgAnswerErrors(ctx context.Context, step form.Step, posted url.Values, errs []FieldError) (incident.Answers, []FieldError, error) {
	if step.Question.Kind != form.Org {
		return nil, errs, nil
	}
	problem, err := s.orgQueryProblem(ctx, strings.TrimSpace(posted.Get(form.FieldAnswer)))
	if err != nil {
		return nil, nil, err
	}
	if problem != "" {
		errs = replaceFieldError(errs, form.FieldAnswer, problem)
	}
	return nil, errs, nil
}

// answerErrors turns the store's refusal of answers (the identifier guard's
// second look, T12) into errors on the page's input.
func answerErrors(err error) []FieldError {
	errs, ok := fieldErrors(err)
	if !ok {
		return nil
	}
	for i := range errs {
		errs[i].Field = form.FieldAnswer
	}
	return errs
}

// nextStep is where to go after answering slug: the next page, or, when the
// answer was changed from "check your answers", the first page the change
// added that still needs an answer, and otherwise back to the check page.
func nextStep(steps []form.Step, slug string, a incident.Answers, fromCheck bool) string {
	if fromCheck {
		after := false
		for _, st := range steps {
			if after && !st.Answered(a) && !st.Question.Optional {
				return st.Slug + "?return=check"
			}
			after = after || st.Slug == slug
		}
		return "check"
	}
	if next, ok := form.Next(steps, slug); ok {
		return next.Slug
	}
	return "check"
}

// resumeStep is where a draft carries on: its first unanswered question that
// needs an answer, or "check your answers".
func resumeStep(steps []form.Step, a incident.Answers) string {
	for _, st := range steps {
		if !st.Answered(a) && !st.Question.Optional {
			return st.Slug
		}
	}
	return "check"
}

type checkData struct {
	DraftID int64
	Caption string
	Rows    []form.Row
	// Missing are the pages still needing an answer, by step slug.
	Missing  map[string]string
	Complete bool
}

func (s *Server) checkAnswersPage(w http.ResponseWriter, r *http.Request) {
	sub, d, ok := s.loadDraft(w, r)
	if !ok {
		return
	}
	_, problems := s.forms.Complete(d.Type, d.Answers, s.now())
	s.renderCheck(w, r, sub, d, http.StatusOK, problems)
}

func (s *Server) renderCheck(w http.ResponseWriter, r *http.Request, sub authz.Subject, d incident.Draft, status int, problems apperr.Fields) {
	data := checkData{DraftID: d.ID, Caption: caption(d.Type), Rows: s.forms.Rows(d.Type, d.Answers, authz.Reviews(sub)),
		Missing: map[string]string{}, Complete: len(problems) == 0}
	p := s.page(r, "Check your answers")
	for _, pr := range problems {
		data.Missing[pr.Field] = pr.Message
		if status != http.StatusOK {
			p.Errors = append(p.Errors, FieldError{Field: "row-" + pr.Field, Message: pr.Message})
		}
	}
	p.Data = data
	s.render.Render(w, r, status, "record-check", p)
}

// pageProblems names each problem by the page of the draft to go back to.
// The form's own problems already do; the store's last check of the
// identifier guard names the answer (its element), which is turned into
// the page that asks it.
func (s *Server) pageProblems(sub authz.Subject, d incident.Draft, problems apperr.Fields) apperr.Fields {
	steps := s.forms.Steps(d.Type, d.Answers, authz.Reviews(sub))
	out := slices.Clone(problems)
	for i, p := range out {
		for _, st := range steps {
			if st.Question.Element == p.Field {
				out[i].Field = st.Slug
				break
			}
		}
	}
	return out
}

type statementData struct {
	DraftID   int64
	Caption   string
	Statement terms.Document
	Receipt   bool
}

func (s *Server) statementPage(w http.ResponseWriter, r *http.Request) {
	_, d, ok := s.loadDraft(w, r)
	if !ok {
		return
	}
	if _, problems := s.forms.Complete(d.Type, d.Answers, s.now()); problems != nil {
		http.Redirect(w, r, draftPath(d.ID, "check"), http.StatusSeeOther)
		return
	}
	s.renderStatement(w, r, d, http.StatusOK, "", false)
}

func (s *Server) renderStatement(w http.ResponseWriter, r *http.Request, d incident.Draft, status int, problem string, receipt bool) {
	doc, err := s.Terms.Current(r.Context(), terms.RecordingStatement)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Before you submit")
	p.Problem = problem
	p.Data = statementData{DraftID: d.ID, Caption: caption(d.Type), Statement: doc, Receipt: receipt}
	s.render.Render(w, r, status, "record-statement", p)
}

// submitDraft submits a finished draft through the recorder, which checks
// the answers as a whole, the organisation and the statement version shown
// (T7), and makes the submission durable before the confirmation is shown.
func (s *Server) submitDraft(w http.ResponseWriter, r *http.Request) {
	sub, d, ok := s.loadDraft(w, r)
	if !ok {
		return
	}
	receipt := r.PostFormValue("receipt") == "yes"
	shown, _ := strconv.Atoi(r.PostFormValue("statement_version"))
	u := viewerFrom(r.Context()).user
	ev, err := s.Recorder.SubmitDraft(r.Context(), incident.DraftSubmission{Draft: d, StatementVersion: shown, Receipt: receipt,
		Reporter: incident.Reporter{ID: sub.UserID, Email: u.Email, Name: u.Name}}, incident.Client{IP: s.client(r).IP})
	if errors.Is(err, incident.ErrStatementChanged) {
		s.renderStatement(w, r, d, http.StatusConflict, apperr.MessageOf(err), receipt)
		return
	}
	if problems, ok := err.(apperr.Fields); ok {
		s.renderCheck(w, r, sub, d, http.StatusUnprocessableEntity, s.pageProblems(sub, d, problems))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/events/"+string(ev.Reference)+"/submitted", http.StatusSeeOther)
}

func (s *Server) submittedPage(w http.ResponseWriter, r *http.Request) {
	ref, err := incident.ParseReference(r.PathValue("ref"))
	if err != nil {
		s.notFound(w, r)
		return
	}
	ev, err := s.Incidents.ByReference(r.Context(), ref)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The confirmation is the reporter's own.
	if ev.ReporterID != sub.UserID {
		s.notFound(w, r)
		return
	}
	p := s.page(r, "Your event has been recorded")
	p.Data = ev
	s.render.Render(w, r, http.StatusOK, "record-submitted", p)
}

type draftsData struct {
	Rows          []draftRow
	RetentionDays int
}

// draftRow is one draft in "Your drafts".
type draftRow struct {
	ID         int64
	Type       incident.Type
	Summary    string // the start of what happened, when answered
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Resume     string
	Answered   int
	Questions  int
	DeletionOn time.Time
}

func (s *Server) draftsPage(w http.ResponseWriter, r *http.Request) {
	sub, ok := s.canRecord(w, r)
	if !ok {
		return
	}
	drafts, err := s.Incidents.Drafts(r.Context(), sub.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]draftRow, 0, len(drafts))
	for _, d := range drafts {
		steps := s.forms.Steps(d.Type, d.Answers, authz.Reviews(sub))
		row := draftRow{ID: d.ID, Type: d.Type, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, Questions: len(steps),
			Resume: draftPath(d.ID, resumeStep(steps, d.Answers)), DeletionOn: d.UpdatedAt.Add(s.DraftRetention)}
		for _, st := range steps {
			if st.Answered(d.Answers) {
				row.Answered++
			}
		}
		if vs := d.Answers[form.Description]; len(vs) == 1 {
			row.Summary = shorten(vs[0], 80)
		}
		rows = append(rows, row)
	}
	p := s.page(r, "Your drafts")
	p.Data = draftsData{Rows: rows, RetentionDays: int(s.DraftRetention.Hours() / 24)}
	if r.URL.Query().Get("saved") != "" {
		p.Notice = "Your draft has been saved. You can come back to it here."
	} else if r.URL.Query().Get("deleted") != "" {
		p.Notice = "The draft has been deleted."
	}
	s.render.Render(w, r, http.StatusOK, "record-drafts", p)
}

// shorten cuts text to n characters at most, marking the cut.
func shorten(text string, n int) string {
	r := []rune(text)
	if len(r) <= n {
		return text
	}
	return string(r[:n-1]) + "…"
}

func (s *Server) deleteDraftForm(w http.ResponseWriter, r *http.Request) {
	_, d, ok := s.loadDraft(w, r)
	if !ok {
		return
	}
	p := s.page(r, "Are you sure you want to delete this draft?")
	p.Data = d
	s.render.Render(w, r, http.StatusOK, "record-delete", p)
}

func (s *Server) deleteDraft(w http.ResponseWriter, r *http.Request) {
	sub, d, ok := s.loadDraft(w, r)
	if !ok {
		return
	}
	if err := s.Incidents.DeleteDraft(r.Context(), sub.UserID, d.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/drafts?deleted=1", http.StatusSeeOther)
}
