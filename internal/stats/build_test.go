package stats

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/taxonomy"
	"github.com/psims/psims/internal/numfmt"
	"github.com/psims/psims/internal/stats/sdc"
)

func loadTaxonomy(t testing.TB) *taxonomy.Taxonomy {
	t.Helper()
	tax, err := taxonomy.Load()
	if err != nil {
		t.Fatal(err)
	}
	return tax
}

func testMeta() Meta {
	return Meta{Title: "Patient safety events: April to September 2026",
		From: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC),
		Basis: incident.BasisOccurred, Release: time.Date(2026, 11, 12, 9, 30, 0, 0, time.UTC), Version: 1}
}

// cleanCounts has no count from 1 to 7 anywhere below national level, so
// nothing needs suppressing and every figure is known exactly.
func cleanCounts() incident.StatCounts {
	return incident.StatCounts{
		Events: []incident.StatCount{
			{Org: "RM1", Type: incident.Incident, PhysicalHarm: "5", ServiceType: "1", N: 12},
			{Org: "RM1", Type: incident.Incident, PhysicalHarm: "4", ServiceType: "1", N: 13},
			{Org: "RM1", Type: incident.Incident, PhysicalHarm: "4", ServiceType: "19", N: 1222},
			{Org: "RM2", Type: incident.Risk, PhysicalHarm: "", ServiceType: "", N: 8},
			{Org: "RM2", Type: incident.Incident, PhysicalHarm: "5", ServiceType: "1", N: 40},
		},
		Codes: []incident.StatCodeCount{
			{Org: "RM1", Type: incident.Incident, Element: incident.ElementSafetyChallenges, Code: "2", N: 3},
			{Org: "RM2", Type: incident.Incident, Element: incident.ElementSafetyChallenges, Code: "2", N: 4},
			{Org: "RM2", Type: incident.Incident, Element: incident.ElementAgents, Code: "4", N: 1},
		},
	}
}

func table(t *testing.T, r *Report, name string) Table {
	t.Helper()
	for _, tb := range r.Tables {
		if tb.Name == name {
			return tb
		}
	}
	t.Fatalf("no table %s", name)
	return Table{}
}

// row returns the cells of the row whose header cells start with heads.
func row(t *testing.T, tb Table, heads ...string) map[string]string {
	t.Helper()
	for _, r := range tb.Rows {
		if len(r.Heads) >= len(heads) && slices.Equal(r.Heads[:len(heads)], heads) {
			out := map[string]string{}
			for i, c := range r.Cells {
				out[tb.Columns[i]] = c.Text
			}
			return out
		}
	}
	t.Fatalf("%s: no row %v", tb.Name, heads)
	return nil
}

