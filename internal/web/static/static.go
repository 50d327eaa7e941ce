// Package static holds the files the web pages load (styles, scripts, icons)
// and serves them under content-hashed URLs that browsers may cache forever.
//
// The files are embedded in the binary. The vendor/ directory is not committed:
// `make assets` copies it from the nhsuk-frontend npm package, and the package
// does not compile until it has run (go:embed needs the directory to exist).
package static

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed app.css app.js session-timeout.js passkey.js vendor
var embedded embed.FS

// Prefix is the URL path under which Handler serves the files.
const Prefix = "/static/"

// hashLength is how many hex digits of the SHA-256 go into a hashed name:
// 64 bits, plenty to tell versions of one file apart.
const hashLength = 16

// contentType returns the media type of the extensions we ship. An explicit
// list keeps responses the same whatever mime.types the host has.
func contentType(ext string) (string, bool) {
	switch ext {
	case ".css":
		return "text/css; charset=utf-8", true
	case ".js":
		return "text/javascript; charset=utf-8", true
	case ".svg":
		return "image/svg+xml", true
	case ".png":
		return "image/png", true
	case ".ico":
		return "image/x-icon", true
	case ".json":
		return "application/json", true
	}
	return "", false
}

// file is one asset with what is computed about it once at start.
type file struct {
	name        string // path relative to the static root, such as "vendor/nhsuk-frontend.min.css"
	body        []byte
	hash        string
	contentType string
}

// Assets is the set of static files, loaded and hashed once.
// It is safe for concurrent use because it never changes after Load.
type Assets struct {
	byName map[string]*file // "app.css"
	byPath map[string]*file // "app.<hash>.css" and "app.css", as they appear after Prefix
}

// New loads the files embedded in the binary.
func New() (*Assets, error) {
	return Load(embedded)
}

// Load reads every file in fsys and hashes it. It fails on a file type that
// has no known content type, so nothing is served with a guessed one.
func Load(fsys fs.FS) (*Assets, error) {
	a := &Assets{byName: map[string]*file{}, byPath: map[string]*file{}}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := path.Ext(name)
		ct, ok := contentType(ext)
		if !ok {
			return fmt.Errorf("static: %s: no content type for %q files", name, ext)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("static: %w", err)
		}
		sum := sha256.Sum256(body)
		f := &file{name: name, body: body, hash: hex.EncodeToString(sum[:])[:hashLength], contentType: ct}
		a.byName[name] = f
		a.byPath[name] = f
		a.byPath[hashedName(name, f.hash)] = f
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// hashedName puts the hash before the extension: "a/b.min.css" becomes "a/b.min.<hash>.css".
func hashedName(name, hash string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hash + ext
}

// Has reports whether name (relative to the static root) is a known file.
func (a *Assets) Has(name string) bool {
	_, ok := a.byName[name]
	return ok
}

// URL returns the content-hashed URL of the named file, such as
// "/static/vendor/nhsuk-frontend.min.0123456789abcdef.css". For an unknown
// name it returns the unhashed URL, which Handler answers with 404; templates
// are checked with Has at start so that does not happen in a page.
func (a *Assets) URL(name string) string {
	f, ok := a.byName[name]
	if !ok {
		return Prefix + name
	}
	return Prefix + hashedName(f.name, f.hash)
}

// Handler serves the files under Prefix (mount it at "GET /static/").
//
// A hashed URL never changes content, so it is cached for a year as
// immutable. The plain name is served too, because the NHS.UK stylesheet
// refers to its images and app.js imports the NHS.UK module by relative
// URL; those responses must be revalidated, using the hash as ETag.
// Unknown files get 404.
func (a *Assets) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		p, ok := strings.CutPrefix(r.URL.Path, Prefix)
		f := a.byPath[p]
		if !ok || f == nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("ETag", `"`+f.hash+`"`)
		if p == f.name {
			h.Set("Cache-Control", "no-cache")
		} else {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
	})
}
