package web

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/terms"
)

// adminDocumentRoutes registers the pages where national admins publish new
// versions of the terms of use, the privacy policy and the recording
// statement, and follow how many people have accepted them (T2, T19).
func (s *Server) adminDocumentRoutes(r *router) {
	r.handleFunc("GET /admin/documents", s.adminDocuments)
	r.handleFunc("GET /admin/documents/{kind}", s.adminDocumentKind)
	r.handleFunc("GET /admin/documents/{kind}/new", s.adminDocumentNewForm)
	r.handleFunc("POST /admin/documents/{kind}/new", s.adminDocumentNew)
	r.handleFunc("GET /admin/documents/{kind}/{version}", s.adminDocumentVersion)
}

// outstandingPerPage is how many people who have not accepted a version
// one page lists.
const outstandingPerPage = 25

// adminDocumentsData is what the list of documents shows: the current
// version of each kind, Version 0 when none is published.
type adminDocumentsData struct {
	Current []terms.Document
}

// adminDocumentKindData is what the page about one kind shows.
type adminDocumentKindData struct {
	Kind      terms.Kind
	Versions  []terms.Document // newest first, without their text
	PublicURL string
}

// documentForm is the form for a new version, as typed.
type documentForm struct {
	Body, Summary string
	Material      bool
	// Base is the version the form was shown against; 0 when unknown.
	Base int
}

// documentFormData is what the new-version page shows besides the form.
type documentFormData struct {
	Kind     terms.Kind
	Current  terms.Document // Version 0 when none is published
	Next     int            // the number the new version will have
	Accepted bool           // people must accept this kind
	// Previewed is set after Preview: Preview is the text as it will be
	// shown and Changes what changed since Current.
	Previewed bool
	Preview   template.HTML
	Changes   terms.Blocks
}

// adminDocumentVersionData is what the page about one version shows.
type adminDocumentVersionData struct {
	Doc         terms.Document
	Current     int    // the current version's number
	PublishedBy string // the publisher's name; empty for PSIMS or the command line
	PublicURL   string
	// Accepted is true for the kinds people must accept; only they have
	// Stats, the acceptance figures and a page of people outstanding.
	Accepted   bool
	Stats      terms.VersionStats
	From, To   int // the positions shown, from 1
	Pagination pagination
}

// currentOrNone returns the current version of kind, or a Document with
// Version 0 when none has been published.
func (s *Server) currentOrNone(r *http.Request, kind terms.Kind) (terms.Document, error) {
	doc, err := s.Terms.Current(r.Context(), kind)
	if apperr.CodeOf(err) == apperr.NotFound {
		return terms.Document{Kind: kind}, nil
	}
	return doc, err
}

// adminDocuments lists each kind of document with its current version.
func (s *Server) adminDocuments(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageDocuments, authz.Object{}) {
		return
	}
	var data adminDocumentsData
	for _, kind := range terms.Kinds() {
		doc, err := s.currentOrNone(r, kind)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data.Current = append(data.Current, doc)
	}
	p := s.page(r, "Documents")
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "admin-documents", p)
}

// adminDocumentKind lists every version of one kind.
func (s *Server) adminDocumentKind(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageDocuments, authz.Object{}) {
		return
	}
	kind, ok := s.pathKind(w, r)
	if !ok {
		return
	}
	versions, err := s.Terms.Versions(r.Context(), kind)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := adminDocumentKindData{Kind: kind, Versions: versions}
	if len(versions) > 0 {
		data.PublicURL = currentDocumentURL(kind, versions[0].Version)
	}
	p := s.page(r, kind.Title())
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "admin-document-kind", p)
}

// adminDocumentNewForm shows the form for a new version, holding the
// current version's text to edit.
func (s *Server) adminDocumentNewForm(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageDocuments, authz.Object{}) {
		return
	}
	kind, ok := s.pathKind(w, r)
	if !ok {
		return
	}
	cur, err := s.currentOrNone(r, kind)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form := documentForm{Body: cur.Body, Base: cur.Version}
	s.renderDocumentForm(w, r, http.StatusOK, cur, form, nil, false)
}