// The published figures of known counts: national figures exact,
// organisation figures rounded to 5 (8→10, 12→10, 13→15, 1234→1235) with
// totals rounded from their own unrounded sums, and rates from the
// published count (T16, T14).
func TestBuildPublishesTheProtectedFigures(t *testing.T) { // T16, T14
	in := Input{Meta: testMeta(), Rules: sdc.Default(), Counts: cleanCounts(), Taxonomy: loadTaxonomy(t),
		OrgNames:     map[string]string{"RM1": "Royal Example Trust"},
		Denominators: []Denominator{{Org: "RM1", Measure: Admissions, Value: 50000}, {Org: "RM9", Measure: BedDays, Value: 10}}}
	r, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != 1295 || r.Orgs != 2 {
		t.Fatalf("total %d over %d organisations, want 1295 over 2", r.Total, r.Orgs)
	}
	nat := table(t, r, "national-totals")
	if got := row(t, nat, "Incident")["Events"]; got != "1,287" {
		t.Errorf("national incidents %q, want 1,287 (exact)", got)
	}
	if got := row(t, nat, "All types")["Events"]; got != "1,295" {
		t.Errorf("national total %q, want 1,295", got)
	}
	oth := table(t, r, "organisation-type-harm")
	rm1 := row(t, oth, "RM1", "Royal Example Trust", "Incident")
	// 12 → 10, 1235 (13 + 1222) → 1235, total 1247 → 1245, not 10 + 1235.
	for col, want := range map[string]string{"No physical harm": "10", "Low physical harm": "1,235", "Fatal": "0", "Not recorded": "0", "Total": "1,245"} {
		if rm1[col] != want {
			t.Errorf("RM1 incidents, %s: %q, want %q", col, rm1[col], want)
		}
	}
	rm2 := row(t, oth, "RM2", "RM2", "Risk")
	if rm2["Not recorded"] != "10" || rm2["Total"] != "10" {
		t.Errorf("RM2 risks: %v, want 8 shown as 10", rm2)
	}
	ot := row(t, table(t, r, "organisation-totals"), "RM2")
	if ot["Incident"] != "40" || ot["Risk"] != "10" || ot["All types"] != "50" {
		t.Errorf("RM2 totals %v", ot)
	}
	nth := row(t, table(t, r, "national-type-harm"), "Incident")
	if nth["No physical harm"] != "52" || nth["Low physical harm"] != "1,235" {
		t.Errorf("national incidents by harm %v", nth)
	}
	svc := row(t, table(t, r, "national-service-type"), "Maternity services (inpatient or community)")
	if svc["Incident"] != "1,222" || svc["All types"] != "1,222" {
		t.Errorf("maternity %v", svc)
	}
	if got := row(t, table(t, r, "national-service-type"), notRecorded)["Risk"]; got != "8" {
		t.Errorf("risks without a service type %q, want 8", got)
	}
	if got := row(t, table(t, r, "national-safety-challenges"), "Falls")["Incident"]; got != "7" {
		t.Errorf("falls %q, want 7 (national, exact)", got)
	}
	rates := table(t, r, "reporting-rates")
	if len(rates.Rows) != 1 {
		t.Fatalf("rates for %d organisations, want RM1 only (RM9 recorded nothing)", len(rates.Rows))
	}
	if got := row(t, rates, "RM1")["Rate per 1,000"]; got != "24.9" {
		t.Errorf("RM1 rate %q, want 1245 / 50000 × 1000 = 24.9 from the published total", got)
	}
	if r.Suppressed != 0 || r.Secondary != 0 {
		t.Errorf("%d suppressed (%d secondary), want none", r.Suppressed, r.Secondary)
	}
}

// Small counts: every published figure below national level obeys the
// rules, whatever secondary suppression the checker adds; national
// figures stay exact; a suppressed total suppresses its rate (T16).
func TestBuildAppliesTheRulesBelowNationalLevel(t *testing.T) { // T16
	c := incident.StatCounts{Events: []incident.StatCount{
		{Org: "A11", Type: incident.Incident, PhysicalHarm: "5", N: 3},
		{Org: "A11", Type: incident.Incident, PhysicalHarm: "4", N: 30},
		{Org: "B22", Type: incident.Incident, PhysicalHarm: "5", N: 9},
		{Org: "B22", Type: incident.GoodCare, N: 2},
		{Org: "C33", Type: incident.Outcome, PhysicalHarm: "3", N: 61},
	}}
	r, err := Build(Input{Meta: testMeta(), Rules: sdc.Default(), Counts: c, Taxonomy: loadTaxonomy(t),
		Denominators: []Denominator{{Org: "B22", Measure: BedDays, Value: 1000}}})
	if err != nil {
		t.Fatal(err)
	}
	truth := map[string]int64{"A11/Incident/No physical harm": 3, "A11/Incident/Low physical harm": 30, "B22/Incident/No physical harm": 9,
		"B22/Good care/Not recorded": 2, "C33/Poor outcome/Moderate physical harm": 61}
	suppressed, secondary := 0, 0
	for _, rw := range table(t, r, "organisation-type-harm").Rows {
		for i, cell := range rw.Cells {
			col := table(t, r, "organisation-type-harm").Columns[i]
			var v int64
			if col == "Total" {
				for k, n := range truth {
					if strings.HasPrefix(k, rw.Heads[0]+"/"+rw.Heads[2]+"/") {
						v += n
					}
				}
			} else {
				v = truth[rw.Heads[0]+"/"+rw.Heads[2]+"/"+col]
			}
			switch {
			case v >= 1 && v <= 7:
				if !cell.Suppressed || cell.Text != "*" {
					t.Errorf("%v %s: true %d shown as %q, want *", rw.Heads, col, v, cell.Text)
				}
				suppressed++
			case cell.Suppressed:
				suppressed++
				secondary++
			case cell.Value != (v+2)/5*5 || cell.Text != strconv.FormatInt((v+2)/5*5, 10):
				t.Errorf("%v %s: true %d shown as %q, want it rounded to 5", rw.Heads, col, v, cell.Text)
			}
		}
	}
	if suppressed == 0 {
		t.Fatal("nothing suppressed")
	}
	if got := row(t, table(t, r, "national-type-harm"), "Incident")["No physical harm"]; got != "12" {
		t.Errorf("national incidents with no harm %q, want 12 exactly", got)
	}
	b22 := row(t, table(t, r, "organisation-totals"), "B22")
	rate := row(t, table(t, r, "reporting-rates"), "B22")
	if (b22["All types"] == "*") != (rate["Rate per 1,000"] == "*") || rate["Events"] != b22["All types"] {
		t.Errorf("B22 total %q but rate row %v: a rate must be suppressed with its count", b22["All types"], rate)
	}
	if b22["All types"] != "*" && rate["Rate per 1,000"] != b22["All types"]+".0" {
		t.Errorf("B22 rate %q from published total %q per 1,000 bed days", rate["Rate per 1,000"], b22["All types"])
	}
	if secondary > r.Secondary {
		t.Errorf("%d figures suppressed beyond the rules, but the report counts %d", secondary, r.Secondary)
	}
}

