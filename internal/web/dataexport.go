package web

import (
	"net/http"
	"strconv"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/dataexport"
)

// dataExportRoutes registers "Download my data" (P15) and the national
// admins' legal disclosure exports (P18).
func (s *Server) dataExportRoutes(r *router) {
	r.handleFunc("GET /account/data/download", s.requireUser(s.dataDownloadPage))
	r.handleFunc("POST /account/data/download", s.requireUser(s.dataDownloadRequest))
	r.handleFunc("GET /account/data/download/{export}", s.requireUser(s.dataDownloadView))
	r.handleFunc("GET /account/data/download/{export}/json", s.requireUser(s.dataDownloadJSON))
	r.handleFunc("GET /admin/users/{id}/disclosure", s.requireUser(s.disclosureForm))
	r.handleFunc("POST /admin/users/{id}/disclosure", s.requireUser(s.disclose))
	r.handleFunc("GET /admin/users/{id}/disclosure/{export}", s.requireUser(s.disclosureView))
	r.handleFunc("GET /admin/users/{id}/disclosure/{export}/json", s.requireUser(s.disclosureJSON))
}

// dataDownloadData is what the "Download my data" page shows.
type dataDownloadData struct {
	Rows []exportRow
	Keep int // days an export is kept
}

// exportRow is one export in the list of the person's downloads.
type exportRow struct {
	Created, Expires, Status, Tag string
	Link                          string // "" when it cannot be opened
}

// exportRows describes the exports for the list.
func (s *Server) exportRows(exports []dataexport.Export) []exportRow {
	now := s.now()
	rows := make([]exportRow, 0, len(exports))
	for _, e := range exports {
		row := exportRow{Created: e.CreatedAt.In(s.uk).Format("2 January 2006 at 15:04"), Expires: e.ExpiresAt.In(s.uk).Format("2 January 2006 at 15:04")}
		switch {
		case e.Expired(now):
			row.Status, row.Tag = "Expired", "nhsuk-tag--grey"
		case e.Status == dataexport.StatusPending:
			row.Status, row.Tag = "Being prepared", "nhsuk-tag--blue"
		case e.Status == dataexport.StatusFailed:
			row.Status, row.Tag = "Could not be made", "nhsuk-tag--red"
		default:
			row.Status, row.Tag, row.Link = "Ready", "nhsuk-tag--green", "/account/data/download/"+e.PublicID
		}
		rows = append(rows, row)
	}
	return rows
}

// ownData checks that the viewer may download their own data.
func (s *Server) ownData(w http.ResponseWriter, r *http.Request) (*viewer, bool) {
	v := viewerFrom(r.Context())
	var id int64
	if v != nil {
		id = v.user.ID
	}
	if !s.authorize(w, r, authz.DownloadOwnData, authz.Object{UserID: id}) {
		return nil, false
	}
	return v, true
}

func (s *Server) dataDownloadPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.ownData(w, r); !ok {
		return
	}
	notice := ""
	if r.URL.Query().Get("requested") == "1" {
		notice = "We are preparing your data. We will email you when it is ready to download."
	}
	s.renderDataDownload(w, r, http.StatusOK, notice, "")
}

