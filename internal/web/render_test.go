package web

import (
	"bytes"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/psims/psims/internal/web/static"
)

// testLogger returns a JSON logger writing into the returned buffer.
func testLogger(t testing.TB) (*slog.Logger, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	return slog.New(slog.NewJSONHandler(&buf, nil)), &buf
}

func testAssets(t testing.TB) *static.Assets {
	t.Helper()
	a, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func testRenderer(t testing.TB) (*Renderer, *bytes.Buffer) {
	t.Helper()
	logger, logs := testLogger(t)
	rd, err := NewRenderer(testAssets(t), logger)
	if err != nil {
		t.Fatal(err)
	}
	return rd, logs
}

// render renders page and returns the response.
func render(t testing.TB, rd *Renderer, status int, page string, p Page) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	rd.Render(w, httptest.NewRequest(http.MethodGet, "/somewhere", nil), status, page, p)
	return w
}

func titleOf(t testing.TB, body string) string {
	t.Helper()
	m := regexp.MustCompile(`<title>([^<]*)</title>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no <title> in\n%s", body)
	}
	return m[1]
}

func TestRenderWritesThePageWithItsStatus(t *testing.T) {
	rd, _ := testRenderer(t)
	w := render(t, rd, http.StatusTeapot, "home", Page{Title: "Home"})
	if w.Code != http.StatusTeapot {
		t.Errorf("status %d", w.Code)
	}
	if got := w.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
	body := w.Body.String()
	for _, want := range []string{`<html lang="en">`, `id="maincontent"`, `href="#maincontent"`, `class="nhsuk-header"`, `class="nhsuk-footer"`, `href="/terms"`, `href="/privacy"`, `href="/cookies"`, `href="/accessibility"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

func TestTitle(t *testing.T) {
	rd, _ := testRenderer(t)
	t.Run("is the page title and the service name", func(t *testing.T) {
		if got := titleOf(t, render(t, rd, 200, "home", Page{Title: "Start"}).Body.String()); got != "Start – PSIMS" {
			t.Errorf("title %q", got)
		}
	})
	t.Run("starts with Error: when the form has errors", func(t *testing.T) {
		p := Page{Title: "Sign in", Errors: []FieldError{{Field: "email", Message: "Enter your email address"}}}
		body := render(t, rd, 422, "home", p).Body.String()
		if got := titleOf(t, body); got != "Error: Sign in – PSIMS" {
			t.Errorf("title %q", got)
		}
	})
}

func TestErrorSummaryLinksEachErrorToItsField(t *testing.T) {
	rd, _ := testRenderer(t)
	p := Page{Title: "Sign in", Errors: []FieldError{
		{Field: "email", Message: "Enter your email address"},
		{Field: "password", Message: "Enter your password"},
	}}
	body := render(t, rd, 422, "home", p).Body.String()
	for _, want := range []string{`class="nhsuk-error-summary"`, `role="alert"`, "There is a problem",
		`<a href="#email">Enter your email address</a>`, `<a href="#password">Enter your password</a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(render(t, rd, 200, "home", Page{Title: "x"}).Body.String(), "nhsuk-error-summary") {
		t.Error("error summary shown without errors")
	}
}

func TestNoticeIsShownInABanner(t *testing.T) {
	rd, _ := testRenderer(t)
	body := render(t, rd, 200, "home", Page{Title: "x", Notice: "Your password has been changed"}).Body.String()
	if !strings.Contains(body, "nhsuk-notification-banner--success") || !strings.Contains(body, "Your password has been changed") {
		t.Error("notice not shown")
	}
}

func TestHeader(t *testing.T) {
	rd, _ := testRenderer(t)
	t.Run("offers sign in and register when signed out", func(t *testing.T) {
		body := render(t, rd, 200, "home", Page{Title: "x"}).Body.String()
		for _, want := range []string{`href="/sign-in"`, `href="/register"`} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %s", want)
			}
		}
		if strings.Contains(body, `action="/sign-out"`) {
			t.Error("sign-out form shown when signed out")
		}
	})
	t.Run("shows the user and a sign-out form with the CSRF token when signed in", func(t *testing.T) {
		p := Page{Title: "x", CSRFToken: "tok-123", Viewer: &Viewer{Name: "Ada <Lovelace>", Email: "ada@nhs.net"}}
		body := render(t, rd, 200, "home", p).Body.String()
		for _, want := range []string{"Ada &lt;Lovelace&gt;", `href="/account"`,
			`action="/sign-out" method="post"`, `name="csrf_token" value="tok-123"`, ">Sign out</button>"} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %s", want)
			}
		}
	})
}

func TestPagesUseNoInlineScriptOrStyle(t *testing.T) {
	rd, _ := testRenderer(t)
	inline := regexp.MustCompile(`<script(\s[^>]*)?>[^<]|<style|\sstyle=|\son[a-z]+=`)
	for _, page := range []string{"home", "not-found", "error", "document", "cookies", "accessibility"} {
		body := render(t, rd, 200, page, Page{Title: page, Viewer: &Viewer{Name: "A"}, Errors: []FieldError{{"f", "m"}}, Notice: "n"}).Body.String()
		if m := inline.FindString(body); m != "" {
			t.Errorf("%s: inline script or style: %q", page, m)
		}
		if !strings.Contains(body, `<script type="module" src="/static/app.`) {
			t.Errorf("%s: app.js not loaded as a module", page)
		}
		if n := strings.Count(body, "<h1"); n != 1 {
			t.Errorf("%s: %d h1 headings, want 1", page, n)
		}
	}
}

func TestAssetURLsInPagesAreServed(t *testing.T) {
	rd, _ := testRenderer(t)
	assets := testAssets(t)
	body := render(t, rd, 200, "home", Page{Title: "x"}).Body.String()
	urls := regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(urls) < 3 {
		t.Fatalf("only %d asset URLs in the page", len(urls))
	}
	for _, m := range urls {
		w := httptest.NewRecorder()
		assets.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, m[1], nil))
		if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("%s: status %d, Cache-Control %q", m[1], w.Code, w.Header().Get("Cache-Control"))
		}
	}
}

