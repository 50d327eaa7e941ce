package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/incident"
)

// This file is the recording organisation's review of its events: the
// "Review" panel of an event's page, its two forms, and the review filters
// of the event list. The rules are incident's (SetReview, EditNote); who
// may do what is authz's (ViewReview, ReviewEvent, EditReviewNote).

// reviewRoutes registers changing an event's review and editing a note.
func (s *Server) reviewRoutes(r *router) {
	r.handleFunc("POST /events/{ref}/review", s.requireUser(s.reviewEvent))
	r.handleFunc("POST /events/{ref}/review/notes/{id}", s.requireUser(s.editReviewNote))
}

// reviewForm is the review form as typed.
type reviewForm struct {
	State, Assignee, Note string
	Due                   dateInput
	// NoteID and NoteBody are the note being edited, when the page is
	// shown again with a problem in it.
	NoteID   int64
	NoteBody string
}

// reviewPanel is the review part of an event's page.
type reviewPanel struct {
	Review incident.Review
	State  string
	// Assignee and Due say who has it and when it is due, as read.
	Assignee, Due string
	// CanChange shows the form; Form is what it holds.
	CanChange bool
	Form      reviewForm
	States    []userOption
	Assignees []userOption
	Notes     []reviewNoteView
	Errors    []FieldError
}

// reviewNoteView is one note as the panel shows it.
type reviewNoteView struct {
	ID      int64
	Author  string
	At      time.Time
	Edited  bool
	Version int
	Body    string
	Earlier []reviewNoteVersionView
	// CanEdit shows the edit form; Open and Body keep it open with what
	// was typed after a problem, and Error says what it was.
	CanEdit bool
	Open    bool
	Draft   string
	Error   string
}

// reviewNoteVersionView is an earlier version of a note.
type reviewNoteVersionView struct {
	Version int
	Author  string
	At      time.Time
	Body    string
}

// reviewPanelFor builds the panel when sub may read the event's review;
// nil otherwise. in, when not nil, is the form as typed, with errs.
func (s *Server) reviewPanelFor(r *http.Request, ev incident.Event, sub authz.Subject, in *reviewForm, errs []FieldError) (*reviewPanel, error) {
	if authz.Decide(sub, authz.ViewReview, authz.Object{Org: ev.OrgCode}).Denied() {
		return nil, nil
	}
	rv, err := s.Incidents.Review(r.Context(), ev.ID)
	if err != nil {
		return nil, err
	}
	people, err := s.Incidents.Assignees(r.Context(), ev.OrgCode, authz.AssignableRoles())
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, p := range people {
		names[p.ID] = p.Name
	}
	p := &reviewPanel{Review: rv, State: rv.State.Label(), Assignee: "Nobody", Due: "No due date",
		CanChange: authz.Decide(sub, authz.ReviewEvent, authz.Object{Org: ev.OrgCode}).Allowed, Errors: errs}
	if rv.AssigneeID != 0 {
		if n, ok := names[rv.AssigneeID]; ok {
			p.Assignee = n
		} else if p.Assignee, err = s.authorName(r, ev, rv.AssigneeID, 2, 0, map[int64]string{}); err != nil {
			return nil, err
		}
	}
	if !rv.Due.IsZero() {
		p.Due = rv.Due.Format("2 January 2006")
	}
	f := reviewForm{State: string(rv.State)}
	if rv.AssigneeID != 0 {
		f.Assignee = strconv.FormatInt(rv.AssigneeID, 10)
	}
	if !rv.Due.IsZero() {
		f.Due = dateInput{Day: strconv.Itoa(rv.Due.Day()), Month: strconv.Itoa(int(rv.Due.Month())), Year: strconv.Itoa(rv.Due.Year())}
	}
	if in != nil && in.NoteID == 0 {
		f = *in
	}
	p.Form = f
	for _, st := range incident.ReviewStates() {
		label := st.Label()
		if rv.State == incident.Closed && st == incident.InReview {
			label = "In review (reopen it)"
		}
		if rv.State == incident.Closed && st == incident.ReviewNew || rv.State == incident.InReview && st == incident.ReviewNew {
			continue
		}
		p.States = append(p.States, userOption{Value: string(st), Label: label, Selected: f.State == string(st)})
	}
	p.Assignees = append(p.Assignees, userOption{Value: "", Label: "Nobody", Selected: f.Assignee == ""})
	for _, a := range people {
		id := strconv.FormatInt(a.ID, 10)
		p.Assignees = append(p.Assignees, userOption{Value: id, Label: a.Name, Selected: f.Assignee == id})
	}
	authors := map[int64]string{}
	for _, n := range rv.Notes {
		author, err := s.authorName(r, ev, n.AuthorID, 2, sub.UserID, authors)
		if err != nil {
			return nil, err
		}
		nv := reviewNoteView{ID: n.ID, Author: author, At: n.CreatedAt, Edited: n.Version > 1, Version: n.Version, Body: n.Body,
			CanEdit: authz.Decide(sub, authz.EditReviewNote, authz.Object{Org: ev.OrgCode, UserID: n.AuthorID}).Allowed, Draft: n.Body}
		if in != nil && in.NoteID == n.ID {
			nv.Open, nv.Draft = true, in.NoteBody
			if len(errs) > 0 {
				nv.Error = errs[0].Message
			}
		}
		for _, v := range n.Earlier {
			a, err := s.authorName(r, ev, v.AuthorID, 2, sub.UserID, authors)
			if err != nil {
				return nil, err
			}
			nv.Earlier = append(nv.Earlier, reviewNoteVersionView{Version: v.Version, Author: a, At: v.CreatedAt, Body: v.Body})
		}
		p.Notes = append(p.Notes, nv)
	}
	return p, nil
}

