package terms

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// BlockOp says how a paragraph changed.
type BlockOp int

const (
	// BlockSame is a paragraph found unchanged in both versions.
	BlockSame BlockOp = iota
	// BlockAdded is a paragraph found only in the new version.
	BlockAdded
	// BlockRemoved is a paragraph found only in the old version.
	BlockRemoved
	// BlockChanged is a paragraph of the old version reworded in the new.
	BlockChanged
)

// String returns the name of the operation, for logs and test failures.
func (op BlockOp) String() string {
	switch op {
	case BlockSame:
		return "same"
	case BlockAdded:
		return "added"
	case BlockRemoved:
		return "removed"
	case BlockChanged:
		return "changed"
	}
	return "BlockOp(" + strconv.Itoa(int(op)) + ")"
}

// WordOp says whether a run of words is kept, added or removed.
type WordOp int

const (
	// WordSame is text found in both the old and the new paragraph.
	WordSame WordOp = iota
	// WordAdded is text found only in the new paragraph.
	WordAdded
	// WordRemoved is text found only in the old paragraph.
	WordRemoved
)

// String returns the name of the operation, for logs and test failures.
func (op WordOp) String() string {
	switch op {
	case WordSame:
		return "same"
	case WordAdded:
		return "added"
	case WordRemoved:
		return "removed"
	}
	return "WordOp(" + strconv.Itoa(int(op)) + ")"
}

// Span is a run of text inside a changed paragraph.
type Span struct {
	Op   WordOp
	Text string
}

// Block is one paragraph (a run of non-blank lines) of the diff.
type Block struct {
	Op   BlockOp
	Text string // the paragraph: the new text, or the old for BlockRemoved
	// Spans, for BlockChanged only, is the paragraph with removed and added
	// words marked: the WordSame and WordAdded spans joined give the new
	// paragraph exactly, the WordSame and WordRemoved spans the old.
	Spans []Span
	// Heading is true for a heading of the document (DiffText only).
	Heading bool
}

// diffBudget bounds the time one call of Diff spends in the diff algorithm.
// Past it, the algorithm settles for a correct but longer diff (whole
// paragraphs or whole runs of words removed and added), so that
// pathological inputs stay bounded.
const diffBudget = time.Second

// pairWindow is how many added paragraphs ahead Diff looks for one similar
// to a removed paragraph.
const pairWindow = 8

// maxDiffWork bounds the product of the lengths, in tokens, of the parts
// of two sequences that diffmatchpatch is asked to diff (see diffTokens).
// It allows, say, 700 reworded paragraphs against 700, or a 20 KB paragraph
// rewritten word by word, while keeping each call to well under a second.
const maxDiffWork = 50_000_000

// maxTokens is the most tokens (paragraphs or words) the two sides of one
// diff may hold together: each distinct token must map to its own valid
// rune, surrogates excluded.
const maxTokens = utf8.MaxRune - 0x800 - 1

// Diff compares old and new paragraph by paragraph, in document order.
//
// Paragraphs are runs of non-blank lines, separated by blank lines; "\r\n"
// and a lone "\r" count as "\n", and spaces and tabs at the end of a line
// are ignored. A paragraph that is kept is BlockSame; one that appears only
// in new is BlockAdded; only in old is BlockRemoved.
//
// Where removed paragraphs meet added ones, each removed paragraph is
// paired, in order, with the first of the next few added paragraphs that is
// similar to it, and the pair becomes one BlockChanged with word-level
// Spans; added paragraphs skipped over stay BlockAdded, and removed ones
// with no similar partner stay BlockRemoved. Two paragraphs are similar
// when at least half of their words are shared: 2×shared ≥ ½×(words in old
// + words in new), a Dice coefficient of ½ or more, where words are compared
// ignoring case and surrounding punctuation (so "**Data**" matches "data,")
// and a word repeated counts as often as it appears in both.
//
// Diff never panics and spends at most about a second on the diff
// algorithm itself, even for documents of MaxBytes.
func Diff(old, new string) Blocks {
	d := &differ{
		dmp:      diffmatchpatch.New(),
		deadline: time.Now().Add(diffBudget),
	}
	oldParas := splitParagraphs(old)
	newParas := splitParagraphs(new)

	var blocks []Block
	var removed, added []string
	i, j := 0, 0
	for _, r := range d.diffTokens(oldParas, newParas) {
		switch r.op {
		case diffmatchpatch.DiffEqual:
			blocks = d.appendChanges(blocks, removed, added)
			removed, added = nil, nil
			for _, p := range newParas[j : j+r.n] {
				blocks = append(blocks, Block{Op: BlockSame, Text: p})
			}
			i += r.n
			j += r.n
		case diffmatchpatch.DiffDelete:
			removed = append(removed, oldParas[i:i+r.n]...)
			i += r.n
		case diffmatchpatch.DiffInsert:
			added = append(added, newParas[j:j+r.n]...)
			j += r.n
		}
	}
	return d.appendChanges(blocks, removed, added)
}

