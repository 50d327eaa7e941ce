package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/sharing"
)

// sharingDocumentPath is the address the signed agreement is uploaded to
// (an upload route: see uploadRoutes) and downloaded from.
const sharingDocumentPath = "/admin/sharing/{id}/document"

// sharingRoutes registers the registry of data sharing agreements for
// national admins, the extract page for them and the agreements' named
// recipients, and the recipients' own list (issue 15, T15, T17).
func (s *Server) sharingRoutes(r *router) {
	r.handleFunc("GET /admin/sharing", s.requireUser(s.sharingList))
	r.handleFunc("GET /admin/sharing/new", s.requireUser(s.sharingNew))
	r.handleFunc("POST /admin/sharing/new", s.requireUser(s.sharingCreate))
	r.handleFunc("GET /admin/sharing/{id}", s.requireUser(s.sharingPage))
	r.handleFunc("GET /admin/sharing/{id}/edit", s.requireUser(s.sharingEditForm))
	r.handleFunc("POST /admin/sharing/{id}/edit", s.requireUser(s.sharingEdit))
	r.handleFunc("POST /admin/sharing/{id}/revoke", s.requireUser(s.sharingRevoke))
	r.handleFunc("POST "+sharingDocumentPath, s.requireUser(s.sharingUpload))
	r.handleFunc("GET "+sharingDocumentPath, s.requireUser(s.sharingDownload))
	r.handleFunc("GET /admin/sharing/{id}/extract", s.requireUser(s.sharingExtractForm))
	r.handleFunc("POST /admin/sharing/{id}/extract", s.requireUser(s.sharingExtract))
	r.handleFunc("GET /sharing", s.requireUser(s.sharingMine))
}

// sharingForm is the registration form as typed.
type sharingForm struct {
	Recipient, Purpose         string
	LegalBasis, SpecialBasis   string
	Starts, Ends, Approved     dateInput
	Fields                     []string
	Coverage, Orgs             string // Coverage is "all" or "list"
	ApproverName, ApproverRole string
	Recipients                 string
}

// HasField reports whether the form chose the export column key.
func (f sharingForm) HasField(key string) bool { return slices.Contains(f.Fields, key) }

// sharingFormData is what the form shows besides the values.
type sharingFormData struct {
	ID                       int64 // the agreement changed; 0 for a new one
	Reference                string
	Fields                   []incident.ExportField
	LegalBases, SpecialBases []sharing.Basis
	MaxDocument              string
}

// sharingID reads the {id} of the path; ok is false (and the page not
// found shown) when it is not a number.
func (s *Server) sharingID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return 0, false
	}
	return id, true
}

func (s *Server) sharingActor(r *http.Request) sharing.Actor {
	return sharing.Actor{ID: viewerFrom(r.Context()).user.ID, IP: s.client(r).IP}
}

func (s *Server) renderSharingForm(w http.ResponseWriter, r *http.Request, status int, a *sharing.Agreement, f sharingForm, errs []FieldError) {
	title := "Register a data sharing agreement"
	data := sharingFormData{Fields: s.Sharing.Fields(), LegalBases: sharing.LegalBases(), SpecialBases: sharing.SpecialBases()}
	if a != nil {
		title = "Change agreement " + a.Reference
		data.ID, data.Reference = a.ID, a.Reference
	}
	p := s.page(r, title)
	p.Form, p.Errors, p.Data = f, errs, data
	s.render.Render(w, r, status, "sharing-form", p)
}

