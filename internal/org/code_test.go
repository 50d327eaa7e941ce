package org

import (
	"encoding/csv"
	"os"
	"strings"
	"testing"

	"github.com/psims/psims/internal/apperr"
)

// referenceFile is the national list of organisations shared with the
// project, outside the module.
const referenceFile = "../../../shared/reference/ods-organisations.csv"

func TestParseCode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // "" when refused
	}{
		{"a trust code is accepted", "RM1", "RM1"},
		{"a trust code of letters only is accepted", "RMY", "RMY"},
		{"a commissioner code starting with digits is accepted", "07N", "07N"},
		{"a Welsh health board code is accepted", "7A3", "7A3"},
		{"a practice code is accepted", "P87657", "P87657"},
		{"a pharmacy code is accepted", "FL479", "FL479"},
		{"a four-character code is accepted", "P15J", "P15J"},
		{"a Welsh pharmacy code is accepted", "601201A", "601201A"},
		{"lower case is upper-cased", "rm1", "RM1"},
		{"surrounding space is trimmed", "  p87657\t", "P87657"},
		{"an empty code is refused", "", ""},
		{"spaces alone are refused", "   ", ""},
		{"two characters are refused", "RM", ""},
		{"eight characters are refused", "P876571A", ""},
		{"three digits are refused", "123", ""},
		{"a word is refused", "HELLO", ""},
		{"a long word is refused", "HOSPITAL", ""},
		{"a space inside is refused", "RM 1", ""},
		{"a hyphen is refused", "R-M1", ""},
		{"a percent sign is refused", "RM%", ""},
		{"a code starting with a digit and four long is refused", "1ABC", ""},
		{"seven characters not ending in a letter are refused", "6012011", ""},
		{"non-ASCII letters are refused", "ÄB1", ""},
		{"a Kelvin sign that upper-cases oddly is refused", "\u212aM1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCode(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ParseCode(%q) = %q, want an error", tt.in, got)
				}
				if apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(apperr.MessageOf(err), "like RM1 or P87657") {
					t.Fatalf("error %v is not an Invalid with an example", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCode(%q): %v", tt.in, err)
			}
			if got.String() != tt.want {
				t.Fatalf("ParseCode(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEveryCodeOfTheReferenceFileParses(t *testing.T) {
	f, err := os.Open(referenceFile)
	if os.IsNotExist(err) {
		t.Skipf("%s is not here", referenceFile)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 16496 {
		t.Fatalf("%d rows, want 16496", len(recs))
	}
	for i, rec := range recs {
		c, err := ParseCode(rec[0])
		if err != nil {
			t.Errorf("line %d: %q: %v", i+1, rec[0], err)
			continue
		}
		if c.String() != rec[0] {
			t.Errorf("line %d: %q parsed as %q", i+1, rec[0], c)
		}
	}
}

func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"RM1", "07N", "FL479", "P87657", "601201A", " rm1 ", "", "R-M1", "ß12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCode(s)
		if err != nil {
			if apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("ParseCode(%q): %v is not Invalid", s, err)
			}
			return
		}
		if n := len(c.String()); n < 3 || n > 7 {
			t.Fatalf("ParseCode(%q) = %q", s, c)
		}
		again, err := ParseCode(c.String())
		if err != nil || again != c {
			t.Fatalf("ParseCode(%q) = %q, but again gives %q, %v", s, c, again, err)
		}
	})
}