// Blocks is a diff, as Diff returns it.
type Blocks []Block

// Changed reports whether the diff has any block other than BlockSame.
func (bs Blocks) Changed() bool { return bs.Unchanged() < len(bs) }

// Unchanged counts the paragraphs that are the same in both versions.
func (bs Blocks) Unchanged() int {
	n := 0
	for _, b := range bs {
		if b.Op == BlockSame {
			n++
		}
	}
	return n
}

// splitParagraphs normalises line endings, drops trailing spaces and tabs
// from each line and returns the runs of non-blank lines, each joined with
// "\n".
func splitParagraphs(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var paras []string
	var lines []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, " \t")
		if line != "" {
			lines = append(lines, line)
			continue
		}
		if len(lines) > 0 {
			paras = append(paras, strings.Join(lines, "\n"))
			lines = lines[:0]
		}
	}
	if len(lines) > 0 {
		paras = append(paras, strings.Join(lines, "\n"))
	}
	return paras
}

// differ runs the diff algorithm within one overall time budget.
type differ struct {
	dmp      *diffmatchpatch.DiffMatchPatch
	deadline time.Time
}

// tokenRun is a run of n tokens that diffmatchpatch kept, deleted or
// inserted.
type tokenRun struct {
	op diffmatchpatch.Operation
	n  int
}

// diffTokens diffs two sequences of tokens (paragraphs or words). Each
// distinct token becomes one rune, as DiffLinesToRunes does for lines, so
// the diff works on whole tokens. The runs it returns always account for
// every token of a and b, in order.
func (d *differ) diffTokens(a, b []string) []tokenRun {
	whole := wholeRuns(len(a), len(b))
	left := time.Until(d.deadline)
	if left <= 0 || len(a)+len(b) > maxTokens {
		return whole
	}
	ids := make(map[string]rune)
	ra := tokenRunes(a, ids)
	rb := tokenRunes(b, ids)

	// diffmatchpatch's speed-ups before its time-limited search (looking
	// for one text inside the other, and for a long common middle) take
	// time up to the product of the lengths, whatever DiffTimeout says.
	// Past a limit, only the common ends are kept.
	prefix, suffix := commonEnds(ra, rb)
	if (len(ra)-prefix-suffix)*(len(rb)-prefix-suffix) > maxDiffWork {
		var runs []tokenRun
		if prefix > 0 {
			runs = append(runs, tokenRun{op: diffmatchpatch.DiffEqual, n: prefix})
		}
		runs = append(runs, wholeRuns(len(a)-prefix-suffix, len(b)-prefix-suffix)...)
		if suffix > 0 {
			runs = append(runs, tokenRun{op: diffmatchpatch.DiffEqual, n: suffix})
		}
		return runs
	}

	d.dmp.DiffTimeout = left
	diffs := d.dmp.DiffMainRunes(ra, rb, false)

	runs := make([]tokenRun, 0, len(diffs))
	na, nb := 0, 0
	for _, df := range diffs {
		n := utf8.RuneCountInString(df.Text)
		switch df.Type {
		case diffmatchpatch.DiffEqual:
			na += n
			nb += n
		case diffmatchpatch.DiffDelete:
			na += n
		case diffmatchpatch.DiffInsert:
			nb += n
		default:
			return whole
		}
		runs = append(runs, tokenRun{op: df.Type, n: n})
	}
	if na != len(a) || nb != len(b) {
		// Cannot happen with distinct valid runes; checked so that callers
		// may slice without fear.
		return whole
	}
	return runs
}