// readSharingForm reads the posted form: what was typed, the draft, and
// the problems with the dates as typed.
func readSharingForm(r *http.Request) (sharingForm, sharing.Draft, []FieldError) {
	date := func(name string) dateInput {
		return dateInput{Day: r.PostFormValue(name + "-day"), Month: r.PostFormValue(name + "-month"), Year: r.PostFormValue(name + "-year")}
	}
	f := sharingForm{Recipient: r.PostFormValue("recipient"), Purpose: r.PostFormValue("purpose"),
		LegalBasis: r.PostFormValue("legal_basis"), SpecialBasis: r.PostFormValue("special_basis"),
		Starts: date("starts_on"), Ends: date("ends_on"), Approved: date("approved_on"), Fields: r.PostForm["fields"],
		Coverage: r.PostFormValue("coverage"), Orgs: r.PostFormValue("orgs"), ApproverName: r.PostFormValue("approver_name"),
		ApproverRole: r.PostFormValue("approver_role"), Recipients: r.PostFormValue("recipients")}
	d := sharing.Draft{Recipient: f.Recipient, Purpose: f.Purpose, LegalBasis: f.LegalBasis, SpecialBasis: f.SpecialBasis,
		Fields: f.Fields, AllOrgs: f.Coverage == "all", Orgs: f.Orgs, ApproverName: f.ApproverName, ApproverRole: f.ApproverRole,
		Recipients: f.Recipients}
	var errs []FieldError
	for _, dt := range []struct {
		name, label, missing string
		in                   *dateInput
		out                  *time.Time
	}{
		{"starts_on", "The start date", "Enter the date the agreement starts", &f.Starts, &d.StartsOn},
		{"ends_on", "The end date", "Enter the date the agreement ends", &f.Ends, &d.EndsOn},
		{"approved_on", "The approval date", "Enter the date the agreement was approved", &f.Approved, &d.ApprovedOn},
	} {
		t, in, ok := parseDateInput(*dt.in, dt.label, dt.missing)
		*dt.in = in
		if !ok {
			errs = append(errs, FieldError{Field: in.errorField(dt.name), Message: in.Message})
			continue
		}
		*dt.out = t
	}
	if f.Coverage != "all" && f.Coverage != "list" {
		errs = append(errs, FieldError{Field: "coverage", Message: "Select which organisations' events the agreement covers"})
	}
	return f, d, errs
}

// withoutDateErrors leaves out the draft's problems with dates the form
// already found wrong as typed, and its problem with coverage when none
// was chosen, so each problem shows once.
func withoutDateErrors(errs, typed []FieldError) []FieldError {
	out := typed
	for _, e := range errs {
		dup := false
		for _, t := range typed {
			if strings.HasPrefix(t.Field, e.Field) || (t.Field == "coverage" && e.Field == "orgs") {
				dup = true
			}
		}
		if !dup {
			out = append(out, e)
		}
	}
	return out
}

// saveSharing registers (a nil) or changes agreement a from the posted
// form and goes to its page, or shows the form again with the problems.
func (s *Server) saveSharing(w http.ResponseWriter, r *http.Request, a *sharing.Agreement) {
	f, d, typed := readSharingForm(r)
	var id int64
	var err error
	switch {
	case len(typed) > 0:
		err = s.Sharing.CheckDraft(r.Context(), d)
	case a == nil:
		id, err = s.Sharing.Create(r.Context(), s.sharingActor(r), d)
	default:
		id, err = a.ID, s.Sharing.Update(r.Context(), s.sharingActor(r), a.ID, d)
	}
	if err == nil && len(typed) == 0 {
		http.Redirect(w, r, "/admin/sharing/"+strconv.FormatInt(id, 10)+"?done=saved", http.StatusSeeOther)
		return
	}
	errs, ok := fieldErrors(err)
	if err != nil && !ok {
		s.fail(w, r, err)
		return
	}
	s.renderSharingForm(w, r, http.StatusUnprocessableEntity, a, f, inPageOrder(withoutDateErrors(errs, typed), sharingFormOrder))
}

// sharingFormOrder are the fields of the registration form in page order,
// for the error summary.
var sharingFormOrder = []string{"recipient", "purpose", "legal_basis", "special_basis", "starts_on", "ends_on", "fields",
	"coverage", "orgs", "approver_name", "approver_role", "approved_on", "recipients"}

