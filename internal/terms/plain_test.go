package terms_test

import (
	"strings"
	"testing"

	"github.com/psims/psims/internal/terms"
)

// Issue 11 item 8: the what-changed view shows the words a reader sees,
// not the Markdown they were written in.
func TestDiffTextShowsWhatReadersSee(t *testing.T) {
	old := "# Terms\n\nWe keep **your data** for [six years](https://example.org/keep).\n\n- one\n- two\n\n> Quoted."
	new := "# Terms of use\n\nWe keep **your data** for [eight years](https://example.org/keep).\n\n- one\n- two\n- three\n\n> Quoted.\n\n## Contact us\n\n1. Write\n2. Call"
	got := terms.DiffText(old, new)
	type view struct {
		op      string
		text    string
		heading bool
	}
	var views []view
	for _, b := range got {
		views = append(views, view{b.Op.String(), b.Text, b.Heading})
		for _, bad := range []string{"#", "**", "](", "https://", "> ", "- "} {
			if strings.Contains(b.Text, bad) {
				t.Errorf("block %q shows the Markdown %q", b.Text, bad)
			}
		}
	}
	want := []view{
		{"changed", "Terms of use", true},
		{"changed", "We keep your data for eight years.", false},
		{"same", "• one", false},
		{"same", "• two", false},
		{"added", "• three", false},
		{"same", "Quoted.", false},
		{"added", "Contact us", true},
		{"added", "1. Write", false},
		{"added", "2. Call", false},
	}
	if len(views) != len(want) {
		t.Fatalf("got %d blocks %+v, want %+v", len(views), views, want)
	}
	for i := range want {
		if views[i] != want[i] {
			t.Errorf("block %d = %+v, want %+v", i, views[i], want[i])
		}
	}
	var removed, added string
	for _, s := range got[1].Spans {
		switch s.Op {
		case terms.WordRemoved:
			removed += s.Text
		case terms.WordAdded:
			added += s.Text
		}
	}
	if removed != "six" || added != "eight" {
		t.Errorf("the changed words are -%q +%q", removed, added)
	}
}

// DiffText never panics, whatever the Markdown.
func FuzzDiffText(f *testing.F) {
	f.Add("# A\n\n- b\n\n`c`", "## A\n\n1. b\n\n<b>c</b>")
	f.Fuzz(func(t *testing.T, old, new string) {
		if len(old)+len(new) > 1<<16 {
			return
		}
		for _, b := range terms.DiffText(old, new) {
			if strings.TrimSpace(b.Text) == "" {
				t.Fatalf("an empty block: %+v", b)
			}
		}
	})
}