// commonEnds returns how many runes a and b share at the start and, after
// that, at the end.
func commonEnds(a, b []rune) (prefix, suffix int) {
	for prefix < len(a) && prefix < len(b) && a[prefix] == b[prefix] {
		prefix++
	}
	for suffix < len(a)-prefix && suffix < len(b)-prefix && a[len(a)-1-suffix] == b[len(b)-1-suffix] {
		suffix++
	}
	return prefix, suffix
}

// wholeRuns is the plainest diff: all of a removed, all of b inserted.
func wholeRuns(na, nb int) []tokenRun {
	var runs []tokenRun
	if na > 0 {
		runs = append(runs, tokenRun{op: diffmatchpatch.DiffDelete, n: na})
	}
	if nb > 0 {
		runs = append(runs, tokenRun{op: diffmatchpatch.DiffInsert, n: nb})
	}
	return runs
}

// tokenRunes maps each token to the rune ids gives it, giving new tokens
// the next free rune.
func tokenRunes(tokens []string, ids map[string]rune) []rune {
	rs := make([]rune, len(tokens))
	for i, t := range tokens {
		r, ok := ids[t]
		if !ok {
			r = indexRune(len(ids))
			ids[t] = r
		}
		rs[i] = r
	}
	return rs
}

// indexRune is the rune standing for the n-th distinct token. It skips the
// surrogate range, whose runes would turn into U+FFFD in the strings
// diffmatchpatch builds, making different tokens look equal.
func indexRune(n int) rune {
	r := rune(n + 1)
	if r >= 0xD800 {
		r += 0x800
	}
	return r
}

// appendChanges appends to blocks a run of removed paragraphs directly
// followed by a run of added ones, pairing similar ones up as BlockChanged
// (see Diff).
func (d *differ) appendChanges(blocks []Block, removed, added []string) []Block {
	addedBags := make([]*wordBag, len(added))
	j := 0
	for _, r := range removed {
		rb := newWordBag(r)
		match := -1
		for k := j; k < len(added) && k < j+pairWindow; k++ {
			if addedBags[k] == nil {
				addedBags[k] = newWordBag(added[k])
			}
			if similar(rb, addedBags[k]) {
				match = k
				break
			}
		}
		if match < 0 {
			blocks = append(blocks, Block{Op: BlockRemoved, Text: r})
			continue
		}
		for ; j < match; j++ {
			blocks = append(blocks, Block{Op: BlockAdded, Text: added[j]})
		}
		a := added[match]
		if r == a {
			blocks = append(blocks, Block{Op: BlockSame, Text: a})
		} else {
			blocks = append(blocks, Block{Op: BlockChanged, Text: a, Spans: d.wordSpans(r, a)})
		}
		j = match + 1
	}
	for ; j < len(added); j++ {
		blocks = append(blocks, Block{Op: BlockAdded, Text: added[j]})
	}
	return blocks
}

// wordBag counts a paragraph's words for the similarity test.
type wordBag struct {
	counts map[string]int
	total  int
}

// newWordBag counts the words of s, ignoring case and the punctuation and
// symbols around them.
func newWordBag(s string) *wordBag {
	b := &wordBag{counts: make(map[string]int)}
	for _, w := range strings.Fields(s) {
		key := strings.TrimFunc(w, func(r rune) bool {
			return unicode.IsPunct(r) || unicode.IsSymbol(r)
		})
		if key == "" {
			key = w
		}
		b.counts[strings.ToLower(key)]++
		b.total++
	}
	return b
}

