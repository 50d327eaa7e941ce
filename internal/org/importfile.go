package org

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/textcheck"
)

// Layout is the shape of an import file.
type Layout string

// The layouts Import reads.
const (
	// LayoutHeaded has a header line naming its columns: ods_code and name,
	// and optionally type and parent, in any order.
	LayoutHeaded Layout = "headed"
	// LayoutODS is the NHS ODS download: no header, the code in the first
	// column, the name in the second, anything after ignored.
	LayoutODS Layout = "ods"
)

// Limits on an import file, so a wrong file fails clearly instead of
// filling memory.
const (
	MaxImportRows = 200_000
	maxNameLength = 200
)

// ImportFile is an import file read and checked, before anything is written.
type ImportFile struct {
	Layout Layout
	// HasType and HasParent say whether the file gives types and parents;
	// when it does not, Import leaves those of existing organisations alone.
	HasType, HasParent bool
	Rows               []ImportRow
}

// ImportRow is one organisation of an import file and the line it is on.
type ImportRow struct {
	Line int
	Organisation
}

// ParseImportFile reads an import file in either layout, detecting a header
// by its first column being "ods_code". It checks every row: codes, names,
// types, parents that are well formed and not the row itself, and no code
// twice. It does not check that parents exist; Import does that against the
// database. Errors are *apperr.Error with code Invalid naming the first bad
// line. It reads only r and never panics, whatever r holds.
func ParseImportFile(r io.Reader) (ImportFile, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var f ImportFile
	var cols columns
	seen := map[Code]int{}
	for first := true; ; first = false {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return ImportFile{}, lineError(pe.Line, "the file is not valid CSV ("+pe.Err.Error()+"). Check the quotes on this line", err)
			}
			return ImportFile{}, fmt.Errorf("org: read import file: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if first {
			rec[0] = strings.TrimPrefix(rec[0], "\uFEFF") // a byte order mark from a spreadsheet
			if strings.EqualFold(strings.TrimSpace(rec[0]), "ods_code") {
				f.Layout = LayoutHeaded
				if cols, err = headedColumns(rec); err != nil {
					return ImportFile{}, lineError(line, err.Error(), nil)
				}
				f.HasType, f.HasParent = cols.typ >= 0, cols.parent >= 0
				continue
			}
			f.Layout = LayoutODS
			cols = columns{code: 0, name: 1, typ: -1, parent: -1}
		}
		if len(f.Rows) == MaxImportRows {
			return ImportFile{}, apperr.New(apperr.Invalid, fmt.Sprintf("The file has more than %d organisations. Split it into smaller files", MaxImportRows))
		}
		row, msg := parseRow(rec, cols, f.Layout)
		if msg != "" {
			return ImportFile{}, lineError(line, msg, nil)
		}
		if prev, dup := seen[row.Code]; dup {
			return ImportFile{}, lineError(line, fmt.Sprintf("ODS code %s is also on line %d. Each organisation must be in the file once", row.Code, prev), nil)
		}
		seen[row.Code] = line
		row.Line = line
		f.Rows = append(f.Rows, row)
	}
	if len(f.Rows) == 0 {
		return ImportFile{}, apperr.New(apperr.Invalid, "The file has no organisations in it")
	}
	return f, nil
}

// columns holds the index of each column, -1 when absent.
type columns struct {
	code, name, typ, parent int
	count                   int // columns a headed row must have
}

func headedColumns(header []string) (columns, error) {
	c := columns{code: -1, name: -1, typ: -1, parent: -1, count: len(header)}
	for i, h := range header {
		var dst *int
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "ods_code":
			dst = &c.code
		case "name":
			dst = &c.name
		case "type":
			dst = &c.typ
		case "parent":
			dst = &c.parent
		default:
			return c, fmt.Errorf("the column %q is not one we know. The columns are ods_code, name, type and parent", clip(h))
		}
		if *dst >= 0 {
			return c, fmt.Errorf("the column %q is named twice", clip(h))
		}
		*dst = i
	}
	if c.name < 0 {
		return c, errors.New("the header has no name column. The columns are ods_code, name, type and parent")
	}
	return c, nil
}

// parseRow checks one row, returning a message for the user when it is bad.
func parseRow(rec []string, cols columns, layout Layout) (ImportRow, string) {
	var row ImportRow
	if layout == LayoutHeaded && len(rec) != cols.count {
		return row, fmt.Sprintf("expected %d columns, like the header, but found %d", cols.count, len(rec))
	}
	if len(rec) < 2 {
		return row, "expected an ODS code and a name separated by a comma"
	}
	code, err := ParseCode(rec[cols.code])
	if err != nil {
		return row, fmt.Sprintf("%q is not an ODS code. %s", clip(rec[cols.code]), apperr.MessageOf(err))
	}
	name := strings.TrimSpace(rec[cols.name])
	switch {
	case name == "":
		return row, "enter a name for " + code.String()
	case !utf8.ValidString(name):
		return row, "the name is not valid UTF-8 text. Save the file as CSV UTF-8 and try again"
	case utf8.RuneCountInString(name) > maxNameLength:
		return row, fmt.Sprintf("the name must be %d characters or fewer", maxNameLength)
	case strings.IndexFunc(name, unicode.IsControl) >= 0 || !textcheck.Valid(name):
		return row, "the name contains a hidden control character, such as a tab or line break"
	}
	typ := TypeOther
	if cols.typ >= 0 {
		if typ, err = ParseType(rec[cols.typ]); err != nil {
			return row, fmt.Sprintf("%q is not a type. %s", clip(rec[cols.typ]), apperr.MessageOf(err))
		}
	}
	var parent Code
	if cols.parent >= 0 && strings.TrimSpace(rec[cols.parent]) != "" {
		if parent, err = ParseCode(rec[cols.parent]); err != nil {
			return row, fmt.Sprintf("the parent %q is not an ODS code. %s", clip(rec[cols.parent]), apperr.MessageOf(err))
		}
		if parent == code {
			return row, "an organisation cannot be its own parent"
		}
	}
	row.Organisation = Organisation{Code: code, Name: name, Type: typ, Parent: parent, Active: true}
	return row, ""
}

// lineError is the error for a bad line of an import file.
func lineError(line int, msg string, err error) error {
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	return apperr.Wrap(apperr.Invalid, fmt.Sprintf("Line %d: %s. Nothing was imported", line, msg), err)
}

// clip shortens what a user typed before it is quoted back, and makes it
// printable.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if r := []rune(s); len(r) > 20 {
		s = string(r[:20]) + "…"
	}
	return s
}
