package org

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

func readFile(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func mustImport(t *testing.T, s *Store, in string) ImportResult {
	t.Helper()
	res, err := s.Import(context.Background(), strings.NewReader(in))
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return res
}

func mustCode(tb testing.TB, s string) Code {
	tb.Helper()
	c, err := ParseCode(s)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func codes(orgs []Organisation) string {
	var out []string
	for _, o := range orgs {
		out = append(out, o.Code.String())
	}
	return strings.Join(out, " ")
}

func TestImportTheExampleFile(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := NewStore(d)
		res := mustImport(t, s, readFile(t, "../../examples/organisations.csv"))
		if res.Added != 30 || res.Updated != 0 {
			t.Fatalf("result = %+v", res)
		}
		o, err := s.Get(ctx, mustCode(t, "p87657"))
		if err != nil {
			t.Fatal(err)
		}
		want := Organisation{Code: mustCode(t, "P87657"), Name: "(IRLAM) SALFORD CARE CTRS MEDICAL PRACTI", Type: TypeGPPractice, Parent: mustCode(t, "01G"), Active: true}
		if o != want {
			t.Fatalf("Get = %+v, want %+v", o, want)
		}
		rows, err := audit.List(ctx, d, "organisation", "*", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Action != "org.import" || rows[0].Details["added"] != "30" || rows[0].Details["updated"] != "0" {
			t.Fatalf("audit = %+v", rows)
		}
	})
}

func TestReimportUpdatesNamesAndKeepsTheRest(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := NewStore(d)
		mustImport(t, s, "ods_code,name,type,parent\n07Q,NHS BROMLEY CCG,icb,\nG84039,NORHEADS LANE SURGERY,gp-practice,07Q\n")
		res := mustImport(t, s, "G84039,Norheads Lane Surgery\nRM1,NORFOLK AND NORWICH\n")
		if res.Added != 1 || res.Updated != 1 {
			t.Fatalf("result = %+v", res)
		}
		if n, err := s.Count(ctx); err != nil || n != 3 {
			t.Fatalf("Count = %d, %v; want 3", n, err)
		}
		o, err := s.Get(ctx, mustCode(t, "G84039"))
		if err != nil {
			t.Fatal(err)
		}
		if o.Name != "Norheads Lane Surgery" || o.Type != TypeGPPractice || o.Parent.String() != "07Q" {
			t.Fatalf("after an ODS re-import, got %+v; want the new name and the old type and parent", o)
		}
		mustImport(t, s, "ods_code,name,type,parent\nG84039,Norheads Lane Surgery,other,\n")
		if o, _ = s.Get(ctx, mustCode(t, "G84039")); o.Type != TypeOther || !o.Parent.IsZero() {
			t.Fatalf("a headed re-import did not set the type and parent: %+v", o)
		}
		rows, err := audit.List(ctx, d, "organisation", "*", 10)
		if err != nil || len(rows) != 3 {
			t.Fatalf("audit rows = %d, %v; want 3", len(rows), err)
		}
	})
}

func TestImportRefusesABadLineAndImportsNothing(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := NewStore(d)
		mustImport(t, s, "RM1,NORFOLK\n")
		tests := []struct {
			name, in, wantMsg string
		}{
			{"a bad code", "RJ1,GUYS\nRM1,RENAMED\nR#1,BAD\n", "Line 3:"},
			{"a parent that is nowhere", "ods_code,name,parent\nRJ1,GUYS,\nP87657,IRLAM,01G\n", "Line 3: The parent 01G is not in the file"},
		}
		for _, tt := range tests {
			t.Run("like "+tt.name, func(t *testing.T) {
				_, err := s.Import(ctx, strings.NewReader(tt.in))
				if apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(apperr.MessageOf(err), tt.wantMsg) {
					t.Fatalf("err = %v, want Invalid with %q", err, tt.wantMsg)
				}
				if n, _ := s.Count(ctx); n != 1 {
					t.Fatalf("%d organisations after a refused import, want 1", n)
				}
				if o, _ := s.Get(ctx, mustCode(t, "RM1")); o.Name != "NORFOLK" {
					t.Fatalf("RM1 was renamed to %q by a refused import", o.Name)
				}
			})
		}
		rows, _ := audit.List(ctx, d, "organisation", "*", 10)
		if len(rows) != 1 {
			t.Fatalf("%d audit rows, want only the first import's", len(rows))
		}
	})
}

