package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Identifiers can be hidden from patterns written for ASCII by ordinary
// formatting: a no-break space or a thin space between the groups of an
// NHS number, fullwidth or Arabic-Indic digits, a zero-width space or a
// soft hyphen inside a postcode, an en dash for a hyphen, "＠" for "@". So
// Scan first normalises the text and scans that:
//
//   - NFKC, which turns fullwidth letters and digits, compatibility spaces,
//     ligatures, superscripts and the like into their plain forms;
//   - format characters (Unicode category Cf: zero-width spaces and
//     joiners, the word joiner, the byte order mark, soft hyphens),
//     variation selectors and other default-ignorable characters are
//     dropped, since they are invisible;
//   - every space separator becomes an ASCII space, and the line and
//     paragraph separators and NEL become a line feed;
//   - every decimal digit (Unicode category Nd) becomes its ASCII digit;
//   - every dash (category Pd) and the minus sign become "-", and the
//     fraction and division slashes "/";
//   - each byte that is not valid UTF-8 becomes the ASCII substitute
//     character (SUB, 0x1a), which no pattern takes for part of anything,
//     as the stray byte was not; so dropping a character between two stray
//     bytes cannot join them into a rune that was not there, and the
//     normalised text is always valid UTF-8.
//
// Findings in the normalised text are mapped back to the original text
// (see toOriginal): a finding covers every original byte that made the
// normalised bytes it covers, and so every character dropped inside it.
//
// ASCII text is left as it is and costs one pass to see that it is ASCII.
// Elsewhere, ASCII bytes are copied and only the stretches around other
// bytes go through NFKC. That is safe because NFKC never changes an ASCII
// character and always has a boundary before one; the ASCII byte just before
// a stretch goes in with it, since combining marks may follow it.

// normalised is a text made ready for scanning, with what is needed to map
// offsets in it back to the original.
type normalised struct {
	text string
	// pieces map text back to the original, in order of norm. Nil when
	// text is the original itself.
	pieces []piece
}

// piece says where some normalised bytes came from: those from norm up to
// the next piece's norm (or the end of the text) were made from the
// original bytes orig to origEnd. When copied is true they are as many,
// and map to them byte for byte (they are those bytes, but for
// substitutes); otherwise every one of them maps to the whole span, since
// one character may have become several or changed length.
type piece struct {
	norm, orig, origEnd int
	copied              bool
}

// normalise returns text normalised for scanning. It runs in time linear
// in len(text) and never panics, whatever the bytes.
func normalise(text string) normalised {
	first := firstNonASCII(text, 0)
	if first == len(text) {
		return normalised{text: text}
	}
	var b builder
	b.out.Grow(len(text) + len(text)/8)
	for pos := 0; pos < len(text); {
		j := firstNonASCII(text, pos)
		if j == len(text) {
			b.copy(text, pos, j)
			break
		}
		// The ASCII byte before j goes to NFKC with what follows it.
		k := j
		if k > pos {
			k--
		}
		b.copy(text, pos, k)
		end := j
		for end < len(text) && text[end] >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(text[end:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			end += size
		}
		b.nfkc(text, k, end)
		if end < len(text) && text[end] >= utf8.RuneSelf {
			// A byte that is not valid UTF-8.
			b.copyAs(substitute, end)
			end++
		}
		pos = end
	}
	if b.pieces == nil {
		b.pieces = []piece{} // everything was dropped: not the original
	}
	return normalised{text: b.out.String(), pieces: b.pieces}
}

// substitute stands in the normalised text for each byte that is not
// valid UTF-8: the ASCII substitute character.
const substitute = 0x1a

// firstNonASCII returns the offset of the first byte from i that is not
// ASCII, or len(s). It looks at eight bytes at a time while it can, as
// nearly all text is ASCII.
func firstNonASCII(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if w&0x8080808080808080 != 0 {
			break
		}
	}
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	return i
}

// builder collects the normalised bytes and their pieces.
type builder struct {
	out     strings.Builder
	pieces  []piece
	iter    norm.Iter
	segment []byte // one segment of NFKC output, folded
}

// copy appends the original bytes text[from:to] as they are.
func (b *builder) copy(text string, from, to int) {
	if from >= to {
		return
	}
	b.mapCopied(from, to)
	b.out.WriteString(text[from:to])
}

// copyAs appends c in place of the original byte at.
func (b *builder) copyAs(c byte, at int) {
	b.mapCopied(at, at+1)
	b.out.WriteByte(c)
}

// mapCopied records that the bytes about to be appended map byte for byte
// to the original bytes from to to.
func (b *builder) mapCopied(from, to int) {
	if n := len(b.pieces); n > 0 {
		last := &b.pieces[n-1]
		if last.copied && last.origEnd == from {
			// Contiguous in both texts: extend the last piece.
			last.origEnd = to
			return
		}
	}
	b.pieces = append(b.pieces, piece{norm: b.out.Len(), orig: from, origEnd: to, copied: true})
}

