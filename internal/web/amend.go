package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/secret"
)

// amendRoutes registers changing a submitted event: each change is a new
// version with its author, time and reason; earlier versions stay as they
// were. Reviewers answer the governance questions this way.
func (s *Server) amendRoutes(r *router) {
	r.handleFunc("GET /events/{ref}/change/{step}", s.requireUser(s.changeForm))
	r.handleFunc("POST /events/{ref}/change/{step}", s.requireUser(s.change))
}

// eventSteps lists the pages of an event's form, as the subject may change
// them, for the answers a.
func (s *Server) eventSteps(ev incident.Event, a incident.Answers, sub authz.Subject) []form.Step {
	if ev.Source == incident.Public {
		return s.forms.PublicSteps(a)
	}
	return s.forms.Steps(ev.Type, a, authz.Reviews(sub))
}

// changeable reports whether the step's answer may be changed by sub at
// all, so pages offer no change the incident package would refuse: not the
// organisation, nor a member of the public's own words.
func (s *Server) changeable(ev incident.Event, sub authz.Subject, step form.Step) bool {
	if step.Question.Kind == form.Org {
		return false
	}
	return !slices.Contains(s.forms.Protected(ev.Type, ev.Source == incident.Public, authz.Reviews(sub)), step.Question.Element)
}

// amendState is an amendment in progress: the answers changed so far,
// when a change asked a new question before it could be saved, and the
// version they change. It travels in the page, signed, so that nothing is
// kept on the server between the pages and the browser cannot alter it.
type amendState struct {
	Answers incident.Answers
	Base    int
	// Pending is true when Answers hold changes not yet saved.
	Pending bool
}

// amendMAC signs the pending answers for one person and event.
func (s *Server) amendMAC(ref incident.Reference, userID int64, base int, pending string) string {
	return secret.Sign(s.FormKey, "amend-pending", string(ref), strconv.FormatInt(userID, 10), strconv.Itoa(base), pending)
}

// amendStateOf reads the amendment in progress from the posted form, or
// starts one from the event as it stands.
func (s *Server) amendStateOf(r *http.Request, ev incident.Event, userID int64) amendState {
	st := amendState{Answers: ev.Answers, Base: ev.Version}
	pending := r.PostFormValue("pending")
	base, err := strconv.Atoi(r.PostFormValue("base"))
	if pending == "" || err != nil || !secret.Verify(s.FormKey, r.PostFormValue("pending_mac"), "amend-pending",
		string(ev.Reference), strconv.FormatInt(userID, 10), strconv.Itoa(base), pending) {
		return st
	}
	var a incident.Answers
	if json.Unmarshal([]byte(pending), &a) != nil {
		return st
	}
	return amendState{Answers: a, Base: base, Pending: true}
}

// amendable returns the event and the step to change, when the viewer may
// change it, with the amendment in progress.
func (s *Server) amendable(w http.ResponseWriter, r *http.Request) (incident.Event, authz.Subject, amendState, form.Step, bool) {
	var none form.Step
	ref, err := incident.ParseReference(r.PathValue("ref"))
	if err != nil {
		s.notFound(w, r)
		return incident.Event{}, authz.Subject{}, amendState{}, none, false
	}
	ev, err := s.Incidents.ByReference(r.Context(), ref)
	if err != nil {
		s.fail(w, r, err)
		return incident.Event{}, authz.Subject{}, amendState{}, none, false
	}
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return incident.Event{}, authz.Subject{}, amendState{}, none, false
	}
	if !s.authorize(w, r, authz.AmendRecord, authz.Object{Org: ev.OrgCode, UserID: ev.ReporterID}) {
		return incident.Event{}, authz.Subject{}, amendState{}, none, false
	}
	st := amendState{Answers: ev.Answers, Base: ev.Version}
	if r.Method == http.MethodPost {
		st = s.amendStateOf(r, ev, sub.UserID)
	}
	step, ok := form.Find(s.eventSteps(ev, st.Answers, sub), r.PathValue("step"))
	if !ok || !s.changeable(ev, sub, step) {
		s.notFound(w, r)
		return incident.Event{}, authz.Subject{}, amendState{}, none, false
	}
	return ev, sub, st, step, true
}

