package textcheck

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFindNamesTheFirstHiddenCharacter(t *testing.T) {
	cases := []struct {
		name string
		text string
		want int
	}{
		{"plain text is allowed", "The patient fell on ward 4.", -1},
		{"tab, new lines and carriage returns are allowed", "one\ttwo\r\nthree\n", -1},
		{"letters and symbols of any script are allowed", "Café – naïve ✓ 日本 \u200b \ufffd", -1},
		{"a NUL is found", "ab\x00c", 2},
		{"a bell is found", "\a", 0},
		{"an escape is found", "x\x1b[31m", 1},
		{"DEL is found", "ab\x7f", 2},
		{"a C1 control is found", "ab\u0085", 2},
		{"the last C1 control is found", "\u009f", 0},
		{"a byte that is not UTF-8 is found", "ok\xff", 2},
		{"a surrogate encoded as UTF-8 is found", "a\xed\xa0\x80", 1},
		{"a truncated character is found", "a\xe2\x82", 1},
		{"U+FFFE is found", "x\ufffe", 1},
		{"U+FFFF is found", "\uffff", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Find(c.text); got != c.want {
				t.Errorf("Find(%q) = %d, want %d", c.text, got, c.want)
			}
			if Valid(c.text) != (c.want < 0) {
				t.Errorf("Valid(%q) = %v", c.text, Valid(c.text))
			}
		})
	}
}

func TestCleanRemovesOnlyHiddenCharacters(t *testing.T) {
	got, changed := Clean("Wa\x00rd\u0085 4\xff\tbay\x7f 2\ufffe")
	if got != "Ward 4\tbay 2" || !changed {
		t.Errorf("Clean = %q, %v", got, changed)
	}
	if got, changed := Clean("Nothing to do"); got != "Nothing to do" || changed {
		t.Errorf("Clean of clean text = %q, %v", got, changed)
	}
}

func TestMessageSaysWhatToDo(t *testing.T) {
	if m := Message("Full name"); !strings.HasPrefix(m, "Full name must not contain hidden control characters") {
		t.Errorf("Message = %q", m)
	}
}

// FuzzClean: whatever the bytes, Clean leaves valid UTF-8 that Find
// passes, keeps every allowed character in order, changes nothing when
// Find finds nothing, and never panics.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "plain", "a\x00b", "\xff\xfe", "\u0085\u009f", "x\ufffe\uffff", "\xed\xa0\x80", "tab\tnl\ncr\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, changed := Clean(s)
		if !utf8.ValidString(got) || !Valid(got) || Find(got) != -1 {
			t.Fatalf("Clean(%q) = %q, which still has hidden characters", s, got)
		}
		if changed != (Find(s) >= 0) {
			t.Fatalf("Clean(%q) changed = %v, Find = %d", s, changed, Find(s))
		}
		if !changed && got != s {
			t.Fatalf("Clean(%q) = %q changed clean text", s, got)
		}
		if i := Find(s); i >= 0 && (i >= len(s) || got[:min(i, len(got))] != s[:i]) {
			t.Fatalf("Find(%q) = %d, but Clean kept %q", s, i, got)
		}
		// Every allowed character survives, in order.
		var want []rune
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			if !(r == utf8.RuneError && size == 1) && Allowed(r) {
				want = append(want, r)
			}
			i += size
		}
		if string(want) != got {
			t.Fatalf("Clean(%q) = %q, want %q", s, got, string(want))
		}
	})
}
