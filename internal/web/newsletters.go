package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/newsletter"
)

// newsletterRoutes registers the national admins' newsletter pages and the
// one-click unsubscribe address every newsletter and invitation carries
// (issue 14, P7).
func (s *Server) newsletterRoutes(r *router) {
	r.handleFunc("GET /admin/newsletters", s.requireUser(s.newsletterList))
	r.handleFunc("GET /admin/newsletters/new", s.requireUser(s.newsletterNew))
	r.handleFunc("POST /admin/newsletters/new", s.requireUser(s.newsletterCreate))
	r.handleFunc("GET /admin/newsletters/{id}", s.requireUser(s.newsletterPage))
	r.handleFunc("GET /admin/newsletters/{id}/edit", s.requireUser(s.newsletterEditForm))
	r.handleFunc("POST /admin/newsletters/{id}/edit", s.requireUser(s.newsletterEdit))
	r.handleFunc("POST /admin/newsletters/{id}/send", s.requireUser(s.newsletterSend))
	r.handleFunc("POST /admin/newsletters/{id}/cancel", s.requireUser(s.newsletterCancel))
	// Open: no sign-in is needed, and someone who has not accepted new
	// terms can still unsubscribe.
	r.open("GET /unsubscribe/{token}", s.unsubscribePage)
	r.open("POST /unsubscribe/{token}", s.unsubscribe)
}

// oneClickUnsubscribe reports whether r is a post to the one-click
// unsubscribe address, which checkCSRF lets through without a form token.
func oneClickUnsubscribe(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.URL.EscapedPath(), "/unsubscribe/")
	return ok && token != "" && !strings.Contains(token, "/")
}

// unsubscribeRate is how many unsubscribe requests one address may make a
// minute: generous, as a mail provider posts for many recipients, but a
// bound on anyone trying tokens.
const unsubscribeRate = 300

// newsletterForm is the compose form as typed.
type newsletterForm struct {
	Kind, Subject, Body, Audience, Orgs string
	Roles                               []string
	// When is "now" or "later"; SendAt and Time say when, for "later".
	When   string
	SendAt dateInput
	Time   string
}

// HasRole reports whether the form chose the role.
func (f newsletterForm) HasRole(role string) bool {
	for _, r := range f.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// newsletterFormData is what the compose form shows besides the values.
type newsletterFormData struct {
	// ID is the mailing being changed; 0 for a new one.
	ID    int64
	Kinds []newsletter.Kind
	Roles []account.Role
}

func (s *Server) newsletterFormPage(r *http.Request, id int64, f newsletterForm, errs []FieldError) Page {
	title := "New newsletter or invitation"
	if id != 0 {
		title = "Change newsletter or invitation"
	}
	p := s.page(r, title)
	p.Form = f
	p.Errors = errs
	p.Data = newsletterFormData{ID: id, Kinds: newsletter.Kinds(), Roles: account.Roles()}
	return p
}

var clockTime = regexp.MustCompile(`^([01]?[0-9]|2[0-3])[:.]([0-5][0-9])$`)

// readNewsletterForm reads the compose form, returning what was typed,
// the draft and the problems with the date and time to send it.
func (s *Server) readNewsletterForm(r *http.Request) (newsletterForm, newsletter.Draft, []FieldError) {
	f := newsletterForm{Kind: r.PostFormValue("kind"), Subject: r.PostFormValue("subject"), Body: r.PostFormValue("body"),
		Audience: r.PostFormValue("audience"), Orgs: r.PostFormValue("orgs"), Roles: r.PostForm["roles"],
		When: r.PostFormValue("when"), Time: strings.TrimSpace(r.PostFormValue("send_at-time")),
		SendAt: dateInput{Day: r.PostFormValue("send_at-day"), Month: r.PostFormValue("send_at-month"), Year: r.PostFormValue("send_at-year")}}
	d := newsletter.Draft{Kind: newsletter.Kind(f.Kind), Subject: f.Subject, Body: f.Body, Audience: newsletter.Audience(f.Audience),
		Roles: f.Roles, Orgs: f.Orgs}
	var errs []FieldError
	switch f.When {
	case "now":
	case "later":
		day, in, ok := parseDateInput(f.SendAt, "Date to send it", "Enter the date to send it")
		f.SendAt = in
		if !ok {
			errs = append(errs, FieldError{Field: in.errorField("send_at"), Message: in.Message})
			break
		}
		m := clockTime.FindStringSubmatch(f.Time)
		if m == nil {
			errs = append(errs, FieldError{Field: "send_at-time", Message: "Enter the time to send it in 24-hour format, like 09:30 or 14:00"})
			break
		}
		hour, _ := strconv.Atoi(m[1])
		minute, _ := strconv.Atoi(m[2])
		d.SendAt = time.Date(day.Year(), day.Month(), day.Day(), hour, minute, 0, 0, s.uk)
	default:
		errs = append(errs, FieldError{Field: "when-now", Message: "Select when to send it"})
	}
	return f, d, errs
}

// formOf is a stored mailing as the compose form shows it.
func (s *Server) formOf(n newsletter.Newsletter) newsletterForm {
	f := newsletterForm{Kind: string(n.Kind), Subject: n.Subject, Body: n.Body, Audience: string(n.Audience),
		Roles: n.Roles, Orgs: strings.Join(n.Orgs, ", "), When: "now"}
	if !n.SendAt.IsZero() {
		at := n.SendAt.In(s.uk)
		f.When = "later"
		f.SendAt = dateInput{Day: strconv.Itoa(at.Day()), Month: strconv.Itoa(int(at.Month())), Year: strconv.Itoa(at.Year())}
		f.Time = at.Format("15:04")
	}
	return f
}

// saveNewsletter creates (id 0) or changes a mailing from the posted form
// and goes to its page, or shows the form again with the problems.
func (s *Server) saveNewsletter(w http.ResponseWriter, r *http.Request, id int64) {
	v := viewerFrom(r.Context())
	f, d, dateErrs := s.readNewsletterForm(r)
	by := newsletter.Actor{ID: v.user.ID, IP: s.client(r).IP}
	var err error
	if len(dateErrs) > 0 {
		// The draft's own problems are shown beside the date's.
		err = s.Newsletters.Check(d)
	} else if id == 0 {
		id, err = s.Newsletters.Create(r.Context(), by, d)
	} else {
		err = s.Newsletters.Update(r.Context(), by, id, d)
	}
	if err == nil && len(dateErrs) == 0 {
		http.Redirect(w, r, "/admin/newsletters/"+strconv.FormatInt(id, 10)+"?done=saved", http.StatusSeeOther)
		return
	}
	errs, ok := fieldErrors(err)
	if err != nil && !ok {
		s.fail(w, r, err)
		return
	}
	errs = append(errs, dateErrs...)
	s.render.Render(w, r, http.StatusUnprocessableEntity, "admin-newsletter-form", s.newsletterFormPage(r, id, f, errs))
}

func (s *Server) newsletterList(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageNewsletters, authz.Object{}) {
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	list, more, err := s.Newsletters.List(r.Context(), page)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Newsletters and invitations")
	data := newsletterListData{Rows: list}
	if page > 1 {
		data.Newer = "/admin/newsletters?page=" + strconv.Itoa(page-1)
	}
	if more {
		data.Older = "/admin/newsletters?page=" + strconv.Itoa(page+1)
	}
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "admin-newsletters", p)
}

