package web

import (
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/library"
)

// libraryRoutes registers the guidance library (issue 12): every signed-in
// person browses, searches and opens the documents meant for them; national
// admins add documents, upload new versions and change their details.
func (s *Server) libraryRoutes(r *router) {
	r.handleFunc("GET /library", s.requireUser(s.libraryList))
	r.handleFunc("GET /library/{id}", s.requireUser(s.libraryDocument))
	r.handleFunc("GET /library/{id}/file", s.requireUser(s.libraryFile))
	r.handleFunc("GET /library/{id}/versions/{n}/file", s.requireUser(s.libraryFile))

	r.handleFunc("GET /admin/library", s.adminLibrary)
	r.handleFunc("GET /admin/library/new", s.adminLibraryNewForm)
	r.handleFunc("POST "+uploadNewDocument, s.adminLibraryNew)
	r.handleFunc("GET /admin/library/{id}/versions/new", s.adminLibraryVersionForm)
	r.handleFunc("POST "+uploadNewVersion, s.adminLibraryVersion)
	r.handleFunc("GET /admin/library/{id}/edit", s.adminLibraryEditForm)
	r.handleFunc("POST /admin/library/{id}/edit", s.adminLibraryEdit)
}

// The paths of the forms that upload a file. Only they take a multipart
// post, and only they may send more than maxFormBytes (checkCSRF).
const (
	uploadNewDocument = "/admin/library/new"
	uploadNewVersion  = "/admin/library/{id}/versions/new"
)

// uploadRoutes are the patterns of the routes that take an upload.
var uploadRoutes = []string{"POST " + uploadNewDocument, "POST " + uploadNewVersion, "POST " + uploadDenominators, "POST " + sharingDocumentPath}

// maxUploadBytes bounds a posted upload: the largest file the library
// takes, and room for the form's other fields and the multipart framing.
// A file over library.MaxSize but within this is refused by the library
// with the form shown again; a post over this gets the "too large" page.
const maxUploadBytes = library.MaxSize + 1<<20

// uploadMemory is how much of an upload is held in memory while the form
// is read; the rest goes to a temporary file, removed after the request.
const uploadMemory = 1 << 20

// maxLibraryQuery bounds the search typed into the library, in characters.
const maxLibraryQuery = 200

// libraryRow is a document as lists show it.
type libraryRow struct {
	library.Document
	Audience string // who it is for, in words
	SizeText string // how large its newest version is
}

// versionRow is a version as a document's page lists it.
type versionRow struct {
	library.Version
	SizeText string
}

// libraryListData is what the library shows.
type libraryListData struct {
	Query string
	Rows  []libraryRow
}

// libraryDocumentData is what a document's page shows.
type libraryDocumentData struct {
	Doc       libraryRow
	Versions  []versionRow
	CanManage bool // the viewer manages the library
}

// libraryForm is the form for a new document, a new version or new
// details, as typed. The file cannot be kept: it must be chosen again.
type libraryForm struct {
	Title, Summary string
	Audience       string // "everyone" or "roles"; "" before a choice
	Roles          []string
	Label          string
}

// Chose reports whether role is ticked.
func (f libraryForm) Chose(role string) bool { return slices.Contains(f.Roles, role) }

// libraryFormData is what the library forms show besides the form.
type libraryFormData struct {
	Doc   *library.Document // the document, for a new version or new details
	Roles []userOption      // the roles a document may be for
	Max   string            // the largest file, such as "20 MB"
	Types string            // the types of file taken, in words
}

// audienceText says in words who a document is for.
func audienceText(a authz.Audience) string {
	if a.Everyone {
		return "Everyone"
	}
	var names []string
	for _, r := range a.Roles {
		names = append(names, account.RoleLabel(account.Role(r)))
	}
	if len(names) == 0 {
		return "National admins only"
	}
	return strings.Join(names, ", ")
}

func libraryRows(docs []library.Document) []libraryRow {
	rows := make([]libraryRow, 0, len(docs))
	for _, d := range docs {
		rows = append(rows, libraryRow{Document: d, Audience: audienceText(d.Audience), SizeText: fileSize(d.Latest.Size)})
	}
	return rows
}

