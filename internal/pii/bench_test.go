package pii

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// realisticText returns n bytes of incident text made of corpus sentences,
// markers taken out, one after another (repeated as needed), cut at n:
// with dense true, every sentence (more than half of them hold
// identifiers, so every pattern and label is in play); otherwise only the
// clean ones (look-alikes of every kind, but no identifiers), which is what
// nearly every save looks like.
func realisticText(b *testing.B, n int, dense bool) string {
	b.Helper()
	var sentences []string
	for _, s := range readCorpus(b) {
		if dense || len(s.want) == 0 {
			sentences = append(sentences, s.text)
		}
	}
	var sb strings.Builder
	for i := 0; sb.Len() < n; i++ {
		sb.WriteString(sentences[i%len(sentences)])
		sb.WriteByte(' ')
	}
	return sb.String()[:n]
}

// BenchmarkScan measures the guard on realistic text, 1 KB (a long event
// description) and 100 KB (a file being vetted before an import), beside
// three baselines that read the same bytes in the same run: a loop counting
// digits, strings.IndexByte for a byte that is not there, and a regular
// expression of a single literal. Compare MB/s: guard ÷ baseline is the
// figure recorded in docs/benchmarks.md.
func BenchmarkScan(b *testing.B) {
	literal := regexp.MustCompile(`NHS`)
	for _, tc := range []struct {
		name  string
		size  int
		dense bool
	}{
		{"clean-1KB", 1 << 10, false},
		{"dense-1KB", 1 << 10, true},
		{"clean-100KB", 100 << 10, false},
		{"dense-100KB", 100 << 10, true},
	} {
		text, name := realisticText(b, tc.size, tc.dense), tc.name
		b.Run("guard/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				Scan(text)
			}
		})
		b.Run("baseline-loop/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			digits := 0
			for b.Loop() {
				for i := 0; i < len(text); i++ {
					if isDigit(text[i]) {
						digits++
					}
				}
			}
			keep(b, digits)
		})
		b.Run("baseline-indexbyte/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			at := 0
			for b.Loop() {
				at += strings.IndexByte(text, 0)
			}
			keep(b, at)
		})
		b.Run("baseline-regexp-literal/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			hits := 0
			for b.Loop() {
				hits += len(literal.FindAllStringIndex(text, -1))
			}
			keep(b, hits)
		})
	}
}

// keep uses a baseline's result, so that the compiler cannot drop the
// work that computed it.
func keep(b *testing.B, n int) {
	if n == -1 {
		b.Log("unlikely")
	}
}

// adversarial are inputs built to make a careless scanner slow: repeated
// titles, digits, @ signs, capitals, labels with and without values, and
// near-misses of every shape.
func adversarial() map[string]string {
	return map[string]string{
		"titles":        "Mr Mr Mr Dr. Mrs ",
		"title-names":   "Dr Aaaa Bbbb Cccc Dddd ",
		"digits":        "1 2 3 4 5 6 7 8 9 0 ",
		"digit-run":     "1234567890",
		"valid-nhs":     "943 476 5919 ",
		"zeros":         "0 0 0 0 0 0 ",
		"phone-prefix":  "+44 (0(0(0 0044 ",
		"at-signs":      "@@@@",
		"emails":        "a@b.c@d.e@",
		"local-part":    strings.Repeat("a", 100) + "@",
		"capitals":      "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		"lower":         "abcdefghijklmnopqrstuvwxyz",
		"labels":        "NHS number: DOB: MRN: patient name: postcode ",
		"dates":         "born 12/03/1956 12 March 1956 ",
		"postcodes":     "NR4 7UY NR4 NR47 ",
		"name-labels":   "named named named NOK ",
		"invalid-utf-8": "\xff\xfe\xc3(\x80",
		// Inputs for normalisation and the rules that came with it.
		"zero-width":       "9\u200b4\u200b3\u200b\u00ad\u2060\ufeff",
		"zero-width-run":   strings.Repeat("\u200b", 40) + "1",
		"fullwidth-nhs":    "９４３ ４７６ ５９１９ ",
		"arabic-digits":    "٩٤٣\u00a0٤٧٦\u00a0٥٩١٩ ",
		"spaced-digits":    "9 4 3 4 7 6 5 9 1 ",
		"combining-marks":  "e\u0301\u0301\u0301\u0301",
		"at-dot":           "a at b dot c at ",
		"at-dot-chain":     "at dot ",
		"bracketed-at-dot": "x(at)y(dot)z[at][dot]",
		"o-for-zero":       "o77oo 9oo ",
		"spaced-letters":   "N R 4 7 U ",
		"lower-titles":     "mrs smith mr dr jones ",
		"the-patient":      "Jane Smith (the patient) ",
		"born-words":       "born the twelfth of b. D/O/B ",
	}
}

// BenchmarkScanScaling runs the guard on adversarial inputs of 1 KB to 1 MB
// and reports nanoseconds per byte, which stays flat when the scan is
// linear (docs/benchmarks.md). Timing goals live here, not in tests.
func BenchmarkScanScaling(b *testing.B) {
	inputs := adversarial()
	names := make([]string, 0, len(inputs))
	for name := range inputs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, size := range []int{1 << 10, 10 << 10, 100 << 10, 1 << 20} {
			text := strings.Repeat(inputs[name], size/len(inputs[name])+1)[:size]
			b.Run(fmt.Sprintf("%s/%dKB", name, size>>10), func(b *testing.B) {
				b.SetBytes(int64(size))
				for b.Loop() {
					Scan(text)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(size), "ns/byte")
			})
		}
	}
}

// BenchmarkScanLinearity is the linearity check: for every adversarial
// input it times the guard on 512 KB of it at once and on 32 KB of it 16
// times over (the same number of bytes, so that a busy machine slows both
// alike), the fastest of five rounds each, and fails when the larger text
// costs more than three times as much per byte. A scan that is linear
// stays near 1 (caches and the collector move it a little); one that is
// quadratic would cost 16 times as much. It reports the worst ratio. Run
// it on its own, as it times itself:
//
//	go test -run x -bench BenchmarkScanLinearity -benchtime 1x ./internal/pii
func BenchmarkScanLinearity(b *testing.B) {
	const small, large = 32 << 10, 512 << 10
	inputs := adversarial()
	names := make([]string, 0, len(inputs))
	for name := range inputs {
		names = append(names, name)
	}
	slices.Sort(names)
	timed := func(text string, times int) time.Duration {
		start := time.Now()
		for range times {
			Scan(text)
		}
		return time.Since(start)
	}
	worst := 0.0
	for b.Loop() {
		for _, name := range names {
			in := inputs[name]
			s := strings.Repeat(in, small/len(in)+1)[:small]
			l := strings.Repeat(in, large/len(in)+1)[:large]
			bestSmall, bestLarge := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
			for range 5 {
				bestSmall = min(bestSmall, timed(s, large/small))
				bestLarge = min(bestLarge, timed(l, 1))
			}
			ratio := float64(bestLarge) / float64(bestSmall)
			worst = max(worst, ratio)
			if ratio > 3 {
				b.Errorf("%s: 512 KB at once costs %.1f times as much as 32 KB 16 times", name, ratio)
			}
		}
	}
	b.ReportMetric(worst, "worst-ratio")
}
