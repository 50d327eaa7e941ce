package pii

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestNormalise(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"ASCII is left as it is", "NHS 943 476 5919\t\n", "NHS 943 476 5919\t\n"},
		{"Unicode spaces become spaces", "a\u00a0b\u202fc\u2007d\u2009e\u3000f\u1680g", "a b c d e f g"},
		{"line and paragraph separators become line feeds", "a\u2028b\u2029c\u0085d", "a\nb\nc\nd"},
		{"format characters are dropped", "9\u200b4\u200c3\u200d4\u20607\ufeff6\u00ad5", "9434765"},
		{"variation selectors and other invisible characters are dropped", "a\ufe0fb\u034fc\u3164d", "abcd"},
		{"fullwidth letters and digits become ASCII", "ＮＲ４ ７ＵＹ ０７７００", "NR4 7UY 07700"},
		{"Arabic-Indic digits become ASCII", "٩٤٣ ۴۵۶", "943 456"},
		{"Devanagari, Bengali and Thai digits become ASCII", "९४३ ৯৪৩ ๙๔๓", "943 943 943"},
		{"mathematical digits become ASCII", "\U0001D7D7\U0001D7D2", "94"},
		{"dashes and the minus sign become hyphens", "a\u2010b\u2011c\u2013d\u2014e\u2212f", "a-b-c-d-e-f"},
		{"the fullwidth and small @ become @", "a＠b﹫c", "a@b@c"},
		{"fraction and division slashes become slashes", "1\u20442 3\u22154", "1/2 3/4"},
		{"combining marks are composed", "Zoe\u0308", "Zoë"},
		{"invalid bytes become the substitute character", "a\xffb\xc3", "a\x1ab\x1a"},
		{"dropping a character cannot join invalid bytes into a rune", "\xc3\u200b\xa9", "\x1a\x1a"},
		{"other letters are kept", "Wiśniewska Siobhán’s µmol", "Wiśniewska Siobhán’s μmol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := normalise(tt.text)
			if n.text != tt.want {
				t.Errorf("normalise(%q) = %q, want %q", tt.text, n.text, tt.want)
			}
			checkNormalised(t, tt.text, n)
		})
	}
}

func TestNormaliseMapsBack(t *testing.T) {
	tests := []struct {
		name string
		text string
		f    Finding // in the normalised text
		want string  // the original text it covers
	}{
		{"ASCII maps to itself", "ab 943 cd", Finding{NHSNumber, 3, 6}, "943"},
		{"characters dropped inside are covered", "x 9\u200b4\u00ad3 y", Finding{NHSNumber, 2, 5}, "9\u200b4\u00ad3"},
		{"characters dropped at the edges are not", "x \u200b943\u200b y", Finding{NHSNumber, 2, 5}, "943"},
		{"a wide digit maps to all its bytes", "x ٩٤٣ y", Finding{NHSNumber, 2, 5}, "٩٤٣"},
		{"a no-break space maps to its two bytes", "9\u00a04", Finding{NHSNumber, 0, 3}, "9\u00a04"},
		{"part of an expansion maps to the whole character", "x ½ y", Finding{NHSNumber, 2, 3}, "½"},
		{"ASCII after non-ASCII maps byte for byte", "é 943", Finding{NHSNumber, 3, 6}, "943"},
		{"an invalid byte maps to itself", "\xff 943 \xfe", Finding{NHSNumber, 2, 5}, "943"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := normalise(tt.text)
			got := n.toOriginal([]Finding{tt.f})
			if len(got) != 1 || tt.text[got[0].Start:got[0].End] != tt.want {
				t.Errorf("normalise(%q) maps %+v to %+v, want %q", tt.text, tt.f, got, tt.want)
			}
		})
	}
}

func TestToOriginalMergesFindingsThatMeetInOneCharacter(t *testing.T) {
	// "½" becomes "1⁄2" (5 bytes, then "1/2" after folding): two findings
	// in it map to the same original bytes and must be merged.
	n := normalise("½")
	got := n.toOriginal([]Finding{{Phone, 0, 1}, {Phone, 2, 3}})
	if !slices.Equal(got, []Finding{{Phone, 0, 2}}) {
		t.Errorf("toOriginal = %v, want one finding over the whole character", got)
	}
}

func TestScanReportsOriginalOffsets(t *testing.T) {
	text := "Zoë’s NHS number\u00a0９４３\u200b ４７６ ５９１９, mrs ｓｍｉｔｈ."
	got := Scan(text)
	checkFindings(t, text, got)
	var kinds []Kind
	for _, f := range got {
		kinds = append(kinds, f.Kind)
	}
	if !slices.Equal(kinds, []Kind{NHSNumber, Name}) || text[got[0].Start:got[0].End] != "９４３\u200b ４７６ ５９１９" ||
		text[got[1].Start:got[1].End] != "ｓｍｉｔｈ" {
		t.Fatalf("Scan = %v", got)
	}
	if d := Describe(text, got[0]); d != "the NHS number in your answer, after “Zoë’s NHS number”" {
		t.Errorf("Describe = %q, want the words before it in the original", d)
	}
}

