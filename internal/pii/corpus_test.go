package pii

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
)

// corpusKind returns the kind for a short kind used in testdata/corpus.txt.
func corpusKind(short string) (Kind, bool) {
	k, ok := map[string]Kind{
		"nhs": NHSNumber, "postcode": Postcode, "dob": DateOfBirth, "phone": Phone,
		"email": Email, "record": RecordNumber, "name": Name,
	}[short]
	return k, ok
}

// allKinds lists the kinds in the order the corpus table shows them.
func allKinds() []Kind {
	return []Kind{NHSNumber, Postcode, DateOfBirth, Phone, Email, RecordNumber, Name}
}

// marked is an identifier marked in a corpus sentence.
type marked struct {
	Finding
	outside bool // outside the guard's rules: need not be found
}

// sentence is one line of the corpus with its markers taken out.
type sentence struct {
	line int
	text string
	want []marked
}

// readCorpus parses testdata/corpus.txt: see the comment at its top.
func readCorpus(t testing.TB) []sentence {
	t.Helper()
	f, err := os.Open("testdata/corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sentence
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s := sentence{line: n}
		var b strings.Builder
		rest := line
		for {
			i := strings.Index(rest, "[[")
			if i < 0 {
				b.WriteString(rest)
				break
			}
			b.WriteString(rest[:i])
			j := strings.Index(rest[i:], "]]")
			if j < 0 {
				t.Fatalf("corpus line %d: [[ without ]]", n)
			}
			kind, text, ok := strings.Cut(rest[i+2:i+j], ":")
			outside := strings.HasPrefix(kind, "~")
			k, known := corpusKind(strings.TrimPrefix(kind, "~"))
			if !ok || !known || text == "" {
				t.Fatalf("corpus line %d: bad marker %q", n, rest[i:i+j+2])
			}
			s.want = append(s.want, marked{Finding{k, b.Len(), b.Len() + len(text)}, outside})
			b.WriteString(text)
			rest = rest[i+j+2:]
		}
		s.text = b.String()
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// tally counts the guard's results for one kind.
type tally struct{ truePos, falsePos, falseNeg int }

func (c tally) precision() float64 { return ratio(c.truePos, c.truePos+c.falsePos) }
func (c tally) recall() float64    { return ratio(c.truePos, c.truePos+c.falseNeg) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// TestCorpus measures precision and recall on the corpus, per kind and
// overall, at the level of findings: a finding is right only when its kind,
// start and end are exactly those marked. It prints the table recorded in
// docs/benchmarks.md (go test -run TestCorpus -v ./internal/pii).
func TestCorpus(t *testing.T) {
	corpus := readCorpus(t)
	counts := map[Kind]*tally{}
	for _, k := range allKinds() {
		counts[k] = &tally{}
	}
	var withIDs, clean, cleanRefused, idsMissedWhole, outside, outsideFound int
	for _, s := range corpus {
		got := Scan(s.text)
		inRules := 0
		for _, w := range s.want {
			if !w.outside {
				inRules++
			}
		}
		switch {
		case inRules > 0:
			withIDs++
			if len(got) == 0 {
				idsMissedWhole++
			}
		case len(s.want) == 0:
			clean++
			if len(got) > 0 {
				cleanRefused++
			}
		}
		matched := make([]bool, len(s.want))
		for _, g := range got {
			hit := false
			for i, w := range s.want {
				if w.Finding == g {
					matched[i], hit = true, true
					if !w.outside {
						counts[g.Kind].truePos++
					}
				} else if w.outside && g.Start < w.End && w.Start < g.End {
					hit = true // overlaps an identifier outside the rules: not wrong
				}
			}
			if !hit {
				counts[g.Kind].falsePos++
				t.Logf("line %d: unexpected %s %q in %q", s.line, g.Kind, s.text[g.Start:g.End], s.text)
			}
		}
		for i, w := range s.want {
			switch {
			case w.outside:
				outside++
				if matched[i] {
					outsideFound++
				}
			case !matched[i]:
				counts[w.Kind].falseNeg++
				t.Logf("line %d: missed %s %q in %q", s.line, w.Kind, s.text[w.Start:w.End], s.text)
			}
		}
	}

	var all tally
	var table strings.Builder
	fmt.Fprintf(&table, "\n| Kind | Marked | Found right | Wrong finds | Missed | Precision | Recall |\n|---|---|---|---|---|---|---|\n")
	for _, k := range allKinds() {
		c := counts[k]
		all.truePos += c.truePos
		all.falsePos += c.falsePos
		all.falseNeg += c.falseNeg
		fmt.Fprintf(&table, "| %s | %d | %d | %d | %d | %.3f | %.3f |\n", k.Label(), c.truePos+c.falseNeg, c.truePos, c.falsePos, c.falseNeg, c.precision(), c.recall())
	}
	fmt.Fprintf(&table, "| **all** | %d | %d | %d | %d | **%.3f** | **%.3f** |\n", all.truePos+all.falseNeg, all.truePos, all.falsePos, all.falseNeg, all.precision(), all.recall())
	fmt.Fprintf(&table, "\n%d sentences: %d with identifiers (%d of them let through whole), %d clean (%d refused); %d more identifiers outside the rules, %d of them found anyway.\n",
		len(corpus), withIDs, idsMissedWhole, clean, cleanRefused, outside, outsideFound)
	t.Log(table.String())

	if len(corpus) < 300 || withIDs < 100 || clean < 100 {
		t.Errorf("the corpus has %d sentences, %d with identifiers and %d clean; want at least 300, 100 and 100", len(corpus), withIDs, clean)
	}
	if all.recall() < 0.98 || all.precision() < 0.95 {
		t.Errorf("overall recall %.3f, precision %.3f; want at least 0.98 and 0.95", all.recall(), all.precision())
	}
	for _, k := range allKinds() {
		if r := counts[k].recall(); r < 0.95 {
			t.Errorf("recall for %s is %.3f; want at least 0.95", k.Label(), r)
		}
	}
}