// similar reports whether two paragraphs share at least half their words
// (Dice coefficient of ½ or more; see Diff).
func similar(a, b *wordBag) bool {
	sum := a.total + b.total
	if sum == 0 || 4*min(a.total, b.total) < sum {
		return false
	}
	small, large := a, b
	if len(small.counts) > len(large.counts) {
		small, large = large, small
	}
	shared := 0
	for w, n := range small.counts {
		shared += min(n, large.counts[w])
	}
	return 4*shared >= sum
}

// wordSpans diffs two paragraphs word by word. Spaces and line breaks are
// tokens too, so that the spans rebuild both paragraphs exactly.
func (d *differ) wordSpans(oldPara, newPara string) []Span {
	a := splitWords(oldPara)
	b := splitWords(newPara)
	var spans []Span
	i, j := 0, 0
	for _, r := range d.diffTokens(a, b) {
		switch r.op {
		case diffmatchpatch.DiffEqual:
			spans = appendSpan(spans, WordSame, strings.Join(b[j:j+r.n], ""))
			i += r.n
			j += r.n
		case diffmatchpatch.DiffDelete:
			spans = appendSpan(spans, WordRemoved, strings.Join(a[i:i+r.n], ""))
			i += r.n
		case diffmatchpatch.DiffInsert:
			spans = appendSpan(spans, WordAdded, strings.Join(b[j:j+r.n], ""))
			j += r.n
		}
	}
	return tidySpans(spans)
}

// splitWords cuts s into tokens: runs of white space, runs of letters and
// digits, and single other characters (punctuation, Markdown markup), so
// that "England." and "England" share the word. Joined, the tokens give s
// back exactly.
func splitWords(s string) []string {
	var words []string
	start := 0
	prev := -1
	for i, r := range s {
		class := runeClass(r)
		if i > start && (class != prev || class == classOther) {
			words = append(words, s[start:i])
			start = i
		}
		prev = class
	}
	if start < len(s) {
		words = append(words, s[start:])
	}
	return words
}

// Character classes for splitWords.
const (
	classSpace = iota
	classWord
	classOther
)

// runeClass returns the splitWords class of r.
func runeClass(r rune) int {
	switch {
	case unicode.IsSpace(r):
		return classSpace
	case unicode.IsLetter(r), unicode.IsDigit(r), unicode.IsMark(r):
		return classWord
	}
	return classOther
}

// appendSpan appends a span, merging it into the last one when they have
// the same op.
func appendSpan(spans []Span, op WordOp, text string) []Span {
	if text == "" {
		return spans
	}
	if n := len(spans); n > 0 && spans[n-1].Op == op {
		spans[n-1].Text += text
		return spans
	}
	return append(spans, Span{Op: op, Text: text})
}

// tidySpans makes a word diff easier to read: white space kept between two
// changes joins them (so "the quick brown" → "a slow red" reads as one
// replacement rather than three), and each run of changes shows everything
// removed before everything added.
func tidySpans(spans []Span) []Span {
	var out []Span
	var removed, added strings.Builder
	flush := func() {
		out = appendSpan(out, WordRemoved, removed.String())
		out = appendSpan(out, WordAdded, added.String())
		removed.Reset()
		added.Reset()
	}
	for k, s := range spans {
		// appendSpan merged neighbours with the same op, so a WordSame span
		// away from either end has changes on both sides.
		between := k > 0 && k < len(spans)-1
		switch {
		case s.Op == WordSame && between && strings.TrimSpace(s.Text) == "":
			removed.WriteString(s.Text)
			added.WriteString(s.Text)
		case s.Op == WordSame:
			flush()
			out = appendSpan(out, WordSame, s.Text)
		case s.Op == WordRemoved:
			removed.WriteString(s.Text)
		default:
			added.WriteString(s.Text)
		}
	}
	flush()
	return out
}
