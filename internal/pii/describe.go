package pii

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// quoteWords is the most words a description quotes from the start of a
// sentence, so that people can find the sentence.
const quoteWords = 4

// Describe says what a finding is and where it is in text, in words people
// can use and without repeating the identifier, such as "the NHS number in
// the 2nd sentence, which starts “The patient was”" or "the name at the
// start of your answer". Sentences end at a full stop, question or
// exclamation mark followed by a space, and at a line break.
//
// The quote is made only of whole words before the finding that hold no
// digit, no @ and no part of any identifier Scan finds in text, so neither
// this identifier nor another is ever repeated, and a message built on it
// may be shown or logged.
func Describe(text string, f Finding) string {
	return describe(text, f, Scan(text), "")
}

// Message is the error for a finding in the answer to a question: what to
// remove and where, such as "Remove the NHS number in the 2nd sentence of
// ‘What happened’, which starts “The patient was”. Nothing that could
// identify a person can be recorded". question may be "", for "your
// answer". findings are every finding in text (from Scan), none of which
// is quoted.
func Message(text string, f Finding, findings []Finding, question string) string {
	return "Remove " + describe(text, f, findings, question) + ". Nothing that could identify a person can be recorded"
}

func describe(text string, f Finding, avoid []Finding, question string) string {
	start := min(max(f.Start, 0), len(text))
	what := "the " + f.Kind.Label()
	answer := "your answer"
	of := ""
	if question != "" {
		answer = "‘" + question + "’"
		of = " of " + answer
	}
	sentences := sentenceStarts(text)
	n := 0 // index of the sentence holding start
	for n+1 < len(sentences) && sentences[n+1] <= start {
		n++
	}
	quote := leadingWords(text[sentences[n]:start], sentences[n], avoid, foundWords(text, avoid))
	if len(sentences) == 1 {
		if quote == "" {
			return what + " at the start of " + answer
		}
		return what + " in " + answer + ", after “" + quote + "”"
	}
	where := "the " + ordinal(n+1) + " sentence" + of
	if quote == "" {
		return what + " at the start of " + where
	}
	return what + " in " + where + ", which starts “" + quote + "”"
}

// sentenceStarts returns the byte offset of each sentence of text that has
// something in it, the first always 0.
func sentenceStarts(text string) []int {
	starts := []int{0}
	ended := false // the sentence has ended; the next one starts at the next non-space
	for i, r := range text {
		if ended && !unicode.IsSpace(r) {
			if last := starts[len(starts)-1]; strings.TrimSpace(text[last:i]) != "" {
				starts = append(starts, i)
			}
			ended = false
		}
		switch {
		case r == '\n':
			ended = true
		case (r == '.' || r == '?' || r == '!') && i+1 < len(text) && (text[i+1] == ' ' || text[i+1] == '\n'):
			ended = true
		}
	}
	return starts
}

// leadingWords returns up to quoteWords whole words from the start of s
// (which is text from offset base), stopping at a word with a digit or an
// @, one that touches a finding, or one that is also a word of a finding
// (the same name may be written once without the title that gave it away).
func leadingWords(s string, base int, avoid []Finding, found map[string]bool) string {
	var words []string
	for i := 0; i < len(s) && len(words) < quoteWords; {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			i += size
			continue
		}
		j := i
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if unicode.IsSpace(r) {
				break
			}
			j += size
		}
		if j == len(s) {
			break // the word runs into the finding
		}
		word := s[i:j]
		if !quotable(word) || touches(base+i, base+j, avoid) || found[letters(word)] {
			break
		}
		words = append(words, word)
		i = j
	}
	return strings.Join(words, " ")
}

// foundWords returns the words of text inside the findings, as letters
// makes them.
func foundWords(text string, findings []Finding) map[string]bool {
	words := map[string]bool{}
	for _, f := range findings {
		start, end := min(max(f.Start, 0), len(text)), min(max(f.End, 0), len(text))
		if start >= end {
			continue
		}
		for _, w := range strings.FieldsFunc(text[start:end], func(r rune) bool { return !unicode.IsLetter(r) }) {
			words[strings.ToLower(w)] = true
		}
	}
	return words
}

// letters returns the letters of word in lower case, for comparing words
// whatever the punctuation around them.
func letters(word string) string {
	return strings.ToLower(strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return r
		}
		return -1
	}, word))
}

// quotable reports whether a word may be shown: printable, valid UTF-8,
// with no digit and no @.
func quotable(word string) bool {
	if !utf8.ValidString(word) {
		return false
	}
	for _, r := range word {
		if unicode.IsDigit(r) || r == '@' || r == '＠' || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// touches reports whether [start, end) overlaps or borders any finding.
func touches(start, end int, findings []Finding) bool {
	for _, f := range findings {
		if start <= f.End && f.Start <= end {
			return true
		}
	}
	return false
}

// ordinal writes n as "1st", "2nd", "3rd", "4th", "11th", "22nd".
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}
