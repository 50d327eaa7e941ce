// Package textcheck finds characters that have no place in text a person
// types: control characters other than tab, line feed and carriage return
// (C0 controls, DEL and C1 controls), bytes that are not UTF-8 (which is
// also how a lone surrogate arrives), and the noncharacters U+FFFE and
// U+FFFF. They cannot be seen on a page, PostgreSQL refuses a NUL in text,
// and in an email or a CSV file they can change what the reader sees.
//
// The web layer removes them from every form value before a handler reads
// it, and the feature packages that store text refuse them as well, so that
// no other way in (a command, a future API) can store one.
//
// The package is pure and keeps no state.
package textcheck

import (
	"strings"
	"unicode/utf8"
)

// Allowed reports whether r may appear in typed text. utf8.RuneError
// itself is allowed: it is a real character (U+FFFD) when it was typed;
// Find tells a decoding error from it.
func Allowed(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20 || r == 0x7f: // C0 controls and DEL
		return false
	case 0x80 <= r && r <= 0x9f: // C1 controls
		return false
	case 0xd800 <= r && r <= 0xdfff: // surrogates, which UTF-8 cannot hold
		return false
	case r == 0xfffe || r == 0xffff:
		return false
	case r > utf8.MaxRune:
		return false
	}
	return true
}

// Find returns the byte offset in s of the first character that is not
// allowed, or -1 when there is none. A byte that does not begin valid
// UTF-8 counts as not allowed.
func Find(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++ // printable ASCII, the common case
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || !Allowed(r) {
			return i
		}
		i += size
	}
	return -1
}

// Valid reports whether s holds only allowed characters.
func Valid(s string) bool { return Find(s) < 0 }

// Clean returns s without the characters that are not allowed, and
// whether anything was removed. When nothing is removed it returns s
// itself, without copying.
func Clean(s string) (string, bool) {
	i := Find(s)
	if i < 0 {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !(r == utf8.RuneError && size == 1) && Allowed(r) {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String(), true
}

// Message is the error for a field whose value holds characters that are
// not allowed, naming the field as people know it, such as "Full name".
func Message(label string) string {
	return label + " must not contain hidden control characters. Delete them, or type it again"
}
