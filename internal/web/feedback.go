package web

import (
	"net/http"
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/feedback"
)

// feedbackRoutes registers feedback and questions (P3, P8): the form the
// "?" link on every page opens, the sender's own list and threads under
// "Your account", and the national admins' inbox.
//
// Only signed-in users send feedback. A visitor who is signed out gets a
// page that asks them to sign in (and brings them back to the form): the
// terms and privacy policy promise answers to the service's users, a reply
// goes to the address their account has verified, and an open form would
// take addresses nobody checked and be a way for anyone on the internet
// to put text in front of the operator. The public's concerns about care
// have their own route (/report), which the page points to.
func (s *Server) feedbackRoutes(r *router) {
	r.handleFunc("GET /help/feedback", s.feedbackForm)
	r.handleFunc("POST /help/feedback", s.requireUser(s.sendFeedback))
	r.handleFunc("GET /help/feedback/sent/{id}", s.requireUser(s.feedbackSent))
	r.handleFunc("GET /account/queries", s.requireUser(s.ownQueries))
	r.handleFunc("GET /account/queries/{id}", s.requireUser(s.ownQuery))
	r.handleFunc("GET /admin/feedback", s.requireUser(s.feedbackInbox))
	r.handleFunc("GET /admin/feedback/{id}", s.requireUser(s.feedbackItem))
	r.handleFunc("POST /admin/feedback/{id}/assign", s.requireUser(s.feedbackAssign))
	r.handleFunc("POST /admin/feedback/{id}/reply", s.requireUser(s.feedbackReply))
	r.handleFunc("POST /admin/feedback/{id}/status", s.requireUser(s.feedbackStatus))
}

// feedbackFormValues is what the feedback form holds, as typed.
type feedbackFormValues struct {
	Kind, Text string
	MayReply   bool
}

// feedbackFormData is what the feedback form shows besides the values.
type feedbackFormData struct {
	// Page is the checked path of the page the person came from; "" when
	// unknown.
	Page string
	// Max is the most characters the text may hold, and Used how many it
	// holds now: the count without JavaScript.
	Max, Used int
	Email     string // where a reply by email goes
	Kinds     []userOption
	// SignIn is, for a visitor who is signed out, the sign-in address that
	// comes back to the form.
	SignIn string
}

// kindOptions are the radios of the form, with chosen selected.
func kindOptions(chosen string) []userOption {
	return []userOption{
		{Value: string(feedback.Feedback), Label: "Feedback about PSIMS", Hint: "Tell us what works, what does not, or how it could be better", Selected: chosen == string(feedback.Feedback)},
		{Value: string(feedback.Question), Label: "A question for the PSIMS team", Hint: "Ask about using the service or your account", Selected: chosen == string(feedback.Question)},
	}
}

// fromPage is the checked page a feedback form names, or "".
func fromPage(s string) string {
	p, _ := feedback.ParsePage(s)
	return p
}

func (s *Server) feedbackForm(w http.ResponseWriter, r *http.Request) {
	page := fromPage(r.URL.Query().Get("from"))
	v := viewerFrom(r.Context())
	if v == nil {
		next := "/help/feedback"
		if page != "" {
			next += "?from=" + url.QueryEscape(page)
		}
		p := s.page(r, "Sign in to give feedback or ask a question")
		p.Data = feedbackFormData{Page: page, SignIn: "/sign-in?next=" + url.QueryEscape(next)}
		s.render.Render(w, r, http.StatusOK, "feedback-sign-in", p)
		return
	}
	if !s.authorize(w, r, authz.SendFeedback, authz.Object{}) {
		return
	}
	s.renderFeedbackForm(w, r, http.StatusOK, page, feedbackFormValues{}, nil, "")
}

// renderFeedbackForm shows the form with what was typed, its errors and a
// problem with the form as a whole (such as the hourly limit).
func (s *Server) renderFeedbackForm(w http.ResponseWriter, r *http.Request, status int, page string, f feedbackFormValues, errs []FieldError, problem string) {
	p := s.page(r, "Give feedback or ask a question")
	p.Form = f
	p.Errors = errs
	p.Problem = problem
	p.Data = feedbackFormData{Page: page, Max: feedback.MaxLength, Used: utf8.RuneCountInString(f.Text),
		Email: viewerFrom(r.Context()).user.Email, Kinds: kindOptions(f.Kind)}
	s.render.Render(w, r, status, "feedback", p)
}

