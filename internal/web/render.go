package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"text/template/parse"

	"github.com/psims/psims/internal/oidclogin"
	"github.com/psims/psims/internal/web/static"
)

//go:embed templates
var templateFiles embed.FS

// Page is the data every template receives.
type Page struct {
	Title        string       // page title without the service name, also used for <title>
	Viewer       *Viewer      // the signed-in user, nil when signed out
	CSRFToken    string       // hidden field value for every POST form, name "csrf_token"
	Errors       []FieldError // errors for the error summary, in page order; empty when none
	Form         any          // what the user typed, to re-fill the form
	Data         any          // anything else the page needs
	Notice       string       // a one-line success message shown in an NHS.UK notification banner (or inset)
	Path         string       // r.URL.Path, for navigation highlighting and back links
	CookieBanner bool         // show the cookie banner: the visitor has not chosen yet
	// ReturnTo is the path and query of the page, for forms that come back
	// to it (the cookie banner); the query matters for emailed links.
	ReturnTo string
	// Problem is what is wrong with a form as a whole, not with one field
	// (such as a form sent too quickly): it heads the error summary. A
	// refusal is never a Notice, which is shown as a success.
	Problem string
	// Important is a one-line message that is neither a success nor an
	// error, shown in an NHS.UK notification banner titled "Important".
	Important string
	// Updated is the notice above each page about documents with a newer
	// version the viewer has not accepted (T19); nil when there are none.
	Updated *documentNotice
	// Session says when a signed-in viewer's session ends if left idle;
	// nil when signed out.
	Session *sessionTimeout
	// Passkeys says passkeys can be used at the service's address (not
	// at an IP address), so the pages may offer them.
	Passkeys bool
	// Providers are the OpenID Connect providers people may sign in
	// through (P11).
	Providers []oidclogin.Choice
}

// documentNotice tells a signed-in user about new versions of documents.
type documentNotice struct {
	// Names are all the documents with a newer version, such as "terms of
	// use"; MustAccept those of them the user must accept before going on
	// (a material change), the rest only to read.
	Names, MustAccept []string
	// Review is the address of the review page, coming back here.
	Review string
}

// Viewer is the signed-in user as pages see them.
type Viewer struct {
	Name, Email, Role, OrgName string
	// Pending is true while the session waits for the second step of
	// signing in: the header offers only signing out.
	Pending bool
}

// FieldError is one problem with one form field; Field is the id of the input it links to.
type FieldError struct{ Field, Message string }

// Renderer turns a page name and a Page into HTML. Every template is parsed
// and checked once, by NewRenderer; after that a Renderer never changes and
// is safe for concurrent use.
//
// Each page is templates/pages/NAME.html, executed inside templates/layout.html
// with every file in templates/partials available. A page defines "content"
// and may define "title" (which otherwise is Page.Title) and "before-content"
// (for a back link above <main>).
type Renderer struct {
	pages     map[string]*template.Template
	logger    *slog.Logger
	errorPage []byte // the 500 page, rendered at start so it is always available
}

// NewRenderer parses and checks every template. It fails if a template is
// broken, a page lacks "content", or a template asks for an asset that does
// not exist. logger receives render failures; nil means slog.Default().
func NewRenderer(assets *static.Assets, logger *slog.Logger) (*Renderer, error) {
	return newRenderer(templateFiles, assets, logger)
}