// libraryList lists the documents the viewer may read, searched by words
// of their title and summary.
func (s *Server) libraryList(w http.ResponseWriter, r *http.Request) {
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	scope, d := authz.ListLibrary(sub)
	if d.Denied() {
		s.refuse(w, r, sub, d, authz.Object{})
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if utf8.RuneCountInString(q) > maxLibraryQuery {
		q = string([]rune(q)[:maxLibraryQuery])
	}
	docs, err := s.Library.List(r.Context(), scope, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Guidance library")
	p.Data = libraryListData{Query: q, Rows: libraryRows(docs)}
	s.render.Render(w, r, http.StatusOK, "library", p)
}

// pathDocument loads the document named in the path, if the viewer may
// read it; otherwise it shows 404, the same for a document outside the
// viewer's audience as for one that does not exist, and returns false.
func (s *Server) pathDocument(w http.ResponseWriter, r *http.Request) (library.Document, bool) {
	id, ok := pathNumber(r.PathValue("id"))
	if !ok {
		s.notFound(w, r)
		return library.Document{}, false
	}
	doc, err := s.Library.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return library.Document{}, false
	}
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return library.Document{}, false
	}
	if d := authz.Decide(sub, authz.ReadLibraryDocument, authz.Object{Audience: doc.Audience}); d.Denied() {
		if d.Reason == authz.NotSignedIn {
			s.refuse(w, r, sub, d, authz.Object{})
		} else {
			s.notFound(w, r)
		}
		return library.Document{}, false
	}
	return doc, true
}

// pathNumber reads a positive number written plainly ("7", not "07"), so
// each thing has one address.
func pathNumber(raw string) (int64, bool) {
	n, err := strconv.ParseInt(raw, 10, 64)
	return n, err == nil && n > 0 && strconv.FormatInt(n, 10) == raw
}

// libraryNotices are the success messages after a change, by the "done"
// query value; fixed, so the query cannot put words on the page.
var libraryNotices = map[string]string{
	"added":   "The document was added to the library.",
	"version": "The new version was uploaded. Earlier versions are kept below.",
	"updated": "The document's details were changed.",
}

// libraryDocument shows a document with every version.
func (s *Server) libraryDocument(w http.ResponseWriter, r *http.Request) {
	doc, ok := s.pathDocument(w, r)
	if !ok {
		return
	}
	versions, err := s.Library.Versions(r.Context(), doc.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := libraryDocumentData{Doc: libraryRows([]library.Document{doc})[0],
		CanManage: authz.Decide(sub, authz.ManageLibrary, authz.Object{}).Allowed}
	for _, v := range versions {
		data.Versions = append(data.Versions, versionRow{Version: v, SizeText: fileSize(v.Size)})
	}
	p := s.page(r, doc.Title)
	p.Notice = libraryNotices[r.URL.Query().Get("done")]
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "library-document", p)
}

// libraryFile serves a version of a document, the newest unless the path
// names one, and records the open as a usage event of its own (P2).
func (s *Server) libraryFile(w http.ResponseWriter, r *http.Request) {
	doc, ok := s.pathDocument(w, r)
	if !ok {
		return
	}
	n := int64(0)
	if raw := r.PathValue("n"); raw != "" {
		if n, ok = pathNumber(raw); !ok || n > 1<<30 {
			s.notFound(w, r)
			return
		}
	}
	f, err := s.Library.Open(r.Context(), doc.ID, int(n))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	markDocumentOpen(r, doc.ID)
	h := w.Header()
	h.Set("Content-Type", f.Type.MediaType())
	h.Set("Content-Length", strconv.Itoa(len(f.Content)))
	disposition := "inline"
	if f.Type.Download() {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", contentDisposition(disposition, f.FileName))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	if f.Type == library.HTML {
		// An uploaded page runs nothing and is not of this site: a
		// sandbox without allow-scripts or allow-same-origin gives it an
		// origin of its own, so it cannot read pages or cookies of ours,
		// and it may load nothing from anywhere but its own inline styles
		// and images.
		h.Set("Content-Security-Policy", libraryHTMLPolicy)
	}
	w.WriteHeader(http.StatusOK)
	w.Write(f.Content)
}

// libraryHTMLPolicy is the Content-Security-Policy of an uploaded HTML
// page, in place of the site's own.
const libraryHTMLPolicy = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; " +
	"frame-ancestors 'none'; form-action 'none'; base-uri 'none'"

// contentDisposition is a Content-Disposition header for a file name: the
// name as UTF-8 in filename* (RFC 6266, RFC 8187), and, for browsers that
// read only filename, the name with everything outside printable ASCII
// (and quotes and backslashes) replaced by "_".
func contentDisposition(disposition, name string) string {
	var ascii, encoded strings.Builder
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	const attrChar = "!#$&+-.^_`|~"
	for _, b := range []byte(name) {
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', strings.IndexByte(attrChar, b) >= 0:
			encoded.WriteByte(b)
		default:
			fmt.Fprintf(&encoded, "%%%02X", b)
		}
	}
	return fmt.Sprintf(`%s; filename="%s"; filename*=UTF-8''%s`, disposition, ascii.String(), encoded.String())
}

