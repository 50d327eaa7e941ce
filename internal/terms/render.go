package terms

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Render turns a document's Markdown into HTML that is safe to show: raw
// HTML in the source is escaped or dropped (never passed through), and link
// destinations other than http, https, mailto and site-relative paths
// ("/..." or "#...") are removed (e.g. javascript:, data:, vbscript:,
// protocol-relative "//evil"). Headings, paragraphs, lists, emphasis, links
// and block quotes are supported (CommonMark via goldmark, without the
// unsafe option). It never panics on any input.
//
// In detail:
//   - Raw HTML, inline or as a block, is shown as escaped text, so what the
//     author typed is visible rather than silently lost.
//   - A link whose destination is not allowed keeps its text but loses the
//     link. Links to http and https get rel="noopener noreferrer".
//   - Images are not supported: an image is replaced by its alternative text.
//   - Headings move down one level ("# " becomes h2, capped at h6) because
//     the page around the document already has its h1, and headings, lists
//     carry NHS.UK frontend classes.
//
// A 10 KB document takes well under a millisecond, but goldmark needs
// seconds for deliberately deep nesting (tens of thousands of nested lists,
// quotes or brackets) near MaxBytes: render a version once, not per request.
func Render(markdown string) (template.HTML, error) {
	md := goldmark.New(
		goldmark.WithParserOptions(
			parser.WithASTTransformers(util.Prioritized(safeTransformer{}, 100)),
		),
		goldmark.WithRendererOptions(
			// A lower number than the HTML renderer's 1000 takes precedence.
			renderer.WithNodeRenderers(util.Prioritized(escapedHTMLRenderer{}, 100)),
		),
	)
	var buf bytes.Buffer
	if err := md.Convert([]byte(markdown), &buf); err != nil {
		return "", fmt.Errorf("terms: render markdown: %w", err)
	}
	// The output is built only from escaped text and the elements and
	// attributes the renderer writes itself, so it is safe to mark as HTML.
	return template.HTML(buf.String()), nil
}

// safeTransformer rewrites the parsed document before it is rendered: it
// moves headings so the highest is h2, adds NHS.UK classes, removes links with
// destinations that are not allowed and replaces images with their text.
type safeTransformer struct{}

// Transform implements parser.ASTTransformer.
func (safeTransformer) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	source := reader.Source()

	// Collect first and change afterwards: changing the tree while walking
	// it could skip or revisit nodes.
	var nodes []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			nodes = append(nodes, n)
		}
		return ast.WalkContinue, nil
	})

	// The page has the h1, so the document's highest heading becomes h2
	// and the others follow it: "#" or "##" sections both come out as h2,
	// and no level is skipped.
	top := 6
	for _, n := range nodes {
		if h, ok := n.(*ast.Heading); ok {
			top = min(top, h.Level)
		}
	}
	shift := 2 - top

	for _, n := range nodes {
		switch n := n.(type) {
		case *ast.Heading:
			n.Level = min(max(n.Level+shift, 2), 6)
			n.SetAttributeString("class", []byte(headingClass(n.Level)))
		case *ast.List:
			if n.IsOrdered() {
				n.SetAttributeString("class", []byte("nhsuk-list nhsuk-list--number"))
			} else {
				n.SetAttributeString("class", []byte("nhsuk-list nhsuk-list--bullet"))
			}
		case *ast.Link:
			dest := string(n.Destination)
			if !allowedDestination(dest) {
				unwrapNode(n)
				continue
			}
			if isExternal(dest) {
				n.SetAttributeString("rel", []byte("noopener noreferrer"))
			}
		case *ast.AutoLink:
			if n.AutoLinkType == ast.AutoLinkEmail {
				// The renderer writes these as mailto: links.
				continue
			}
			dest := string(n.URL(source))
			if !allowedDestination(dest) {
				replaceWithText(n, n.Label(source))
				continue
			}
			if isExternal(dest) {
				n.SetAttributeString("rel", []byte("noopener noreferrer"))
			}
		case *ast.Image:
			unwrapNode(n)
		}
	}
}

