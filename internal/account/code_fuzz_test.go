package account

import (
	"strings"
	"testing"
)

// FuzzCodes: whatever is typed in the code box, reading it never panics,
// a code from an app comes out as exactly six ASCII digits and a recovery
// code as ten letters of its alphabet, and reading what came out again
// gives the same. // T3
func FuzzCodes(f *testing.F) {
	for _, seed := range []string{"123456", "123 456", "１２３４５６", "12\u200b3456", "abcde-fghjk", "ABCDE FGHJK", "", "-", "0000000", "ı23456", "ǅ", "\xff\xfe"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		if digits, ok := totpDigitsOf(typed); ok {
			if len(digits) != 6 || strings.Trim(digits, "0123456789") != "" {
				t.Fatalf("%q read as the app code %q", typed, digits)
			}
			if again, ok := totpDigitsOf(digits); !ok || again != digits {
				t.Fatalf("%q read again as %q, %v", digits, again, ok)
			}
		}
		if code, ok := recoveryCodeOf(typed); ok {
			if len(code) != recoveryLength || strings.Trim(code, recoveryAlphabet) != "" {
				t.Fatalf("%q read as the recovery code %q", typed, code)
			}
			if again, ok := recoveryCodeOf(code[:5] + "-" + code[5:]); !ok || again != code {
				t.Fatalf("%q read again as %q, %v", code, again, ok)
			}
		}
		if err := codeProblem(typed); err == nil {
			t.Fatalf("no problem given for %q", typed)
		}
	})
}
