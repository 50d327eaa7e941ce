package db

// SQL for rows made and counted inside the database (bulk loaders that
// generate rows with INSERT ... SELECT, and rollups counted from them):
// the few expressions whose spelling differs between the engines.

// UnixTime is an expression for the UTC time secs seconds after the Unix
// epoch (secs an integer expression), stored as the driver stores a Go
// time.Time: text such as "2026-04-01 10:00:00+00:00" on SQLite, a
// timestamptz on PostgreSQL.
func (d Dialect) UnixTime(secs string) string {
	if d.Engine == PostgreSQL {
		return "to_timestamp(" + secs + ")"
	}
	return "strftime('%Y-%m-%d %H:%M:%S+00:00', " + secs + ", 'unixepoch')"
}

// UTCDay is an expression for the UTC date of the time in column, as text
// such as "2026-04-01" (how rollups key their days).
func (d Dialect) UTCDay(column string) string {
	if d.Engine == PostgreSQL {
		return "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	return "substr(" + column + ", 1, 10)"
}

// TextInsertSelect is the statement that indexes, in the full-text table
// (see TextInsert), a document for each row of a query: id, group and
// text are expressions over its rows, and from is the rest of the query
// from its FROM on.
func (d Dialect) TextInsertSelect(table, id, group, text, from string) string {
	if d.Engine == PostgreSQL {
		return `INSERT INTO ` + table + ` (event_id, document) SELECT ` + id + `,
			strip(to_tsvector('simple', ` + text + `)) || array_to_tsvector(ARRAY['@' || ` + group + `]) ` + from
	}
	return `INSERT INTO ` + table + ` (rowid, org, body) SELECT ` + id + `, ` + group + `, ` + text + ` ` + from
}