func (s *Server) renderDataDownload(w http.ResponseWriter, r *http.Request, status int, notice, problem string) {
	v := viewerFrom(r.Context())
	exports, err := s.DataExport.Mine(r.Context(), v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Download your data")
	p.Notice, p.Problem = notice, problem
	p.Data = dataDownloadData{Rows: s.exportRows(exports), Keep: int(dataexport.Keep.Hours() / 24)}
	s.render.Render(w, r, status, "data-download", p)
}

func (s *Server) dataDownloadRequest(w http.ResponseWriter, r *http.Request) {
	v, ok := s.ownData(w, r)
	if !ok {
		return
	}
	e, err := s.DataExport.Request(r.Context(), v.user.ID, s.client(r).IP)
	switch apperr.CodeOf(err) {
	case apperr.Conflict:
		s.renderDataDownload(w, r, http.StatusConflict, "", apperr.MessageOf(err))
		return
	case apperr.RateLimited:
		s.renderDataDownload(w, r, http.StatusTooManyRequests, "", apperr.MessageOf(err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if e.Status == dataexport.StatusReady {
		http.Redirect(w, r, "/account/data/download/"+e.PublicID, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/account/data/download?requested=1", http.StatusSeeOther)
}

// dataExportView is what the page showing an export holds.
type dataExportView struct {
	dataexport.Download
	JSONLink string
	// Subject is, for a disclosure, the user it is about.
	SubjectID int64
	// Events are the newest usage events shown on the page (all of them
	// are in the JSON file), and Hidden how many more there are.
	UsageShown []usageRow
	Hidden     int
	// RoleLabel and StatusLabel are the account's role and status in words.
	RoleLabel, StatusLabel string
}

type usageRow struct {
	At, Kind, Route, IP, Browser string
	Status                       int
}

// maxUsageShown is how many usage events the page lists; the file has
// them all.
const maxUsageShown = 200

func (s *Server) exportView(d dataexport.Download, jsonLink string) dataExportView {
	v := dataExportView{Download: d, JSONLink: jsonLink}
	if d.Document == nil {
		return v
	}
	a := d.Document.Account.Account
	v.RoleLabel, v.StatusLabel = account.RoleLabel(a.Role), account.StatusLabel(a.Status)
	ev := d.Document.Usage.Events
	for i := len(ev) - 1; i >= 0 && len(v.UsageShown) < maxUsageShown; i-- {
		e := ev[i]
		v.UsageShown = append(v.UsageShown, usageRow{At: e.At.In(s.uk).Format("2 Jan 2006 15:04:05"), Kind: e.Kind, Route: e.Route,
			IP: e.IP, Browser: e.Browser + " " + strconv.Itoa(e.Major), Status: e.Status})
	}
	v.Hidden = len(ev) - len(v.UsageShown)
	return v
}

// showExport renders an opened export: the document, or a page saying it
// is still being made or has expired.
func (s *Server) showExport(w http.ResponseWriter, r *http.Request, d dataexport.Download, title, jsonLink string, subjectID int64) {
	switch {
	case d.Expired(s.now()):
		p := s.page(r, "This download has expired")
		p.Data = d.Export
		s.render.Render(w, r, http.StatusGone, "data-export-expired", p)
	case d.Document == nil:
		p := s.page(r, "Your data is not ready yet")
		p.Data = d.Export
		s.render.Render(w, r, http.StatusOK, "data-export-pending", p)
	default:
		p := s.page(r, title)
		view := s.exportView(d, jsonLink)
		view.SubjectID = subjectID
		p.Data = view
		s.render.Render(w, r, http.StatusOK, "data-export", p)
	}
}

// sendExportJSON sends an opened export as a JSON file, or the page
// saying why it cannot be.
func (s *Server) sendExportJSON(w http.ResponseWriter, r *http.Request, d dataexport.Download, name string) {
	if d.Document == nil {
		s.showExport(w, r, d, "", "", 0)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(d.JSON)))
	w.WriteHeader(http.StatusOK)
	w.Write(d.JSON)
}

func (s *Server) openOwnExport(w http.ResponseWriter, r *http.Request, format string) (dataexport.Download, bool) {
	v, ok := s.ownData(w, r)
	if !ok {
		return dataexport.Download{}, false
	}
	d, err := s.DataExport.Open(r.Context(), v.user.ID, r.PathValue("export"), format, s.client(r).IP)
	if err != nil {
		s.fail(w, r, err)
		return dataexport.Download{}, false
	}
	return d, true
}

func (s *Server) dataDownloadView(w http.ResponseWriter, r *http.Request) {
	if d, ok := s.openOwnExport(w, r, "html"); ok {
		s.showExport(w, r, d, "Your data", "/account/data/download/"+d.PublicID+"/json", 0)
	}
}

func (s *Server) dataDownloadJSON(w http.ResponseWriter, r *http.Request) {
	if d, ok := s.openOwnExport(w, r, "json"); ok {
		s.sendExportJSON(w, r, d, "psims-my-data-"+d.CreatedAt.Format("2006-01-02")+".json")
	}
}

// disclosureForm is the disclosure form as typed.
type disclosureFormValues struct {
	Basis, Reference string
}

// disclosureData is what the disclosure form page shows.
type disclosureData struct {
	UserID          int64
	UserName, Email string
	Bases           []userOption
	Earlier         []exportRow
	MaxReference    int
}

func (s *Server) disclosureTarget(w http.ResponseWriter, r *http.Request) (int64, bool) {
	u, ok := s.targetUser(w, r)
	if !ok || !s.authorize(w, r, authz.DiscloseUserData, targetObject(u)) {
		return 0, false
	}
	return u.ID, true
}

func (s *Server) disclosureForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.disclosureTarget(w, r); ok {
		s.renderDisclosureForm(w, r, http.StatusOK, disclosureFormValues{}, nil)
	}
}

func (s *Server) renderDisclosureForm(w http.ResponseWriter, r *http.Request, status int, f disclosureFormValues, errs []FieldError) {
	u, ok := s.targetUser(w, r)
	if !ok {
		return
	}
	earlier, err := s.DataExport.Disclosures(r.Context(), u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := disclosureData{UserID: u.ID, UserName: u.Name, Email: u.Email, MaxReference: dataexport.MaxReference}
	for i, row := range s.exportRows(earlier) {
		if row.Link != "" {
			row.Link = "/admin/users/" + strconv.FormatInt(u.ID, 10) + "/disclosure/" + earlier[i].PublicID
		}
		row.Status = earlier[i].Basis.Label() + ", reference " + earlier[i].Reference + " (" + row.Status + ")"
		data.Earlier = append(data.Earlier, row)
	}
	for _, b := range dataexport.Bases() {
		data.Bases = append(data.Bases, userOption{Value: string(b), Label: b.Label(), Hint: b.Hint(), Selected: f.Basis == string(b)})
	}
	p := s.page(r, "Disclose data about "+u.Name)
	p.Form, p.Errors, p.Data = f, errs, data
	s.render.Render(w, r, status, "admin-disclosure", p)
}

func (s *Server) disclose(w http.ResponseWriter, r *http.Request) {
	id, ok := s.disclosureTarget(w, r)
	if !ok {
		return
	}
	f := disclosureFormValues{Basis: r.PostFormValue("basis"), Reference: r.PostFormValue("reference")}
	v := viewerFrom(r.Context())
	e, err := s.DataExport.Disclose(r.Context(), dataexport.Discloser{ID: v.user.ID, Name: v.user.Name, Email: v.user.Email, IP: s.client(r).IP},
		id, dataexport.DisclosureRequest{Basis: dataexport.Basis(f.Basis), Reference: f.Reference})
	if errs, ok := fieldErrors(err); ok {
		s.renderDisclosureForm(w, r, http.StatusUnprocessableEntity, f, errs)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/users/"+strconv.FormatInt(id, 10)+"/disclosure/"+e.PublicID, http.StatusSeeOther)
}

func (s *Server) openDisclosure(w http.ResponseWriter, r *http.Request, format string) (dataexport.Download, int64, bool) {
	id, ok := s.disclosureTarget(w, r)
	if !ok {
		return dataexport.Download{}, 0, false
	}
	d, err := s.DataExport.OpenDisclosure(r.Context(), viewerFrom(r.Context()).user.ID, id, r.PathValue("export"), format, s.client(r).IP)
	if err != nil {
		s.fail(w, r, err)
		return dataexport.Download{}, 0, false
	}
	return d, id, true
}

func (s *Server) disclosureView(w http.ResponseWriter, r *http.Request) {
	if d, id, ok := s.openDisclosure(w, r, "html"); ok {
		s.showExport(w, r, d, "Legal disclosure", "/admin/users/"+strconv.FormatInt(id, 10)+"/disclosure/"+d.PublicID+"/json", id)
	}
}

func (s *Server) disclosureJSON(w http.ResponseWriter, r *http.Request) {
	if d, id, ok := s.openDisclosure(w, r, "json"); ok {
		s.sendExportJSON(w, r, d, "psims-disclosure-user-"+strconv.FormatInt(id, 10)+"-"+d.CreatedAt.Format("2006-01-02")+".json")
	}
}
