package audit

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/csvsafe"
	"github.com/psims/psims/internal/db"
)

// Actor is a person an audit row names as its actor, as the account
// owner knows them now.
type Actor struct {
	Name, Email string
}

// Directory is what the viewer needs from the owner of the accounts: it
// turns the filters people type (an email address, an organisation) into
// user IDs, and user IDs into names. The audit log itself keeps only IDs,
// so the chain never depends on names that change.
type Directory interface {
	// AuditActors returns the people with these IDs; an ID that names
	// nobody (an erased account) is left out of the map.
	AuditActors(ctx context.Context, ids []int64) (map[int64]Actor, error)
	// AuditActorByEmail returns the ID of the account with that email
	// address, and false when there is none.
	AuditActorByEmail(ctx context.Context, email string) (int64, bool, error)
	// AuditOrgMembers returns the IDs of the accounts that belong to the
	// organisation now.
	AuditOrgMembers(ctx context.Context, org string) ([]int64, error)
}

// Log reads the audit log for the national admins' viewer and export.
type Log struct {
	db  *db.DB
	dir Directory
}

// NewLog returns a Log reading d, naming actors through dir.
func NewLog(d *db.DB, dir Directory) *Log { return &Log{db: d, dir: dir} }

// Page sizes of the viewer.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
	// exportBatch is how many rows the export reads at a time.
	exportBatch = 1000
	// maxOrgMembers bounds the user IDs an organisation filter passes to
	// the database, well under either engine's limit on parameters.
	maxOrgMembers = 10000
)

// Query chooses rows of the log. Zero fields filter nothing.
type Query struct {
	// Actor is an email address, a user ID, or "system" for rows with no
	// user (the system and the command line).
	Actor string
	// Action is one dotted action name, such as "account.sign_in".
	Action string
	// SubjectType and SubjectID name the object; SubjectID needs
	// SubjectType.
	SubjectType, SubjectID string
	// Org is an ODS code: rows whose actor belongs to that organisation
	// now, and rows about the organisation itself (subject type
	// "organisation" and its code).
	Org string
	// From and To bound the time: From <= at < To.
	From, To time.Time
	// Before and After are keyset cursors: rows with a smaller ID than
	// Before (an older page) or a larger ID than After (a newer page).
	// At most one is set.
	Before, After int64
	// Limit is the page size, DefaultPageSize when 0, at most MaxPageSize.
	Limit int
}

// Values is q as the details of an audit row, for the export's record.
func (q Query) Values() map[string]string {
	m := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("actor", q.Actor)
	set("action", q.Action)
	set("subject_type", q.SubjectType)
	set("subject_id", q.SubjectID)
	set("org", q.Org)
	if !q.From.IsZero() {
		m["from"] = q.From.UTC().Format(time.RFC3339)
	}
	if !q.To.IsZero() {
		m["to"] = q.To.UTC().Format(time.RFC3339)
	}
	return m
}

// ShownRow is a row of the log with its actor named.
type ShownRow struct {
	Row
	// ActorLabel is the actor's name and email, "System or command line"
	// for rows with no user, or "Erased user" when the ID names nobody now.
	ActorLabel string
}

// Result is one page of the log, newest first.
type Result struct {
	Rows []ShownRow
	// Older and Newer are the cursors of the neighbouring pages: Before
	// and After values, 0 when there is no such page.
	Older, Newer int64
}

// The labels of actors who are not a person with an account.
const (
	LabelSystem = "System or command line"
	LabelErased = "Erased user"
)