// inPageOrder sorts errs by where their field comes in order (a date's
// boxes with the date), keeping the order of errors of one field.
func inPageOrder(errs []FieldError, order []string) []FieldError {
	rank := func(field string) int {
		for i, name := range order {
			if field == name || strings.HasPrefix(field, name+"-") {
				return i
			}
		}
		return len(order)
	}
	slices.SortStableFunc(errs, func(a, b FieldError) int { return rank(a.Field) - rank(b.Field) })
	return errs
}

func (s *Server) sharingList(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageSharingAgreements, authz.Object{}) {
		return
	}
	list, err := s.Sharing.List(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Data sharing agreements")
	p.Data = s.sharingRows(list)
	s.render.Render(w, r, http.StatusOK, "sharing-list", p)
}

// sharingRow is an agreement in a list.
type sharingRow struct {
	ID                    int64
	Reference, Recipient  string
	Status                sharing.Status
	Starts, Ends, Covered string
	Exports               int
}

func (s *Server) sharingRows(list []sharing.Agreement) []sharingRow {
	now := s.Sharing.Now()
	rows := make([]sharingRow, 0, len(list))
	for _, a := range list {
		rows = append(rows, sharingRow{ID: a.ID, Reference: a.Reference, Recipient: a.Recipient, Status: a.StatusAt(now),
			Starts: a.StartsOn.Format("2 January 2006"), Ends: a.EndsOn.Format("2 January 2006"), Covered: covered(a), Exports: a.Exports})
	}
	return rows
}

// covered says which organisations an agreement covers.
func covered(a sharing.Agreement) string {
	if a.AllOrgs {
		return "All organisations"
	}
	return strings.Join(a.Orgs, ", ")
}

func (s *Server) sharingNew(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageSharingAgreements, authz.Object{}) {
		return
	}
	s.renderSharingForm(w, r, http.StatusOK, nil, sharingForm{Coverage: "list"}, nil)
}

func (s *Server) sharingCreate(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageSharingAgreements, authz.Object{}) {
		return
	}
	s.saveSharing(w, r, nil)
}

// sharingAgreement loads the agreement of the path.
func (s *Server) sharingAgreement(w http.ResponseWriter, r *http.Request) (sharing.Agreement, bool) {
	id, ok := s.sharingID(w, r)
	if !ok {
		return sharing.Agreement{}, false
	}
	a, err := s.Sharing.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return sharing.Agreement{}, false
	}
	return a, true
}

// sharingNotices are the banners shown after each step.
var sharingNotices = map[string]string{
	"saved":    "Agreement saved.",
	"revoked":  "Agreement revoked. No more data can be shared under it.",
	"uploaded": "Signed agreement uploaded.",
}

// sharingPageData is what an agreement's page shows.
type sharingPageData struct {
	A                                sharing.Agreement
	Status                           sharing.Status
	Starts, Ends, Approved           string
	Covered                          string
	FieldHeadings                    []string
	DocumentUploaded                 string
	Revoked                          string
	Exports                          []sharingExportRow
	MaxDocument                      string
	Manage                           bool
	RevokeForm                       string
	RevokeError, UploadError         string
	RevokeErrors                     []FieldError
	ExtractURL, DocumentURL, EditURL string
}

// sharingExportRow is one extract in an agreement's log.
type sharingExportRow struct {
	Who, When, Scope string
	Rows             int
	Incomplete       bool
}

