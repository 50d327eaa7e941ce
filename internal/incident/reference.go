// Package incident records patient safety events: their answers, drafts,
// versions and reference numbers.
package incident

import (
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/psims/psims/internal/apperr"
)

// Reference is an event's reference number, such as "PSE-7K2M-9QXH": what
// the person who recorded it is given and what staff quote. It is random,
// so nobody can guess another event's number or how many were recorded,
// and its last character is a check character, so a mistyped number is
// caught before any search.
type Reference string

// referenceAlphabet has no 0, 1, I, L, O or U: nothing that reads as
// another character, and no accidental words.
const referenceAlphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

// referenceRandom is how many random characters a reference has; with the
// check character they make two groups of four.
const referenceRandom = 7

// NewReference returns a random reference. Two events can draw the same
// one (one in 30⁷, about 22 billion, per pair); the store's unique index
// turns that into a retry.
func NewReference() Reference {
	var b [referenceRandom]byte
	rand.Read(b[:])
	chars := make([]byte, 0, referenceRandom+1)
	for _, x := range b {
		// 256 is not a multiple of 30: skip the few values that would
		// favour the first characters.
		for x >= 240 {
			var one [1]byte
			rand.Read(one[:])
			x = one[0]
		}
		chars = append(chars, referenceAlphabet[int(x)%len(referenceAlphabet)])
	}
	chars = append(chars, checkChar(chars))
	return Reference(fmt.Sprintf("PSE-%s-%s", chars[:4], chars[4:]))
}

// ParseReference reads a reference as people type it: any case, with or
// without the "PSE" prefix, spaces and hyphens. Errors: Invalid when it is
// not a well-formed reference, including a wrong check character.
func ParseReference(s string) (Reference, error) {
	bad := apperr.New(apperr.Invalid, "Enter a reference number like PSE-7K2M-9QXH")
	var chars []byte
	for _, r := range strings.ToUpper(s) {
		if r == ' ' || r == '-' {
			continue
		}
		if r > 127 {
			return "", bad
		}
		chars = append(chars, byte(r))
	}
	if len(chars) == referenceRandom+1+3 && string(chars[:3]) == "PSE" {
		chars = chars[3:]
	}
	if len(chars) != referenceRandom+1 {
		return "", bad
	}
	for _, c := range chars {
		if strings.IndexByte(referenceAlphabet, c) < 0 {
			return "", bad
		}
	}
	if checkChar(chars[:referenceRandom]) != chars[referenceRandom] {
		return "", bad
	}
	return Reference(fmt.Sprintf("PSE-%s-%s", chars[:4], chars[4:])), nil
}

// checkChar is the Luhn mod N check character of chars over the
// reference alphabet: it catches every single mistyped character and every
// swap of two neighbours but one, "2Z" for "Z2" (the alphabet's first and
// last characters, as 09 and 90 in the decimal Luhn).
func checkChar(chars []byte) byte {
	n := len(referenceAlphabet)
	sum, factor := 0, 2
	for i := len(chars) - 1; i >= 0; i-- {
		addend := factor * strings.IndexByte(referenceAlphabet, chars[i])
		addend = addend/n + addend%n
		sum += addend
		if factor == 2 {
			factor = 1
		} else {
			factor = 2
		}
	}
	return referenceAlphabet[(n-sum%n)%n]
}
