package db

import (
	"strings"
)

// Full-text search differs most between the engines: SQLite has FTS5
// virtual tables and their MATCH syntax, PostgreSQL tsvector columns with a
// GIN index and tsquery. A feature keeps one table of its own in each
// engine's migration, laid out as below, and asks the Dialect for the few
// statements that touch it, so its own SQL stays one text.
//
// The table holds one row per document, with a group (such as the
// organisation a record belongs to) that searches may be limited to, and
// the document's text, matched as whole words with case folded:
//
//   - SQLite: CREATE VIRTUAL TABLE t USING fts5(org, body, content = '',
//     contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'),
//     whose rowid is the document's id;
//   - PostgreSQL: CREATE TABLE t (event_id BIGINT PRIMARY KEY, document
//     TSVECTOR NOT NULL) with a GIN index on document, the group at weight
//     A and the text at weight D, both in the 'simple' configuration.

// TextQuery is a search of a full-text table: documents holding every
// word, in any of the groups (any group when there are none), and with an
// id from From to To when To is not 0. Words must be letters and digits
// only (see incident.ParseWords); the Dialect quotes them anyway.
type TextQuery struct {
	Groups   []string
	Words    []string
	From, To int64
}

// TextInsert is the statement that indexes a document in table: $1 its
// id, $2 its group and $3 its text.
func (d Dialect) TextInsert(table string) string {
	if d.Engine == PostgreSQL {
		return `INSERT INTO ` + table + ` (event_id, document) VALUES ($1,
			setweight(to_tsvector('simple', $2), 'A') || setweight(to_tsvector('simple', $3), 'D'))`
	}
	return `INSERT INTO ` + table + ` (rowid, org, body) VALUES ($1, $2, $3)`
}

// TextDelete is the statement that removes document $1 from table, so that
// it can be indexed again.
func (d Dialect) TextDelete(table string) string {
	if d.Engine == PostgreSQL {
		return `DELETE FROM ` + table + ` WHERE event_id = $1`
	}
	return `DELETE FROM ` + table + ` WHERE rowid = $1`
}

// TextMatch is a SELECT of the ids of the documents in table that q
// matches, for use as `id IN (...)` or as a source of its own. arg adds a
// value to the query's arguments and returns its placeholder. Matching
// never reads the text: every value goes in as an argument, and each word
// is quoted as a term so that nothing in it is read as an operator.
func (d Dialect) TextMatch(table string, q TextQuery, arg func(any) string) string {
	if d.Engine == PostgreSQL {
		var parts []string
		if len(q.Groups) > 0 {
			groups := make([]string, len(q.Groups))
			for i, g := range q.Groups {
				groups[i] = tsQuote(g) + ":A"
			}
			parts = append(parts, "("+strings.Join(groups, " | ")+")")
		}
		for _, w := range q.Words {
			parts = append(parts, tsQuote(w)+":D")
		}
		return `SELECT event_id FROM ` + table + ` WHERE document @@ to_tsquery('simple', ` + arg(strings.Join(parts, " & ")) + `)` +
			idRange("event_id", q, arg)
	}
	var parts []string
	if len(q.Groups) > 0 {
		groups := make([]string, len(q.Groups))
		for i, g := range q.Groups {
			groups[i] = ftsQuote(g)
		}
		parts = append(parts, "org : ("+strings.Join(groups, " OR ")+")")
	}
	if len(q.Words) > 0 {
		words := make([]string, len(q.Words))
		for i, w := range q.Words {
			words[i] = ftsQuote(w)
		}
		parts = append(parts, "body : ("+strings.Join(words, " AND ")+")")
	}
	return `SELECT rowid FROM ` + table + ` WHERE ` + table + ` MATCH ` + arg(strings.Join(parts, " AND ")) + idRange("rowid", q, arg)
}

// idRange is the condition keeping the ids from q.From to q.To, if any.
// Both engines read only that stretch of their index: FTS5 seeks in each
// word's list of documents, PostgreSQL reads the range of the primary key.
func idRange(column string, q TextQuery, arg func(any) string) string {
	if q.To == 0 {
		return ""
	}
	return ` AND ` + column + ` BETWEEN ` + arg(q.From) + ` AND ` + arg(q.To)
}

// ftsQuote makes s one FTS5 string: a phrase of its tokens, never syntax.
func ftsQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// tsQuote makes s one tsquery operand, never an operator.
func tsQuote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return `'` + strings.ReplaceAll(s, `'`, `''`) + `'`
}
