package newsletter

import (
	"strings"
	"testing"

	"github.com/psims/psims/internal/terms"
)

var testKey = []byte("a test key of thirty-two bytes!!")

func TestTokensRoundTripAndRefuseChanges(t *testing.T) {
	for _, p := range []terms.Purpose{terms.Newsletter, terms.Research} {
		tok := Token(testKey, 42, p)
		id, got, ok := ParseToken(testKey, tok)
		if !ok || id != 42 || got != p {
			t.Fatalf("ParseToken(Token(42, %s)) = %d, %s, %v", p, id, got, ok)
		}
		// Changing any one character refuses the token.
		for i := range tok {
			changed := []byte(tok)
			changed[i] ^= 1
			if _, _, ok := ParseToken(testKey, string(changed)); ok {
				t.Errorf("a token changed at %d was accepted: %q", i, changed)
			}
		}
	}
	if _, _, ok := ParseToken(testKey, "42.usage-analysis."+strings.Split(Token(testKey, 42, "usage-analysis"), ".")[2]); ok {
		t.Error("a token for a purpose links may not withdraw was accepted")
	}
	if _, _, ok := ParseToken(nil, Token(testKey, 42, terms.Newsletter)); ok {
		t.Error("a token was accepted with no key")
	}
	if _, _, ok := ParseToken(testKey, "042.newsletter."+strings.Split(Token(testKey, 42, terms.Newsletter), ".")[2]); ok {
		t.Error("a token with a leading zero was accepted")
	}
}

// FuzzParseToken: no input panics, and whatever is accepted is exactly the
// token Token makes for what it names.
func FuzzParseToken(f *testing.F) {
	f.Add(Token(testKey, 1, terms.Newsletter))
	f.Add(Token(testKey, 9223372036854775807, terms.Research))
	f.Add("")
	f.Add("1.newsletter.")
	f.Add("..")
	f.Add("-1.research.abc")
	f.Fuzz(func(t *testing.T, s string) {
		id, p, ok := ParseToken(testKey, s)
		if ok && Token(testKey, id, p) != s {
			t.Fatalf("accepted %q, which is not the token for %d and %s", s, id, p)
		}
	})
}
