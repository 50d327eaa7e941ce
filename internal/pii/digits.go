package pii

// NHS numbers and phone numbers are runs of digits in groups, and people
// separate the groups with whatever is to hand: one space or two, a line
// break, a hyphen or a dash, a dot, a slash, an underscore, brackets; or
// they space out every digit ("9 4 3 4 7 6 5 9 1 9"). A regular expression
// that allowed all of that would be hard to read and slow, so these kinds
// read the groups in Go: chain reads the groups that follow one another
// from a word, and each kind then judges the digits and their grouping.

// span is a stretch of the text: [start, end).
type span struct{ start, end int }

func (s span) len() int { return s.end - s.start }

// maxChain is how many groups chain reads at most: enough for a number
// with every digit spaced out, and one more to see that it goes on.
const maxChain = 12

// chain reads, from start, groups of digits each separated from the one
// before by 1 to maxSep bytes for which isSep is true, and returns them.
// With letterO, the letters o and O count as digits (people type them for
// zero), but a group must still hold at least one real digit. A group
// must end at a word boundary (a letter or digit after it spoils it): the
// chain stops before a spoilt group. It reads at most maxChain groups,
// each of at most 20 bytes, so its work is bounded.
func chain(text string, start int, isSep func(byte) bool, maxSep int, letterO bool, buf *[maxChain]span) []span {
	groups := buf[:0]
	for p := start; len(groups) < maxChain && p < len(text); {
		end, ok := group(text, p, letterO)
		if !ok {
			break
		}
		groups = append(groups, span{p, end})
		q := end
		for q < len(text) && q-end < maxSep && isSep(text[q]) {
			q++
		}
		if q == end || q == len(text) || isSep(text[q]) {
			break
		}
		p = q
	}
	return groups
}

// group returns where a group of digits starting at p ends, and false when
// there is none there or it does not end at a word boundary.
func group(text string, p int, letterO bool) (int, bool) {
	end, real := p, false
	for end < len(text) && end-p <= 20 {
		c := text[end]
		if isDigit(c) {
			real = true
		} else if !(letterO && (c == 'o' || c == 'O')) {
			break
		}
		end++
	}
	if !real || end-p > 20 || end < len(text) && isASCIILetter(text[end]) {
		return 0, false
	}
	return end, true
}

// chainGoesOnBefore reports whether a digit stands 1 to maxSep separator
// bytes before start, so that a group at start is not the first of its
// chain.
func chainGoesOnBefore(text string, start int, isSep func(byte) bool, maxSep int) bool {
	q := start
	for q > 0 && start-q < maxSep && isSep(text[q-1]) {
		q--
	}
	return q < start && q > 0 && isDigit(text[q-1])
}

// digitsIn appends the digits of the groups to d, with o and O as 0, and
// returns it.
func digitsIn(text string, groups []span, d []byte) []byte {
	for _, g := range groups {
		for i := g.start; i < g.end; i++ {
			switch c := text[i]; {
			case isDigit(c):
				d = append(d, c)
			case c == 'o' || c == 'O':
				d = append(d, '0')
			}
		}
	}
	return d
}

// singles reports whether every group is one character long: digits
// spaced out one by one.
func singles(groups []span) bool {
	for _, g := range groups {
		if g.len() != 1 {
			return false
		}
	}
	return true
}