func (s *Server) sharingPageData(r *http.Request, a sharing.Agreement) (sharingPageData, error) {
	id := strconv.FormatInt(a.ID, 10)
	d := sharingPageData{A: a, Status: a.StatusAt(s.Sharing.Now()), Starts: a.StartsOn.Format("2 January 2006"),
		Ends: a.EndsOn.Format("2 January 2006"), Approved: a.ApprovedOn.Format("2 January 2006"), Covered: covered(a),
		FieldHeadings: s.Sharing.FieldHeadings(a.Fields), MaxDocument: strconv.Itoa(sharing.MaxDocument>>20) + " MB", Manage: true,
		ExtractURL: "/admin/sharing/" + id + "/extract", DocumentURL: "/admin/sharing/" + id + "/document", EditURL: "/admin/sharing/" + id + "/edit"}
	if !a.Document.UploadedAt.IsZero() {
		d.DocumentUploaded = a.Document.UploadedAt.In(s.uk).Format("2 January 2006 at 15:04")
	}
	if !a.RevokedAt.IsZero() {
		d.Revoked = a.RevokedAt.In(s.uk).Format("2 January 2006 at 15:04")
	}
	log, err := s.Sharing.Exports(r.Context(), a.ID, 200)
	if err != nil {
		return d, err
	}
	for _, e := range log {
		who := e.Email
		if who == "" {
			who = "An account since deleted"
		}
		d.Exports = append(d.Exports, sharingExportRow{Who: who, When: e.At.In(s.uk).Format("2 January 2006 at 15:04"),
			Scope: e.Scope, Rows: e.Rows, Incomplete: e.Incomplete})
	}
	return d, nil
}

func (s *Server) renderSharingPage(w http.ResponseWriter, r *http.Request, status int, a sharing.Agreement, edit func(*sharingPageData), notice string) {
	data, err := s.sharingPageData(r, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Agreement "+a.Reference)
	if edit != nil {
		edit(&data)
		p.Errors = data.RevokeErrors
	}
	p.Data = data
	p.Notice = notice
	s.render.Render(w, r, status, "sharing-agreement", p)
}

func (s *Server) sharingPage(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageSharingAgreements, authz.Object{}) {
		return
	}
	a, ok := s.sharingAgreement(w, r)
	if !ok {
		return
	}
	s.renderSharingPage(w, r, http.StatusOK, a, nil, sharingNotices[r.URL.Query().Get("done")])
}

// formOfAgreement is a stored agreement as the form shows it.
func formOfAgreement(a sharing.Agreement) sharingForm {
	date := func(t time.Time) dateInput {
		return dateInput{Day: strconv.Itoa(t.Day()), Month: strconv.Itoa(int(t.Month())), Year: strconv.Itoa(t.Year())}
	}
	f := sharingForm{Recipient: a.Recipient, Purpose: a.Purpose, LegalBasis: a.LegalBasis, SpecialBasis: a.SpecialBasis,
		Starts: date(a.StartsOn), Ends: date(a.EndsOn), Approved: date(a.ApprovedOn), Fields: a.Fields, Coverage: "list",
		Orgs: strings.Join(a.Orgs, ", "), ApproverName: a.ApproverName, ApproverRole: a.ApproverRole}
	if a.AllOrgs {
		f.Coverage = "all"
	}
	var emails []string
	for _, rc := range a.Recipients {
		emails = append(emails, rc.Email)
	}
	f.Recipients = strings.Join(emails, "\n")
	return f
}

// changeableAgreement loads the agreement of the path and shows why it cannot be
// changed when it cannot.
func (s *Server) changeableAgreement(w http.ResponseWriter, r *http.Request) (sharing.Agreement, bool) {
	a, ok := s.sharingAgreement(w, r)
	if !ok {
		return a, false
	}
	if !a.Changeable() {
		s.fail(w, r, apperr.New(apperr.Conflict, "Agreement "+a.Reference+" can no longer be changed: it has been revoked or data has been shared under it. Register a new agreement instead."))
		return a, false
	}
	return a, true
}

func (s *Server) sharingEditForm(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageSharingAgreements, authz.Object{}) {
		return
	}
	a, ok := s.changeableAgreement(w, r)
	if !ok {
		return
	}
	s.renderSharingForm(w, r, http.StatusOK, &a, formOfAgreement(a), nil)
}

func (s *Server) sharingEdit(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageSharingAgreements, authz.Object{}) {
		return
	}
	a, ok := s.changeableAgreement(w, r)
	if !ok {
		return
	}
	s.saveSharing(w, r, &a)
}