// adminDocumentNew previews or publishes a new version. Preview shows the
// text as it will appear and what changed, and publishes nothing. When
// another version was published since the form was shown, nothing is
// published either: the admin sees what changed against that version first.
func (s *Server) adminDocumentNew(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageDocuments, authz.Object{}) {
		return
	}
	kind, ok := s.pathKind(w, r)
	if !ok {
		return
	}
	form := documentForm{Body: r.PostFormValue("body"), Summary: r.PostFormValue("summary"),
		Material: r.PostFormValue("material") == "yes"}
	form.Base, _ = strconv.Atoi(r.PostFormValue("base"))
	cur, err := s.currentOrNone(r, kind)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if form.Base != 0 && form.Base != cur.Version {
		// Another version was published since the form was shown: show
		// what the text changes from it before anything is published.
		form.Base = cur.Version
		s.renderDocumentForm(w, r, http.StatusConflict, cur, form, staleDocumentErrors(cur), true)
		return
	}
	if r.PostFormValue("action") != "publish" {
		s.renderDocumentForm(w, r, http.StatusOK, cur, form, nil, true)
		return
	}
	v := viewerFrom(r.Context())
	doc, err := s.Terms.Publish(r.Context(), v.user.ID, s.termsClient(r),
		terms.Draft{Kind: kind, Body: form.Body, Summary: form.Summary, Material: form.Material, Replaces: form.Base})
	if errs, ok := fieldErrors(err); ok {
		s.renderDocumentForm(w, r, http.StatusUnprocessableEntity, cur, form, errs, false)
		return
	}
	if apperr.CodeOf(err) == apperr.Conflict {
		// Another version was published between the check above and now.
		if cur, err = s.currentOrNone(r, kind); err != nil {
			s.fail(w, r, err)
			return
		}
		form.Base = cur.Version
		s.renderDocumentForm(w, r, http.StatusConflict, cur, form, staleDocumentErrors(cur), true)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/documents/%s/%d?done=published", doc.Kind, doc.Version), http.StatusSeeOther)
}

// staleDocumentErrors tells the admin that cur was published while they
// were editing.
func staleDocumentErrors(cur terms.Document) []FieldError {
	return []FieldError{{Field: "body", Message: fmt.Sprintf(
		"Version %d of the %s was published while you were editing. Check what your text changes from it, then publish yours as version %d",
		cur.Version, cur.Kind.Label(), cur.Version+1)}}
}

// renderDocumentForm shows the new-version form with what was typed and,
// when preview is set, the text as it will appear and what changed since
// cur.
func (s *Server) renderDocumentForm(w http.ResponseWriter, r *http.Request, status int, cur terms.Document, form documentForm, errs []FieldError, preview bool) {
	data := documentFormData{Kind: cur.Kind, Current: cur, Next: cur.Version + 1, Accepted: cur.Kind.Accepted()}
	if preview {
		html, err := terms.Render(form.Body)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data.Previewed, data.Preview, data.Changes = true, html, terms.Diff(cur.Body, form.Body)
	}
	p := s.page(r, "Publish a new version of the "+cur.Kind.Label())
	p.Form = form
	p.Errors = errs
	p.Data = data
	s.render.Render(w, r, status, "admin-document-new", p)
}

// adminDocumentVersion shows one version: its text, what changed, and for
// the documents people accept, how far acceptance has gone with a page of
// the people who have not accepted it yet.
func (s *Server) adminDocumentVersion(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageDocuments, authz.Object{}) {
		return
	}
	doc, ok := s.pathVersion(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	cur, err := s.Terms.Current(ctx, doc.Kind)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := adminDocumentVersionData{Doc: doc, Current: cur.Version, Accepted: doc.Kind.Accepted(),
		PublicURL: documentURL(doc.Kind, doc.Version)}
	if doc.PublishedBy != 0 {
		u, err := s.Accounts.UserWithOrg(ctx, doc.PublishedBy)
		switch {
		case err == nil && u.Status == account.StatusErased:
			data.PublishedBy = account.ErasedName
		case err == nil:
			data.PublishedBy = u.Name
		case apperr.CodeOf(err) != apperr.NotFound:
			s.fail(w, r, err)
			return
		}
	}
	if data.Accepted {
		page := 1
		if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && n > 0 {
			page = n
		}
		data.Stats, err = s.Terms.VersionStats(ctx, doc.Kind, doc.Version, outstandingPerPage, (page-1)*outstandingPerPage)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(data.Stats.Page) > 0 {
			data.From = (page-1)*outstandingPerPage + 1
			data.To = data.From + len(data.Stats.Page) - 1
		}
		pages := (data.Stats.Outstanding + outstandingPerPage - 1) / outstandingPerPage
		base := fmt.Sprintf("/admin/documents/%s/%d", doc.Kind, doc.Version)
		data.Pagination = paginate(page, pages, func(n int) string {
			if n == 1 {
				return base
			}
			return base + "?page=" + strconv.Itoa(n)
		})
	}
	p := s.page(r, fmt.Sprintf("%s, version %d", doc.Kind.Title(), doc.Version))
	if r.URL.Query().Get("done") == "published" {
		// A fixed message, so the query cannot put words on the page.
		p.Notice = fmt.Sprintf("Version %d of the %s was published.", doc.Version, doc.Kind.Label())
		if doc.Material && data.Accepted && doc.Version > 1 {
			p.Notice += " Everyone with an active account will be emailed about it."
		}
	}
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "admin-document-version", p)
}