func TestImportAcceptsParentsInTheFileOrAlreadyStored(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := NewStore(d)
		// The child comes before its parent in the file.
		mustImport(t, s, "ods_code,name,type,parent\nP87657,IRLAM,gp-practice,01G\n01G,NHS SALFORD CCG,icb,\n")
		mustImport(t, s, "ods_code,name,type,parent\nP87004,1/SALFORD,gp-practice,01G\n")
	})
}

func TestGetReportsAMissingOrganisation(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		_, err := NewStore(d).Get(context.Background(), mustCode(t, "RM1"))
		if apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("err = %v, want NotFound", err)
		}
	})
}

func TestSearch(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := NewStore(d)
		mustImport(t, s, readFile(t, "../../examples/organisations.csv"))
		mustImport(t, s, "RM2,UNIVERSITY HOSPITAL OF SOUTH MANCHESTER\nRM4,100% CARE_LTD\nRM5,100X CAREXLTD\nRM6,AAA CLINIC NEAR RM1\n")
		if _, err := d.WritePool().ExecContext(ctx, `UPDATE organisations SET active = FALSE WHERE ods_code = 'RM5'`); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name  string
			query string
			limit int
			want  string
		}{
			{"a code prefix finds codes starting with it, by name", "p87", 0, "P87657 P87004 P87668 P87035 P87032 P87015"},
			{"a short query finds codes and names, by name", "rm", 0, "RM4 RM6 601201A FL479 RM1 RM3 RM2 RRK"},
			{"an exact code comes before names containing it", "RM1", 0, "RM1 RM6"},
			{"a code in lower case matches", "p87657", 0, "P87657"},
			{"a word of the name matches in any case", "salford", 0, "P87657 P87004 P87668 01G Y03789 RM3"},
			{"the limit is honoured", "salford", 2, "P87657 P87004"},
			{"a percent sign is literal", "100%", 0, "RM4"},
			{"an underscore is literal", "care_", 0, "RM4"},
			{"a lone percent sign finds only names with one", "%", 0, "RM4"},
			{"a backslash is literal", `\`, 0, ""},
			{"inactive organisations are not offered", "100X", 0, ""},
			{"a blank query finds nothing", "  ", 0, ""},
			{"no match finds nothing", "zzzz", 0, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.Search(ctx, tt.query, tt.limit)
				if err != nil {
					t.Fatal(err)
				}
				if codes(got) != tt.want {
					t.Fatalf("Search(%q) = %s, want %s", tt.query, codes(got), tt.want)
				}
			})
		}
	})
}

func TestImportTheFullReferenceFile(t *testing.T) {
	t.Parallel()
	if testing.Short() || raceEnabled {
		// It measures speed; under the race detector SQLite alone takes
		// about 13 seconds. TestParseTheFullReferenceFile still runs.
		t.Skip("imports 16,496 organisations twice; run without -race or -short")
	}
	in, err := os.ReadFile(referenceFile)
	if os.IsNotExist(err) {
		t.Skipf("%s is not here", referenceFile)
	}
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := NewStore(d)
		for _, want := range []ImportResult{{Added: 16496}, {Updated: 16496}} {
			start := time.Now()
			res, err := s.Import(ctx, strings.NewReader(string(in)))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("imported %+v in %v", res, time.Since(start))
			if res != want {
				t.Fatalf("result = %+v, want %+v", res, want)
			}
		}
		if n, err := s.Count(ctx); err != nil || n != 16496 {
			t.Fatalf("Count = %d, %v", n, err)
		}
		got, err := s.Search(ctx, "bristol, north", 5)
		if err != nil || codes(got) != "15C" {
			t.Fatalf("Search = %s, %v", codes(got), err)
		}
	})
}
