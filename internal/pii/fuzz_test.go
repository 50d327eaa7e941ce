package pii

import (
	"slices"
	"strings"
	"testing"
)

// FuzzScan checks what must hold for any text at all: Scan does not panic;
// its findings are within the text, not empty, in order and without
// overlaps; it gives the same answer twice; every scanner hands tidy its
// findings in order (which keeps the merge linear); and Describe copes
// with every finding. It is seeded with both corpora, so it starts from
// Unicode spaces, digits and invisible characters too. FuzzNormalise
// (normalise_test.go) checks the normalisation and the mapping back.
//
//	go test ./internal/pii -run x -fuzz FuzzScan -fuzztime 60s
func FuzzScan(f *testing.F) {
	for _, s := range readCorpus(f) {
		f.Add(s.text)
	}
	for _, s := range readCorpusFile(f, "testdata/evasions.txt") {
		f.Add(s.text)
	}
	for _, s := range adversarial() {
		f.Add(strings.Repeat(s, 20))
	}
	f.Add("\xff\xfe 943 476 5919 \xc3(")
	f.Add("Dr\x00Smith +44 (0(0 0044 07700 900123 a@b.co")
	f.Fuzz(func(t *testing.T, text string) {
		got := Scan(text)
		checkFindings(t, text, got)
		if again := Scan(text); !slices.Equal(got, again) {
			t.Fatalf("Scan gave %v, then %v", got, again)
		}
		for i, list := range scanAll(normalise(text).text) {
			if !slices.IsSortedFunc(list, compare) {
				t.Fatalf("scanner %d returned findings out of order: %v", i, list)
			}
		}
		for _, g := range got {
			if d := Describe(text, g); !strings.HasPrefix(d, "the ") || (g.End > g.Start && strings.Contains(d, text[g.Start:g.End])) {
				t.Fatalf("Describe = %q", d)
			}
		}
	})
}
