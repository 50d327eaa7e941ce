package stats

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/psims/psims/internal/csvsafe"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/numfmt"
	"github.com/psims/psims/internal/stats/sdc"
)

// TermsLabel is on every output of a publication (T17).
const TermsLabel = "Published under the terms of use of PSIMS; no public statement without permission"

// File is one output file of a publication.
type File struct {
	// Name is the file name, such as "national-totals.csv".
	Name        string
	ContentType string
	Body        []byte
	// SHA256 is the hex SHA-256 of Body.
	SHA256 string
}

// Content types of the outputs.
const (
	TypeCSV  = "text/csv; charset=utf-8"
	TypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	TypeHTML = "text/html; charset=utf-8"
)

// HTMLName is the name of the HTML output: the publication's page.
const HTMLName = "publication.html"

// XLSXName is the name of the workbook.
const XLSXName = "publication.xlsx"

func newFile(name, contentType string, body []byte) File {
	sum := sha256.Sum256(body)
	return File{Name: name, ContentType: contentType, Body: body, SHA256: hex.EncodeToString(sum[:])}
}

// PeriodText says the period in words: "1 April 2026 to 30 September 2026".
func (m Meta) PeriodText() string {
	return m.From.Format("2 January 2006") + " to " + m.To.Format("2 January 2006")
}

// Counted says which events a publication counts: "occurring between 1
// April 2026 and 30 September 2026" or "submitted between …".
func (m Meta) Counted() string {
	verb := "occurring"
	if m.Basis == incident.BasisSubmitted {
		verb = "submitted"
	}
	return verb + " between " + m.From.Format("2 January 2006") + " and " + m.To.Format("2 January 2006")
}

// Note is one section of the guidance notes.
type Note struct {
	Heading    string
	Paragraphs []string
}

// Notes are the guidance notes of a report: what is counted, the basis,
// the disclosure rules in words, the revisions policy and the terms.
func (r *Report) Notes() []Note {
	ru := r.Rules
	rounding := fmt.Sprintf("Every other figure below national level is rounded to the nearest %d.", ru.Round)
	if ru.Round <= 1 {
		rounding = "Other figures below national level are shown as they are."
	}
	suppressed := fmt.Sprintf("%s figures are suppressed in this publication", numfmt.Thousands(r.Suppressed))
	if r.Secondary > 0 {
		suppressed += fmt.Sprintf(", %s of them only so that others cannot be worked out", numfmt.Thousands(r.Secondary))
		if r.SymbolBounded {
			suppressed += fmt.Sprintf(", so in this publication %q stands for a count from %d to %d", ru.Symbol, r.SymbolLo, r.SymbolHi)
		} else {
			suppressed += fmt.Sprintf(", so in this publication %q stands for any count from %d up", ru.Symbol, r.SymbolLo)
		}
	}
	notes := []Note{
		{Heading: "What is counted", Paragraphs: []string{
			fmt.Sprintf("Patient safety events recorded in PSIMS and %s: incidents, good care, risks and poor outcomes. Each event is counted once, as its current version stands; an event with several safety challenges or agents is counted once for each in those tables.",
				r.Meta.Counted()),
			fmt.Sprintf("In total %s events from %s organisations.", numfmt.Thousands(r.Total), numfmt.Thousands(r.Orgs)),
			"Physical harm is the most severe physical harm recorded for any patient of the event; \"Not recorded\" counts events that recorded none.",
		}},
		{Heading: "Basis", Paragraphs: []string{basisNote(r)}},
		{Heading: "Disclosure control", Paragraphs: []string{
			"National figures are published as they are.",
			fmt.Sprintf("Below national level, 0 stays 0 and counts from %d to %d are shown as %q. %s Totals are rounded from their own unrounded value, so rounded figures may not add up to a rounded total.",
				ru.Low, ru.High, ru.Symbol, rounding),
			fmt.Sprintf("A checker proved that no suppressed figure can be %s by differencing rows, columns and totals of these tables; where it could, further figures were suppressed. %s.", checked(ru), suppressed),
			"Reporting rates are worked out from the published, rounded number of events, and are not shown where that number is suppressed.",
		}},
		{Heading: "Revisions", Paragraphs: []string{
			"Figures are not revised as later records or amendments arrive. A publication is revised only to correct an error: the revision is a new version with its reason and a list of the figures that changed, and earlier versions stay published, marked as superseded.",
		}},
		{Heading: "Terms of use", Paragraphs: []string{TermsLabel + "."}},
	}
	if r.Meta.Version > 1 {
		notes = append(notes, Note{Heading: fmt.Sprintf("Version %d", r.Meta.Version), Paragraphs: []string{"Reason for this revision: " + r.Meta.Reason}})
	}
	return notes
}

func basisNote(r *Report) string {
	if r.Meta.Basis == "submitted" {
		return "Events are placed in the period by the day they were first submitted (UTC)."
	}
	return "Events are placed in the period by the first day they can have happened (UTC). Events that occurred in the period but were recorded after the figures were taken are not included."
}