func (s *Server) changeForm(w http.ResponseWriter, r *http.Request) {
	ev, sub, st, step, ok := s.amendable(w, r)
	if !ok {
		return
	}
	s.renderChange(w, r, ev, sub, st, step, http.StatusOK, form.FormValues(step, st.Answers), "", nil)
}

func (s *Server) renderChange(w http.ResponseWriter, r *http.Request, ev incident.Event, sub authz.Subject, st amendState,
	step form.Step, status int, values url.Values, reason string, errs []FieldError) {
	q := newQuestionView(step, step.HeadingFor(st.Answers, sub.UserID == ev.ReporterID), form.FieldAnswer, values, errs)
	q.Page, q.Caption = true, "Change event "+string(ev.Reference)
	p := s.page(r, q.Heading)
	p.Errors = errs
	data := questionPageData{Action: "/events/" + string(ev.Reference) + "/change/" + step.Slug,
		Back: "/events/" + string(ev.Reference), Question: q, Amend: true, Reason: reason}
	if st.Pending {
		body, err := json.Marshal(st.Answers)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data.Pending, data.Base = string(body), st.Base
		data.PendingMAC = s.amendMAC(ev.Reference, sub.UserID, st.Base, data.Pending)
	}
	p.Data = data
	s.render.Render(w, r, status, "record-question", p)
}

// change saves one changed answer as a new version. When the change makes
// a new question necessary (harm changed to severe asks how strongly the
// event was linked to it), that question is asked first, with the changes
// so far kept in the page, and nothing is saved until every question the
// national rules require is answered.
func (s *Server) change(w http.ResponseWriter, r *http.Request) {
	ev, sub, st, step, ok := s.amendable(w, r)
	if !ok {
		return
	}
	reason := r.PostFormValue("reason")
	answers, problems := s.forms.Apply(st.Answers, step, r.PostForm, s.now())
	if problems != nil {
		errs, _ := fieldErrors(problems)
		s.renderChange(w, r, ev, sub, st, step, http.StatusUnprocessableEntity, r.PostForm, reason, errs)
		return
	}
	next := amendState{Answers: answers, Base: st.Base, Pending: true}
	saved, err := s.Recorder.Amend(r.Context(), incident.Amendment{EventID: ev.ID, Base: st.Base, AuthorID: sub.UserID,
		Reviewer: authz.Reviews(sub), Reason: reason, Answers: answers}, incident.Client{IP: s.client(r).IP})
	var more *incident.MoreAnswers
	if errors.As(err, &more) {
		steps := s.eventSteps(ev, answers, sub)
		ask, ok := form.Find(steps, more.Steps[0])
		if !ok {
			// Only a governance question, which this person is not asked,
			// can be missing from their pages.
			s.fail(w, r, apperr.New(apperr.Conflict, "This change needs an answer that only your organisation's reviewers can give. Ask one of them to make it."))
			return
		}
		p := form.FormValues(ask, answers)
		s.renderChange(w, r, ev, sub, next, ask, http.StatusOK, p, reason, nil)
		return
	}
	if fe, ok := fieldErrors(err); ok {
		// A problem on another page of the form is shown on that page,
		// with the changes so far kept.
		at, values := step, r.PostForm
		for _, e := range fe {
			if other, found := form.Find(s.eventSteps(ev, answers, sub), e.Field); found && other.Slug != step.Slug {
				at, values = other, form.FormValues(other, answers)
				fe = []FieldError{e}
				break
			}
		}
		for i := range fe {
			if fe[i].Field != "reason" {
				fe[i].Field = form.FieldAnswer
			}
		}
		if at.Slug == step.Slug {
			next = st
		}
		s.renderChange(w, r, ev, sub, next, at, http.StatusUnprocessableEntity, values, reason, fe)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/events/"+string(ev.Reference)+"?changed="+strconv.Itoa(saved.Version), http.StatusSeeOther)
}