// newRenderer reads the templates from fsys, so tests can give it broken ones.
func newRenderer(fsys fs.FS, assets *static.Assets, logger *slog.Logger) (*Renderer, error) {
	if logger == nil {
		logger = slog.Default()
	}
	files, err := fs.Glob(fsys, "templates/pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	rd := &Renderer{pages: map[string]*template.Template{}, logger: logger}
	funcs := templateFuncs(assets)
	for _, file := range files {
		name := strings.TrimSuffix(path.Base(file), ".html")
		t, err := template.New(name).Funcs(funcs).ParseFS(fsys,
			"templates/layout.html", "templates/partials/*.html", file)
		if err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
		if err := checkPage(t, assets); err != nil {
			return nil, fmt.Errorf("web: templates: %s: %w", file, err)
		}
		rd.pages[name] = t
	}
	if rd.pages["error"] == nil {
		return nil, errors.New("web: templates: pages/error.html is missing")
	}
	var buf bytes.Buffer
	if err := rd.pages["error"].ExecuteTemplate(&buf, "layout", Page{Title: "Sorry, there is a problem with the service"}); err != nil {
		return nil, fmt.Errorf("web: templates: error page: %w", err)
	}
	rd.errorPage = buf.Bytes()
	return rd, nil
}

// checkPage finds at start what would otherwise fail on a request: a
// missing "content", an unknown asset, or HTML that html/template cannot
// escape safely. Escaping happens on the first execution, so the page is
// executed once with empty data; errors from the empty data itself (such as
// a nil .Form) are expected and ignored.
func checkPage(t *template.Template, assets *static.Assets) error {
	if t.Lookup("layout") == nil {
		return errors.New(`no "layout" template`)
	}
	if t.Lookup("content") == nil {
		return errors.New(`the page does not define "content"`)
	}
	for _, tt := range t.Templates() {
		if tt.Tree == nil {
			continue
		}
		if err := checkAssets(tt.Tree.Root, assets); err != nil {
			return fmt.Errorf("template %q: %w", tt.Name(), err)
		}
	}
	var escErr *template.Error
	if err := t.ExecuteTemplate(io.Discard, "layout", Page{}); errors.As(err, &escErr) {
		return err
	}
	return nil
}

// checkAssets walks a parse tree and checks every call of the asset function
// names, as a quoted constant, a file that exists.
func checkAssets(node parse.Node, assets *static.Assets) error {
	switch n := node.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkAssets(c, assets); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		return checkAssets(n.Pipe, assets)
	case *parse.TemplateNode:
		return checkAssets(n.Pipe, assets)
	case *parse.IfNode:
		return checkBranch(&n.BranchNode, assets)
	case *parse.RangeNode:
		return checkBranch(&n.BranchNode, assets)
	case *parse.WithNode:
		return checkBranch(&n.BranchNode, assets)
	case *parse.PipeNode:
		if n == nil {
			return nil
		}
		for _, cmd := range n.Cmds {
			if err := checkAssets(cmd, assets); err != nil {
				return err
			}
		}
	case *parse.CommandNode:
		if id, ok := n.Args[0].(*parse.IdentifierNode); ok && id.Ident == "asset" {
			s, ok := argString(n.Args)
			if !ok {
				return fmt.Errorf("%s: asset takes one quoted file name", n)
			}
			if !assets.Has(s) {
				return fmt.Errorf("asset %q does not exist (run make assets?)", s)
			}
		}
		for _, arg := range n.Args {
			if err := checkAssets(arg, assets); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkBranch(b *parse.BranchNode, assets *static.Assets) error {
	for _, n := range []parse.Node{b.Pipe, b.List, b.ElseList} {
		if err := checkAssets(n, assets); err != nil {
			return err
		}
	}
	return nil
}

func argString(args []parse.Node) (string, bool) {
	if len(args) != 2 {
		return "", false
	}
	s, ok := args[1].(*parse.StringNode)
	if !ok {
		return "", false
	}
	return s.Text, true
}

// templateFuncs are the functions every template may call.
func templateFuncs(assets *static.Assets) template.FuncMap {
	return template.FuncMap{
		// asset returns the content-hashed URL of a file in internal/web/static.
		"asset": func(name string) (string, error) {
			if !assets.Has(name) {
				return "", fmt.Errorf("asset %q does not exist", name)
			}
			return assets.URL(name), nil
		},
		"fieldError": fieldError,
		"hasErrors":  func(errs []FieldError) bool { return len(errs) > 0 },
		"dict":       dict,
		"hasPrefix":  strings.HasPrefix,
		"inc":        func(i int) int { return i + 1 },
		"add":        func(a, b int) int { return a + b },
		"sub":        func(a, b int) int { return a - b },
	}
}

// fieldError returns the message for field, or "" when it has none.
func fieldError(errs []FieldError, field string) string {
	for _, e := range errs {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// dict builds a map from key, value pairs, to pass several values to a partial.
func dict(pairs ...any) (map[string]any, error) {
	if len(pairs)%2 != 0 {
		return nil, errors.New("dict needs pairs of key and value")
	}
	m := make(map[string]any, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		k, ok := pairs[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict key %v is not a string", pairs[i])
		}
		m[k] = pairs[i+1]
	}
	return m, nil
}

// Render executes the named page into a buffer and only then writes the
// status and body, so a failing template never leaves half a page: it is
// logged and the visitor gets the 500 page instead. An empty p.Path is set
// from the request.
func (rd *Renderer) Render(w http.ResponseWriter, r *http.Request, status int, page string, p Page) {
	t, ok := rd.pages[page]
	if !ok {
		rd.fail(w, r, fmt.Errorf("unknown page %q", page))
		return
	}
	if p.Path == "" {
		p.Path = r.URL.Path
	}
	if tookOutHidden(w, r) && p.Important == "" {
		p.Important = cleanedMessage
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		rd.fail(w, r, err)
		return
	}
	writeHTML(w, status, buf.Bytes())
}

// ServerError writes the 500 page, for when something went wrong that the
// visitor cannot fix. It shows the signed-out header, as it cannot rely on
// anything else working.
func (rd *Renderer) ServerError(w http.ResponseWriter, r *http.Request) {
	writeHTML(w, http.StatusInternalServerError, rd.errorPage)
}

func (rd *Renderer) fail(w http.ResponseWriter, r *http.Request, err error) {
	rd.logger.ErrorContext(r.Context(), "render failed", "err", err, "request_id", RequestID(r.Context()))
	rd.ServerError(w, r)
}

// writeHTML sends a whole page. Pages carry personal data and form tokens,
// so neither browsers nor proxies may store them.
func writeHTML(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}
