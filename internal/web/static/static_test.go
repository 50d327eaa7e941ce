package static

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func testAssets(t *testing.T) *Assets {
	t.Helper()
	a, err := Load(fstest.MapFS{
		"app.css":              {Data: []byte("body{}")},
		"vendor/images/x.svg":  {Data: []byte("<svg/>")},
		"vendor/lib.min.js":    {Data: []byte("export{}")},
		"vendor/nhs.min.css":   {Data: []byte(".a{}")},
		"vendor/images/f.ico":  {Data: []byte{0, 0, 1, 0}},
		"vendor/images/i.png":  {Data: []byte("\x89PNG")},
		"vendor/manifest.json": {Data: []byte("{}")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func get(t *testing.T, h http.Handler, url string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, url, nil))
	return w
}

func TestURLPutsTheContentHashBeforeTheExtension(t *testing.T) {
	a := testAssets(t)
	url := a.URL("vendor/nhs.min.css")
	if !strings.HasPrefix(url, "/static/vendor/nhs.min.") || !strings.HasSuffix(url, ".css") {
		t.Fatalf("URL = %q", url)
	}
	hash := strings.TrimSuffix(strings.TrimPrefix(url, "/static/vendor/nhs.min."), ".css")
	if len(hash) != hashLength {
		t.Errorf("hash %q has %d characters, want %d", hash, len(hash), hashLength)
	}
	if a.URL("app.css") == a.URL("vendor/nhs.min.css") {
		t.Error("different files got the same URL")
	}
}

func TestURLChangesWhenTheContentChanges(t *testing.T) {
	a1, err := Load(fstest.MapFS{"app.css": {Data: []byte("a")}})
	if err != nil {
		t.Fatal(err)
	}
	a2, err := Load(fstest.MapFS{"app.css": {Data: []byte("b")}})
	if err != nil {
		t.Fatal(err)
	}
	if a1.URL("app.css") == a2.URL("app.css") {
		t.Error("changed content kept its URL")
	}
}

func TestHandler(t *testing.T) {
	a := testAssets(t)
	h := a.Handler()

	t.Run("a hashed URL is served with immutable caching and its content type", func(t *testing.T) {
		w := get(t, h, a.URL("vendor/nhs.min.css"))
		if w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
		if got := w.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("Cache-Control = %q", got)
		}
		if got := w.Header().Get("Content-Type"); got != "text/css; charset=utf-8" {
			t.Errorf("Content-Type = %q", got)
		}
		if w.Body.String() != ".a{}" {
			t.Errorf("body = %q", w.Body.String())
		}
	})

	t.Run("each file type gets its content type", func(t *testing.T) {
		for name, want := range map[string]string{
			"vendor/lib.min.js":    "text/javascript; charset=utf-8",
			"vendor/images/x.svg":  "image/svg+xml",
			"vendor/images/f.ico":  "image/x-icon",
			"vendor/images/i.png":  "image/png",
			"vendor/manifest.json": "application/json",
		} {
			if got := get(t, h, a.URL(name)).Header().Get("Content-Type"); got != want {
				t.Errorf("%s: Content-Type = %q, want %q", name, got, want)
			}
		}
	})

	t.Run("the plain name is served but must be revalidated", func(t *testing.T) {
		w := get(t, h, "/static/vendor/images/x.svg")
		if w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
		if got := w.Header().Get("Cache-Control"); got != "no-cache" {
			t.Errorf("Cache-Control = %q", got)
		}
		req := httptest.NewRequest(http.MethodGet, "/static/vendor/images/x.svg", nil)
		req.Header.Set("If-None-Match", w.Header().Get("ETag"))
		w2 := httptest.NewRecorder()
		h.ServeHTTP(w2, req)
		if w2.Code != http.StatusNotModified {
			t.Errorf("revalidation status %d, want 304", w2.Code)
		}
	})

	t.Run("unknown files, wrong hashes and directories are not found", func(t *testing.T) {
		for _, url := range []string{
			"/static/nope.css",
			"/static/app.0000000000000000.css",
			"/static/vendor/",
			"/static/vendor/images",
			"/other/app.css",
		} {
			if w := get(t, h, url); w.Code != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", url, w.Code)
			}
		}
	})

	t.Run("other methods are refused", func(t *testing.T) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, a.URL("app.css"), nil))
		if w.Code != http.StatusMethodNotAllowed {
			t.Errorf("status %d, want 405", w.Code)
		}
	})
}

func TestLoadRefusesAFileWithNoKnownContentType(t *testing.T) {
	if _, err := Load(fstest.MapFS{"notes.txt": {Data: []byte("x")}}); err == nil {
		t.Error("Load accepted a .txt file")
	}
}

func TestEmbeddedAssetsHoldWhatTheLayoutNeeds(t *testing.T) {
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"app.css", "app.js", "vendor/nhsuk-frontend.min.css", "vendor/nhsuk-frontend.min.js", "vendor/images/favicon.ico"} {
		if !a.Has(name) {
			t.Errorf("%s is not embedded (run make assets)", name)
		}
	}
}
