package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
)

// amendRoutes registers changing a submitted event: each change is a new
// version with its author, time and reason; earlier versions stay as they
// were. Reviewers answer the governance questions this way.
func (s *Server) amendRoutes(r *router) {
	r.handleFunc("GET /events/{ref}/change/{step}", s.requireUser(s.changeForm))
	r.handleFunc("POST /events/{ref}/change/{step}", s.requireUser(s.change))
}

// eventSteps lists the pages of an event's form, as the subject may change
// them.
func (s *Server) eventSteps(ev incident.Event, sub authz.Subject) []form.Step {
	if ev.Source == incident.Public {
		return s.forms.PublicSteps(ev.Answers)
	}
	return s.forms.Steps(ev.Type, ev.Answers, authz.Reviews(sub))
}

// amendable returns the event and the step to change, when the viewer may
// change it. The organisation is not changed this way: it decides who sees
// the event.
func (s *Server) amendable(w http.ResponseWriter, r *http.Request) (incident.Event, authz.Subject, []form.Step, form.Step, bool) {
	var none form.Step
	ref, err := incident.ParseReference(r.PathValue("ref"))
	if err != nil {
		s.notFound(w, r)
		return incident.Event{}, authz.Subject{}, nil, none, false
	}
	ev, err := s.Incidents.ByReference(r.Context(), ref)
	if err != nil {
		s.fail(w, r, err)
		return incident.Event{}, authz.Subject{}, nil, none, false
	}
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return incident.Event{}, authz.Subject{}, nil, none, false
	}
	if !s.authorize(w, r, authz.AmendRecord, authz.Object{Org: ev.OrgCode, UserID: ev.ReporterID}) {
		return incident.Event{}, authz.Subject{}, nil, none, false
	}
	steps := s.eventSteps(ev, sub)
	step, ok := form.Find(steps, r.PathValue("step"))
	if !ok || step.Question.Kind == form.Org {
		s.notFound(w, r)
		return incident.Event{}, authz.Subject{}, nil, none, false
	}
	return ev, sub, steps, step, true
}

func (s *Server) changeForm(w http.ResponseWriter, r *http.Request) {
	ev, _, _, step, ok := s.amendable(w, r)
	if !ok {
		return
	}
	s.renderChange(w, r, ev, step, http.StatusOK, form.FormValues(step, ev.Answers), "", nil)
}

func (s *Server) renderChange(w http.ResponseWriter, r *http.Request, ev incident.Event, step form.Step, status int, values url.Values, reason string, errs []FieldError) {
	q := newQuestionView(step, step.Heading(ev.Answers), form.FieldAnswer, values, errs)
	q.Page, q.Caption = true, "Change event "+string(ev.Reference)
	p := s.page(r, q.Heading)
	p.Errors = errs
	p.Data = questionPageData{Action: "/events/" + string(ev.Reference) + "/change/" + step.Slug,
		Back: "/events/" + string(ev.Reference), Question: q, Amend: true, Reason: reason}
	s.render.Render(w, r, status, "record-question", p)
}

// change saves one changed answer as a new version. When the change asks a
// new question (a newly selected agent, say), the person goes on to it.
func (s *Server) change(w http.ResponseWriter, r *http.Request) {
	ev, sub, _, step, ok := s.amendable(w, r)
	if !ok {
		return
	}
	reason := r.PostFormValue("reason")
	answers, problems := s.forms.Apply(ev.Answers, step, r.PostForm, s.now())
	var res form.Result
	if problems == nil {
		res, problems = s.forms.Revise(ev.Type, ev.Source == incident.Public, answers, s.now())
	}
	var errs []FieldError
	if problems != nil {
		errs, _ = fieldErrors(problems)
	} else {
		_, err := s.Incidents.Amend(r.Context(), ev.ID, sub.UserID, reason, incident.Change{Answers: res.Answers, Index: res.Index,
			OccurredFrom: res.OccurredFrom, OccurredTo: res.OccurredTo, SharingOptOut: res.SharingOptOut}, incident.Client{IP: s.client(r).IP})
		if fe, ok := fieldErrors(err); ok {
			for i := range fe {
				if fe[i].Field != "reason" {
					fe[i].Field = form.FieldAnswer
				}
			}
			errs = fe
		} else if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if errs != nil {
		s.renderChange(w, r, ev, step, http.StatusUnprocessableEntity, r.PostForm, reason, errs)
		return
	}
	ev.Answers = res.Answers
	for _, st := range s.eventSteps(ev, sub) {
		if !st.Answered(ev.Answers) && !st.Question.Optional && st.Question.Kind != form.Org {
			http.Redirect(w, r, "/events/"+string(ev.Reference)+"/change/"+st.Slug, http.StatusSeeOther)
			return
		}
	}
	http.Redirect(w, r, "/events/"+string(ev.Reference)+"?changed="+strconv.Itoa(ev.Version+1), http.StatusSeeOther)
}
