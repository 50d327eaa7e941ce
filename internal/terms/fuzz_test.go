package terms_test

import (
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/psims/psims/internal/terms"
)

func FuzzRender(f *testing.F) {
	seeds := []string{
		"",
		"# Terms\n\nSome *text* with a [link](https://example.org).",
		"<script>alert(1)</script>",
		"<SCRIPT SRC=//evil></SCRIPT>",
		`<img src=x onerror="alert(1)">`,
		"[x](javascript:alert(1))",
		"[x](jav&#x09;ascript:alert(1)) [y](&#106;avascript:alert(1))",
		"[x][r]\n\n[r]: <javascript:alert(1)> \"t\"",
		"<javascript:alert(1)> <dpo@example.org> <https://example.org>",
		"![alt [in](javascript:x)](data:image/png;base64,AA)",
		"[a](//evil) [b](/\\evil) [c](/ok) [d](#frag) [e](mailto:a@b)",
		"```js\"><script>\n<script>\n```\n\n`<script>`",
		"- a\n  > b\n  > ```\n  > c\n\n1. x\n   ###### deep",
		"<!-- comment -->\n\n<div onclick=\"x\">\n\n*hi*\n</div>",
		"\\<script> &lt;script&gt; &#60;script&#62;",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, markdown string) {
		got, err := terms.Render(markdown)
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		checkSafeHTML(t, string(got))
	})
}

// checkSafeHTML checks rendered HTML the way a browser would read it. Text
// is escaped, so every "<" must start one of the few elements Render writes,
// carrying only the attributes it writes, and every href must be one that
// Render allows. The word "javascript:" may appear as text (a document may
// talk about it) but never inside a tag.
func checkSafeHTML(t *testing.T, out string) {
	t.Helper()
	if strings.Contains(strings.ToLower(out), "<script") {
		t.Fatalf("output contains <script:\n%s", out)
	}
	tagRe := regexp.MustCompile(`^<(/?)([a-z0-9]+)((?: [a-z]+="[^"<>]*")*)>`)
	attrRe := regexp.MustCompile(` ([a-z]+)="([^"<>]*)"`)
	elements := map[string]bool{
		"p": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
		"ul": true, "ol": true, "li": true, "em": true, "strong": true, "a": true,
		"blockquote": true, "code": true, "pre": true, "hr": true, "br": true,
	}
	attributes := map[string]bool{"class": true, "href": true, "rel": true, "title": true, "start": true}
	for i := strings.IndexByte(out, '<'); i >= 0; i = nextIndex(out, '<', i+1) {
		m := tagRe.FindStringSubmatch(out[i:])
		if m == nil {
			t.Fatalf("unexpected markup at byte %d: %.40q\n%s", i, out[i:], out)
		}
		if !elements[m[2]] {
			t.Fatalf("unexpected element %q in:\n%s", m[0], out)
		}
		if strings.Contains(strings.ToLower(html.UnescapeString(m[0])), "javascript:") {
			t.Fatalf("javascript: inside a tag %q in:\n%s", m[0], out)
		}
		for _, a := range attrRe.FindAllStringSubmatch(m[3], -1) {
			if !attributes[a[1]] {
				t.Fatalf("unexpected attribute %q in:\n%s", m[0], out)
			}
			if a[1] == "href" && !safeHref(html.UnescapeString(a[2])) {
				t.Fatalf("unsafe href in %q:\n%s", m[0], out)
			}
		}
	}
}

// nextIndex is strings.IndexByte from position from, as an index into s.
func nextIndex(s string, c byte, from int) int {
	j := strings.IndexByte(s[from:], c)
	if j < 0 {
		return -1
	}
	return from + j
}

