package pii

import "strings"

// An email address is found from each @ outwards: up to 64 characters of
// local part before it (letters, digits and . _ % + - '; the rarer symbols
// that addresses may hold are left out, as in free text they more often
// belong to the words around) and a domain after it of up to 253
// characters, in at least two dot-separated labels of letters, digits and
// hyphens, the last of them at least two letters. Looking from the @ with
// bounded reach keeps the scan linear however many @ there are.
const (
	maxLocal  = 64
	maxDomain = 253
)

func scanEmails(in input, found []Finding) []Finding {
	text := in.text
	for at := strings.IndexByte(text, '@'); at >= 0; {
		start := at
		for start > 0 && at-start < maxLocal && isLocalByte(text[start-1]) {
			start--
		}
		for start < at && strings.IndexByte(".-'", text[start]) >= 0 {
			start++
		}
		end := at + 1
		for end < len(text) && end-at-1 < maxDomain && isDomainByte(text[end]) {
			end++
		}
		end = at + 1 + validDomainLength(text[at+1:end])
		if start < at && end > at+1 {
			found = append(found, Finding{Email, start, end})
		}
		next := strings.IndexByte(text[at+1:], '@')
		if next < 0 {
			break
		}
		at += 1 + next
	}
	return found
}

// validDomainLength returns how much of the start of s is a domain name
// with a dot and a top-level label of two or more letters, or 0. Trailing
// dots and hyphens (the end of a sentence) are left out.
func validDomainLength(s string) int {
	s = strings.TrimRight(s, ".-")
	lastDot := strings.LastIndexByte(s, '.')
	if lastDot <= 0 {
		return 0
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return 0
		}
	}
	tld := s[lastDot+1:]
	if len(tld) < 2 {
		return 0
	}
	for i := 0; i < len(tld); i++ {
		if !isASCIILetter(tld[i]) {
			return 0
		}
	}
	return len(s)
}

func isLocalByte(c byte) bool {
	return isASCIILetter(c) || isDigit(c) || strings.IndexByte("._%+-'", c) >= 0
}

func isDomainByte(c byte) bool {
	return isASCIILetter(c) || isDigit(c) || c == '.' || c == '-'
}
