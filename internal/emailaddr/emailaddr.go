// Package emailaddr parses email addresses as typed into forms.
//
// Addresses are lower-cased whole. RFC 5321 lets the local part be case
// sensitive, but NHSmail and every other mail system our users are on treat
// it as case-insensitive, so "Jane.Smith@nhs.net" and "jane.smith@nhs.net"
// are one mailbox. Lower-casing at the edge means one mailbox can have only
// one account, and sign-in works however the user capitalises it.
//
// Only plain ASCII addresses of the dot-atom form are accepted: no display
// names, comments, quoted local parts or address literals. Internationalised
// domains are accepted in their xn-- form.
package emailaddr

import (
	"strings"

	"github.com/psims/psims/internal/apperr"
)

// Limits from RFC 5321.
const (
	MaxLength      = 254
	MaxLocalLength = 64
	maxLabelLength = 63
)

// Address is a parsed, lower-cased email address. The zero Address is empty
// and is never returned by Parse without an error.
type Address struct {
	s string
}

// String returns the address, such as "jane.smith@nhs.net".
func (a Address) String() string { return a.s }

// Domain returns the part after the @, such as "nhs.net".
func (a Address) Domain() string {
	_, domain, _ := strings.Cut(a.s, "@")
	return domain
}

// IsZero reports whether a is the empty Address.
func (a Address) IsZero() bool { return a.s == "" }

const formatMessage = "Enter an email address in the correct format, like name@nhs.net"

// Parse checks s, with surrounding spaces removed, and returns it as an
// Address. Errors are *apperr.Error with code Invalid and a message to show
// next to the field.
func Parse(s string) (Address, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Address{}, apperr.New(apperr.Invalid, "Enter an email address")
	}
	if len(s) > MaxLength {
		return Address{}, apperr.New(apperr.Invalid, "Email address must be 254 characters or fewer")
	}
	if strings.Count(s, "@") != 1 {
		return Address{}, apperr.New(apperr.Invalid, formatMessage)
	}
	local, domain, _ := strings.Cut(s, "@")
	if len(local) > MaxLocalLength {
		return Address{}, apperr.New(apperr.Invalid, "The part of the email address before the @ must be 64 characters or fewer")
	}
	if !validLocal(local) || !validDomain(domain) {
		return Address{}, apperr.New(apperr.Invalid, formatMessage)
	}
	return Address{s: strings.ToLower(s)}, nil
}

// validLocal reports whether local is a dot-atom: runs of atext characters
// joined by single dots.
func validLocal(local string) bool {
	if local == "" {
		return false
	}
	for part := range strings.SplitSeq(local, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !isAtext(part[i]) {
				return false
			}
		}
	}
	return true
}

// isAtext reports whether c may appear unquoted in a local part (RFC 5322).
// Spaces, control characters, quotes, brackets, commas and @ may not.
func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// validDomain reports whether domain is two or more labels of letters,
// digits and hyphens, none empty, longer than 63, or starting or ending
// with a hyphen, and the last not all digits.
func validDomain(domain string) bool {
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > maxLabelLength || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	// A top-level domain is never numeric; "name@10.0.0.1" is an IP
	// address, which we do not accept.
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}
