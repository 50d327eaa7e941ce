package pii

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
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
	return readCorpusFile(t, "testdata/corpus.txt")
}

// readCorpusFile parses a corpus file in the format of testdata/corpus.txt,
// with the escapes described in testdata/evasions.txt taken out of each
// line before its markers are read.
func readCorpusFile(t testing.TB, name string) []sentence {
	t.Helper()
	f, err := os.Open(name)
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
		rest, err := unescape(line)
		if err != nil {
			t.Fatalf("%s line %d: %v", name, n, err)
		}
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
	sc := score(t, readCorpus(t))
	if sc.sentences < 300 || sc.withIDs < 100 || sc.clean < 100 {
		t.Errorf("the corpus has %d sentences, %d with identifiers and %d clean; want at least 300, 100 and 100", sc.sentences, sc.withIDs, sc.clean)
	}
	if sc.all.recall() < 0.98 || sc.all.precision() < 0.95 {
		t.Errorf("overall recall %.3f, precision %.3f; want at least 0.98 and 0.95", sc.all.recall(), sc.all.precision())
	}
	for _, k := range allKinds() {
		if r := sc.kinds[k].recall(); r < 0.95 {
			t.Errorf("recall for %s is %.3f; want at least 0.95", k.Label(), r)
		}
	}
}

// TestEvasions measures the guard on testdata/evasions.txt: identifiers
// hidden by formatting (Unicode spaces and digits, invisible characters,
// dashes, odd separators, spelt-out @ and dots, names in lower case or
// capitals, DOB labels and date forms) and clean clinical sentences that
// look like them. It wants recall of at least 0.98 (findings exactly as
// marked, as in TestCorpus) and no more than 1% of the clean sentences
// refused (go test -run TestEvasions -v ./internal/pii).
func TestEvasions(t *testing.T) {
	sc := score(t, readCorpusFile(t, "testdata/evasions.txt"))
	marked := sc.all.truePos + sc.all.falseNeg
	if marked < 150 || sc.clean < 150 {
		t.Errorf("the evasion corpus has %d identifiers and %d clean sentences; want at least 150 of each", marked, sc.clean)
	}
	if r := sc.all.recall(); r < 0.98 {
		t.Errorf("recall %.3f; want at least 0.98", r)
	}
	if fp := ratio(sc.cleanRefused, sc.clean); fp > 0.01 {
		t.Errorf("%d of %d clean sentences refused (%.3f); want at most 1%%", sc.cleanRefused, sc.clean, fp)
	}
	t.Logf("recall %.3f over %d identifiers; %d of %d clean sentences refused (%.3f)",
		sc.all.recall(), marked, sc.cleanRefused, sc.clean, ratio(sc.cleanRefused, sc.clean))
}

// scores are the guard's results on a corpus.
type scores struct {
	kinds                                   map[Kind]*tally
	all                                     tally
	sentences, withIDs, clean, cleanRefused int
	idsMissedWhole, outside, outsideFound   int
}

// score scans every sentence of a corpus, logs each wrong find and miss,
// and logs and returns the table of results.
func score(t *testing.T, corpus []sentence) scores {
	t.Helper()
	sc := scores{kinds: map[Kind]*tally{}, sentences: len(corpus)}
	counts := sc.kinds
	for _, k := range allKinds() {
		counts[k] = &tally{}
	}
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
			sc.withIDs++
			if len(got) == 0 {
				sc.idsMissedWhole++
			}
		case len(s.want) == 0:
			sc.clean++
			if len(got) > 0 {
				sc.cleanRefused++
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
				sc.outside++
				if matched[i] {
					sc.outsideFound++
				}
			case !matched[i]:
				counts[w.Kind].falseNeg++
				t.Logf("line %d: missed %s %q in %q", s.line, w.Kind, s.text[w.Start:w.End], s.text)
			}
		}
	}

	var table strings.Builder
	fmt.Fprintf(&table, "\n| Kind | Marked | Found right | Wrong finds | Missed | Precision | Recall |\n|---|---|---|---|---|---|---|\n")
	for _, k := range allKinds() {
		c := counts[k]
		sc.all.truePos += c.truePos
		sc.all.falsePos += c.falsePos
		sc.all.falseNeg += c.falseNeg
		fmt.Fprintf(&table, "| %s | %d | %d | %d | %d | %.3f | %.3f |\n", k.Label(), c.truePos+c.falseNeg, c.truePos, c.falsePos, c.falseNeg, c.precision(), c.recall())
	}
	all := sc.all
	fmt.Fprintf(&table, "| **all** | %d | %d | %d | %d | **%.3f** | **%.3f** |\n", all.truePos+all.falseNeg, all.truePos, all.falsePos, all.falseNeg, all.precision(), all.recall())
	fmt.Fprintf(&table, "\n%d sentences: %d with identifiers (%d of them let through whole), %d clean (%d refused); %d more identifiers outside the rules, %d of them found anyway.\n",
		len(corpus), sc.withIDs, sc.idsMissedWhole, sc.clean, sc.cleanRefused, sc.outside, sc.outsideFound)
	t.Log(table.String())
	return sc
}

// unescape replaces \uXXXX, \n, \t, \r and \\ in line with what they
// stand for.
func unescape(line string) (string, error) {
	if !strings.Contains(line, `\`) {
		return line, nil
	}
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		if line[i] != '\\' {
			b.WriteByte(line[i])
			continue
		}
		if i+1 >= len(line) {
			return "", fmt.Errorf("a backslash at the end of the line")
		}
		i++
		switch line[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '\\':
			b.WriteByte('\\')
		case 'u':
			if i+5 > len(line) {
				return "", fmt.Errorf("a short \\u escape")
			}
			r, err := strconv.ParseUint(line[i+1:i+5], 16, 32)
			if err != nil {
				return "", fmt.Errorf("a bad \\u escape %q", line[i-1:i+5])
			}
			b.WriteRune(rune(r))
			i += 4
		default:
			return "", fmt.Errorf("an unknown escape \\%c", line[i])
		}
	}
	return b.String(), nil
}
