package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/secret"
	"github.com/psims/psims/internal/terms"
)

// The public route's defences against bots, which need no third party: a
// field people never see (the honeypot), a minimum time between opening the
// form and sending it, and a limit per IP address.
const (
	honeypotField = "website"
	minFillTime   = 3 * time.Second
)

// reportRoutes registers the public route (T8): patients, families and the
// public record a concern without an account.
func (s *Server) reportRoutes(r *router) {
	r.handleFunc("GET /report", s.reportForm)
	r.handleFunc("POST /report", s.report)
	r.handleFunc("GET /report/recorded/{ref}", s.reportRecorded)
}

// reportData is what the public form shows.
type reportData struct {
	Questions []questionView
	// The organisation picker.
	OrgQuery, Org string
	OrgError      string
	Searched      bool
	Results       []org.Organisation
	Statement     terms.Document
	// Started is when the form was first shown (Unix seconds), and
	// StartedMAC its signature.
	Started, StartedMAC string
}

func (s *Server) reportForm(w http.ResponseWriter, r *http.Request) {
	s.renderReport(w, r, http.StatusOK, url.Values{}, nil, "")
}

// formStarted is when the public form was first shown, from the signed
// value it carries; false when it carries none, a forged one, or one older
// than a day (a form left open that long is shown afresh).
func (s *Server) formStarted(posted url.Values) (time.Time, bool) {
	v := posted.Get("started")
	if !secret.Verify(s.FormKey, posted.Get("started_mac"), "report-started", v) {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	t := time.Unix(sec, 0)
	if age := time.Since(t); age < 0 || age > 24*time.Hour {
		return time.Time{}, false
	}
	return t, true
}

// publicField is the name the public page gives an input of a question:
// the question's slug in place of the step pages' "answer".
func publicField(slug, field string) string {
	return slug + strings.TrimPrefix(field, form.FieldAnswer)
}

// publicValues picks the values of one question out of the public form,
// under the names the form package reads.
func publicValues(slug string, posted url.Values) url.Values {
	v := url.Values{}
	for _, field := range []string{form.FieldAnswer, form.FieldDay, form.FieldMonth, form.FieldYear} {
		if vs, ok := posted[publicField(slug, field)]; ok {
			v[field] = vs
		}
	}
	return v
}

// renderReport shows the public form with what was posted, its errors and
// problem, which says what is wrong with the form as a whole (never shown
// as a success).
func (s *Server) renderReport(w http.ResponseWriter, r *http.Request, status int, posted url.Values, errs []FieldError, problem string) {
	doc, err := s.Terms.Current(r.Context(), terms.RecordingStatement)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The form keeps the time it was first shown through every time it is
	// sent back, signed so that a program cannot claim to have waited.
	started, ok := s.formStarted(posted)
	if !ok {
		started = time.Now()
	}
	data := reportData{Statement: doc, OrgQuery: posted.Get("org_query"), Org: posted.Get("org"),
		Started: strconv.FormatInt(started.Unix(), 10)}
	data.StartedMAC = secret.Sign(s.FormKey, "report-started", data.Started)
	var page []questionView
	parent := map[string]int{} // question ID to its place in page
	for _, st := range s.forms.PublicPage() {
		if st.Question.Kind == form.Org {
			data.OrgError = fieldError(errs, "org_query")
			page = append(page, questionView{Name: st.Slug, Kind: form.Org})
			continue
		}
		var own []FieldError
		for _, e := range errs {
			if strings.HasPrefix(e.Field, st.Slug) && (e.Field == st.Slug || strings.HasPrefix(e.Field, st.Slug+"-")) {
				own = append(own, FieldError{Field: e.Field, Message: e.Message})
			}
		}
		q := newQuestionView(st, st.Question.Label, st.Slug, publicValues(st.Slug, posted), nil)
		if len(own) > 0 {
			q.Error, q.ErrorField = own[0].Message, own[0].Field
		}
		// A question asked after one answer of another is shown inside
		// that answer (a conditional reveal).
		if i, ok := parent[st.Question.RevealedBy]; ok {
			for j, o := range page[i].Options {
				if o.Value == st.Question.RevealedOn {
					q.Revealed = o.Label
					page[i].Options[j].Reveals = &q
				}
			}
			continue
		}
		parent[st.Slug] = len(page)
		page = append(page, q)
	}
	data.Questions = page
	// The matches stay on show once searched for, so a choice made among
	// them survives a form sent back with errors.
	if data.OrgQuery != "" && (posted.Get("action") == "search" || data.OrgError != "" || data.Org != "") {
		data.Searched = true
		if data.Results, err = s.Orgs.Search(r.Context(), data.OrgQuery, orgResultsLimit); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	p := s.page(r, "Tell us about a patient safety concern")
	p.Errors, p.Data, p.Problem = errs, data, problem
	s.render.Render(w, r, status, "report", p)
}

// report handles the public form's two buttons: Search finds the
// organisation without JavaScript; Submit records the concern.
func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	posted := r.PostForm
	if posted.Get("action") == "search" {
		var errs []FieldError
		if strings.TrimSpace(posted.Get("org_query")) == "" {
			errs = []FieldError{{Field: "org_query", Message: "Enter the name or ODS code of the organisation to search for it"}}
		}
		s.renderReport(w, r, http.StatusOK, posted, errs, "")
		return
	}
	// Every attempt to submit counts against the address's limit, refused
	// ones included, so the form cannot be used to tune text until the
	// identifier guard lets it through.
	if !s.allowed(w, r, "report", s.PublicReportRate, time.Hour) {
		s.renderReport(w, r, http.StatusTooManyRequests, posted, nil,
			"This form has been sent too many times from your internet connection. Keep this page open and try again in an hour: what you typed is still here.")
		return
	}
	if posted.Get(honeypotField) != "" {
		// Only a program fills in a field nobody can see: store nothing.
		s.renderReport(w, r, http.StatusUnprocessableEntity, posted, nil, "We could not accept this form. If you are a person, submit it again.")
		return
	}
	// A form sent too soon after it was first shown is refused, but its
	// answers are still checked, so a person who was quick sees every
	// problem at once and the time keeps counting from the first showing.
	answers, errs := s.publicAnswers(r, posted)
	if posted.Get("org") == "" {
		// Text that is not a code is searched for, not refused as one.
		problem, err := s.orgQueryProblem(r.Context(), strings.TrimSpace(posted.Get("org_query")))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if problem != "" {
			errs = replaceFieldError(errs, "org_query", problem)
		}
	}
	if started, ok := s.formStarted(posted); !ok || time.Since(started) < minFillTime {
		s.renderReport(w, r, http.StatusUnprocessableEntity, posted, errs,
			"The form was sent too quickly after it was opened, so nothing was recorded. Check your answers, then submit the form again.")
		return
	}
	if errs != nil {
		s.renderReport(w, r, http.StatusUnprocessableEntity, posted, errs, "")
		return
	}
	shown, _ := strconv.Atoi(posted.Get("statement_version"))
	ev, err := s.Recorder.SubmitPublic(r.Context(), incident.PublicReport{Answers: answers, StatementVersion: shown}, incident.Client{IP: s.client(r).IP})
	if errors.Is(err, incident.ErrStatementChanged) {
		s.renderReport(w, r, http.StatusConflict, posted, nil, "The statement about how we use what you tell us changed while you were writing. Read it again, then submit.")
		return
	}
	if problems, ok := err.(apperr.Fields); ok {
		s.renderReport(w, r, http.StatusUnprocessableEntity, posted, s.publicProblems(answers, problems), "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/report/recorded/"+string(ev.Reference), http.StatusSeeOther)
}

// publicProblems names each problem by the input of the public page it is
// about: the organisation search box for the organisation, and for the
// store's last check of the identifier guard, which names an answer by its
// element, the question that asks it.
func (s *Server) publicProblems(a incident.Answers, problems apperr.Fields) []FieldError {
	steps := s.forms.PublicSteps(a)
	var errs []FieldError
	for _, p := range problems {
		field := p.Field
		for _, st := range steps {
			if st.Question.Element == field {
				field = st.Slug
				break
			}
		}
		if field == "organisation" || field == "org" {
			field = "org_query"
		}
		errs = append(errs, FieldError{Field: field, Message: p.Message})
	}
	return errs
}

// publicAnswers reads every question of the public page, in order, so that
// the date question read is the one the person chose.
func (s *Server) publicAnswers(r *http.Request, posted url.Values) (incident.Answers, []FieldError) {
	a := incident.Answers{}
	var errs []FieldError
	done := map[string]bool{}
	for {
		var next *form.Step
		for _, st := range s.forms.PublicSteps(a) {
			if !done[st.Slug] {
				next = &st
				break
			}
		}
		if next == nil {
			return a, errs
		}
		done[next.Slug] = true
		values := publicValues(next.Slug, posted)
		if next.Question.Kind == form.Org {
			code := posted.Get("org")
			if code == "" {
				code = posted.Get("org_query")
			}
			values = url.Values{form.FieldAnswer: {code}}
		}
		answered, problems := s.forms.Apply(a, *next, values, s.now())
		for _, pr := range problems {
			field := publicField(next.Slug, pr.Field)
			if next.Question.Kind == form.Org {
				field = "org_query"
			}
			errs = append(errs, FieldError{Field: field, Message: pr.Message})
		}
		if problems == nil {
			a = answered
		}
	}
}

func (s *Server) reportRecorded(w http.ResponseWriter, r *http.Request) {
	ref, err := incident.ParseReference(r.PathValue("ref"))
	if err != nil {
		s.notFound(w, r)
		return
	}
	p := s.page(r, "Thank you for telling us")
	p.Data = ref
	s.render.Render(w, r, http.StatusOK, "report-recorded", p)
}