func (s *Server) sharingRevoke(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageSharingAgreements, authz.Object{}) {
		return
	}
	a, ok := s.sharingAgreement(w, r)
	if !ok {
		return
	}
	reason := r.PostFormValue("reason")
	err := s.Sharing.Revoke(r.Context(), s.sharingActor(r), a.ID, reason)
	if errs, ok := fieldErrors(err); ok {
		s.renderSharingPage(w, r, http.StatusUnprocessableEntity, a, func(d *sharingPageData) {
			d.RevokeForm, d.RevokeError, d.RevokeErrors = reason, fieldError(errs, "reason"), errs
		}, "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/sharing/"+strconv.FormatInt(a.ID, 10)+"?done=revoked", http.StatusSeeOther)
}

func (s *Server) sharingUpload(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageSharingAgreements, authz.Object{}) {
		return
	}
	a, ok := s.sharingAgreement(w, r)
	if !ok {
		return
	}
	up, closeFile := uploadFrom(r)
	defer closeFile()
	err := s.Sharing.AttachDocument(r.Context(), s.sharingActor(r), a.ID, sharing.Upload{FileName: up.FileName, Content: up.Content})
	if errs, ok := fieldErrors(err); ok {
		s.renderSharingPage(w, r, http.StatusUnprocessableEntity, a, func(d *sharingPageData) {
			d.UploadError, d.RevokeErrors = fieldError(errs, "file"), errs
		}, "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/sharing/"+strconv.FormatInt(a.ID, 10)+"?done=uploaded", http.StatusSeeOther)
}

func (s *Server) sharingDownload(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageSharingAgreements, authz.Object{}) {
		return
	}
	id, ok := s.sharingID(w, r)
	if !ok {
		return
	}
	doc, content, err := s.Sharing.OpenDocument(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", contentDisposition("attachment", doc.Name))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(content)))
	w.WriteHeader(http.StatusOK)
	w.Write(content)
}

// extractForm is the extract form as typed.
type extractForm struct {
	From, To dateInput
	Orgs     []string // chosen of the agreement's organisations
	Codes    string   // typed, for an agreement of every organisation
}

// Chose reports whether the form chose organisation code.
func (f extractForm) Chose(code string) bool { return slices.Contains(f.Orgs, code) }

// extractData is what the extract page shows.
type extractData struct {
	A             sharing.Agreement
	Status        sharing.Status
	Ends, Covered string
	FieldHeadings []string
	Manage        bool
}

// sharingExtractAgreement loads the agreement of the path and checks the
// viewer may extract under it: national admins and its named recipients.
// Others are told it is not there, as they may not know it exists.
func (s *Server) sharingExtractAgreement(w http.ResponseWriter, r *http.Request) (sharing.Agreement, authz.Subject, bool) {
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return sharing.Agreement{}, sub, false
	}
	id, ok := s.sharingID(w, r)
	if !ok {
		return sharing.Agreement{}, sub, false
	}
	a, err := s.Sharing.Get(r.Context(), id)
	if err != nil && apperr.CodeOf(err) != apperr.NotFound {
		s.fail(w, r, err)
		return a, sub, false
	}
	d := authz.ExtractUnderAgreement(sub, err == nil && a.Names(sub.UserID))
	if d.Denied() {
		if d.Reason == authz.NotPermitted {
			s.notFound(w, r)
		} else {
			s.refuse(w, r, sub, d, authz.Object{})
		}
		return a, sub, false
	}
	if err != nil {
		s.fail(w, r, err)
		return a, sub, false
	}
	return a, sub, true
}

