package terms_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/terms"
)

func TestDiff(t *testing.T) {
	same := func(s string) terms.Block { return terms.Block{Op: terms.BlockSame, Text: s} }
	added := func(s string) terms.Block { return terms.Block{Op: terms.BlockAdded, Text: s} }
	removed := func(s string) terms.Block { return terms.Block{Op: terms.BlockRemoved, Text: s} }
	changed := func(s string, spans ...terms.Span) terms.Block {
		return terms.Block{Op: terms.BlockChanged, Text: s, Spans: spans}
	}
	keep := func(s string) terms.Span { return terms.Span{Op: terms.WordSame, Text: s} }
	ins := func(s string) terms.Span { return terms.Span{Op: terms.WordAdded, Text: s} }
	del := func(s string) terms.Span { return terms.Span{Op: terms.WordRemoved, Text: s} }

	tests := []struct {
		name     string
		old, new string
		want     []terms.Block
	}{
		{
			name: "identical texts are all the same",
			old:  "# Terms\n\nFirst paragraph\nwith two lines.\n\nSecond.",
			new:  "# Terms\n\nFirst paragraph\nwith two lines.\n\nSecond.",
			want: []terms.Block{same("# Terms"), same("First paragraph\nwith two lines."), same("Second.")},
		},
		{
			name: "a paragraph added in the middle is added between the same ones",
			old:  "Alpha.\n\nGamma.",
			new:  "Alpha.\n\nBeta is new.\n\nGamma.",
			want: []terms.Block{same("Alpha."), added("Beta is new."), same("Gamma.")},
		},
		{
			name: "a paragraph taken out is removed",
			old:  "Alpha.\n\nBeta goes.\n\nGamma.",
			new:  "Alpha.\n\nGamma.",
			want: []terms.Block{same("Alpha."), removed("Beta goes."), same("Gamma.")},
		},
		{
			name: "a reworded paragraph is changed, with the words marked",
			old:  "Intro.\n\nWe keep your data for six years.\n\nEnd.",
			new:  "Intro.\n\nWe keep your records for eight years.\n\nEnd.",
			want: []terms.Block{
				same("Intro."),
				changed("We keep your records for eight years.",
					keep("We keep your "), del("data"), ins("records"), keep(" for "), del("six"), ins("eight"), keep(" years.")),
				same("End."),
			},
		},
		{
			name: "several words replaced in a row read as one replacement",
			old:  "You must tell the data protection officer within two working days.",
			new:  "You must tell your line manager within two working days.",
			want: []terms.Block{
				changed("You must tell your line manager within two working days.",
					keep("You must tell "), del("the data protection officer"), ins("your line manager"), keep(" within two working days.")),
			},
		},
		{
			name: "a line break added inside a paragraph is a change",
			old:  "Sign out when you have finished.",
			new:  "Sign out when you\nhave finished.",
			want: []terms.Block{
				changed("Sign out when you\nhave finished.",
					keep("Sign out when you"), del(" "), ins("\n"), keep("have finished.")),
			},
		},
		{
			name: "CRLF line ends, trailing spaces and extra blank lines are not changes",
			old:  "Alpha  \r\nstill alpha\r\n\r\n\r\nBeta\t\r\n",
			new:  "\nAlpha\nstill alpha\n\nBeta",
			want: []terms.Block{same("Alpha\nstill alpha"), same("Beta")},
		},
		{
			name: "the first version is all added",
			old:  "",
			new:  "# Privacy\n\nWe are the controller.",
			want: []terms.Block{added("# Privacy"), added("We are the controller.")},
		},
		{
			name: "an emptied document is all removed",
			old:  "One.\n\nTwo.",
			new:  " \n",
			want: []terms.Block{removed("One."), removed("Two.")},
		},
		{
			name: "unrelated paragraphs stay removed and added",
			old:  "Alpha.\n\nThe cat sat on the mat.\n\nOmega.",
			new:  "Alpha.\n\nQuarterly figures are published online.\n\nOmega.",
			want: []terms.Block{same("Alpha."), removed("The cat sat on the mat."), added("Quarterly figures are published online."), same("Omega.")},
		},
		{
			name: "a reworded paragraph pairs with its match past a new one",
			old:  "## Cookies\n\nWe use cookies to keep you signed in.",
			new:  "## Cookies\n\nThis section is new.\n\nWe use one cookie to keep you signed in.",
			want: []terms.Block{
				same("## Cookies"),
				added("This section is new."),
				changed("We use one cookie to keep you signed in.",
					keep("We use "), del("cookies"), ins("one cookie"), keep(" to keep you signed in.")),
			},
		},
		{
			name: "a removed paragraph with no partner comes before the changed one",
			old:  "Gone entirely now.\n\nWe share data with NHS England.",
			new:  "We share data with NHS England and the ICB.",
			want: []terms.Block{
				removed("Gone entirely now."),
				changed("We share data with NHS England and the ICB.",
					keep("We share data with NHS England"), ins(" and the ICB"), keep(".")),
			},
		},
		{
			name: "similarity ignores case and punctuation around words",
			old:  "**Personal data** is kept safe",
			new:  "personal data, is kept safe.",
			want: []terms.Block{
				changed("personal data, is kept safe.",
					del("**Personal"), ins("personal"), keep(" data"), del("**"), ins(","), keep(" is kept safe"), ins(".")),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := terms.Diff(tt.old, tt.new)
			if !reflect.DeepEqual(got, terms.Blocks(tt.want)) {
				t.Errorf("Diff =\n%s\nwant\n%s", formatBlocks(got), formatBlocks(tt.want))
			}
			checkDiff(t, tt.old, tt.new, got)
		})
	}
}