// adminLibrary lists every document, for the national admins who manage
// them.
func (s *Server) adminLibrary(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageLibrary, authz.Object{}) {
		return
	}
	docs, err := s.Library.List(r.Context(), authz.LibraryScope{All: true}, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Guidance library")
	p.Data = libraryListData{Rows: libraryRows(docs)}
	s.render.Render(w, r, http.StatusOK, "admin-library", p)
}

// libraryFormFrom reads the typed fields of a library form.
func libraryFormFrom(r *http.Request) libraryForm {
	f := libraryForm{Title: r.PostFormValue("title"), Summary: r.PostFormValue("summary"),
		Audience: r.PostFormValue("audience"), Label: r.PostFormValue("label")}
	for _, role := range r.PostForm["roles"] {
		if slices.Contains(library.Roles(), role) && !slices.Contains(f.Roles, role) {
			f.Roles = append(f.Roles, role)
		}
	}
	if f.Audience != "everyone" && f.Audience != "roles" {
		f.Audience = ""
	}
	return f
}

// audience is the audience the form chose: none when no choice was made.
func (f libraryForm) audience() authz.Audience {
	switch f.Audience {
	case "everyone":
		return authz.Audience{Everyone: true}
	case "roles":
		return authz.Audience{Roles: f.Roles}
	}
	return authz.Audience{}
}

// uploadFrom returns the file posted in the "file" field, with a function
// that closes it. A form without a file (or not sent as multipart, such
// as one held through signing in) gives an Upload without content.
func uploadFrom(r *http.Request) (library.Upload, func()) {
	if r.MultipartForm == nil {
		return library.Upload{}, func() {}
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		return library.Upload{}, func() {}
	}
	return library.Upload{FileName: hdr.Filename, Content: f}, func() { f.Close() }
}

// chooseAgain adds, to a form shown again with problems, that the file
// must be chosen again: browsers never keep a chosen file.
func chooseAgain(errs []FieldError) []FieldError {
	if fieldError(errs, "file") != "" {
		for i := range errs {
			if errs[i].Field == "file" {
				errs[i].Message += ". Then choose the file again"
			}
		}
		return errs
	}
	return append([]FieldError{{Field: "file", Message: "Choose the file again: it is not kept when the form is shown with a problem"}}, errs...)
}

// libraryFormData is the data of a library form about doc (nil for a new
// document).
func (s *Server) libraryFormData(doc *library.Document, form libraryForm) libraryFormData {
	var roles []userOption
	for _, role := range library.Roles() {
		roles = append(roles, userOption{Value: role, Label: account.RoleLabel(account.Role(role)), Selected: form.Chose(role)})
	}
	var types []string
	for _, t := range library.Types() {
		types = append(types, t.Label()+" ("+strings.Join(t.Extensions(), " or ")+")")
	}
	return libraryFormData{Doc: doc, Roles: roles, Max: fmt.Sprintf("%d MB", library.MaxSize>>20),
		Types: strings.Join(types[:len(types)-1], ", ") + " or " + types[len(types)-1]}
}

func (s *Server) renderLibraryForm(w http.ResponseWriter, r *http.Request, status int, page, title string, doc *library.Document, form libraryForm, errs []FieldError) {
	p := s.page(r, title)
	p.Form = form
	p.Errors = errs
	p.Data = s.libraryFormData(doc, form)
	s.render.Render(w, r, status, page, p)
}

// libraryClient is where a change to the library came from, for the audit
// log.
func (s *Server) libraryClient(r *http.Request) library.Client {
	return library.Client{IP: s.client(r).IP}
}

func (s *Server) adminLibraryNewForm(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageLibrary, authz.Object{}) {
		return
	}
	s.renderLibraryForm(w, r, http.StatusOK, "admin-library-new", "Add a document to the library", nil, libraryForm{Audience: "everyone"}, nil)
}

// adminLibraryNew adds a document with its first version.
func (s *Server) adminLibraryNew(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageLibrary, authz.Object{}) {
		return
	}
	form := libraryFormFrom(r)
	up, closeFile := uploadFrom(r)
	defer closeFile()
	doc, err := s.Library.Add(r.Context(), viewerFrom(r.Context()).user.ID, s.libraryClient(r), library.NewDocument{
		Title: form.Title, Summary: form.Summary, Audience: form.audience(), Label: form.Label, File: up})
	if errs, ok := fieldErrors(err); ok {
		s.renderLibraryForm(w, r, http.StatusUnprocessableEntity, "admin-library-new", "Add a document to the library", nil, form, chooseAgain(errs))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/library/%d?done=added", doc.ID), http.StatusSeeOther)
}

// adminDocument loads the document named in the path for a national admin,
// or shows 404 and returns false.
func (s *Server) adminDocument(w http.ResponseWriter, r *http.Request) (library.Document, bool) {
	if !s.authorize(w, r, authz.ManageLibrary, authz.Object{}) {
		return library.Document{}, false
	}
	id, ok := pathNumber(r.PathValue("id"))
	if !ok {
		s.notFound(w, r)
		return library.Document{}, false
	}
	doc, err := s.Library.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return library.Document{}, false
	}
	return doc, true
}