func (s *Server) sendFeedback(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.SendFeedback, authz.Object{}) {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, apperr.Wrap(apperr.Invalid, "The form could not be read. Go back and try again.", err))
		return
	}
	f := feedbackFormValues{Kind: r.PostForm.Get("kind"), Text: r.PostForm.Get("text"), MayReply: r.PostForm.Get("may_reply") == "yes"}
	page := fromPage(r.PostForm.Get("from"))
	it, err := s.Feedback.Send(r.Context(), feedback.Submission{UserID: viewerFrom(r.Context()).user.ID,
		Kind: feedback.Kind(f.Kind), Text: f.Text, Page: page, MayReply: f.MayReply})
	if errs, ok := fieldErrors(err); ok {
		s.renderFeedbackForm(w, r, http.StatusUnprocessableEntity, page, f, errs, "")
		return
	}
	if apperr.CodeOf(err) == apperr.RateLimited {
		s.renderFeedbackForm(w, r, http.StatusTooManyRequests, page, f, nil, apperr.MessageOf(err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/help/feedback/sent/"+strconv.FormatInt(it.ID, 10), http.StatusSeeOther)
}

// ownThread returns the item named in the path when it is the viewer's
// own; anyone else's is "not found", as if it did not exist.
func (s *Server) ownThread(w http.ResponseWriter, r *http.Request) (feedback.Thread, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return feedback.Thread{}, false
	}
	t, err := s.Feedback.Thread(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return feedback.Thread{}, false
	}
	t = s.ukThread(t)
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return feedback.Thread{}, false
	}
	if d := authz.Decide(sub, authz.ViewOwnFeedback, authz.Object{UserID: t.UserID}); d.Denied() {
		if d.Reason == authz.NotPermitted {
			s.notFound(w, r)
		} else {
			s.refuse(w, r, sub, d, authz.Object{UserID: t.UserID})
		}
		return feedback.Thread{}, false
	}
	return t, true
}

// ukItem shows an item's times in UK time.
func (s *Server) ukItem(it feedback.Item) feedback.Item {
	it.CreatedAt, it.UpdatedAt, it.WaitingSince = it.CreatedAt.In(s.uk), it.UpdatedAt.In(s.uk), it.WaitingSince.In(s.uk)
	return it
}

// ukThread shows a thread's times in UK time.
func (s *Server) ukThread(t feedback.Thread) feedback.Thread {
	t.Item = s.ukItem(t.Item)
	replies := make([]feedback.Reply, len(t.Replies))
	for i, r := range t.Replies {
		r.CreatedAt = r.CreatedAt.In(s.uk)
		replies[i] = r
	}
	t.Replies = replies
	return t
}

func (s *Server) feedbackSent(w http.ResponseWriter, r *http.Request) {
	t, ok := s.ownThread(w, r)
	if !ok {
		return
	}
	p := s.page(r, "Your "+t.Kind.Label()+" has been sent")
	p.Data = t
	s.render.Render(w, r, http.StatusOK, "feedback-sent", p)
}

// queryRow is one item in a list.
type queryRow struct {
	feedback.Item
	StatusTag string
}

// feedbackStatusTag is the NHS.UK tag colour of a status.
func feedbackStatusTag(st feedback.Status) string {
	switch st {
	case feedback.StatusNew:
		return "nhsuk-tag--blue"
	case feedback.StatusAnswered:
		return "nhsuk-tag--green"
	}
	return "nhsuk-tag--grey"
}

func (s *Server) ownQueries(w http.ResponseWriter, r *http.Request) {
	v, ok := s.self(w, r)
	if !ok {
		return
	}
	items, err := s.Feedback.Mine(r.Context(), v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]queryRow, 0, len(items))
	for _, it := range items {
		rows = append(rows, queryRow{Item: s.ukItem(it), StatusTag: feedbackStatusTag(it.Status)})
	}
	p := s.page(r, "Your feedback and questions")
	p.Data = rows
	s.render.Render(w, r, http.StatusOK, "account-queries", p)
}