// reviewable loads the event named in the path when the viewer may change
// its review, showing the refusal (the IG training page among them) when
// not.
func (s *Server) reviewable(w http.ResponseWriter, r *http.Request) (incident.Event, authz.Subject, bool) {
	ref, err := incident.ParseReference(r.PathValue("ref"))
	if err != nil {
		s.notFound(w, r)
		return incident.Event{}, authz.Subject{}, false
	}
	ev, err := s.Incidents.ByReference(r.Context(), ref)
	if err != nil {
		s.fail(w, r, err)
		return incident.Event{}, authz.Subject{}, false
	}
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return incident.Event{}, authz.Subject{}, false
	}
	if !s.authorize(w, r, authz.ReviewEvent, authz.Object{Org: ev.OrgCode}) {
		return incident.Event{}, authz.Subject{}, false
	}
	return ev, sub, true
}

// reviewEvent saves the review form: state, assignee, due date and a note.
func (s *Server) reviewEvent(w http.ResponseWriter, r *http.Request) {
	ev, sub, ok := s.reviewable(w, r)
	if !ok {
		return
	}
	in := reviewForm{State: r.PostFormValue("state"), Assignee: r.PostFormValue("assignee"), Note: r.PostFormValue("note"),
		Due: dateInput{Day: r.PostFormValue("due-day"), Month: r.PostFormValue("due-month"), Year: r.PostFormValue("due-year")}}
	var errs []FieldError
	ch := incident.ReviewChange{EventID: ev.ID, ActorID: sub.UserID, State: incident.ReviewState(in.State),
		AssignableRoles: authz.AssignableRoles(), Note: in.Note}
	if in.Assignee != "" {
		id, err := strconv.ParseInt(in.Assignee, 10, 64)
		if err != nil || id <= 0 {
			errs = append(errs, FieldError{Field: "assignee", Message: "Choose someone who reviews events for this organisation"})
		}
		ch.AssigneeID = id
	}
	if strings.TrimSpace(in.Due.Day+in.Due.Month+in.Due.Year) != "" {
		day, parsed, ok := parseDateInput(in.Due, "Due date", "")
		in.Due = parsed
		if !ok {
			errs = append(errs, FieldError{Field: parsed.errorField("due"), Message: parsed.Message})
		}
		ch.Due = day
	}
	if errs == nil {
		_, err := s.Incidents.SetReview(r.Context(), ch, incident.Client{IP: s.client(r).IP})
		fe, isFields := fieldErrors(err)
		switch {
		case isFields:
			for _, e := range fe {
				if e.Field == "due" {
					in.Due.DayErr, in.Due.MonthErr, in.Due.YearErr, in.Due.Message = true, true, true, e.Message
					e.Field = "due-day"
				}
				errs = append(errs, e)
			}
		case err != nil:
			s.fail(w, r, err)
			return
		default:
			http.Redirect(w, r, "/events/"+string(ev.Reference)+"?reviewed=1#review", http.StatusSeeOther)
			return
		}
	}
	s.showEvent(w, r, ev, sub, http.StatusUnprocessableEntity, &in, errs)
}