func (s *Server) renderExtractForm(w http.ResponseWriter, r *http.Request, status int, a sharing.Agreement, sub authz.Subject, f extractForm, errs []FieldError) {
	p := s.page(r, "Extract data under "+a.Reference)
	p.Form, p.Errors = f, errs
	p.Data = extractData{A: a, Status: a.StatusAt(s.Sharing.Now()), Ends: a.EndsOn.Format("2 January 2006"), Covered: covered(a),
		FieldHeadings: s.Sharing.FieldHeadings(a.Fields), Manage: authz.Decide(sub, authz.ManageSharingAgreements, authz.Object{}).Allowed}
	s.render.Render(w, r, status, "sharing-extract", p)
}

func (s *Server) sharingExtractForm(w http.ResponseWriter, r *http.Request) {
	a, sub, ok := s.sharingExtractAgreement(w, r)
	if !ok {
		return
	}
	s.renderExtractForm(w, r, http.StatusOK, a, sub, extractForm{}, nil)
}

// sharingExtract downloads an extract under the agreement: the events
// submitted in the period, of the organisations chosen (all it covers
// when none is), with its permitted fields, labelled and logged.
func (s *Server) sharingExtract(w http.ResponseWriter, r *http.Request) {
	a, sub, ok := s.sharingExtractAgreement(w, r)
	if !ok {
		return
	}
	f := extractForm{From: dateInput{Day: r.PostFormValue("from-day"), Month: r.PostFormValue("from-month"), Year: r.PostFormValue("from-year")},
		To:   dateInput{Day: r.PostFormValue("to-day"), Month: r.PostFormValue("to-month"), Year: r.PostFormValue("to-year")},
		Orgs: r.PostForm["orgs"], Codes: r.PostFormValue("codes")}
	var errs []FieldError
	filter := incident.Filter{Sort: incident.SubmittedOldest}
	var period []string
	for _, dt := range []struct {
		name, label string
		in          *dateInput
		out         *time.Time
		word        string
	}{{"from", "The first day", &f.From, &filter.SubmittedFrom, "from"}, {"to", "The last day", &f.To, &filter.SubmittedTo, "to"}} {
		if strings.TrimSpace(dt.in.Day+dt.in.Month+dt.in.Year) == "" {
			continue
		}
		t, in, ok := parseDateInput(*dt.in, dt.label, "")
		*dt.in = in
		if !ok {
			errs = append(errs, FieldError{Field: in.errorField(dt.name), Message: in.Message})
			continue
		}
		*dt.out = t
		period = append(period, dt.word+" "+t.Format(time.DateOnly))
	}
	if !filter.SubmittedFrom.IsZero() && !filter.SubmittedTo.IsZero() && filter.SubmittedTo.Before(filter.SubmittedFrom) {
		errs = append(errs, FieldError{Field: "to-day", Message: "The last day must be the same as or after the first day"})
	}
	x := sharing.Extract{AgreementID: a.ID, UserID: sub.UserID, National: authz.Decide(sub, authz.ManageSharingAgreements, authz.Object{}).Allowed}
	if len(period) > 0 {
		x.Period = "submitted " + strings.Join(period, " ")
	}
	switch {
	case a.AllOrgs && strings.TrimSpace(f.Codes) == "":
		x.All = true
	case a.AllOrgs:
		for _, raw := range strings.FieldsFunc(f.Codes, func(r rune) bool { return r == ',' || r == ' ' || r == ';' || r == '\n' || r == '\r' }) {
			code, err := org.ParseCode(raw)
			if err != nil {
				errs = append(errs, FieldError{Field: "codes", Message: "Enter ODS codes separated by commas, like RM1, QMM"})
				break
			}
			x.Orgs = append(x.Orgs, code.String())
		}
	case len(f.Orgs) == 0:
		x.Orgs = a.Orgs
	default:
		for _, o := range f.Orgs {
			if !slices.Contains(a.Orgs, o) {
				errs = append(errs, FieldError{Field: "orgs", Message: "Choose organisations the agreement covers"})
				break
			}
		}
		x.Orgs = f.Orgs
	}
	if len(errs) > 0 {
		s.renderExtractForm(w, r, http.StatusUnprocessableEntity, a, sub, f, errs)
		return
	}
	// A file cannot say that hidden characters were taken out of what was
	// typed: show the form again, cleaned, to check and send once more.
	if hadHidden(r) {
		s.renderExtractForm(w, r, http.StatusOK, a, sub, f, nil)
		return
	}
	slices.Sort(x.Orgs)
	x.Orgs = slices.Compact(x.Orgs)
	s.exportUnder(w, r, x, incident.Scope{All: x.All, Orgs: x.Orgs}, filter)
}