// threadData is what a thread's page shows.
type threadData struct {
	feedback.Thread
	StatusTag string
	// For the operator's page: who it may be assigned to, and the forms'
	// values.
	Assignees []userOption
	Reply     string
	Closed    bool
}

func (s *Server) ownQuery(w http.ResponseWriter, r *http.Request) {
	t, ok := s.ownThread(w, r)
	if !ok {
		return
	}
	p := s.page(r, "Your "+t.Kind.Label()+" "+t.Reference())
	p.Data = threadData{Thread: t, StatusTag: feedbackStatusTag(t.Status)}
	s.render.Render(w, r, http.StatusOK, "account-query", p)
}

// inboxData is what the operator's inbox shows.
type inboxData struct {
	Rows                      []queryRow
	Kinds, Statuses, Assigned []userOption
	Total, From, To, Overdue  int
	OverdueAfter              int
	Pagination                pagination
}

func (s *Server) feedbackInbox(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageFeedback, authz.Object{}) {
		return
	}
	q := r.URL.Query()
	f := feedback.Filter{ViewerID: viewerFrom(r.Context()).user.ID}
	query := url.Values{}
	if k := feedback.Kind(q.Get("kind")); k == feedback.Feedback || k == feedback.Question {
		f.Kind = k
		query.Set("kind", string(k))
	}
	for _, st := range feedback.Statuses() {
		if q.Get("status") == string(st) {
			f.Status = st
			query.Set("status", string(st))
		}
	}
	if a := q.Get("assigned"); a == feedback.AssignedToMe || a == feedback.AssignedNobody {
		f.Assigned = a
		query.Set("assigned", a)
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		f.Page = n
	}
	res, err := s.Feedback.Inbox(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := inboxData{Total: res.Total, Overdue: res.Overdue, OverdueAfter: feedback.OverdueAfter}
	for _, k := range feedback.Kinds() {
		label := "Feedback"
		if k == feedback.Question {
			label = "Questions"
		}
		data.Kinds = append(data.Kinds, userOption{Value: string(k), Label: label, Selected: f.Kind == k})
	}
	for _, st := range feedback.Statuses() {
		data.Statuses = append(data.Statuses, userOption{Value: string(st), Label: st.Label(), Selected: f.Status == st})
	}
	data.Assigned = []userOption{
		{Value: feedback.AssignedToMe, Label: "Assigned to me", Selected: f.Assigned == feedback.AssignedToMe},
		{Value: feedback.AssignedNobody, Label: "Not assigned", Selected: f.Assigned == feedback.AssignedNobody},
	}
	for _, it := range res.Items {
		data.Rows = append(data.Rows, queryRow{Item: s.ukItem(it), StatusTag: feedbackStatusTag(it.Status)})
	}
	if len(res.Items) > 0 {
		data.From = (res.Page-1)*feedback.PerPage + 1
		data.To = data.From + len(res.Items) - 1
	}
	data.Pagination = paginate(res.Page, res.Pages(), pageLink("/admin/feedback", query))
	p := s.page(r, "Feedback and questions")
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "admin-feedback", p)
}

// feedbackNotices are the messages after a change, by the done= value of
// the redirect: fixed texts, so the query cannot put words on the page.
var feedbackNotices = map[string]string{
	"assigned": "The assignment has been saved.",
	"emailed":  "Your reply has been saved and emailed to them.",
	"kept":     "Your reply has been saved. They did not agree to replies by email, so it is shown only under their account.",
	"closed":   "It has been closed.",
	"reopened": "It has been reopened and is new again.",
}

// adminThread loads the item named in the path for the operator.
func (s *Server) adminThread(w http.ResponseWriter, r *http.Request) (feedback.Thread, bool) {
	if !s.authorize(w, r, authz.ManageFeedback, authz.Object{}) {
		return feedback.Thread{}, false
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return feedback.Thread{}, false
	}
	t, err := s.Feedback.Thread(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return feedback.Thread{}, false
	}
	return s.ukThread(t), true
}

