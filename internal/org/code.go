package org

import (
	"strings"

	"github.com/psims/psims/internal/apperr"
)

// Code is an ODS (Organisation Data Service) code, such as RM1 for a trust,
// 07N for a commissioner, P87657 for a GP practice or FL479 for a pharmacy.
// A Code from ParseCode is always well formed and upper case; the zero Code
// means "none".
type Code struct {
	s string
}

// String returns the code, or "" for the zero Code.
func (c Code) String() string { return c.s }

// IsZero reports whether c is the zero Code.
func (c Code) IsZero() bool { return c.s == "" }

// Messages for codes that cannot be parsed.
const (
	msgEnterCode = "Enter an ODS code, like RM1 or P87657"
	msgCodeShape = "Enter an ODS code in the correct format, like RM1 or P87657. ODS codes are 3 to 7 letters and numbers"
)

// ParseCode trims s, upper-cases it and checks it has the shape of an ODS
// code. Errors are *apperr.Error with code Invalid.
//
// The shapes accepted are those of the national ODS files:
//   - 3 letters and digits with at least one letter: RM1, RMY, 07N, 7A3, Q71;
//   - 4 to 6 characters starting with a letter and containing a digit:
//     P15J, FL479, Z1010, P87657, GUE996;
//   - 6 digits and a letter: 601201A (Welsh pharmacies).
func ParseCode(s string) (Code, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return Code{}, apperr.New(apperr.Invalid, msgEnterCode)
	}
	if !validCode(s) {
		return Code{}, apperr.New(apperr.Invalid, msgCodeShape)
	}
	return Code{s: s}, nil
}

// validCode reports whether an upper-cased s has one of the shapes above.
func validCode(s string) bool {
	letters, digits := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'A' <= c && c <= 'Z':
			letters++
		case '0' <= c && c <= '9':
			digits++
		default:
			return false
		}
	}
	isLetter := func(c byte) bool { return 'A' <= c && c <= 'Z' }
	switch n := len(s); {
	case n == 3:
		return letters > 0
	case n >= 4 && n <= 6:
		return isLetter(s[0]) && digits > 0
	case n == 7:
		return digits == 6 && isLetter(s[6])
	}
	return false
}
