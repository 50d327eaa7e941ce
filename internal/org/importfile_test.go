package org

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/apperr"
)

func TestParseImportFile(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantLayout Layout
		wantRows   int
		wantErr    string // part of the message; "" when accepted
	}{
		{"the ODS layout is read without a header", "RM1,NORFOLK AND NORWICH\r\nP87657,IRLAM PRACTICE\r\n", LayoutODS, 2, ""},
		{"extra ODS columns are ignored", "RM1,NORFOLK,x,y,z\n", LayoutODS, 1, ""},
		{"quoted names with commas are read", "15C,\"NHS BRISTOL, NORTH SOMERSET CCG\"\n", LayoutODS, 1, ""},
		{"a headed file is detected", "ods_code,name,type,parent\nRM1,Norfolk,trust,\n", LayoutHeaded, 1, ""},
		{"a header must start with ods_code", "name,ods_code\nNorfolk,RM1\n", "", 0, "Line 1: \"name\" is not an ODS code"},
		{"a header with a byte order mark is detected", "\uFEFFods_code,name\nRM1,Norfolk\n", LayoutHeaded, 1, ""},
		{"blank lines are skipped", "RM1,A\n\n\nRJ1,B\n", LayoutODS, 2, ""},
		{"an empty file is refused", "", "", 0, "no organisations"},
		{"a header alone is refused", "ods_code,name\n", "", 0, "no organisations"},
		{"a bad code names its line", "RM1,A\nRJ1,B\nR-1,C\n", "", 0, "Line 3: \"R-1\" is not an ODS code"},
		{"a missing name names its line", "RM1,A\nRJ1,  \n", "", 0, "Line 2: Enter a name for RJ1"},
		{"a row without a name column is refused", "RM1\n", "", 0, "Line 1: Expected an ODS code and a name"},
		{"a duplicate code names both lines", "RM1,A\nRJ1,B\nrm1,C\n", "", 0, "Line 3: ODS code RM1 is also on line 1"},
		{"an unknown type names its line", "ods_code,name,type\nRM1,A,hospital\n", "", 0, "Line 2: \"hospital\" is not a type"},
		{"an unknown column is refused", "ods_code,name,colour\nRM1,A,red\n", "", 0, "Line 1: The column \"colour\" is not one we know"},
		{"a header without a name is refused", "ods_code,type\nRM1,trust\n", "", 0, "no name column"},
		{"a short headed row is refused", "ods_code,name,type\nRM1,A\n", "", 0, "Line 2: Expected 3 columns"},
		{"a bad parent names its line", "ods_code,name,parent\nRM1,A,??\n", "", 0, "Line 2: The parent \"??\" is not an ODS code"},
		{"its own parent is refused", "ods_code,name,parent\nRM1,A,rm1\n", "", 0, "cannot be its own parent"},
		{"a broken quote names its line", "RM1,A\nRJ1,\"B\n", "", 0, "Line 2: The file is not valid CSV"},
		{"a stray quote names its line", "RM1,A\nRJ1,B\"C\n", "", 0, "Line 2: The file is not valid CSV"},
		{"a control character in a name is refused", "RM1,A\x01B\n", "", 0, "control character"},
		{"invalid UTF-8 in a name is refused", "RM1,A\xffB\n", "", 0, "not valid UTF-8"},
		{"a very long name is refused", "RM1," + strings.Repeat("N", 201) + "\n", "", 0, "200 characters or fewer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseImportFile(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if apperr.CodeOf(err) != apperr.Invalid {
					t.Fatalf("err = %v, want Invalid", err)
				}
				msg := apperr.MessageOf(err)
				if !strings.Contains(msg, tt.wantErr) {
					t.Fatalf("message %q does not contain %q", msg, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Layout != tt.wantLayout || len(f.Rows) != tt.wantRows {
				t.Fatalf("layout %s with %d rows, want %s with %d", f.Layout, len(f.Rows), tt.wantLayout, tt.wantRows)
			}
		})
	}
}

func TestParseImportFileReadsEveryColumn(t *testing.T) {
	in := "ods_code , Name,PARENT,type\n07q,NHS BROMLEY CCG,,icb\ng84039, NORHEADS LANE SURGERY ,07Q,GP-Practice\n"
	f, err := ParseImportFile(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if !f.HasType || !f.HasParent {
		t.Fatalf("HasType = %v, HasParent = %v", f.HasType, f.HasParent)
	}
	got := f.Rows[1]
	if got.Line != 3 || got.Code.String() != "G84039" || got.Name != "NORHEADS LANE SURGERY" ||
		got.Type != TypeGPPractice || got.Parent.String() != "07Q" || !got.Active {
		t.Fatalf("row = %+v", got)
	}
	if !f.Rows[0].Parent.IsZero() || f.Rows[0].Type != TypeICB {
		t.Fatalf("row = %+v", f.Rows[0])
	}
}

func TestTheExampleFileParses(t *testing.T) {
	f, err := ParseImportFile(strings.NewReader(readFile(t, "../../examples/organisations.csv")))
	if err != nil {
		t.Fatal(err)
	}
	if f.Layout != LayoutHeaded || len(f.Rows) < 25 {
		t.Fatalf("layout %s with %d rows", f.Layout, len(f.Rows))
	}
}

func TestParseTheFullReferenceFile(t *testing.T) {
	in, err := os.ReadFile(referenceFile)
	if os.IsNotExist(err) {
		t.Skipf("%s is not here", referenceFile)
	}
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	f, err := ParseImportFile(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("parsed %d rows in %v", len(f.Rows), time.Since(start))
	if f.Layout != LayoutODS || len(f.Rows) != 16496 || f.Rows[16495].Line != 16496 {
		t.Fatalf("layout %s, %d rows", f.Layout, len(f.Rows))
	}
}

func FuzzImport(f *testing.F) {
	f.Add("RM1,NORFOLK\r\nP87657,\"IRLAM, SALFORD\"\r\n")
	f.Add("ods_code,name,type,parent\nRM1,A,trust,\nP87657,B,gp-practice,RM1\n")
	f.Add("\uFEFFods_code,name\n\"RM1\"\"\",A\n")
	f.Add("RM1,\"A\nB\"\n,\n")
	f.Fuzz(func(t *testing.T, in string) {
		file, err := ParseImportFile(strings.NewReader(in))
		if err != nil {
			if apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("error %v is not Invalid", err)
			}
			return
		}
		seen := map[Code]bool{}
		for _, r := range file.Rows {
			if r.Code.IsZero() || r.Name == "" || r.Line < 1 || seen[r.Code] || r.Parent == r.Code {
				t.Fatalf("accepted a bad row %+v", r)
			}
			seen[r.Code] = true
		}
	})
}
