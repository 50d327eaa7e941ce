package emailaddr

import (
	"errors"
	"strings"
	"testing"

	"github.com/psims/psims/internal/apperr"
)

func TestParse(t *testing.T) {
	local64 := strings.Repeat("a", 64)
	label63 := strings.Repeat("b", 63)
	long := func(n int) string { // n characters in all
		return local64 + "@" + label63 + "." + label63 + "." + strings.Repeat("c", n-64-1-63-1-63-1-3) + ".uk"
	}
	long254 := long(254)
	tests := []struct {
		name    string
		in      string
		want    string // "" when refused
		wantMsg string
	}{
		{"a plain NHSmail address is accepted", "jane.smith@nhs.net", "jane.smith@nhs.net", ""},
		{"capitals are lower-cased", "Jane.Smith@NHS.Net", "jane.smith@nhs.net", ""},
		{"surrounding spaces are trimmed", "  jane@nhs.net \t\n", "jane@nhs.net", ""},
		{"a plus tag is kept", "jane+psims@nhs.net", "jane+psims@nhs.net", ""},
		{"a subdomain is accepted", "a.b@gstt.nhs.uk", "a.b@gstt.nhs.uk", ""},
		{"hyphens inside labels are accepted", "x@my-trust.nhs.uk", "x@my-trust.nhs.uk", ""},
		{"punycode domains are accepted", "x@xn--bcher-kva.example", "x@xn--bcher-kva.example", ""},
		{"64 characters before the @ are accepted", local64 + "@nhs.net", local64 + "@nhs.net", ""},
		{"254 characters in all are accepted", long254, long254, ""},
		{"an empty string asks for an address", "", "", "Enter an email address"},
		{"only spaces ask for an address", "   ", "", "Enter an email address"},
		{"a display name is refused", "Jane Smith <jane@nhs.net>", "", formatMessage},
		{"angle brackets are refused", "<jane@nhs.net>", "", formatMessage},
		{"a space inside is refused", "jane smith@nhs.net", "", formatMessage},
		{"a control character is refused", "jane\x00@nhs.net", "", formatMessage},
		{"a newline inside is refused", "jane@nhs.net\nbcc@evil.example", "", formatMessage},
		{"no @ is refused", "jane.nhs.net", "", formatMessage},
		{"two @ are refused", "jane@smith@nhs.net", "", formatMessage},
		{"an empty local part is refused", "@nhs.net", "", formatMessage},
		{"an empty domain is refused", "jane@", "", formatMessage},
		{"a domain without a dot is refused", "jane@localhost", "", formatMessage},
		{"an empty label is refused", "jane@nhs..net", "", formatMessage},
		{"a trailing dot is refused", "jane@nhs.net.", "", formatMessage},
		{"a label starting with a hyphen is refused", "jane@-nhs.net", "", formatMessage},
		{"a label ending with a hyphen is refused", "jane@nhs-.net", "", formatMessage},
		{"a leading dot in the local part is refused", ".jane@nhs.net", "", formatMessage},
		{"two dots in the local part are refused", "jane..smith@nhs.net", "", formatMessage},
		{"a quoted local part is refused", `"jane smith"@nhs.net`, "", formatMessage},
		{"an IP address literal is refused", "jane@[10.0.0.1]", "", formatMessage},
		{"a numeric top-level domain is refused", "jane@10.0.0.1", "", formatMessage},
		{"non-ASCII letters are refused", "jané@nhs.net", "", formatMessage},
		{"a comma is refused", "jane@nhs.net,bob@nhs.net", "", formatMessage},
		{"65 characters before the @ are refused", local64 + "a@nhs.net", "", "64 characters or fewer"},
		{"255 characters in all are refused", long(255), "", "254 characters or fewer"},
		{"a 64-character label is refused", "jane@" + label63 + "b.net", "", formatMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.want != "" {
				if err != nil {
					t.Fatalf("Parse(%q): %v", tt.in, err)
				}
				if got.String() != tt.want {
					t.Fatalf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
				}
				return
			}
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Code != apperr.Invalid {
				t.Fatalf("Parse(%q) = %q, %v; want an apperr Invalid", tt.in, got, err)
			}
			if !strings.Contains(ae.Message, tt.wantMsg) {
				t.Fatalf("message %q does not contain %q", ae.Message, tt.wantMsg)
			}
			if !got.IsZero() {
				t.Fatalf("refused address came back as %q", got)
			}
		})
	}
}

func TestDomain(t *testing.T) {
	a, err := Parse("Jane@GSTT.NHS.UK")
	if err != nil {
		t.Fatal(err)
	}
	if a.Domain() != "gstt.nhs.uk" {
		t.Fatalf("Domain() = %q", a.Domain())
	}
	if (Address{}).Domain() != "" {
		t.Fatal("the zero Address has a domain")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"jane.smith@nhs.net", " A@B.C ", "a@b", "<a@b.c>", "a@@b.c", "a@-b.c", ".@.", "\x00@\x00.\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			if apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("Parse(%q) error %v is not Invalid", s, err)
			}
			return
		}
		again, err := Parse(a.String())
		if err != nil {
			t.Fatalf("Parse(%q) accepted %q, which then fails: %v", s, a, err)
		}
		if again != a {
			t.Fatalf("Parse(%q) = %q, but Parse of that = %q", s, a, again)
		}
		if len(a.String()) > MaxLength || strings.ContainsAny(a.String(), " <>\"") || a.String() != strings.ToLower(a.String()) {
			t.Fatalf("Parse(%q) accepted %q", s, a)
		}
	})
}