func TestRenderFailuresGiveACleanServerErrorPage(t *testing.T) {
	logger, logs := testLogger(t)
	rd, err := newRenderer(templatesWith(t, map[string]string{
		"templates/pages/broken.html": `{{define "content"}}<h1>Half</h1>{{.Data.Missing}}{{end}}`,
	}), testAssets(t), logger)
	if err != nil {
		t.Fatal(err)
	}
	for name, page := range map[string]string{"a template error": "broken", "an unknown page": "no-such-page"} {
		t.Run(name, func(t *testing.T) {
			logs.Reset()
			w := httptest.NewRecorder()
			rd.Render(w, httptest.NewRequest(http.MethodGet, "/x", nil), http.StatusOK, page, Page{Title: "x", Data: 42})
			if w.Code != http.StatusInternalServerError {
				t.Errorf("status %d, want 500", w.Code)
			}
			body := w.Body.String()
			if strings.Contains(body, "Half") {
				t.Error("half-rendered page was sent")
			}
			if !strings.Contains(body, "Sorry, there is a problem with the service") || !strings.HasSuffix(strings.TrimSpace(body), "</html>") {
				t.Errorf("not the whole error page:\n%s", body)
			}
			if !strings.Contains(logs.String(), `"msg":"render failed"`) {
				t.Errorf("failure not logged: %s", logs)
			}
		})
	}
}

func TestNewRendererFailsAtStart(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"when a page does not parse":          {"templates/pages/bad.html": `{{define "content"}}{{if}}{{end}}`},
		"when a page lacks content":           {"templates/pages/bad.html": `{{define "title"}}x{{end}}`},
		"when a page asks for a missing file": {"templates/pages/bad.html": `{{define "content"}}<img src="{{asset "nope.png"}}" alt="">{{end}}`},
		"when an asset name is not constant":  {"templates/pages/bad.html": `{{define "content"}}<img src="{{asset .Title}}" alt="">{{end}}`},
		"when a partial is missing":           {"templates/pages/bad.html": `{{define "content"}}{{template "no-such-partial" .}}{{end}}`},
		"when HTML cannot be escaped safely":  {"templates/pages/bad.html": `{{define "content"}}<a href="{{.Title}}{{end}}`},
		"when the error page is missing":      {"templates/pages/error.html": ""},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := newRenderer(templatesWith(t, files), testAssets(t), nil); err == nil {
				t.Error("NewRenderer succeeded")
			} else {
				t.Log(err)
			}
		})
	}
}

// templatesWith copies the real templates and adds or replaces files; an
// empty text removes the file.
func templatesWith(t testing.TB, files map[string]string) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	err := fs.WalkDir(templateFiles, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFiles, p)
		fsys[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		if text == "" {
			delete(fsys, name)
			continue
		}
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return fsys
}

func TestTemplateFuncs(t *testing.T) {
	errs := []FieldError{{"email", "Enter your email address"}}
	if got := fieldError(errs, "email"); got != "Enter your email address" {
		t.Errorf("fieldError(email) = %q", got)
	}
	if got := fieldError(errs, "name"); got != "" {
		t.Errorf("fieldError(name) = %q", got)
	}
	if m, err := dict("a", 1, "b", "x"); err != nil || m["a"] != 1 || m["b"] != "x" {
		t.Errorf("dict = %v, %v", m, err)
	}
	if _, err := dict("a"); err == nil {
		t.Error("dict accepted an odd number of arguments")
	}
	if _, err := dict(1, 2); err == nil {
		t.Error("dict accepted a key that is not a string")
	}
}
