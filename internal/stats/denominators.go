package stats

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/org"
)

// MaxDenominatorRows is the most rows one denominator file may have.
const MaxDenominatorRows = 50000

// denominatorHeader is the header a denominator file must start with.
var denominatorHeader = []string{"ods_code", "period_start", "period_end", "measure", "value"}

// DenominatorRow is one loaded denominator with its period.
type DenominatorRow struct {
	Denominator
	From, To time.Time
}

// RowError is a problem with one row of a denominator file.
type RowError struct {
	Line    int
	Message string
}

// RowErrors are the problems with a denominator file, line by line. Its
// message names the first few.
type RowErrors []RowError

func (e RowErrors) Error() string {
	var b strings.Builder
	for i, r := range e {
		if i == 5 {
			fmt.Fprintf(&b, " and %d more", len(e)-5)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "line %d: %s", r.Line, r.Message)
	}
	return b.String()
}

// ParseDenominators reads a denominator file: CSV with the header
// ods_code,period_start,period_end,measure,value, dates as YYYY-MM-DD,
// measure "admissions" or "bed-days" and a whole number above 0. Every
// row is checked; the errors are RowErrors naming each bad line.
func ParseDenominators(r io.Reader) ([]DenominatorRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	var out []DenominatorRow
	var errs RowErrors
	seen := map[string]int{}
	headed := false
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, RowError{Line: line, Message: "this line is not valid CSV"})
			break
		}
		if line == 1 {
			if len(rec) > 0 {
				rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
			}
			if !sameHeader(rec) {
				return nil, RowErrors{{Line: 1, Message: "the first line must be the header ods_code,period_start,period_end,measure,value"}}
			}
			headed = true
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(out)+len(errs) >= MaxDenominatorRows {
			errs = append(errs, RowError{Line: line, Message: fmt.Sprintf("a file may have at most %d rows", MaxDenominatorRows)})
			break
		}
		if len(rec) != len(denominatorHeader) {
			errs = append(errs, RowError{Line: line, Message: fmt.Sprintf("expected 5 values, found %d", len(rec))})
			continue
		}
		row, msg := parseDenominatorRow(rec)
		if msg != "" {
			errs = append(errs, RowError{Line: line, Message: msg})
			continue
		}
		key := row.Org + "|" + row.From.Format(dayLayout) + "|" + row.To.Format(dayLayout) + "|" + string(row.Measure)
		if first, ok := seen[key]; ok {
			errs = append(errs, RowError{Line: line, Message: fmt.Sprintf("the same organisation, period and measure as line %d", first)})
			continue
		}
		seen[key] = line
		out = append(out, row)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(out) == 0 && !headed {
		return nil, RowErrors{{Line: 1, Message: "the first line must be the header ods_code,period_start,period_end,measure,value (the file is empty)"}}
	}
	if len(out) == 0 {
		return nil, RowErrors{{Line: 1, Message: "the file has no rows after the header"}}
	}
	return out, nil
}

func sameHeader(rec []string) bool {
	if len(rec) != len(denominatorHeader) {
		return false
	}
	for i, h := range denominatorHeader {
		if strings.ToLower(strings.TrimSpace(rec[i])) != h {
			return false
		}
	}
	return true
}

func parseDenominatorRow(rec []string) (DenominatorRow, string) {
	var row DenominatorRow
	code, err := org.ParseCode(strings.TrimSpace(rec[0]))
	if err != nil {
		return row, fmt.Sprintf("%q is not an ODS code", clip(rec[0]))
	}
	row.Org = code.String()
	if row.From, err = time.Parse(dayLayout, strings.TrimSpace(rec[1])); err != nil {
		return row, fmt.Sprintf("period_start %q is not a date like 2026-04-01", clip(rec[1]))
	}
	if row.To, err = time.Parse(dayLayout, strings.TrimSpace(rec[2])); err != nil {
		return row, fmt.Sprintf("period_end %q is not a date like 2026-09-30", clip(rec[2]))
	}
	if row.To.Before(row.From) {
		return row, "period_end is before period_start"
	}
	row.Measure = Measure(strings.ToLower(strings.TrimSpace(rec[3])))
	if !row.Measure.Valid() {
		return row, fmt.Sprintf("measure %q must be admissions or bed-days", clip(rec[3]))
	}
	v := strings.ReplaceAll(strings.TrimSpace(rec[4]), ",", "")
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n > 1_000_000_000_000 {
		return row, fmt.Sprintf("value %q must be a whole number above 0", clip(rec[4]))
	}
	row.Value = n
	return row, ""
}

// clip keeps an echoed value short.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// LoadDenominators loads a denominator file, replacing any value already
// loaded for the same organisation, period and measure, all in one
// transaction, audited. It returns how many rows it loaded. Errors:
// Invalid wrapping RowErrors when any row is bad (nothing is loaded).
func (s *Service) LoadDenominators(ctx context.Context, by Actor, r io.Reader) (int, error) {
	rows, err := ParseDenominators(r)
	if err != nil {
		var re RowErrors
		if errors.As(err, &re) {
			return 0, apperr.Wrap(apperr.Invalid, "The file has problems: "+re.Error(), re)
		}
		return 0, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, d := range rows {
			if _, err := tx.ExecContext(ctx, `INSERT INTO statistics_denominators (org_ods, period_start, period_end, measure, value, loaded_at)
				VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (period_start, period_end, org_ods, measure) DO UPDATE SET value = excluded.value, loaded_at = excluded.loaded_at`,
				d.Org, d.From.Format(dayLayout), d.To.Format(dayLayout), string(d.Measure), d.Value, tx.Now); err != nil {
				return fmt.Errorf("stats: load denominators: %w", err)
			}
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: by.ID, Action: "statistics.denominators_load", SubjectType: "denominators",
			IP: by.IP, Details: map[string]string{"rows": strconv.Itoa(len(rows))}})
	})
	if err != nil {
		return 0, err
	}
	return len(rows), nil
}

// Denominators lists every loaded denominator, newest period first.
func (s *Service) Denominators(ctx context.Context) ([]DenominatorRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT org_ods, period_start, period_end, measure, value FROM statistics_denominators
		ORDER BY period_start DESC, period_end DESC, org_ods, measure`)
	if err != nil {
		return nil, fmt.Errorf("stats: denominators: %w", err)
	}
	defer rows.Close()
	var out []DenominatorRow
	for rows.Next() {
		var d DenominatorRow
		var from, to string
		if err := rows.Scan(&d.Org, &from, &to, &d.Measure, &d.Value); err != nil {
			return nil, fmt.Errorf("stats: denominators: %w", err)
		}
		d.From, _ = time.Parse(dayLayout, from)
		d.To, _ = time.Parse(dayLayout, to)
		out = append(out, d)
	}
	return out, rows.Err()
}

// denominatorsFor returns the denominators loaded for exactly the period
// from–to, in a fixed order.
func (s *Service) denominatorsFor(ctx context.Context, from, to time.Time) ([]Denominator, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT org_ods, measure, value FROM statistics_denominators
		WHERE period_start = $1 AND period_end = $2 ORDER BY org_ods, measure`, from.Format(dayLayout), to.Format(dayLayout))
	if err != nil {
		return nil, fmt.Errorf("stats: denominators for the period: %w", err)
	}
	defer rows.Close()
	var out []Denominator
	for rows.Next() {
		var d Denominator
		if err := rows.Scan(&d.Org, &d.Measure, &d.Value); err != nil {
			return nil, fmt.Errorf("stats: denominators for the period: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