func (s *Server) adminLibraryVersionForm(w http.ResponseWriter, r *http.Request) {
	doc, ok := s.adminDocument(w, r)
	if !ok {
		return
	}
	s.renderLibraryForm(w, r, http.StatusOK, "admin-library-version", "Upload a new version", &doc, libraryForm{}, nil)
}

// adminLibraryVersion uploads a new version of a document.
func (s *Server) adminLibraryVersion(w http.ResponseWriter, r *http.Request) {
	doc, ok := s.adminDocument(w, r)
	if !ok {
		return
	}
	form := libraryFormFrom(r)
	up, closeFile := uploadFrom(r)
	defer closeFile()
	_, err := s.Library.AddVersion(r.Context(), viewerFrom(r.Context()).user.ID, s.libraryClient(r), doc.ID, form.Label, up)
	if errs, ok := fieldErrors(err); ok {
		s.renderLibraryForm(w, r, http.StatusUnprocessableEntity, "admin-library-version", "Upload a new version", &doc, form, chooseAgain(errs))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/library/%d?done=version", doc.ID), http.StatusSeeOther)
}

func (s *Server) adminLibraryEditForm(w http.ResponseWriter, r *http.Request) {
	doc, ok := s.adminDocument(w, r)
	if !ok {
		return
	}
	form := libraryForm{Title: doc.Title, Summary: doc.Summary, Audience: "roles", Roles: doc.Audience.Roles}
	if doc.Audience.Everyone {
		form.Audience = "everyone"
	}
	s.renderLibraryForm(w, r, http.StatusOK, "admin-library-edit", "Change the document's details", &doc, form, nil)
}

// adminLibraryEdit changes a document's title, summary and audience.
func (s *Server) adminLibraryEdit(w http.ResponseWriter, r *http.Request) {
	doc, ok := s.adminDocument(w, r)
	if !ok {
		return
	}
	form := libraryFormFrom(r)
	_, err := s.Library.Update(r.Context(), viewerFrom(r.Context()).user.ID, s.libraryClient(r), doc.ID,
		library.Details{Title: form.Title, Summary: form.Summary, Audience: form.audience()})
	if errs, ok := fieldErrors(err); ok {
		s.renderLibraryForm(w, r, http.StatusUnprocessableEntity, "admin-library-edit", "Change the document's details", &doc, form, errs)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/library/%d?done=updated", doc.ID), http.StatusSeeOther)
}

// acceptsUpload reports whether r is a multipart post to a route that
// takes an upload, from someone signed in. Only then is a large body
// read, to disk: a post without a live session keeps the ordinary limit
// of every form, so nobody signed out can make the server store 20 MB.
func (s *Server) acceptsUpload(r *http.Request) bool {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return false
	}
	if _, pattern := s.mux.Handler(r); !slices.Contains(uploadRoutes, pattern) {
		return false
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return false
	}
	_, _, err = s.Accounts.Authenticate(r.Context(), c.Value)
	return err == nil
}

// readUpload reads a multipart post to an upload route, within
// maxUploadBytes, holding at most uploadMemory of it in memory. It returns
// false after answering a post over the limit with 413 and a page saying
// so. The caller removes the temporary files once the request is done.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadBytes)
	err := r.ParseMultipartForm(uploadMemory)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		p := s.page(r, "The file you chose was too large")
		p.Data = uploadTooLargeData{Limit: fmt.Sprintf("%d MB", library.MaxSize>>20), Back: r.URL.Path}
		s.render.Render(w, r, http.StatusRequestEntityTooLarge, "upload-too-large", p)
		return false
	}
	// Any other error leaves the form without its token, which checkCSRF
	// then refuses as it would any broken form.
	return true
}

// uploadTooLargeData is what the "too large" page of an upload shows.
type uploadTooLargeData struct {
	Limit string // the largest file, such as "20 MB"
	Back  string // the form's address
}

// closeUpload removes the temporary files of a multipart post.
func closeUpload(form *multipart.Form) {
	if form != nil {
		form.RemoveAll()
	}
}

// markDocumentOpen makes the usage event of r a document open of document
// id (usage.KindDocument), rather than a page view.
func markDocumentOpen(r *http.Request, id int64) {
	if info := infoFrom(r.Context()); info != nil {
		info.documentID = id
	}
}

// fileSize says how large a file is, such as "340 KB" or "1.2 MB".
func fileSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d bytes", n)
	case n < 1000*1000:
		return fmt.Sprintf("%d KB", (n+999)/1000)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
