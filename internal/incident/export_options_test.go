package incident

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"testing"

	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident/taxonomy"
)

// An export under a data sharing agreement holds only the permitted
// columns, leaves out events that opted out of sharing, starts with its
// label lines, and records what the caller asks in the audit transaction
// (T15, T17).
func TestExportOptionsLimitColumnsAndEvents(t *testing.T) { // T15 T17
	t.Parallel()
	tax, err := taxonomy.Load()
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d)
		f.event(t, f.ann, "RM1", 1, func(s *Submission) { s.SharingOptOut = true })
		shared := f.event(t, f.bob, "RM1", 2, func(s *Submission) { s.Index.ServiceType = "19" })
		cols := []AnswerColumn{{Heading: "What happened", Element: "Description", Display: func(v []string) string { return "x" }},
			{Heading: "Kept out", Element: "Other", Display: func(v []string) string { return "secret" }}}
		var recorded int
		opts := ExportOptions{Fields: []string{"service_type", "reference", "Description"}, ExcludeOptedOut: true,
			Preamble: []string{"Agreement DSA-2026-001", "=label"}, Details: map[string]string{"agreement": "DSA-2026-001"},
			Record: func(ctx context.Context, tx *db.Tx, rows int, complete bool) error {
				if !complete {
					t.Error("a complete export recorded as incomplete")
				}
				recorded = rows
				return nil
			}}
		var out bytes.Buffer
		n, err := f.svc.Export(context.Background(), tax, Scope{Orgs: []string{"RM1"}}, Filter{Sort: SubmittedOldest}, cols, opts, f.bob, ward, &out)
		if err != nil || n != 1 || recorded != 1 {
			t.Fatalf("export: %d rows (recorded %d), %v", n, recorded, err)
		}
		r := csv.NewReader(&out)
		r.FieldsPerRecord = -1
		records, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{{"Agreement DSA-2026-001"}, {"'=label"}, {"Reference", "Service type", "What happened"},
			{string(shared.Reference), "Maternity services (inpatient or community)", "x"}}
		if len(records) != len(want) {
			t.Fatalf("export:\n%q", records)
		}
		for i := range want {
			if !slices.Equal(records[i], want[i]) {
				t.Errorf("line %d: %q, want %q", i+1, records[i], want[i])
			}
		}
		rows, err := audit.List(context.Background(), d, "events", "RM1", 5)
		if err != nil || len(rows) != 1 || rows[0].Details["agreement"] != "DSA-2026-001" || rows[0].Details["rows"] != "1" {
			t.Fatalf("audit = %+v, %v", rows, err)
		}
	})
}

// Every column of the export has a key, and the keys are distinct.
func TestExportFieldsNameEveryColumnOnce(t *testing.T) {
	fields := ExportFields([]AnswerColumn{{Heading: "A", Element: "X"}})
	if len(fields) != len(exportHeader)+1 || len(exportKeys) != len(exportHeader) {
		t.Fatalf("fields %v", fields)
	}
	seen := map[string]bool{}
	for _, f := range fields {
		if f.Key == "" || seen[f.Key] {
			t.Fatalf("key %q empty or repeated", f.Key)
		}
		seen[f.Key] = true
	}
}