// nfkc appends text[from:to], valid UTF-8, in NFKC with each rune folded
// (see fold). Most of such text is already in NFKC (curly quotes, accented
// letters, Arabic-Indic digits), which QuickSpanString finds cheaply:
// those runes need only folding. Each segment (a character and its
// combining marks) that is not goes through the NFKC iterator on its own.
func (b *builder) nfkc(text string, from, to int) {
	for p := from; p < to; {
		q := p + norm.NFKC.QuickSpanString(text[p:to])
		b.foldEach(text, p, q)
		if q >= to {
			return
		}
		e := q + norm.NFKC.NextBoundaryInString(text[q:to], true)
		if e <= q {
			e = to
		}
		b.normaliseSegments(text, q, e)
		p = e
	}
}

// foldEach appends the runes of text[from:to], valid UTF-8 in NFKC, each
// folded, and maps each to itself.
func (b *builder) foldEach(text string, from, to int) {
	for i := from; i < to; {
		r, size := utf8.DecodeRuneInString(text[i:])
		folded, keep := fold(r)
		switch {
		case !keep:
		case folded == r:
			b.copy(text, i, i+size)
		default:
			b.pieces = append(b.pieces, piece{norm: b.out.Len(), orig: i, origEnd: i + size})
			b.out.WriteRune(folded)
		}
		i += size
	}
}

// normaliseSegments appends text[from:to], valid UTF-8, in NFKC with each
// rune folded. The iterator hands out the normalised text a segment at a
// time; a segment that expands to several characters may come out in
// several parts before the iterator's position moves on, so output is
// gathered until it does, and all of it maps to the original bytes that
// the position moved over.
func (b *builder) normaliseSegments(text string, from, to int) {
	if from >= to {
		return
	}
	b.iter.InitString(norm.NFKC, text[from:to])
	done := 0
	b.segment = b.segment[:0]
	for !b.iter.Done() {
		seg := b.iter.Next()
		for len(seg) > 0 {
			r, size := utf8.DecodeRune(seg)
			seg = seg[size:]
			if folded, keep := fold(r); keep {
				b.segment = utf8.AppendRune(b.segment, folded)
			}
		}
		pos := b.iter.Pos()
		if pos <= done {
			continue
		}
		switch orig := text[from+done : from+pos]; {
		case len(b.segment) == 0:
			// Dropped.
		case string(b.segment) == orig:
			// Unchanged: map it byte for byte.
			b.copy(text, from+done, from+pos)
		default:
			b.pieces = append(b.pieces, piece{norm: b.out.Len(), orig: from + done, origEnd: from + pos})
			b.out.Write(b.segment)
		}
		done, b.segment = pos, b.segment[:0]
	}
}

// fold returns what r becomes in the normalised text, and false when it is
// dropped.
func fold(r rune) (rune, bool) {
	switch {
	case r < utf8.RuneSelf:
		return r, true
	case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Variation_Selector, r),
		unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r):
		return 0, false
	case r == '\u0085', r == '\u2028', r == '\u2029':
		return '\n', true
	case unicode.Is(unicode.Zs, r):
		return ' ', true
	case unicode.Is(unicode.Nd, r):
		return '0' + digitValue(r), true
	case unicode.Is(unicode.Pd, r), r == '\u2212':
		return '-', true
	case r == '\u2044', r == '\u2215':
		return '/', true
	}
	return r, true
}

// digitValue returns the value of r, a decimal digit (category Nd). Every
// range of decimal digits in Unicode is one or more runs of ten, each from
// zero to nine, so the value is the distance from the start of the range,
// modulo 10 (TestDigitValue checks this for every script).
func digitValue(r rune) rune {
	for _, g := range unicode.Nd.R16 {
		if rune(g.Lo) <= r && r <= rune(g.Hi) {
			return (r - rune(g.Lo)) % 10
		}
	}
	for _, g := range unicode.Nd.R32 {
		if rune(g.Lo) <= r && r <= rune(g.Hi) {
			return (r - rune(g.Lo)) % 10
		}
	}
	return 0
}

// pieceAt returns the index of the piece holding normalised byte i,
// looking forwards from piece p (which must not be past it).
func (n normalised) pieceAt(p, i int) int {
	for p+1 < len(n.pieces) && n.pieces[p+1].norm <= i {
		p++
	}
	return p
}

// spanIn returns the original bytes that normalised byte i, in piece p,
// was made from.
func (n normalised) spanIn(p, i int) (start, end int) {
	if n.pieces == nil {
		return i, i + 1
	}
	pc := n.pieces[p]
	if pc.copied {
		at := pc.orig + i - pc.norm
		return at, at + 1
	}
	return pc.orig, pc.origEnd
}

// toOriginal maps findings in the normalised text, in order and without
// overlaps, to the original text: each covers the original bytes from the
// start of its first byte's span to the end of its last byte's. Two
// findings that end and start inside the same character's expansion
// would overlap there, so such findings are merged, as tidy does. Findings
// come in order, so the pieces are walked once: linear time.
func (n normalised) toOriginal(found []Finding) []Finding {
	if n.pieces == nil || len(found) == 0 {
		return found
	}
	out := found[:0]
	p := 0
	for _, f := range found {
		p = n.pieceAt(p, f.Start)
		start, _ := n.spanIn(p, f.Start)
		p = n.pieceAt(p, f.End-1)
		_, end := n.spanIn(p, f.End-1)
		if len(out) > 0 && start < out[len(out)-1].End {
			last := &out[len(out)-1]
			last.End = max(last.End, end)
			continue
		}
		out = append(out, Finding{f.Kind, start, end})
	}
	return out
}