// One organisation alone: its figures are the national ones, published
// exactly, so no suppression can hide a small count, and the build is
// refused with a message saying how many figures (T16).
func TestBuildRefusesWhatCannotBeProtected(t *testing.T) { // T16
	c := incident.StatCounts{Events: []incident.StatCount{{Org: "A11", Type: incident.Incident, PhysicalHarm: "5", N: 3}}}
	_, err := Build(Input{Meta: testMeta(), Rules: sdc.Default(), Counts: c, Taxonomy: loadTaxonomy(t)})
	if apperr.CodeOf(err) != apperr.Conflict || !errors.Is(err, ErrUnsafe) || !errors.Is(err, sdc.ErrCannotProtect) {
		t.Fatalf("got %v, want a conflict wrapping ErrUnsafe", err)
	}
	if msg := apperr.MessageOf(err); !strings.Contains(msg, "cannot be published safely") || !regexp.MustCompile(`\d+ figures below national level`).MatchString(msg) ||
		!strings.Contains(msg, "A11, Incident, No physical harm (could be worked out as 3 to 3)") {
		t.Errorf("message %q", msg)
	}
}

// The same data and metadata give the same bytes, whatever order the
// counts come in (T16: reproducible publications).
func TestFilesAreByteIdenticalOnRebuild(t *testing.T) { // T16
	tax := loadTaxonomy(t)
	in := Input{Meta: testMeta(), Rules: sdc.Default(), Counts: cleanCounts(), Taxonomy: tax, OrgNames: map[string]string{"RM1": "Royal Example Trust"},
		Denominators: []Denominator{{Org: "RM2", Measure: BedDays, Value: 777}, {Org: "RM1", Measure: Admissions, Value: 50000}}}
	a, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	shuffled := in
	shuffled.Counts.Events = slices.Clone(in.Counts.Events)
	slices.Reverse(shuffled.Counts.Events)
	shuffled.Denominators = slices.Clone(in.Denominators)
	slices.Reverse(shuffled.Denominators)
	b, err := Build(shuffled)
	if err != nil {
		t.Fatal(err)
	}
	fa, err := Files(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := Files(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(fa) != len(fb) || len(fa) != 1+len(a.Tables) {
		t.Fatalf("%d and %d files", len(fa), len(fb))
	}
	for i := range fa {
		if fa[i].Name != fb[i].Name || !bytes.Equal(fa[i].Body, fb[i].Body) || fa[i].SHA256 != fb[i].SHA256 {
			t.Errorf("%s differs between two builds of the same data", fa[i].Name)
		}
	}
	// A different release time is different metadata, and shows.
	in.Meta.Release = in.Meta.Release.Add(time.Hour)
	c, _ := Build(in)
	fc, _ := Files(c, nil)
	if bytes.Equal(fc[0].Body, fa[0].Body) {
		t.Error("the workbook does not carry its release time")
	}
}

// The workbook, read back with excelize: a sheet per table and Notes,
// the terms label (T17), figures as numbers and symbols as text, fixed
// document properties.
func TestWorkbookReadsBack(t *testing.T) { // T16, T17
	r, err := Build(Input{Meta: testMeta(), Rules: sdc.Default(), Counts: cleanCounts(), Taxonomy: loadTaxonomy(t)})
	if err != nil {
		t.Fatal(err)
	}
	x, err := xlsxFile(r)
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(x))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := []string{"national-totals", "national-type-harm", "national-service-type", "national-safety-challenges",
		"national-agents", "organisation-totals", "organisation-type-harm", "Notes"}
	if got := f.GetSheetList(); !slices.Equal(got, want) {
		t.Fatalf("sheets %v, want %v", got, want)
	}
	if v, _ := f.GetCellValue("national-totals", "A2"); v != TermsLabel {
		t.Errorf("label %q", v)
	}
	rows, err := f.GetRows("organisation-type-harm")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[3][:4], []string{"ODS code", "Organisation", "Event type", "No physical harm"}) {
		t.Errorf("header %v", rows[3])
	}
	if !slices.Equal(rows[4][:4], []string{"RM1", "RM1", "Incident", "10"}) || rows[4][len(rows[4])-1] != "1245" {
		t.Errorf("first row %v", rows[4])
	}
	typ, _ := f.GetCellType("organisation-type-harm", "D5")
	if typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("a figure is stored as %v, want a number", typ)
	}
	props, err := f.GetDocProps()
	if err != nil {
		t.Fatal(err)
	}
	if props.Created != "2026-11-12T09:30:00Z" || props.Modified != props.Created || props.Title != r.Meta.Title || props.Description != TermsLabel {
		t.Errorf("properties %+v", props)
	}
	notes, _ := f.GetRows("Notes")
	var text strings.Builder
	for _, n := range notes {
		text.WriteString(strings.Join(n, " ") + "\n")
	}
	for _, want := range []string{"Disclosure control", "counts from 1 to 7 are shown as \"*\"", "Revisions", TermsLabel} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("notes lack %q:\n%s", want, text.String())
		}
	}
}