// newsletterListData is what the list shows.
type newsletterListData struct {
	Rows         []newsletter.Newsletter
	Newer, Older string
}

func (s *Server) newsletterNew(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageNewsletters, authz.Object{}) {
		return
	}
	f := newsletterForm{Kind: string(newsletter.KindNewsletter), Audience: string(newsletter.Everyone), When: "now"}
	s.render.Render(w, r, http.StatusOK, "admin-newsletter-form", s.newsletterFormPage(r, 0, f, nil))
}

func (s *Server) newsletterCreate(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageNewsletters, authz.Object{Change: true}) {
		return
	}
	s.saveNewsletter(w, r, 0)
}

// newsletterID reads the {id} of the path; ok is false (and the page not
// found shown) when it is not a number.
func (s *Server) newsletterID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return 0, false
	}
	return id, true
}

// newsletterNotices are the banners shown after each step.
var newsletterNotices = map[string]string{
	"saved":     "Saved. Check the preview below, then send it.",
	"sending":   "Sending has started. The messages are queued in batches; their status is below.",
	"scheduled": "Scheduled. It will be sent at the time shown.",
	"cancelled": "Cancelled. No more messages will be queued.",
}

// newsletterPageData is what a mailing's page shows.
type newsletterPageData struct {
	newsletter.View
	// SendAt is the time to send it in UK time, or "" for "when asked".
	SendAt string
	// Counts are the messages by status, in a fixed order.
	Counts []statusCount
	// NextPage links to the next page of messages, or "".
	NextPage string
}

// statusCount is how many messages have one status.
type statusCount struct {
	Label string
	N     int
}

func (s *Server) newsletterPage(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageNewsletters, authz.Object{}) {
		return
	}
	id, ok := s.newsletterID(w, r)
	if !ok {
		return
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	v := viewerFrom(r.Context())
	view, err := s.Newsletters.View(r.Context(), id, account.Contactable{ID: v.user.ID, Email: v.user.Email, Name: v.user.Name}, max(after, 0))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := newsletterPageData{View: view}
	if !view.SendAt.IsZero() {
		data.SendAt = view.SendAt.In(s.uk).Format("2 January 2006 at 15:04")
	}
	// Every outbox status, so the counts add up to what was queued: a
	// message to someone who unsubscribed after it was queued is
	// cancelled, not sent.
	for _, c := range []struct{ status, label string }{{"queued", "Waiting to send"}, {"retrying", "Retrying"},
		{"sent", "Sent"}, {"failed", "Failed"}, {"uncertain", "Uncertain (see the outbox)"},
		{"cancelled", "Cancelled: the person no longer wants these"}} {
		data.Counts = append(data.Counts, statusCount{Label: c.label, N: view.Delivery.Counts[c.status]})
	}
	if msgs := view.Delivery.Messages; view.Delivery.More && len(msgs) > 0 {
		data.NextPage = "/admin/newsletters/" + strconv.FormatInt(id, 10) + "?" + url.Values{"after": {strconv.FormatInt(msgs[len(msgs)-1].ID, 10)}}.Encode()
	}
	p := s.page(r, view.Subject)
	p.Data = data
	p.Notice = newsletterNotices[r.URL.Query().Get("done")]
	s.render.Render(w, r, http.StatusOK, "admin-newsletter", p)
}