// safeHref is the rule Render promises for link destinations, as rendered
// (percent-encoded).
func safeHref(href string) bool {
	lower := strings.ToLower(href)
	switch {
	case strings.HasPrefix(lower, "http:"), strings.HasPrefix(lower, "https:"), strings.HasPrefix(lower, "mailto:"):
		return true
	case strings.HasPrefix(href, "#"):
		return true
	case strings.HasPrefix(href, "/"):
		return !strings.HasPrefix(href, "//") && !strings.HasPrefix(href, `/\`)
	}
	return false
}

func FuzzDiff(f *testing.F) {
	seeds := [][2]string{
		{"", ""},
		{"", "# Terms\n\nFirst version."},
		{"A\n\nB\n\nC", "A\n\nB\n\nC"},
		{"A\n\nC", "A\n\nB\n\nC"},
		{"A\r\n\r\nB  \r\n", "A\n\n\n\nB"},
		{"We keep your data for six years.", "We keep your records for eight years."},
		{"one two three\nfour five", "one 2 three\n\nfour five six"},
		{"a\n\nb\n\na\n\nb", "b\n\na\n\nb\n\na"},
		{" \t\n\r\r\n", "\n \n"},
		{"caf\xe9 \xff\xfe", "café \xff"},
		{"\U0010FFFF \ud7ff x", "\U0010FFFF y x"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, old, new string) {
		blocks := terms.Diff(old, new)
		checkDiff(t, old, new, blocks)
	})
}

// checkDiff checks that blocks rebuild both texts exactly, as normalised,
// and that each block is well formed.
func checkDiff(t *testing.T, old, new string, blocks terms.Blocks) {
	t.Helper()
	gotOld, gotNew := rebuild(t, blocks)
	if want := normalise(old); gotOld != want {
		t.Errorf("old rebuilt from the diff = %q, want %q", gotOld, want)
	}
	if want := normalise(new); gotNew != want {
		t.Errorf("new rebuilt from the diff = %q, want %q", gotNew, want)
	}
	if blocks.Changed() != (normalise(old) != normalise(new)) {
		t.Errorf("Changed = %v for %q → %q", blocks.Changed(), old, new)
	}
}

// normalise is the text Diff sees: "\r\n" and "\r" read as "\n", spaces and
// tabs at line ends dropped, paragraphs separated by exactly one blank line
// and no blank lines at either end.
func normalise(s string) string {
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(s)
	s = regexp.MustCompile(`(?m)[ \t]+$`).ReplaceAllString(s, "")
	s = regexp.MustCompile(`\n\n+`).ReplaceAllString(s, "\n\n")
	return strings.Trim(s, "\n")
}

// rebuild joins the paragraphs of the old and of the new text found in
// blocks, checking on the way that each block is well formed.
func rebuild(t *testing.T, blocks []terms.Block) (old, new string) {
	t.Helper()
	var olds, news []string
	for _, b := range blocks {
		if b.Text == "" {
			t.Errorf("block %+v has no text", b)
		}
		if b.Op != terms.BlockChanged && b.Spans != nil {
			t.Errorf("%s block has spans: %+v", b.Op, b)
		}
		switch b.Op {
		case terms.BlockSame:
			olds = append(olds, b.Text)
			news = append(news, b.Text)
		case terms.BlockAdded:
			news = append(news, b.Text)
		case terms.BlockRemoved:
			olds = append(olds, b.Text)
		case terms.BlockChanged:
			o, n := spanTexts(t, b.Spans)
			if n != b.Text {
				t.Errorf("changed block text %q, but its spans give %q", b.Text, n)
			}
			if o == n {
				t.Errorf("changed block %q has no change", b.Text)
			}
			olds = append(olds, o)
			news = append(news, n)
		default:
			t.Errorf("block with unknown op: %+v", b)
		}
	}
	return strings.Join(olds, "\n\n"), strings.Join(news, "\n\n")
}

// spanTexts returns the old and new paragraph the spans describe.
func spanTexts(t *testing.T, spans []terms.Span) (old, new string) {
	t.Helper()
	var o, n strings.Builder
	for _, s := range spans {
		if s.Text == "" {
			t.Errorf("empty %s span", s.Op)
		}
		switch s.Op {
		case terms.WordSame:
			o.WriteString(s.Text)
			n.WriteString(s.Text)
		case terms.WordRemoved:
			o.WriteString(s.Text)
		case terms.WordAdded:
			n.WriteString(s.Text)
		default:
			t.Errorf("span with unknown op: %+v", s)
		}
	}
	return o.String(), n.String()
}
