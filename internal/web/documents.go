package web

import (
	"net/http"
	"strconv"

	"github.com/psims/psims/internal/terms"
)

// documentRoutes registers the public pages of the versioned documents
// (the terms of use, the privacy policy and the recording statement) and
// the pages where national admins publish them. The public pages are open
// to everyone, signed in or not, and stay reachable before a user has
// accepted the terms: the review page links to them (T1, T2, T7).
func (s *Server) documentRoutes(r *router) {
	r.open("GET /terms", s.currentDocument(terms.Terms))
	r.open("GET /privacy", s.currentDocument(terms.Privacy))
	r.open("GET /documents/{kind}", s.documentVersions)
	r.open("GET /documents/{kind}/{version}", s.documentVersion)
	s.adminDocumentRoutes(r)
}

// documentData is what the page showing one version of a document shows.
type documentData struct {
	Doc terms.Document
	// Current is the number of the current version; the page says so when
	// Doc is an earlier one.
	Current     int
	CurrentURL  string
	VersionsURL string
}

// documentVersionsData is what the list of a document's versions shows.
type documentVersionsData struct {
	Kind     terms.Kind
	Versions []terms.Document // newest first, without their text
	// Accepted is true for the kinds people must accept, whose material
	// versions they must accept again.
	Accepted bool
}

// documentURL is the public address of one version of a document.
func documentURL(kind terms.Kind, version int) string {
	return "/documents/" + string(kind) + "/" + strconv.Itoa(version)
}

// currentDocumentURL is the public address of the current version: the
// short one for the terms and the privacy policy.
func currentDocumentURL(kind terms.Kind, version int) string {
	switch kind {
	case terms.Terms:
		return "/terms"
	case terms.Privacy:
		return "/privacy"
	}
	return documentURL(kind, version)
}

// pathKind reads the kind named in the path, or shows 404 and returns
// false.
func (s *Server) pathKind(w http.ResponseWriter, r *http.Request) (terms.Kind, bool) {
	kind, err := terms.ParseKind(r.PathValue("kind"))
	if err != nil {
		s.notFound(w, r)
		return "", false
	}
	return kind, true
}

// pathVersion reads the kind and the version number named in the path and
// loads that version, or shows 404 and returns false. Only the plain
// number is accepted ("/documents/terms/2", not ".../02"), so each version
// has one address.
func (s *Server) pathVersion(w http.ResponseWriter, r *http.Request) (terms.Document, bool) {
	kind, ok := s.pathKind(w, r)
	if !ok {
		return terms.Document{}, false
	}
	raw := r.PathValue("version")
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || strconv.Itoa(n) != raw {
		s.notFound(w, r)
		return terms.Document{}, false
	}
	doc, err := s.Terms.Version(r.Context(), kind, n)
	if err != nil {
		s.fail(w, r, err)
		return terms.Document{}, false
	}
	return doc, true
}

// currentDocument shows the current version of kind.
func (s *Server) currentDocument(kind terms.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		doc, err := s.Terms.Current(r.Context(), kind)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.renderDocument(w, r, doc, doc.Version, kind.Title())
	}
}

// documentVersions lists every version of a kind, newest first.
func (s *Server) documentVersions(w http.ResponseWriter, r *http.Request) {
	kind, ok := s.pathKind(w, r)
	if !ok {
		return
	}
	versions, err := s.Terms.Versions(r.Context(), kind)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Versions of the "+kind.Label())
	p.Data = documentVersionsData{Kind: kind, Versions: versions, Accepted: kind.Accepted()}
	s.render.Render(w, r, http.StatusOK, "document-versions", p)
}

// documentVersion shows one version of a document, saying so when it is
// not the current one.
func (s *Server) documentVersion(w http.ResponseWriter, r *http.Request) {
	doc, ok := s.pathVersion(w, r)
	if !ok {
		return
	}
	cur, err := s.Terms.Current(r.Context(), doc.Kind)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	title := doc.Kind.Title()
	if doc.Version != cur.Version {
		title += ", version " + strconv.Itoa(doc.Version)
	}
	s.renderDocument(w, r, doc, cur.Version, title)
}

func (s *Server) renderDocument(w http.ResponseWriter, r *http.Request, doc terms.Document, current int, title string) {
	p := s.page(r, title)
	p.Data = documentData{Doc: doc, Current: current,
		CurrentURL: currentDocumentURL(doc.Kind, current), VersionsURL: "/documents/" + string(doc.Kind)}
	s.render.Render(w, r, http.StatusOK, "document", p)
}