// CSV: the label on every file (T17), and a name that a spreadsheet would
// run as a formula kept as text.
func TestCSVIsLabelledAndFormulaSafe(t *testing.T) { // T17
	r, err := Build(Input{Meta: testMeta(), Rules: sdc.Default(), Counts: cleanCounts(), Taxonomy: loadTaxonomy(t),
		OrgNames: map[string]string{"RM1": "=HYPERLINK(\"http://x\")"}})
	if err != nil {
		t.Fatal(err)
	}
	files, err := Files(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !strings.HasSuffix(f.Name, ".csv") {
			continue
		}
		if lines := strings.Split(string(f.Body), "\n"); len(lines) < 4 || lines[1] != TermsLabel {
			t.Errorf("%s: second line %q, want the terms label", f.Name, lines[1])
		}
		if strings.Contains(string(f.Body), ",=HYPERLINK") || strings.Contains(string(f.Body), "\"=HYPERLINK") {
			t.Errorf("%s: a formula left runnable:\n%s", f.Name, f.Body)
		}
	}
}

// Changes says which figures changed between versions, in words.
func TestChangesListsFiguresInWords(t *testing.T) { // T16
	old := []Figure{{"T: A, x", "10"}, {"T: B, x", "*"}, {"T: C, x", "5"}}
	new := []Figure{{"T: A, x", "15"}, {"T: B, x", "*"}, {"T: D, x", "20"}}
	got := Changes(old, new)
	want := []string{"T: A, x: 10 → 15", "T: D, x: added (20)", "T: C, x: removed (was 5)"}
	if !slices.Equal(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
	if got := Changes(new, new); len(got) != 0 {
		t.Errorf("changes of the same figures: %q", got)
	}
}

// A period without events publishes zeros nationally and no
// organisation.
func TestBuildAnEmptyPeriod(t *testing.T) {
	r, err := Build(Input{Meta: testMeta(), Rules: sdc.Default(), Taxonomy: loadTaxonomy(t)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != 0 || r.Orgs != 0 || len(table(t, r, "organisation-type-harm").Rows) != 0 {
		t.Errorf("empty period: %+v", r)
	}
	if got := row(t, table(t, r, "national-totals"), "All types")["Events"]; got != "0" {
		t.Errorf("national total %q", got)
	}
	if _, err := Files(r, nil); err != nil {
		t.Fatal(err)
	}
}

func TestSixMonthPeriods(t *testing.T) {
	for day, want := range map[string][2]string{
		"2026-04-01": {"2026-04-01", "2026-09-30"}, "2026-09-30": {"2026-04-01", "2026-09-30"},
		"2026-10-01": {"2026-10-01", "2027-03-31"}, "2027-03-31": {"2026-10-01", "2027-03-31"}, "2027-01-15": {"2026-10-01", "2027-03-31"},
	} {
		d, _ := time.Parse(dayLayout, day)
		from, to := SixMonthPeriod(d)
		if from.Format(dayLayout) != want[0] || to.Format(dayLayout) != want[1] {
			t.Errorf("%s: %s to %s, want %v", day, from.Format(dayLayout), to.Format(dayLayout), want)
		}
	}
}

func TestRateText(t *testing.T) {
	for _, c := range []struct {
		events, den int64
		want        string
	}{{25, 1000, "25.0"}, {1245, 50000, "24.9"}, {1, 3, "333.3"}, {2, 3, "666.7"}, {5, 1_000_000, "0.0"}, {5, 200_000, "0.0"}, {15, 200_000, "0.1"}, {3_000_000, 1000, "3,000,000.0"}} {
		if got := rateText(c.events, c.den); got != c.want {
			t.Errorf("rate %d / %d = %q, want %q", c.events, c.den, got, c.want)
		}
	}
}

// BenchmarkBuild builds a publication of orgs organisations with counts
// of every size, the disclosure control included, and its files.
func BenchmarkBuild(b *testing.B) {
	for _, orgs := range []int{200, 1000} {
		b.Run(strconv.Itoa(orgs)+"-orgs", func(b *testing.B) {
			tax := loadTaxonomy(b)
			var c incident.StatCounts
			harms := []string{"5", "4", "3", "2", "1", ""}
			x := uint64(1)
			for o := range orgs {
				for ti, ty := range incident.Types() {
					for hi, h := range harms {
						x = x*6364136223846793005 + 1442695040888963407
						n := int64(x>>33) % 400
						if hi >= 3 {
							n %= 9 // severe harm and death are rare
						}
						if n > 0 && (ti == 0 || hi == 5) {
							c.Events = append(c.Events, incident.StatCount{Org: fmt.Sprintf("X%04d", o), Type: ty, PhysicalHarm: h, ServiceType: "1", N: n})
						}
					}
				}
			}
			in := Input{Meta: testMeta(), Rules: sdc.Default(), Counts: c, Taxonomy: tax}
			b.ResetTimer()
			for b.Loop() {
				r, err := Build(in)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Files(r, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzBuild: any counts give a report or a refusal, never a panic; a
// report publishes national figures exactly and organisation figures by
// the rules, and its files are written.
func FuzzBuild(f *testing.F) {
	f.Add([]byte{3, 30, 9, 2, 61, 0, 1, 7, 8})
	f.Add([]byte{200, 1, 1, 1, 250, 13, 12})
	tax := loadTaxonomy(f)
	harms := []string{"5", "4", "3", "2", "1", "", "99"}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 300 {
			return
		}
		var c incident.StatCounts
		var truth int64
		for i := 0; i+1 < len(data); i += 2 {
			k, n := data[i], int64(data[i+1])
			c.Events = append(c.Events, incident.StatCount{Org: fmt.Sprintf("O%d", k%5), Type: incident.Types()[int(k/5)%4],
				PhysicalHarm: harms[int(k/20)%len(harms)], ServiceType: strconv.Itoa(int(k % 3)), N: n})
			truth += n
		}
		r, err := Build(Input{Meta: testMeta(), Rules: sdc.Default(), Counts: c, Taxonomy: tax})
		if err != nil {
			if !errors.Is(err, ErrUnsafe) {
				t.Fatalf("not a refusal: %v", err)
			}
			return
		}
		if r.Total != truth {
			t.Fatalf("total %d, want %d", r.Total, truth)
		}
		if got := row(t, table(t, r, "national-totals"), "All types")["Events"]; got != numfmt.Thousands(truth) {
			t.Fatalf("national total shown %q, want %d", got, truth)
		}
		for _, rw := range table(t, r, "organisation-totals").Rows {
			for _, cell := range rw.Cells {
				if !cell.Suppressed && cell.Value%5 != 0 {
					t.Fatalf("%v: %q is not rounded to 5", rw.Heads, cell.Text)
				}
				if cell.Suppressed && cell.Text != "*" {
					t.Fatalf("%v: suppressed as %q", rw.Heads, cell.Text)
				}
			}
		}
		if _, err := Files(r, nil); err != nil {
			t.Fatal(err)
		}
	})
}
