package terms

import (
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// DiffText compares two versions of a document as a reader sees them: the
// Markdown is read first, so the blocks hold the words shown on the page,
// with no "#", "**" or link addresses, and each heading, paragraph and
// list item is a block of its own (list items keep a "•" or their number).
// Headings are marked with Block.Heading. Everything else is as Diff says.
func DiffText(old, new string) Blocks {
	oldParas, oldHeadings := readerParagraphs(old)
	newParas, newHeadings := readerParagraphs(new)
	blocks := Diff(strings.Join(oldParas, "\n\n"), strings.Join(newParas, "\n\n"))
	for i, b := range blocks {
		headings := newHeadings
		if b.Op == BlockRemoved {
			headings = oldHeadings
		}
		blocks[i].Heading = headings[b.Text]
	}
	return blocks
}

// readerParagraphs turns Markdown into the text of its blocks, in order,
// and the set of those that are headings. Each block's lines are trimmed
// and blank ones dropped, so that Diff sees exactly these paragraphs.
func readerParagraphs(markdown string) (paras []string, headings map[string]bool) {
	source := []byte(markdown)
	doc := goldmark.New().Parser().Parse(text.NewReader(source))
	headings = map[string]bool{}
	add := func(s string, heading bool) {
		var lines []string
		for line := range strings.SplitSeq(s, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				lines = append(lines, line)
			}
		}
		if len(lines) == 0 {
			return
		}
		p := strings.Join(lines, "\n")
		paras = append(paras, p)
		if heading {
			headings[p] = true
		}
	}
	var blocks func(n ast.Node, marker string)
	blocks = func(n ast.Node, marker string) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.Heading:
				add(inlineText(c, source), true)
			case *ast.Paragraph, *ast.TextBlock:
				add(marker+inlineText(c, source), false)
				marker = ""
			case *ast.List:
				number := c.Start
				for item := c.FirstChild(); item != nil; item = item.NextSibling() {
					m := "• "
					if c.IsOrdered() {
						m = strconv.Itoa(number) + ". "
						number++
					}
					blocks(item, m)
				}
			case *ast.CodeBlock, *ast.FencedCodeBlock, *ast.HTMLBlock:
				add(marker+string(c.Lines().Value(source)), false)
				marker = ""
			case *ast.ThematicBreak:
			default:
				blocks(c, marker)
			}
		}
	}
	blocks(doc, "")
	return paras, headings
}

// inlineText is the text a block shows: the words of its inline nodes, a
// link's or image's text rather than its address, raw HTML as typed, soft
// line breaks as spaces.
func inlineText(n ast.Node, source []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(source))
			switch {
			case c.HardLineBreak():
				b.WriteByte('\n')
			case c.SoftLineBreak():
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.AutoLink:
			b.Write(c.Label(source))
			return ast.WalkSkipChildren, nil
		case *ast.RawHTML:
			for i := 0; i < c.Segments.Len(); i++ {
				seg := c.Segments.At(i)
				b.Write(seg.Value(source))
			}
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}