// csvFile writes one table as CSV: two lines naming the publication and
// the terms (T17), a blank line, then a header row and one row per table
// row. Every text cell is made safe from formula injection.
func csvFile(r *Report, t Table) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	safe := func(cells []string) []string {
		out := make([]string, len(cells))
		for i, c := range cells {
			out[i] = csvsafe.Cell(c)
		}
		return out
	}
	records := [][]string{
		{r.Meta.Title + ": " + t.Title + ", " + r.Meta.Counted() + fmt.Sprintf(" (version %d)", r.Meta.Version)},
		{TermsLabel},
		{},
		append(append([]string{}, t.RowHeads...), t.Columns...),
	}
	for _, row := range t.Rows {
		rec := append([]string{}, row.Heads...)
		for _, c := range row.Cells {
			rec = append(rec, plainText(c))
		}
		records = append(records, rec)
	}
	for _, rec := range records {
		if err := w.Write(safe(rec)); err != nil {
			return nil, fmt.Errorf("stats: csv %s: %w", t.Name, err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("stats: csv %s: %w", t.Name, err)
	}
	return buf.Bytes(), nil
}

// plainText is a figure without thousands separators, for machines.
func plainText(c Cell) string {
	if c.Number && !c.Suppressed {
		return fmt.Sprint(c.Value)
	}
	return strings.ReplaceAll(c.Text, ",", "")
}

// sheetName is a table's sheet name: Excel allows 31 characters.
func sheetName(t Table) string {
	n := t.Name
	if len(n) > 31 {
		n = n[:31]
	}
	return n
}

// xlsxFile writes the workbook: one sheet per table, then "Notes". The
// document properties are fixed from the metadata, and excelize writes
// its zip entries in sorted order without timestamps, so the same report
// gives the same bytes.
func xlsxFile(r *Report) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	stamp := r.Meta.Release
	if stamp.IsZero() {
		stamp = r.Meta.To
	}
	props := &excelize.DocProperties{
		Title:          r.Meta.Title,
		Subject:        "Patient safety events " + r.Meta.Counted(),
		Creator:        "PSIMS",
		LastModifiedBy: "PSIMS",
		Description:    TermsLabel,
		Created:        stamp.UTC().Format(time.RFC3339),
		Modified:       stamp.UTC().Format(time.RFC3339),
		Version:        fmt.Sprint(r.Meta.Version),
		Language:       "en-GB",
	}
	if err := f.SetDocProps(props); err != nil {
		return nil, fmt.Errorf("stats: xlsx properties: %w", err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, fmt.Errorf("stats: xlsx style: %w", err)
	}
	first := true
	for _, t := range r.Tables {
		name := sheetName(t)
		if first {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return nil, fmt.Errorf("stats: xlsx sheet: %w", err)
			}
			first = false
		} else if _, err := f.NewSheet(name); err != nil {
			return nil, fmt.Errorf("stats: xlsx sheet: %w", err)
		}
		rows := [][]any{
			{t.Title + ", " + r.Meta.Counted()},
			{TermsLabel},
			{},
		}
		head := []any{}
		for _, h := range append(append([]string{}, t.RowHeads...), t.Columns...) {
			head = append(head, h)
		}
		rows = append(rows, head)
		for _, row := range t.Rows {
			rec := []any{}
			for _, h := range row.Heads {
				rec = append(rec, h)
			}
			for _, c := range row.Cells {
				if c.Number && !c.Suppressed {
					rec = append(rec, c.Value)
				} else {
					rec = append(rec, c.Text)
				}
			}
			rows = append(rows, rec)
		}
		if err := writeRows(f, name, rows); err != nil {
			return nil, err
		}
		if err := f.SetCellStyle(name, "A4", cellName(len(head), 4), bold); err != nil {
			return nil, fmt.Errorf("stats: xlsx style: %w", err)
		}
	}
	if _, err := f.NewSheet("Notes"); err != nil {
		return nil, fmt.Errorf("stats: xlsx notes: %w", err)
	}
	rows := [][]any{{r.Meta.Title}, {TermsLabel}, {}}
	for _, n := range r.Notes() {
		rows = append(rows, []any{n.Heading})
		for _, p := range n.Paragraphs {
			rows = append(rows, []any{p})
		}
		rows = append(rows, []any{})
	}
	if err := writeRows(f, "Notes", rows); err != nil {
		return nil, err
	}
	f.SetActiveSheet(0)
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, fmt.Errorf("stats: xlsx write: %w", err)
	}
	return buf.Bytes(), nil
}

func cellName(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row)
	return name
}

func writeRows(f *excelize.File, sheet string, rows [][]any) error {
	for i, rec := range rows {
		if len(rec) == 0 {
			continue
		}
		if err := f.SetSheetRow(sheet, cellName(1, i+1), &rec); err != nil {
			return fmt.Errorf("stats: xlsx %s row %d: %w", sheet, i+1, err)
		}
	}
	return nil
}

// HTMLFunc renders a report as the HTML of its page: a fragment with the
// tables, charts and notes. The web package provides it, so that the
// charts are drawn as the rest of the service draws them.
type HTMLFunc func(r *Report) ([]byte, error)

// Files writes every output of a report, in a fixed order: the HTML page,
// the workbook, then one CSV per table.
func Files(r *Report, html HTMLFunc) ([]File, error) {
	var files []File
	if html != nil {
		b, err := html(r)
		if err != nil {
			return nil, fmt.Errorf("stats: html: %w", err)
		}
		files = append(files, newFile(HTMLName, TypeHTML, b))
	}
	x, err := xlsxFile(r)
	if err != nil {
		return nil, err
	}
	files = append(files, newFile(XLSXName, TypeXLSX, x))
	for _, t := range r.Tables {
		b, err := csvFile(r, t)
		if err != nil {
			return nil, err
		}
		files = append(files, newFile(t.Name+".csv", TypeCSV, b))
	}
	return files, nil
}

// checked says in words what the differencing checker proved of every
// suppressed figure under the rules.
func checked(ru sdc.Rules) string {
	if ru.MinRange <= 2 {
		return "worked out exactly"
	}
	return fmt.Sprintf("narrowed to fewer than %d possible values", ru.MinRange)
}
