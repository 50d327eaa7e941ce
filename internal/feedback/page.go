package feedback

import (
	"net/url"
	"strings"
	"unicode"
)

// maxPageLength is the longest page path kept; longer ones are dropped.
const maxPageLength = 512

// ParsePage returns the path of a page of this site that feedback was sent
// from, and false when s is not one. Only the path is kept: anything from
// "?" or "#" on is cut off, so nothing typed into a search travels with the
// feedback. The path must start with a single "/" and hold no backslash,
// space or control character, before or after percent-decoding, so that
// neither a browser nor a server could read it as another site
// ("//evil.example", "/\evil.example", "/%2F%2Fevil.example") or as a
// script ("javascript:…" does not start with "/"). Pages that link back to
// it may do so safely.
func ParsePage(s string) (string, bool) {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	if !localPath(s) || len(s) > maxPageLength {
		return "", false
	}
	decoded, err := url.PathUnescape(s)
	if err != nil || !localPath(decoded) {
		return "", false
	}
	return s, true
}

// localPath reports whether p is a path on this site with nothing in it
// that could make it leave: it starts with one "/" and has no backslash,
// white space or control character.
func localPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return false
	}
	return strings.IndexFunc(p, func(r rune) bool {
		return r == '\\' || unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar ||
			unicode.Is(unicode.Cf, r)
	}) < 0
}
