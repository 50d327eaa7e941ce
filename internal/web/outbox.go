package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/mail/mailadmin"
)

// outboxRoutes registers the outbox view for national admins (issue 14):
// how email delivery is going, and Send again for a message that failed
// or whose sending is uncertain.
func (s *Server) outboxRoutes(r *router) {
	r.handleFunc("GET /admin/outbox", s.requireUser(s.outboxPage))
	r.handleFunc("POST /admin/outbox/{id}/resend", s.requireUser(s.outboxResend))
}

// outboxStatusLabels name the statuses on the page.
var outboxStatusLabels = map[string]string{
	mailadmin.StatusQueued:    "Queued",
	mailadmin.StatusRetrying:  "Retrying",
	mailadmin.StatusSent:      "Sent",
	mailadmin.StatusFailed:    "Failed",
	mailadmin.StatusUncertain: "Uncertain",
	mailadmin.StatusCancelled: "Cancelled",
}

// outboxStatusTags colour the statuses' tags.
var outboxStatusTags = map[string]string{
	mailadmin.StatusQueued:    "nhsuk-tag--blue",
	mailadmin.StatusRetrying:  "nhsuk-tag--yellow",
	mailadmin.StatusSent:      "nhsuk-tag--green",
	mailadmin.StatusFailed:    "nhsuk-tag--red",
	mailadmin.StatusUncertain: "nhsuk-tag--orange",
	mailadmin.StatusCancelled: "nhsuk-tag--grey",
}

// outboxCategoryLabels name the categories on the page.
var outboxCategoryLabels = map[string]string{
	mailadmin.CategoryService:    "Service notice",
	mailadmin.CategoryNewsletter: "Newsletter",
	mailadmin.CategoryInvitation: "Invitation",
}

// outboxCount is one status with how many messages have it, linking to
// the list of them.
type outboxCount struct {
	Label, URL string
	Count      int
}

// outboxRow is one message as the table shows it.
type outboxRow struct {
	ID                    int64
	To, Subject           string
	Category, Status, Tag string
	Attempts              int
	LastError             string
	CreatedAt             time.Time
	SentAt                time.Time
	CanResend, LinkLost   bool
}

// outboxData is what the outbox page shows.
type outboxData struct {
	Depth      int
	Counts     []outboxCount
	Statuses   []userOption
	Categories []userOption
	// Batch is the batch the list is limited to, from the query.
	Batch      string
	Filtered   bool
	Total      int
	From, To   int
	Rows       []outboxRow
	Pagination pagination
	// Query is the filter as a query string, for the Send again forms to
	// come back to.
	Query string
}

// outboxFilter reads the filter from values (the query, or a Send again
// form carrying it), ignoring what is not a known status or category or a
// short one-line batch, and returns it with its query string.
func outboxFilter(v url.Values) (mailadmin.Filter, url.Values) {
	var f mailadmin.Filter
	q := url.Values{}
	if st := v.Get("status"); slices.Contains(mailadmin.Statuses(), st) {
		f.Status = st
		q.Set("status", st)
	}
	if c := v.Get("category"); slices.Contains(mailadmin.Categories(), c) {
		f.Category = c
		q.Set("category", c)
	}
	if b := strings.TrimSpace(v.Get("batch")); b != "" && len(b) <= 100 && !strings.ContainsAny(b, "\r\n") {
		f.Batch = b
		q.Set("batch", b)
	}
	if n, err := strconv.Atoi(v.Get("page")); err == nil && n > 0 {
		f.Page = n
	}
	return f, q
}

func (s *Server) outboxPage(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageOutbox, authz.Object{}) {
		return
	}
	s.renderOutbox(w, r, http.StatusOK, r.URL.Query(), "")
}

// renderOutbox shows the page for the filter in values, with problem (a
// Send again that could not be done) when not empty.
func (s *Server) renderOutbox(w http.ResponseWriter, r *http.Request, status int, values url.Values, problem string) {
	f, query := outboxFilter(values)
	res, err := s.MailAdmin.Deliveries(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := outboxData{Depth: res.Depth(), Batch: f.Batch, Filtered: len(query) > 0, Total: res.Total}
	for _, st := range mailadmin.Statuses() {
		data.Counts = append(data.Counts, outboxCount{Label: outboxStatusLabels[st], Count: res.Counts[st], URL: "/admin/outbox?status=" + st})
		data.Statuses = append(data.Statuses, userOption{Value: st, Label: outboxStatusLabels[st], Selected: f.Status == st})
	}
	for _, c := range mailadmin.Categories() {
		data.Categories = append(data.Categories, userOption{Value: c, Label: outboxCategoryLabels[c], Selected: f.Category == c})
	}
	for _, m := range res.Messages {
		row := outboxRow{ID: m.ID, To: m.To, Subject: m.Subject, Category: outboxCategoryLabels[m.Category],
			Status: outboxStatusLabels[m.Status], Tag: outboxStatusTags[m.Status], Attempts: m.Attempts, LastError: m.LastError,
			CreatedAt: m.CreatedAt.In(s.uk), CanResend: m.CanResend(),
			LinkLost: m.LinkLost && (m.Status == mailadmin.StatusFailed || m.Status == mailadmin.StatusUncertain)}
		if row.Category == "" {
			row.Category = m.Category
		}
		if row.Status == "" {
			row.Status = m.Status
		}
		if !m.SentAt.IsZero() {
			row.SentAt = m.SentAt.In(s.uk)
		}
		data.Rows = append(data.Rows, row)
	}
	if len(res.Messages) > 0 {
		data.From = (res.Page-1)*mailadmin.PerPage + 1
		data.To = data.From + len(res.Messages) - 1
	}
	data.Pagination = paginate(res.Page, res.Pages(), pageLink("/admin/outbox", query))
	back := url.Values{}
	for k, v := range query {
		back[k] = v
	}
	if res.Page > 1 {
		back.Set("page", strconv.Itoa(res.Page))
	}
	data.Query = back.Encode()
	p := s.page(r, "Outbox")
	p.Problem = problem
	if r.Method == http.MethodGet && r.URL.Query().Get("done") == "resent" {
		p.Notice = "The message will be sent again, with the same Message-ID as before, so a copy that did arrive is shown as the same message. The audit log records that you asked."
	}
	p.Data = data
	s.render.Render(w, r, status, "admin-outbox", p)
}

func (s *Server) outboxResend(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageOutbox, authz.Object{}) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return
	}
	back, _ := url.ParseQuery(r.PostFormValue("back"))
	_, err = s.MailAdmin.Resend(r.Context(), mailadmin.Actor{UserID: viewerFrom(r.Context()).user.ID, IP: s.client(r).IP}, id)
	if apperr.CodeOf(err) == apperr.Conflict {
		s.renderOutbox(w, r, http.StatusConflict, back, apperr.MessageOf(err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, query := outboxFilter(back)
	if n, err := strconv.Atoi(back.Get("page")); err == nil && n > 1 {
		query.Set("page", strconv.Itoa(n))
	}
	query.Set("done", "resent")
	http.Redirect(w, r, "/admin/outbox?"+query.Encode(), http.StatusSeeOther)
}