// headingClass is the NHS.UK frontend class for a heading level, which is
// 2 or more once shifted.
func headingClass(level int) string {
	switch level {
	case 2:
		return "nhsuk-heading-m"
	case 3:
		return "nhsuk-heading-s"
	default:
		return "nhsuk-heading-xs"
	}
}

// unwrapNode replaces n with its children, keeping their text but not n itself.
func unwrapNode(n ast.Node) {
	parent := n.Parent()
	if parent == nil {
		return
	}
	for c := n.FirstChild(); c != nil; {
		next := c.NextSibling()
		parent.InsertBefore(parent, n, c)
		c = next
	}
	parent.RemoveChild(parent, n)
}

// replaceWithText replaces n with plain (escaped) text.
func replaceWithText(n ast.Node, value []byte) {
	parent := n.Parent()
	if parent == nil {
		return
	}
	s := ast.NewString(bytes.Clone(value))
	s.SetRaw(true) // written escaped, without resolving entities again
	parent.ReplaceChild(parent, n, s)
}

// allowedDestination reports whether a link destination may be kept: an
// http, https or mailto URL, a site-relative path ("/...", but not the
// protocol-relative "//..." or "/\..."), or a fragment ("#..."). Anything
// holding spaces or control characters is refused, because browsers strip
// some of them before reading the scheme.
func allowedDestination(dest string) bool {
	if dest == "" {
		return false
	}
	for i := 0; i < len(dest); i++ {
		if dest[i] <= ' ' || dest[i] == 0x7f {
			return false
		}
	}
	switch dest[0] {
	case '#':
		return true
	case '/':
		return len(dest) == 1 || (dest[1] != '/' && dest[1] != '\\')
	}
	scheme, _, found := strings.Cut(dest, ":")
	if !found {
		return false
	}
	switch strings.ToLower(scheme) {
	case "http", "https", "mailto":
		return true
	}
	return false
}

// isExternal reports whether an allowed destination leaves the site.
func isExternal(dest string) bool {
	scheme, _, found := strings.Cut(dest, ":")
	if !found {
		return false
	}
	scheme = strings.ToLower(scheme)
	return scheme == "http" || scheme == "https"
}

// escapedHTMLRenderer renders raw HTML found in the Markdown as escaped
// text instead of goldmark's "raw HTML omitted" comment.
type escapedHTMLRenderer struct{}

// RegisterFuncs implements renderer.NodeRenderer.
func (escapedHTMLRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindRawHTML, renderRawHTML)
	reg.Register(ast.KindHTMLBlock, renderHTMLBlock)
}

// renderRawHTML writes inline raw HTML as escaped text.
func renderRawHTML(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	n := node.(*ast.RawHTML)
	for i := 0; i < n.Segments.Len(); i++ {
		seg := n.Segments.At(i)
		_, _ = w.Write(util.EscapeHTML(seg.Value(source)))
	}
	return ast.WalkSkipChildren, nil
}

// renderHTMLBlock writes a block of raw HTML as a paragraph of escaped text.
func renderHTMLBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	n := node.(*ast.HTMLBlock)
	var raw []byte
	for i := 0; i < n.Lines().Len(); i++ {
		line := n.Lines().At(i)
		raw = append(raw, line.Value(source)...)
	}
	if n.HasClosure() {
		raw = append(raw, n.ClosureLine.Value(source)...)
	}
	raw = bytes.TrimRight(raw, " \t\r\n")
	if len(raw) == 0 {
		return ast.WalkSkipChildren, nil
	}
	_, _ = w.WriteString("<p>")
	_, _ = w.Write(util.EscapeHTML(raw))
	_, _ = w.WriteString("</p>\n")
	return ast.WalkSkipChildren, nil
}