func (s *Server) newsletterEditForm(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageNewsletters, authz.Object{}) {
		return
	}
	id, ok := s.newsletterID(w, r)
	if !ok {
		return
	}
	n, err := s.Newsletters.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !n.Status.Editable() {
		s.fail(w, r, apperr.New(apperr.Conflict, "This can no longer be changed: it is "+strings.ToLower(n.Status.Label())+"."))
		return
	}
	s.render.Render(w, r, http.StatusOK, "admin-newsletter-form", s.newsletterFormPage(r, id, s.formOf(n), nil))
}

func (s *Server) newsletterEdit(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageNewsletters, authz.Object{Change: true}) {
		return
	}
	id, ok := s.newsletterID(w, r)
	if !ok {
		return
	}
	s.saveNewsletter(w, r, id)
}

func (s *Server) newsletterSend(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageNewsletters, authz.Object{Change: true}) {
		return
	}
	id, ok := s.newsletterID(w, r)
	if !ok {
		return
	}
	v := viewerFrom(r.Context())
	status, err := s.Newsletters.Send(r.Context(), newsletter.Actor{ID: v.user.ID, IP: s.client(r).IP}, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/newsletters/"+strconv.FormatInt(id, 10)+"?done="+string(status), http.StatusSeeOther)
}

func (s *Server) newsletterCancel(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageNewsletters, authz.Object{Change: true}) {
		return
	}
	id, ok := s.newsletterID(w, r)
	if !ok {
		return
	}
	v := viewerFrom(r.Context())
	if err := s.Newsletters.Cancel(r.Context(), newsletter.Actor{ID: v.user.ID, IP: s.client(r).IP}, id); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/newsletters/"+strconv.FormatInt(id, 10)+"?done=cancelled", http.StatusSeeOther)
}

// unsubscribeData is what the unsubscribe pages show.
type unsubscribeData struct {
	newsletter.Unsubscription
	// Action is where the confirmation form posts: the page's own address.
	Action string
	// Done is true once the consent is withdrawn.
	Done bool
}

// unsubscribePage asks the person to confirm, with a button: a GET changes
// nothing, as a link opened by a mail scanner must not unsubscribe anyone.
func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	if !s.allowed(w, r, "unsubscribe", unsubscribeRate, time.Minute) {
		s.render.Render(w, r, http.StatusTooManyRequests, "too-many-requests", s.page(r, "Too many attempts"))
		return
	}
	u, err := s.Newsletters.CheckUnsubscribe(r.PathValue("token"))
	if err != nil {
		s.badUnsubscribe(w, r, err)
		return
	}
	p := s.page(r, "Unsubscribe from "+u.What())
	p.Data = unsubscribeData{Unsubscription: u, Action: r.URL.Path}
	s.render.Render(w, r, http.StatusOK, "unsubscribe", p)
}

// unsubscribe withdraws the consent the token names, at once, for the
// confirmation button and for a mail provider's one-click POST (RFC 8058:
// body List-Unsubscribe=One-Click, no cookie, no form token), and answers
// with a confirmation page.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	if !s.allowed(w, r, "unsubscribe", unsubscribeRate, time.Minute) {
		s.render.Render(w, r, http.StatusTooManyRequests, "too-many-requests", s.page(r, "Too many attempts"))
		return
	}
	u, err := s.Newsletters.Unsubscribe(r.Context(), r.PathValue("token"), s.client(r).IP)
	if err != nil {
		s.badUnsubscribe(w, r, err)
		return
	}
	p := s.page(r, "You have unsubscribed")
	p.Data = unsubscribeData{Unsubscription: u, Done: true}
	s.render.Render(w, r, http.StatusOK, "unsubscribe", p)
}

// badUnsubscribe shows the page for a link that is not valid (400), or
// the error page for anything else.
func (s *Server) badUnsubscribe(w http.ResponseWriter, r *http.Request, err error) {
	if apperr.CodeOf(err) != apperr.Invalid {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "This unsubscribe link is not valid")
	p.Data = apperr.MessageOf(err)
	s.render.Render(w, r, http.StatusBadRequest, "unsubscribe-invalid", p)
}