// exportUnder streams the events of scope that filter chooses as CSV,
// under the agreement of x (see sharing.Service.Export). A refusal before
// anything is written is shown as a page saying why.
func (s *Server) exportUnder(w http.ResponseWriter, r *http.Request, x sharing.Extract, scope incident.Scope, filter incident.Filter) {
	out := &csvDownload{w: w}
	_, err := s.Sharing.Export(r.Context(), x, func(a sharing.Agreement, opts incident.ExportOptions) (int, error) {
		out.filename = sharing.FileName(a, s.Sharing.Now())
		return s.Incidents.Export(r.Context(), s.Taxonomy, scope, filter, s.forms.ExportColumns(), opts, x.UserID,
			incident.Client{IP: s.client(r).IP}, out)
	})
	if err != nil {
		if !out.started {
			s.fail(w, r, err)
			return
		}
		s.Logger.ErrorContext(r.Context(), "export under an agreement failed", "err", err, "request_id", RequestID(r.Context()))
	}
	if !out.started {
		out.Write(nil)
	}
}

// sharingChoice is an agreement offered for an export.
type sharingChoice struct {
	Reference, Recipient, Purpose, Ends, URL string
}

// sharingChooseData is what the page choosing an agreement for an event
// export shows.
type sharingChooseData struct {
	Choices  []sharingChoice
	National bool
	Covered  string // the organisations of the export
}

// eventExportUnderAgreement answers an event export that leaves the
// recording organisation (authz.ExportNeedsAgreement): without an
// agreement parameter, a page choosing among the agreements that may be
// used, or saying why there are none; with one, the export under it.
func (s *Server) eventExportUnderAgreement(w http.ResponseWriter, r *http.Request, sub authz.Subject, view eventView, filter incident.Filter, form eventListForm) {
	national := authz.Decide(sub, authz.ManageSharingAgreements, authz.Object{}).Allowed
	x := sharing.Extract{UserID: sub.UserID, National: national, All: view.scope.All, Orgs: view.scope.Orgs}
	q := form.values()
	q.Del("view")
	q.Del("org")
	if len(q) > 0 {
		x.Period = "filtered: " + q.Encode()
	}
	if raw := r.URL.Query().Get("agreement"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			s.notFound(w, r)
			return
		}
		x.AgreementID = id
		s.exportUnder(w, r, x, view.scope, filter)
		return
	}
	list, err := s.Sharing.Usable(r.Context(), sub.UserID, national, x.All, x.Orgs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := sharingChooseData{National: national, Covered: "every organisation"}
	if !x.All {
		data.Covered = strings.Join(x.Orgs, ", ")
	}
	base := r.URL.Query()
	for _, a := range list {
		base.Set("agreement", strconv.FormatInt(a.ID, 10))
		data.Choices = append(data.Choices, sharingChoice{Reference: a.Reference, Recipient: a.Recipient, Purpose: a.Purpose,
			Ends: a.EndsOn.Format("2 January 2006"), URL: "/events/export?" + base.Encode()})
	}
	title := "Choose the data sharing agreement for this export"
	if len(list) == 0 {
		title = "You cannot export these events yet"
	}
	p := s.page(r, title)
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "sharing-choose", p)
}

// sharingMine lists the agreements naming the viewer as a recipient.
func (s *Server) sharingMine(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	list, err := s.Sharing.ForRecipient(r.Context(), v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Your data sharing agreements")
	p.Data = s.sharingRows(list)
	s.render.Render(w, r, http.StatusOK, "sharing-mine", p)
}