// editReviewNote saves a new version of one of the viewer's notes.
func (s *Server) editReviewNote(w http.ResponseWriter, r *http.Request) {
	ev, sub, ok := s.reviewable(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	note, err := s.Incidents.NoteOf(r.Context(), ev.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.authorize(w, r, authz.EditReviewNote, authz.Object{Org: ev.OrgCode, UserID: note.AuthorID}) {
		return
	}
	body := r.PostFormValue("body")
	base, _ := strconv.Atoi(r.PostFormValue("version"))
	err = s.Incidents.EditNote(r.Context(), ev.ID, note.ID, base, sub.UserID, body, incident.Client{IP: s.client(r).IP})
	if fe, ok := fieldErrors(err); ok {
		for i := range fe {
			fe[i].Field = "note-" + strconv.FormatInt(note.ID, 10)
		}
		s.showEvent(w, r, ev, sub, http.StatusUnprocessableEntity, &reviewForm{NoteID: note.ID, NoteBody: body}, fe)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/events/"+string(ev.Reference)+"?noted=1#note-"+strconv.FormatInt(note.ID, 10), http.StatusSeeOther)
}

// The review filters of the event list, by the names of their inputs.
const (
	reviewStateParam    = "state"
	reviewAssigneeParam = "assignee"
	reviewDueParam      = "due-by"
)

// reviewListForm is the review part of the filter form as typed.
type reviewListForm struct {
	States   []string
	Assignee string
	Due      dateInput
}

// parseReviewFilter reads the review filters into f, naming problems with
// fail. "me" as assignee is the viewer, set once the viewer is known.
func parseReviewFilter(q url.Values, f *incident.Filter, fail func(field, message string)) reviewListForm {
	form := reviewListForm{States: q[reviewStateParam], Assignee: strings.TrimSpace(q.Get(reviewAssigneeParam)),
		Due: dateInput{Day: q.Get(reviewDueParam + "-day"), Month: q.Get(reviewDueParam + "-month"), Year: q.Get(reviewDueParam + "-year")}}
	for _, v := range form.States {
		st, err := incident.ParseReviewState(v)
		if err != nil || len(form.States) > len(incident.ReviewStates()) {
			fail(reviewStateParam, "Choose review states from the list")
			f.ReviewStates = nil
			break
		}
		f.ReviewStates = append(f.ReviewStates, st)
	}
	switch form.Assignee {
	case "", "me":
	case "none":
		f.Unassigned = true
	default:
		id, err := strconv.ParseInt(form.Assignee, 10, 64)
		if err != nil || id <= 0 {
			fail(reviewAssigneeParam, "Choose who the review is assigned to from the list")
		}
		f.AssigneeID = id
	}
	if strings.TrimSpace(form.Due.Day+form.Due.Month+form.Due.Year) != "" {
		day, in, ok := parseDateInput(form.Due, "Due by", "")
		form.Due = in
		if !ok {
			fail(in.errorField(reviewDueParam), in.Message)
		}
		f.DueBy = day
	}
	return form
}

// scopeReviewFilter applies the review filters when the viewer may read
// the reviews of the events listed, and drops them otherwise, with their
// problems among errs, so a list never tells anyone else where a review
// stands. It returns the problems that remain.
func scopeReviewFilter(f *incident.Filter, form *eventListForm, review bool, viewerID int64, errs []FieldError) []FieldError {
	if !review {
		f.ReviewStates, f.AssigneeID, f.Unassigned, f.DueBy = nil, 0, false, time.Time{}
		form.Review = reviewListForm{}
		if slices.Contains(incident.ReviewSorts(), f.Sort) {
			f.Sort, form.Sort = "", ""
		}
		return slices.DeleteFunc(errs, func(e FieldError) bool {
			return strings.HasPrefix(e.Field, reviewDueParam) || e.Field == reviewStateParam || e.Field == reviewAssigneeParam
		})
	}
	if form.Review.Assignee == "me" {
		f.AssigneeID = viewerID
	}
	return errs
}

// values adds the review filters to a list's query string.
func (f reviewListForm) values(q url.Values) {
	for _, v := range f.States {
		q.Add(reviewStateParam, v)
	}
	if f.Assignee != "" {
		q.Set(reviewAssigneeParam, f.Assignee)
	}
	for part, v := range map[string]string{"-day": f.Due.Day, "-month": f.Due.Month, "-year": f.Due.Year} {
		if v != "" {
			q.Set(reviewDueParam+part, v)
		}
	}
}

// reviewListData is the review part of the list page: its filters, shown
// when the viewer may read the reviews listed.
type reviewListData struct {
	Show      bool
	States    []userOption
	Assignees []userOption
	Due       eventDateData
}

// reviewListPage fills the review filters of the list page.
func (s *Server) reviewListPage(r *http.Request, view eventView, form eventListForm) (reviewListData, map[int64]string) {
	names := map[int64]string{}
	if !view.review {
		return reviewListData{}, names
	}
	d := reviewListData{Show: true, Due: eventDateData{Name: reviewDueParam, Label: "Review due by", Input: form.Review.Due}}
	for _, st := range incident.ReviewStates() {
		d.States = append(d.States, userOption{Value: string(st), Label: st.Label(), Selected: slices.Contains(form.Review.States, string(st))})
	}
	d.Assignees = []userOption{
		{Value: "me", Label: "Me", Selected: form.Review.Assignee == "me"},
		{Value: "none", Label: "Nobody", Selected: form.Review.Assignee == "none"},
	}
	if len(view.orgs) == 1 {
		people, err := s.Incidents.Assignees(r.Context(), view.orgs[0], authz.AssignableRoles())
		if err == nil {
			for _, p := range people {
				id := strconv.FormatInt(p.ID, 10)
				names[p.ID] = p.Name
				d.Assignees = append(d.Assignees, userOption{Value: id, Label: p.Name, Selected: form.Review.Assignee == id})
			}
		}
	}
	return d, names
}

// reviewCell is the review column of one row of the list.
func (s *Server) reviewCell(r *http.Request, e incident.Summary, names map[int64]string) string {
	parts := []string{e.ReviewState.Label()}
	if e.AssigneeID != 0 {
		name, ok := names[e.AssigneeID]
		if !ok {
			u, err := s.Accounts.UserWithOrg(r.Context(), e.AssigneeID)
			name = "A deleted account"
			if err == nil {
				name = u.Name
			}
			names[e.AssigneeID] = name
		}
		parts = append(parts, name)
	}
	if !e.ReviewDue.IsZero() {
		parts = append(parts, "due "+e.ReviewDue.Format("2 January 2006"))
	}
	return strings.Join(parts, ", ")
}
