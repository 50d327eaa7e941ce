package incident

import (
	"regexp"
	"strings"
	"testing"

	"github.com/psims/psims/internal/apperr"
)

var referenceShape = regexp.MustCompile(`^PSE-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$`)

func TestNewReferencesAreWellFormedAndDiffer(t *testing.T) {
	seen := map[Reference]bool{}
	for range 10000 {
		ref := NewReference()
		if !referenceShape.MatchString(string(ref)) {
			t.Fatalf("reference %q is not of the form PSE-XXXX-XXXX", ref)
		}
		if got, err := ParseReference(string(ref)); err != nil || got != ref {
			t.Fatalf("ParseReference(%q) = %q, %v", ref, got, err)
		}
		if seen[ref] {
			t.Fatalf("reference %q drawn twice in 10,000", ref)
		}
		seen[ref] = true
	}
}

func TestParseReferenceAcceptsWhatPeopleType(t *testing.T) {
	ref := NewReference()
	plain := strings.ReplaceAll(string(ref), "-", "")
	for _, typed := range []string{string(ref), strings.ToLower(string(ref)), plain, plain[3:], " " + plain[3:7] + " " + plain[7:] + " "} {
		if got, err := ParseReference(typed); err != nil || got != ref {
			t.Errorf("ParseReference(%q) = %q, %v; want %q", typed, got, err, ref)
		}
	}
}

func TestParseReferenceCatchesTyposAndSwaps(t *testing.T) {
	first, last := referenceAlphabet[0], referenceAlphabet[len(referenceAlphabet)-1]
	for range 200 {
		ref := []byte(strings.ReplaceAll(string(NewReference()), "-", "")[3:])
		for i := range ref {
			for _, c := range []byte(referenceAlphabet) {
				if c == ref[i] {
					continue
				}
				typo := append([]byte(nil), ref...)
				typo[i] = c
				if _, err := ParseReference(string(typo)); apperr.CodeOf(err) != apperr.Invalid {
					t.Fatalf("%s with position %d changed to %c was accepted", ref, i, c)
				}
			}
			if i+1 < len(ref) && ref[i] != ref[i+1] && !blindSpot(ref[i], ref[i+1], first, last) {
				swap := append([]byte(nil), ref...)
				swap[i], swap[i+1] = swap[i+1], swap[i]
				if _, err := ParseReference(string(swap)); apperr.CodeOf(err) != apperr.Invalid {
					t.Fatalf("%s with positions %d and %d swapped was accepted", ref, i, i+1)
				}
			}
		}
	}
}

// blindSpot reports whether a and b are the one neighbouring pair Luhn's
// check cannot tell from its swap: the alphabet's first and last
// characters.
func blindSpot(a, b, first, last byte) bool {
	return (a == first && b == last) || (a == last && b == first)
}

func TestParseReferenceRefusesOtherText(t *testing.T) {
	for _, s := range []string{"", "PSE-", "PSE-1234-5678", "PSE-ABCD-EFG", "PSE-ABCD-EFGHJ", "XYZ-7K2M-9QXH", "PSÉ-7K2M-9QXH", "PSE-OOOO-OOOO", "12345678"} {
		if _, err := ParseReference(s); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("ParseReference(%q) = %v, want Invalid", s, err)
		}
	}
}

func FuzzParseReference(f *testing.F) {
	f.Add("PSE-7K2M-9QXH")
	f.Add("pse 7k2m 9qxh")
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := ParseReference(s)
		if err != nil {
			return
		}
		if !referenceShape.MatchString(string(ref)) {
			t.Fatalf("ParseReference(%q) = %q, not a well-formed reference", s, ref)
		}
		if again, err := ParseReference(string(ref)); err != nil || again != ref {
			t.Fatalf("a parsed reference does not parse to itself: %q, %v", again, err)
		}
	})
}
