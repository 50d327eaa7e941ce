package password

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/apperr"
)

func TestPolicyCheck(t *testing.T) {
	p := NewPolicy()
	const email, name = "jane.smith@nhs.net", "Jane Smith"
	tests := []struct {
		name     string
		password string
		wantErr  string // part of the message; "" when accepted
	}{
		{"four unrelated words are accepted", "lamp orbit cactus river", ""},
		{"a long sentence is accepted", "the heron waited by the cold canal at dawn", ""},
		{"64 characters are accepted", "plum-vector-hollow-bridge-amber-sock-tundra-violin-saucer-meadow", ""},
		{"256 characters are accepted", longPassphrase(256), ""},
		{"no composition rules: all lower case with spaces is fine", "walrus teapot glacier", ""},
		{"non-ASCII characters count as one each", "ünïcödé wörds gö hérè", ""},
		{"an empty password asks for one", "", "Enter a password"},
		{"14 characters are too short", "abcdefghijklmn", "at least 15 characters"},
		{"15 multi-byte characters are not counted as bytes", "ééééé", "at least 15 characters"},
		{"257 characters are too long", longPassphrase(257), "256 characters or fewer"},
		{"a common password is refused", "passwordpassword", "too easy to guess"},
		{"an entry of the common list is refused", "1qaz2wsx3edc4rfv", "often used"},
		{"the email address is refused", "jane.smith@nhs.net", "made from your email address"},
		{"the email local part with digits is refused", "Jane.Smith2024!!!", "made from your email address"},
		{"the name repeated is refused", "Jane Smith Jane Smith", "made from your email address"},
		{"the name with other words is accepted", "jane likes purple otters", ""},
		{"one character repeated is refused", "aaaaaaaaaaaaaaaaaaaa", "repeats characters"},
		{"a short unit repeated is refused", "abcabcabcabcabcabc", "repeats characters"},
		{"a run of digits is refused", "123456789012345678", "sequence"},
		{"the alphabet is refused", "abcdefghijklmnopqrstuvwxyz", "sequence"},
		{"a keyboard walk is refused", "qwertyuiopasdfghjkl", "too easy to guess"},
		{"a common password with digits added is refused", "Password12345678", "common words"},
		{"a common phrase repeated is refused", "iloveyouiloveyou1", "too easy to guess"},
		{"a tab is refused", "lamp orbit\tcactus river", "cannot be typed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Check(tt.password, email, name)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Code != apperr.Invalid {
				t.Fatalf("err = %v, want an apperr Invalid", err)
			}
			if !strings.Contains(ae.Message, tt.wantErr) {
				t.Fatalf("message %q does not contain %q", ae.Message, tt.wantErr)
			}
			if !strings.HasSuffix(ae.Message, ".") {
				t.Fatalf("message %q is not a sentence", ae.Message)
			}
		})
	}
}

func TestPolicyNamesTheSourceOfAGuessablePassword(t *testing.T) {
	p := NewPolicy()
	err := p.Check("Priyanka Ramaswamy!", "p.ramaswamy@nhs.net", "Priyanka Ramaswamy")
	if msg := apperr.MessageOf(err); !strings.Contains(msg, "made from your") {
		t.Fatalf("message %q does not say the password is made from the email or name", msg)
	}
}

// longPassphrase returns n characters of varied words.
func longPassphrase(n int) string {
	words := []string{"harbour", "quill", "meadow", "zinc", "falcon", "tulip", "orbit", "crumpet", "vortex", "lagoon", "pebble", "saffron"}
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString(words[(i*7)%len(words)])
		b.WriteByte(byte('a' + i%26))
		b.WriteByte(' ')
	}
	return b.String()[:n]
}

// TestPolicyIsFastEnoughForAForm keeps Check well within a page request.
// The limit is generous so slow, race-instrumented machines pass.
func TestPolicyIsFastEnoughForAForm(t *testing.T) {
	p := NewPolicy()
	for _, pw := range []string{"lamp orbit cactus river", longPassphrase(256), "qwertyuiopasdfghjkl"} {
		start := time.Now()
		_ = p.Check(pw, "jane.smith@nhs.net", "Jane Smith")
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Check of %d characters took %v", len(pw), d)
		}
	}
}

func BenchmarkPolicyCheck(b *testing.B) {
	p := NewPolicy()
	for _, tc := range []struct {
		name, pw string
	}{
		{"typical", "lamp orbit cactus river"},
		{"max", longPassphrase(256)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				_ = p.Check(tc.pw, "jane.smith@nhs.net", "Jane Smith")
			}
		})
	}
}

func BenchmarkHashDefaultParams(b *testing.B) {
	h := NewHasher(DefaultParams(), 1)
	salt := make([]byte, SaltLen)
	for b.Loop() {
		h.HashRaw("lamp orbit cactus river", salt)
	}
}

func FuzzPolicyCheck(f *testing.F) {
	p := NewPolicy()
	f.Add("lamp orbit cactus river", "jane.smith@nhs.net", "Jane Smith")
	f.Add("", "", "")
	f.Add("\xff\xfe aaaaaaaaaaaaaaaa", "@", "  ")
	f.Fuzz(func(t *testing.T, plain, email, name string) {
		err := p.Check(plain, email, name)
		if err == nil {
			return
		}
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != apperr.Invalid || ae.Message == "" {
			t.Fatalf("Check returned %v, not an apperr Invalid with a message", err)
		}
	})
}