// renderFeedbackItem shows the operator's page of one item.
func (s *Server) renderFeedbackItem(w http.ResponseWriter, r *http.Request, status int, t feedback.Thread, reply string, errs []FieldError, problem string) {
	people, err := s.Feedback.Assignees(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	me := viewerFrom(r.Context()).user.ID
	data := threadData{Thread: t, StatusTag: feedbackStatusTag(t.Status), Reply: reply, Closed: t.Status == feedback.StatusClosed}
	data.Assignees = []userOption{{Value: "", Label: "Nobody", Selected: t.AssigneeID == 0}}
	for _, pp := range people {
		label := pp.Name
		if pp.ID == me {
			label = "Me (" + pp.Name + ")"
		}
		o := userOption{Value: strconv.FormatInt(pp.ID, 10), Label: label, Selected: pp.ID == t.AssigneeID}
		if pp.ID == me {
			data.Assignees = append([]userOption{data.Assignees[0], o}, data.Assignees[1:]...)
			continue
		}
		data.Assignees = append(data.Assignees, o)
	}
	p := s.page(r, feedbackTitle(t))
	p.Data = data
	p.Errors = errs
	p.Problem = problem
	p.Notice = feedbackNotices[r.URL.Query().Get("done")]
	s.render.Render(w, r, status, "admin-feedback-item", p)
}

// feedbackTitle names an item, as in "Question FB-00042".
func feedbackTitle(t feedback.Thread) string {
	if t.Kind == feedback.Question {
		return "Question " + t.Reference()
	}
	return "Feedback " + t.Reference()
}

func (s *Server) feedbackItem(w http.ResponseWriter, r *http.Request) {
	t, ok := s.adminThread(w, r)
	if !ok {
		return
	}
	s.renderFeedbackItem(w, r, http.StatusOK, t, "", nil, "")
}

// feedbackChanged goes back to the item after a change, or shows what was
// wrong with it: field errors (422) and conflicts (409) on the item's page
// with the reply as typed.
func (s *Server) feedbackChanged(w http.ResponseWriter, r *http.Request, t feedback.Thread, reply string, err error, done string) {
	if errs, ok := fieldErrors(err); ok {
		s.renderFeedbackItem(w, r, http.StatusUnprocessableEntity, t, reply, errs, "")
		return
	}
	if apperr.CodeOf(err) == apperr.Conflict {
		s.renderFeedbackItem(w, r, http.StatusConflict, t, reply, nil, apperr.MessageOf(err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/feedback/"+strconv.FormatInt(t.ID, 10)+"?done="+done, http.StatusSeeOther)
}

func (s *Server) feedbackAction(r *http.Request) feedback.Action {
	return feedback.Action{ActorID: viewerFrom(r.Context()).user.ID, IP: s.client(r).IP}
}

func (s *Server) feedbackAssign(w http.ResponseWriter, r *http.Request) {
	t, ok := s.adminThread(w, r)
	if !ok {
		return
	}
	var to int64
	if v := r.PostFormValue("assignee"); v != "" {
		var err error
		if to, err = strconv.ParseInt(v, 10, 64); err != nil || to <= 0 {
			s.feedbackChanged(w, r, t, "", apperr.Fields{{Field: "assignee", Message: "Select a national admin to assign it to"}}, "")
			return
		}
	}
	s.feedbackChanged(w, r, t, "", s.Feedback.Assign(r.Context(), s.feedbackAction(r), t.ID, to), "assigned")
}

func (s *Server) feedbackReply(w http.ResponseWriter, r *http.Request) {
	t, ok := s.adminThread(w, r)
	if !ok {
		return
	}
	text := r.PostFormValue("reply")
	reply, err := s.Feedback.Reply(r.Context(), s.feedbackAction(r), t.ID, text)
	done := "kept"
	if reply.Emailed {
		done = "emailed"
	}
	s.feedbackChanged(w, r, t, text, err, done)
}

func (s *Server) feedbackStatus(w http.ResponseWriter, r *http.Request) {
	t, ok := s.adminThread(w, r)
	if !ok {
		return
	}
	// Anything but closing or reopening is refused by the service.
	to, done := feedback.Status(r.PostFormValue("status")), "closed"
	if to == feedback.StatusNew {
		done = "reopened"
	}
	s.feedbackChanged(w, r, t, "", s.Feedback.SetStatus(r.Context(), s.feedbackAction(r), t.ID, to), done)
}