func TestDigitValue(t *testing.T) {
	// Every range of decimal digits is a whole number of runs of ten, so
	// that digitValue can count from its start.
	for _, table := range []*unicode.RangeTable{unicode.Nd} {
		for _, r := range table.R16 {
			if r.Stride != 1 || (int(r.Hi)-int(r.Lo)+1)%10 != 0 {
				t.Errorf("decimal digits %U-%U are not runs of ten", r.Lo, r.Hi)
			}
		}
		for _, r := range table.R32 {
			if r.Stride != 1 || (int(r.Hi)-int(r.Lo)+1)%10 != 0 {
				t.Errorf("decimal digits %U-%U are not runs of ten", r.Lo, r.Hi)
			}
		}
	}
	// The zeros of some scripts in use in the UK.
	zeros := []rune{'0', '٠', '۰', '०', '০', '੦', '૦', '୦', '௦', '౦', '೦', '൦', '๐', '໐', '༠', '၀', '០', '０', 0x104A0, 0x1D7CE}
	for _, z := range zeros {
		for d := rune(0); d < 10; d++ {
			if !unicode.IsDigit(z + d) {
				t.Errorf("%U is not a digit", z+d)
				continue
			}
			if got := normalise(string(z + d)).text; got != string('0'+d) {
				t.Errorf("%U becomes %q, want %q", z+d, got, string('0'+d))
			}
		}
	}
	// Every decimal digit becomes an ASCII digit.
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if unicode.Is(unicode.Nd, r) {
			if got := normalise(string(r)).text; len(got) != 1 || !isDigit(got[0]) {
				t.Errorf("%U becomes %q", r, got)
			}
		}
	}
}

// checkNormalised fails the test unless n, normalise(text), is valid UTF-8
// and maps every byte back inside text, in order, and every original byte
// it does not map to belongs to a dropped character.
func checkNormalised(t *testing.T, text string, n normalised) {
	t.Helper()
	if !utf8.ValidString(n.text) {
		t.Fatalf("normalise(%q) = %q is not valid UTF-8", text, n.text)
	}
	if n.pieces == nil {
		if n.text != text {
			t.Fatalf("normalise(%q) = %q without pieces", text, n.text)
		}
		return
	}
	covered := make([]bool, len(text))
	lastStart, lastEnd, p := 0, 0, 0
	for i := range len(n.text) {
		p = n.pieceAt(p, i)
		s, e := n.spanIn(p, i)
		if s < 0 || e > len(text) || s >= e || s < lastStart || e < lastEnd {
			t.Fatalf("normalise(%q): byte %d maps to %d-%d, after %d-%d", text, i, s, e, lastStart, lastEnd)
		}
		for j := s; j < e; j++ {
			covered[j] = true
		}
		lastStart, lastEnd = s, e
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !covered[i] {
			if _, keep := fold(r); keep || r == utf8.RuneError && size == 1 {
				t.Fatalf("normalise(%q): %q at %d is neither dropped nor mapped", text, text[i:i+size], i)
			}
		}
		i += size
	}
}

// FuzzNormalise checks that normalisation never panics, that what it makes
// is valid UTF-8 that maps back inside the original, in order, covering
// every character that it does not drop; and that Scan of text that is
// already normal finds just what the scanners find in it.
//
//	go test ./internal/pii -run x -fuzz FuzzNormalise -fuzztime 60s
func FuzzNormalise(f *testing.F) {
	for _, s := range readCorpusFile(f, "testdata/evasions.txt") {
		f.Add(s.text)
	}
	for _, s := range adversarial() {
		f.Add(strings.Repeat(s, 5))
	}
	f.Add("½\xc3\u200b\xa9e\u0301\u0301\u0301" + strings.Repeat("\u0301", 40))
	f.Fuzz(func(t *testing.T, text string) {
		n := normalise(text)
		checkNormalised(t, text, n)
		raw := tidy(scanAll(n.text)...)
		got := Scan(text)
		checkFindings(t, text, got)
		if len(got) > len(raw) {
			t.Fatalf("Scan found %d, more than the %d found in the normalised text", len(got), len(raw))
		}
		if again := normalise(n.text); again.text == n.text {
			if direct := Scan(n.text); !slices.Equal(direct, raw) {
				t.Fatalf("Scan(%q) = %v, want %v as normalising changes nothing", n.text, direct, raw)
			}
		}
	})
}
