package terms_test

import (
	"strings"
	"testing"

	"github.com/psims/psims/internal/terms"
)

func TestRender(t *testing.T) {
	tests := []struct {
		name     string
		markdown string
		want     []string // fragments the HTML must contain
		absent   []string // fragments it must not contain (compared case-insensitively)
	}{
		{
			name:     "a top-level heading becomes an h2 because the page has its own h1",
			markdown: "# Terms of use",
			want:     []string{`<h2 class="nhsuk-heading-m">Terms of use</h2>`},
			absent:   []string{"<h1"},
		},
		{
			name:     "the highest heading becomes an h2 and the others keep their place below it",
			markdown: "## Who we are\n\n### Contact\n\n#### Post",
			want: []string{
				`<h2 class="nhsuk-heading-m">Who we are</h2>`,
				`<h3 class="nhsuk-heading-s">Contact</h3>`,
				`<h4 class="nhsuk-heading-xs">Post</h4>`,
			},
		},
		{
			name:     "the deepest headings stay h6",
			markdown: "# One\n\n##### Five\n\n###### Six",
			want:     []string{`<h6 class="nhsuk-heading-xs">Five</h6>`, `<h6 class="nhsuk-heading-xs">Six</h6>`},
			absent:   []string{"<h7"},
		},
		{
			name:     "setext headings are shifted too",
			markdown: "Title\n=====",
			want:     []string{`<h2 class="nhsuk-heading-m">Title</h2>`},
		},
		{
			name:     "lists get NHS.UK list classes",
			markdown: "- one\n- two\n\n1. first\n2. second",
			want: []string{
				`<ul class="nhsuk-list nhsuk-list--bullet">`,
				`<ol class="nhsuk-list nhsuk-list--number">`,
				`<li>two</li>`,
			},
		},
		{
			name:     "paragraphs, emphasis and block quotes are rendered",
			markdown: "We *may* keep **some** data.\n\n> Quoted text",
			want:     []string{"<p>We <em>may</em> keep <strong>some</strong> data.</p>", "<blockquote>\n<p>Quoted text</p>\n</blockquote>"},
		},
		{
			name:     "a script element is shown as text, not run",
			markdown: "<script>alert(1)</script>",
			want:     []string{"&lt;script&gt;alert(1)&lt;/script&gt;"},
			absent:   []string{"<script"},
		},
		{
			name:     "an inline image with an event handler is shown as text",
			markdown: `Hello <img src=x onerror="alert(1)"> there`,
			want:     []string{"<p>Hello &lt;img src=x onerror=&quot;alert(1)&quot;&gt; there</p>"},
			absent:   []string{"<img"},
		},
		{
			name:     "a javascript link keeps its text but loses the link",
			markdown: "[click me](javascript:alert(1)) and [me too](JaVaScRiPt:alert(1))",
			want:     []string{"<p>click me and me too</p>"},
			absent:   []string{"javascript:", "<a"},
		},
		{
			name:     "a javascript link by reference is removed as well",
			markdown: "[click][x]\n\n[x]: javascript:alert(1)",
			want:     []string{"<p>click</p>"},
			absent:   []string{"javascript:", "<a"},
		},
		{
			name:     "data, vbscript and file links are removed",
			markdown: "[a](data:text/html,hi) [b](vbscript:msgbox) [c](file:///etc/passwd)",
			want:     []string{"<p>a b c</p>"},
			absent:   []string{"<a", "data:", "vbscript:", "file:"},
		},
		{
			name:     "protocol-relative links are removed",
			markdown: `[a](//evil.example) [b](/\evil.example)`,
			want:     []string{"<p>a b</p>"},
			absent:   []string{"<a", "evil"},
		},
		{
			name:     "links hiding a control character are removed",
			markdown: "[a](jav&#x09;ascript:alert(1)) [b](<java\tscript:alert(1)>)",
			absent:   []string{"<a", "script:"},
		},
		{
			name:     "links with other schemes and bare relative paths are removed",
			markdown: "[a](ftp://example.org) [b](privacy) <irc://example.org>",
			want:     []string{"<p>a b irc://example.org</p>"},
			absent:   []string{"<a"},
		},
		{
			name:     "site-relative, fragment and mailto links are kept without rel",
			markdown: "[privacy](/privacy) [top](#top) [email](mailto:dpo@example.nhs.uk) <dpo@example.nhs.uk>",
			want: []string{
				`<a href="/privacy">privacy</a>`,
				`<a href="#top">top</a>`,
				`<a href="mailto:dpo@example.nhs.uk">email</a>`,
				`<a href="mailto:dpo@example.nhs.uk">dpo@example.nhs.uk</a>`,
			},
			absent: []string{"noopener"},
		},
		{
			name:     "external links get rel noopener noreferrer",
			markdown: `[ICO](https://ico.org.uk "Regulator") [plain](HTTP://example.org) <https://www.nhs.uk>`,
			want: []string{
				`<a href="https://ico.org.uk" title="Regulator" rel="noopener noreferrer">ICO</a>`,
				`<a href="HTTP://example.org" rel="noopener noreferrer">plain</a>`,
				`<a href="https://www.nhs.uk" rel="noopener noreferrer">https://www.nhs.uk</a>`,
			},
		},
		{
			name:     "images are replaced by their text",
			markdown: "![a *logo*](https://example.org/logo.png) ![x](data:image/png;base64,AAAA)",
			want:     []string{"<p>a <em>logo</em> x</p>"},
			absent:   []string{"<img", "src="},
		},
		{
			name:     "code keeps markup as text",
			markdown: "`<b>`\n\n```\"><script>\n<i>\n```",
			want:     []string{"<code>&lt;b&gt;</code>", "&lt;i&gt;"},
			absent:   []string{"<script", "<b>", "<i>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := terms.Render(tt.markdown)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			html := string(got)
			for _, w := range tt.want {
				if !strings.Contains(html, w) {
					t.Errorf("HTML lacks %q:\n%s", w, html)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(strings.ToLower(html), strings.ToLower(a)) {
					t.Errorf("HTML contains %q:\n%s", a, html)
				}
			}
			checkSafeHTML(t, html)
		})
	}
}

func TestRenderOfAnEmptyDocumentIsEmpty(t *testing.T) {
	got, err := terms.Render("")
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if got != "" {
		t.Errorf("Render(\"\") = %q, want empty", got)
	}
}

// sampleDocument is a terms-of-use-like document of about 10 KB.
func sampleDocument() string {
	section := `## Using this service

You must use the **Patient Safety Incident Management System** only for
your work, and only in the ways described in these terms. Read the
[privacy policy](/privacy) and the [guidance](https://www.england.nhs.uk/patient-safety/)
before you start.

- Keep your password to yourself.
- Sign out when you have finished.
- Tell your local administrator at once if you think someone has used your account.

1. Record what happened.
2. Say who was involved, *without* naming patients in free text.
3. Submit the record.

> If you are unsure, ask your organisation's patient safety specialist.

`
	var b strings.Builder
	b.WriteString("# Terms of use\n\n")
	for b.Len() < 10_000 {
		b.WriteString(section)
	}
	return b.String()
}

func BenchmarkRender(b *testing.B) {
	doc := sampleDocument()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := terms.Render(doc); err != nil {
			b.Fatal(err)
		}
	}
}
