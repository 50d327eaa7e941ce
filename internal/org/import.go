package org

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
)

// ImportResult counts what an import did.
type ImportResult struct {
	Added   int // organisations that were new
	Updated int // organisations that already existed, whether or not anything changed
}

// importBatch is the number of rows per INSERT: 4 parameters each keeps a
// statement well under both engines' limits on parameters, and few
// statements keep a national file quick on PostgreSQL too.
const importBatch = 500

// Import reads organisations from r (see ParseImportFile for the layouts)
// and adds or updates them all in one transaction, recording one audit
// entry. Nothing is deleted.
//
// Every row is checked first; if any is bad, Import returns an *apperr.Error
// with code Invalid naming the first bad line and imports nothing. A parent
// must be in the same file or already stored; otherwise the row is bad.
//
// New organisations are active, with type "other" and no parent when the
// file does not say. For existing ones, Import updates the name, and the
// type and parent only when the file has those columns, so re-importing an
// ODS download keeps the types and parents set by an earlier headed file.
// It does not change whether an organisation is active: one deactivated on
// purpose stays so.
func (s *Store) Import(ctx context.Context, r io.Reader) (ImportResult, error) {
	f, err := ParseImportFile(r)
	if err != nil {
		return ImportResult{}, err
	}
	var res ImportResult
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		existing, err := existingCodes(ctx, tx)
		if err != nil {
			return err
		}
		inFile := make(map[Code]bool, len(f.Rows))
		for _, row := range f.Rows {
			inFile[row.Code] = true
		}
		for _, row := range f.Rows {
			if !row.Parent.IsZero() && !inFile[row.Parent] && !existing[row.Parent.String()] {
				return lineError(row.Line, fmt.Sprintf("the parent %s is not in the file and has not been imported before. Add it to the file, or leave the parent empty", row.Parent), nil)
			}
			if existing[row.Code.String()] {
				res.Updated++
			} else {
				res.Added++
			}
		}
		stmt := upsertSQL(f.HasType, f.HasParent)
		for start := 0; start < len(f.Rows); start += importBatch {
			batch := f.Rows[start:min(start+importBatch, len(f.Rows))]
			if err := upsert(ctx, tx, stmt, batch); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Entry{
			Action:      "org.import",
			SubjectType: "organisation",
			SubjectID:   "*",
			Details: map[string]string{
				"layout":  string(f.Layout),
				"rows":    strconv.Itoa(len(f.Rows)),
				"added":   strconv.Itoa(res.Added),
				"updated": strconv.Itoa(res.Updated),
			},
		})
	})
	if err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			return ImportResult{}, err
		}
		return ImportResult{}, fmt.Errorf("org: import: %w", err)
	}
	return res, nil
}

func existingCodes(ctx context.Context, tx *db.Tx) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT ods_code FROM organisations`)
	if err != nil {
		return nil, fmt.Errorf("org: read codes: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("org: read codes: %w", err)
		}
		out[c] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("org: read codes: %w", err)
	}
	return out, nil
}

// upsertSQL returns the ON CONFLICT clause for a file that has (or lacks)
// types and parents; the rows are added by upsert.
func upsertSQL(hasType, hasParent bool) string {
	set := []string{"name = excluded.name", "updated_at = excluded.updated_at"}
	if hasType {
		set = append(set, "org_type = excluded.org_type")
	}
	if hasParent {
		set = append(set, "parent_ods = excluded.parent_ods")
	}
	return ` ON CONFLICT (ods_code) DO UPDATE SET ` + strings.Join(set, ", ")
}

// upsert writes one batch of rows with a single statement.
func upsert(ctx context.Context, tx *db.Tx, onConflict string, rows []ImportRow) error {
	q := `INSERT INTO organisations (created_at, updated_at, active, ods_code, name, org_type, parent_ods) VALUES ` +
		db.Values(len(rows), 4, 2, "$1, $1, TRUE, ") + onConflict
	args := make([]any, 0, 1+4*len(rows))
	args = append(args, tx.Now)
	for _, row := range rows {
		var parent any
		if !row.Parent.IsZero() {
			parent = row.Parent.String()
		}
		args = append(args, row.Code.String(), row.Name, string(row.Type), parent)
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("org: write organisations from line %d: %w", rows[0].Line, err)
	}
	return nil
}