// where turns q into a WHERE clause and its arguments. empty is true when
// no row can match (an actor that names nobody).
func (l *Log) where(ctx context.Context, q Query) (clause string, args []any, empty bool, err error) {
	var conds []string
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	switch actor := strings.TrimSpace(q.Actor); {
	case actor == "":
	case strings.EqualFold(actor, "system"):
		conds = append(conds, "actor_user_id IS NULL")
	case strings.Contains(actor, "@"):
		id, ok, err := l.dir.AuditActorByEmail(ctx, strings.ToLower(actor))
		if err != nil {
			return "", nil, false, fmt.Errorf("audit: find actor: %w", err)
		}
		if !ok {
			return "", nil, true, nil
		}
		conds = append(conds, "actor_user_id = "+arg(id))
	default:
		id, err := strconv.ParseInt(actor, 10, 64)
		if err != nil || id <= 0 {
			return "", nil, false, apperr.Fields{{Field: "actor", Message: "Enter an email address, a user number or “system”"}}
		}
		conds = append(conds, "actor_user_id = "+arg(id))
	}
	if q.Action != "" {
		conds = append(conds, "action = "+arg(q.Action))
	}
	if q.SubjectType != "" {
		conds = append(conds, "subject_type = "+arg(q.SubjectType))
		if q.SubjectID != "" {
			conds = append(conds, "subject_id = "+arg(q.SubjectID))
		}
	}
	if q.Org != "" {
		ids, err := l.dir.AuditOrgMembers(ctx, q.Org)
		if err != nil {
			return "", nil, false, fmt.Errorf("audit: organisation members: %w", err)
		}
		if len(ids) > maxOrgMembers {
			ids = ids[:maxOrgMembers]
		}
		about := "(subject_type = 'organisation' AND subject_id = " + arg(q.Org) + ")"
		if len(ids) == 0 {
			conds = append(conds, about)
		} else {
			ph := make([]string, len(ids))
			for i, id := range ids {
				ph[i] = arg(id)
			}
			conds = append(conds, "(actor_user_id IN ("+strings.Join(ph, ", ")+") OR "+about+")")
		}
	}
	if !q.From.IsZero() {
		conds = append(conds, "at >= "+arg(q.From.UTC()))
	}
	if !q.To.IsZero() {
		conds = append(conds, "at < "+arg(q.To.UTC()))
	}
	if len(conds) == 0 {
		return "", args, false, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, false, nil
}

const rowColumns = `id, at, actor_user_id, action, subject_type, subject_id, details, ip, prev_hash, hash`

func scanRow(rows *sql.Rows) (Row, error) {
	var r Row
	var actor sql.NullInt64
	var details string
	if err := rows.Scan(&r.ID, &r.At, &actor, &r.Action, &r.SubjectType, &r.SubjectID, &details, &r.IP, &r.PrevHash, &r.Hash); err != nil {
		return r, err
	}
	r.ActorID = actor.Int64
	r.At = r.At.UTC()
	if err := json.Unmarshal([]byte(details), &r.Details); err != nil {
		// A row changed by hand may hold anything: show it, do not fail
		// the page (Verify reports the change).
		r.Details = map[string]string{"unreadable details": details}
	}
	return r, nil
}

// Search returns one page of the rows q chooses, newest first, with the
// cursors of the pages either side. An actor typed as an email address
// that names nobody matches no rows (only national admins search, and
// they may list every account anyway).
func (l *Log) Search(ctx context.Context, q Query) (Result, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	where, args, empty, err := l.where(ctx, q)
	if err != nil || empty {
		return Result{}, err
	}
	newer := q.After > 0 && q.Before == 0
	cursor, order := "", "DESC"
	join := " WHERE "
	if where != "" {
		join = " AND "
	}
	switch {
	case newer:
		args = append(args, q.After)
		cursor, order = join+"id > $"+strconv.Itoa(len(args)), "ASC"
	case q.Before > 0:
		args = append(args, q.Before)
		cursor = join + "id < $" + strconv.Itoa(len(args))
	}
	args = append(args, limit+1)
	rows, err := l.db.QueryContext(ctx, `SELECT `+rowColumns+` FROM audit_log`+where+cursor+
		` ORDER BY id `+order+` LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return Result{}, fmt.Errorf("audit: search: %w", err)
	}
	defer rows.Close()
	var got []Row
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return Result{}, fmt.Errorf("audit: search: %w", err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		return Result{}, fmt.Errorf("audit: search: %w", err)
	}
	more := len(got) > limit
	if more {
		got = got[:limit]
	}
	if newer {
		slices.Reverse(got)
	}
	var res Result
	if res.Rows, err = l.name(ctx, got); err != nil {
		return Result{}, err
	}
	if len(got) == 0 {
		return res, nil
	}
	first, last := got[0].ID, got[len(got)-1].ID
	// Going back towards newer rows, there is an older page (the one we
	// came from); going towards older ones, there is a newer page.
	switch {
	case newer:
		res.Older = last
		if more {
			res.Newer = first
		}
	default:
		if more {
			res.Older = last
		}
		if q.Before > 0 {
			res.Newer = first
		}
	}
	return res, nil
}

// name labels each row's actor.
func (l *Log) name(ctx context.Context, rows []Row) ([]ShownRow, error) {
	var ids []int64
	for _, r := range rows {
		if r.ActorID != 0 && !slices.Contains(ids, r.ActorID) {
			ids = append(ids, r.ActorID)
		}
	}
	actors := map[int64]Actor{}
	if len(ids) > 0 {
		var err error
		if actors, err = l.dir.AuditActors(ctx, ids); err != nil {
			return nil, fmt.Errorf("audit: name actors: %w", err)
		}
	}
	out := make([]ShownRow, len(rows))
	for i, r := range rows {
		out[i] = ShownRow{Row: r, ActorLabel: LabelSystem}
		if r.ActorID != 0 {
			out[i].ActorLabel = LabelErased
			if a, ok := actors[r.ActorID]; ok {
				out[i].ActorLabel = a.Name + " (" + a.Email + ")"
			}
		}
	}
	return out, nil
}

// distinct lists the different values of column, in order, by stepping
// through its index (a loose index scan), so it costs a few lookups per
// value rather than a read of the whole log.
func (l *Log) distinct(ctx context.Context, column string) ([]string, error) {
	rows, err := l.db.QueryContext(ctx, `WITH RECURSIVE v(x) AS (
			SELECT MIN(`+column+`) FROM audit_log
			UNION ALL
			SELECT (SELECT MIN(`+column+`) FROM audit_log WHERE `+column+` > v.x) FROM v WHERE v.x IS NOT NULL
		) SELECT x FROM v WHERE x IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("audit: list %s: %w", column, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("audit: list %s: %w", column, err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Actions lists the actions present in the log, in order.
func (l *Log) Actions(ctx context.Context) ([]string, error) { return l.distinct(ctx, "action") }

// SubjectTypes lists the kinds of object present in the log, in order.
func (l *Log) SubjectTypes(ctx context.Context) ([]string, error) {
	return l.distinct(ctx, "subject_type")
}

// exportHeader is the first line of an export.
var exportHeader = []string{"ID", "Time (UTC)", "Actor ID", "Actor", "Action", "Object type", "Object ID", "Details", "IP address", "Hash"}

// Export writes every row q chooses (its cursors and limit are ignored)
// to w as CSV, newest first, reading a batch at a time so the log is never
// held in memory. The rows are those present when it starts. Before
// anything is written, the export itself is recorded in the log: who, the
// filters and how many rows. Cells a spreadsheet would take for a formula
// are made text. It returns the number of rows written.
func (l *Log) Export(ctx context.Context, q Query, actorID int64, ip string, w io.Writer) (int, error) {
	q.Before, q.After, q.Limit = 0, 0, 0
	where, args, empty, err := l.where(ctx, q)
	if err != nil {
		return 0, err
	}
	var head int64
	if err := l.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM audit_log`).Scan(&head); err != nil {
		return 0, fmt.Errorf("audit: export: %w", err)
	}
	join := " WHERE "
	if where != "" {
		join = " AND "
	}
	upTo := join + "id <= $" + strconv.Itoa(len(args)+1)
	count := 0
	if !empty {
		if err := l.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log`+where+upTo, append(slices.Clone(args), head)...).Scan(&count); err != nil {
			return 0, fmt.Errorf("audit: export: count: %w", err)
		}
	}
	details := q.Values()
	details["rows"] = strconv.Itoa(count)
	details["up_to_id"] = strconv.FormatInt(head, 10)
	err = l.db.InTx(ctx, func(tx *db.Tx) error {
		return Record(ctx, tx, Entry{ActorID: actorID, Action: "audit.export", SubjectType: "audit_log", SubjectID: "",
			IP: ip, Details: details})
	})
	if err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(exportHeader); err != nil {
		return 0, fmt.Errorf("audit: export: %w", err)
	}
	written := 0
	next := head + 1
	for !empty && written < count {
		batchArgs := append(slices.Clone(args), next, exportBatch)
		n := len(args)
		rows, err := l.db.QueryContext(ctx, `SELECT `+rowColumns+` FROM audit_log`+where+join+"id < $"+strconv.Itoa(n+1)+
			` ORDER BY id DESC LIMIT $`+strconv.Itoa(n+2), batchArgs...)
		if err != nil {
			return written, fmt.Errorf("audit: export: %w", err)
		}
		var batch []Row
		for rows.Next() {
			r, err := scanRow(rows)
			if err != nil {
				rows.Close()
				return written, fmt.Errorf("audit: export: %w", err)
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return written, fmt.Errorf("audit: export: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		shown, err := l.name(ctx, batch)
		if err != nil {
			return written, err
		}
		for _, r := range shown {
			actorID := ""
			if r.ActorID != 0 {
				actorID = strconv.FormatInt(r.ActorID, 10)
			}
			rec := []string{strconv.FormatInt(r.ID, 10), r.At.Format("2006-01-02 15:04:05"), actorID, r.ActorLabel, r.Action,
				r.SubjectType, r.SubjectID, DetailsText(r.Details), r.IP, r.Hash}
			for i := range rec {
				rec[i] = csvsafe.Cell(rec[i])
			}
			if err := cw.Write(rec); err != nil {
				return written, fmt.Errorf("audit: export: %w", err)
			}
			written++
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return written, fmt.Errorf("audit: export: %w", err)
		}
		next = batch[len(batch)-1].ID
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return written, fmt.Errorf("audit: export: %w", err)
	}
	return written, nil
}

// DetailsText is a row's details as one line, "key: value; key: value",
// in key order.
func DetailsText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + m[k]
	}
	return strings.Join(parts, "; ")
}