func TestChanged(t *testing.T) {
	t.Run("no blocks is no change", func(t *testing.T) {
		if terms.Blocks(nil).Changed() {
			t.Error("Changed(nil) = true")
		}
	})
	t.Run("only same blocks is no change", func(t *testing.T) {
		if terms.Diff("A\n\nB", "A\r\n\r\nB").Changed() {
			t.Error("Changed = true")
		}
	})
	t.Run("any other block is a change", func(t *testing.T) {
		if !terms.Diff("A\n\nB", "A\n\nB\n\nC").Changed() {
			t.Error("Changed = false")
		}
	})
}

func TestDiffOfLargeDocumentsIsQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("slow in -short mode")
	}
	realisticOld, realisticNew := largeDocuments()
	tests := []struct {
		name     string
		old, new string
	}{
		{"documents of 200 KB with changes all through", realisticOld, realisticNew},
		{"one 200 KB paragraph with every pair of words swapped", strings.Repeat("a b ", 50_000), strings.Repeat("b a ", 50_000)},
		{"tens of thousands of one-letter paragraphs", "c\n\n" + strings.Repeat("a\n\n", 50_000) + "d", strings.Repeat("a\n\n", 25_000) + "b"},
		{"thousands of reworded paragraphs", strings.Repeat("The cat sat on the mat today.\n\n", 6_000), strings.Repeat("The dog sat on the mat today.\n\n", 6_000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			blocks := terms.Diff(tt.old, tt.new)
			elapsed := time.Since(start)
			checkDiff(t, tt.old, tt.new, blocks)
			// The diff algorithm has a budget of about a second; the rest is
			// linear. The margin is for slow machines and the race detector.
			if elapsed > 10*time.Second {
				t.Errorf("Diff of %d and %d bytes took %v", len(tt.old), len(tt.new), elapsed)
			}
		})
	}
}

// largeDocuments returns two documents of about 200 KB (MaxBytes) with
// changes all through: paragraphs reworded, added, removed, and a long run
// replaced by unrelated text.
func largeDocuments() (old, new string) {
	var o, n strings.Builder
	for i := 0; o.Len() < 195_000; i++ {
		para := fmt.Sprintf("Paragraph %d says that users must keep record %d safe and report problems within %d days.\n\n", i, i*7, i%30)
		o.WriteString(para)
		switch {
		case i%50 == 0:
			n.WriteString(fmt.Sprintf("A new paragraph %d.\n\n", i))
			n.WriteString(para)
		case i%37 == 0:
			// removed
		case i%11 == 0:
			n.WriteString(strings.Replace(para, "safe", "secure and confidential", 1))
		case i > 1000 && i < 1300:
			n.WriteString(fmt.Sprintf("Unrelated replacement text number %d.\n\n", i*13))
		default:
			n.WriteString(para)
		}
	}
	return o.String(), n.String()
}

func BenchmarkDiff(b *testing.B) {
	old, new := largeDocuments()
	b.SetBytes(int64(len(old) + len(new)))
	b.ReportAllocs()
	for b.Loop() {
		terms.Diff(old, new)
	}
}

// formatBlocks prints blocks one per line, for test failures.
func formatBlocks(blocks []terms.Block) string {
	var b strings.Builder
	for _, bl := range blocks {
		fmt.Fprintf(&b, "  %s %q", bl.Op, bl.Text)
		for _, s := range bl.Spans {
			fmt.Fprintf(&b, " [%s %q]", s.Op, s.Text)
		}
		b.WriteString("\n")
	}
	return b.String()
}
