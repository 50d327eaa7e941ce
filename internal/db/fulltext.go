package db

import (
	"strings"
	"time"
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
//     TSVECTOR NOT NULL) with a GIN index on document: the text's words in
//     the 'simple' configuration, without positions (nothing reads them),
//     and the group as a lexeme of its own, '@' and the group, which no
//     text can make ('simple' never keeps an '@' at the start of a word).
//     Without weights, the GIN index answers a match exactly, without
//     reading each row again to check them.

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
			strip(to_tsvector('simple', $3)) || array_to_tsvector(ARRAY['@' || $2]))`
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
		text := `SELECT event_id FROM ` + table + ` WHERE document @@ ` + tsMatch(q, arg)
		if q.To != 0 {
			text += ` AND event_id BETWEEN ` + arg(q.From) + ` AND ` + arg(q.To)
		}
		return text
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
	text := `SELECT rowid FROM ` + table + ` WHERE ` + table + ` MATCH ` + arg(strings.Join(parts, " AND "))
	if q.To != 0 {
		// FTS5 reads only that run of each word's list of documents.
		text += ` AND rowid BETWEEN ` + arg(q.From) + ` AND ` + arg(q.To)
	}
	return text
}

// TextHolds is the condition that the document whose id is the column id
// matches q, for a query that walks its rows in an order of its own and
// keeps the few that match. SQLite reads the matches among ids q.From to
// q.To (when set) from the index once; PostgreSQL looks each document up
// by its id and checks it, which costs it less than reading a run of ids
// (it checks every row of the run) or every match.
func (d Dialect) TextHolds(table, id string, q TextQuery, arg func(any) string) string {
	if d.Engine == PostgreSQL {
		// A scalar subquery runs once per row, by the primary key: the
		// planner cannot turn it into a join that reads every match.
		return `(SELECT document FROM ` + table + ` WHERE event_id = ` + id + `) @@ ` + tsMatch(q, arg)
	}
	return `+` + id + ` IN (` + d.TextMatch(table, q, arg) + `)`
}

// TextHoldsCost is about how long TextHolds takes for a walk of count rows
// whose ids run from from to to (measured at 1,000,000 documents,
// docs/benchmarks.md): SQLite's FTS5 reads that run of each word's list of
// documents, about 0.1µs an id; PostgreSQL looks each row's document up
// and checks it, about 5µs a row.
func (d Dialect) TextHoldsCost(count int, from, to int64) time.Duration {
	if d.Engine == PostgreSQL {
		return time.Duration(count) * 5 * time.Microsecond
	}
	return time.Duration(to-from+1) * 100 * time.Nanosecond
}

// tsMatch is the tsquery of q: the words through the 'simple'
// configuration, as the text went, and the groups as lexemes as they are.
func tsMatch(q TextQuery, arg func(any) string) string {
	words := make([]string, len(q.Words))
	for i, w := range q.Words {
		words[i] = tsQuote(w)
	}
	match := `to_tsquery('simple', ` + arg(strings.Join(words, " & ")) + `)`
	if len(q.Groups) > 0 {
		groups := make([]string, len(q.Groups))
		for i, g := range q.Groups {
			groups[i] = tsQuote("@" + g)
		}
		match = `(` + match + ` && ` + arg(strings.Join(groups, " | ")) + `::tsquery)`
	}
	return match
}

// ftsQuote makes s one FTS5 string: a phrase of its tokens, never syntax.
func ftsQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// tsQuote makes s one tsquery operand, never an operator.
func tsQuote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return `'` + strings.ReplaceAll(s, `'`, `''`) + `'`
}
