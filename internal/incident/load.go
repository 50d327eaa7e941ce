package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
)

// This file loads many events at once, for demonstrations and benchmarks:
// the same rows Submit writes, thousands to a transaction, by statements
// prepared once per transaction. Submit stays the path for real
// submissions.

// Sizes of Load's work. Events are written loadBatch to a transaction:
// each commit writes every page the transaction changed, and the indexes
// on random keys (the reference, the reporter) change about one page per
// event until a transaction holds enough events to change the same pages
// again, so large transactions write far less per event. Versions go in,
// and new IDs are read back, by multi-row statements of a few hundred
// parameters: far below both engines' limits, and small enough for
// SQLite's driver, which looks up each numbered parameter among all of
// them, in time growing with the square of their number. (Events and
// codes go in one row a statement; see insertLoadedEvents.)
const (
	loadBatch       = 10000
	loadVersionRows = 100
	loadLookupRows  = 100
)

// Load stores the submissions as new events, each as version 1 with a new
// reference, the same rows Submit would write (without deleting drafts),
// in transactions of up to ten thousand events, each with one audit entry
// "event.load". Every submission is checked first, the identifier guard
// included, and nothing is stored when one fails. When the database fails
// part way, the transactions already committed stay. The events are
// submitted now, by their reporters; the statistics the query planner uses
// are not refreshed (see Analyze). Errors: Invalid, as Submit, saying
// which submission.
func (s *Service) Load(ctx context.Context, subs []Submission) error {
	for i, sub := range subs {
		if err := validateSubmission(sub); err != nil {
			return fmt.Errorf("incident: load submission %d: %w", i, err)
		}
		if sub.DraftID != 0 {
			return fmt.Errorf("incident: load submission %d: loading never deletes a draft", i)
		}
	}
	return s.load(ctx, subs, loadBatch)
}

// load writes subs, already checked, batch to a transaction.
func (s *Service) load(ctx context.Context, subs []Submission, batch int) error {
	for start := 0; start < len(subs); start += batch {
		if err := s.loadBatch(ctx, subs[start:min(start+batch, len(subs))]); err != nil {
			return err
		}
	}
	return nil
}

// loadBatch writes one transaction's events.
func (s *Service) loadBatch(ctx context.Context, subs []Submission) error {
	answers := make([]string, len(subs))
	for i, sub := range subs {
		b, err := json.Marshal(sub.Answers)
		if err != nil {
			return fmt.Errorf("incident: encode answers: %w", err)
		}
		answers[i] = string(b)
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		ids, err := insertLoadedEvents(ctx, tx, subs)
		if err != nil {
			return err
		}
		if err := insertLoadedVersions(ctx, tx, subs, ids, answers); err != nil {
			return err
		}
		if err := insertLoadedCodes(ctx, tx, subs, ids); err != nil {
			return err
		}
		if err := insertLoadedText(ctx, tx, subs, ids); err != nil {
			return err
		}
		if err := countLoaded(ctx, tx, subs); err != nil {
			return err
		}
		stats := statTally{}
		for _, sub := range subs {
			stats.add(statEvent{org: sub.OrgCode, typ: sub.Type, harm: sub.Index.PhysicalHarm, service: sub.Index.ServiceType,
				occurred: sub.OccurredFrom, submitted: tx.Now, codes: sub.Index.Codes}, 1)
		}
		if err := stats.write(ctx, tx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "event.load", SubjectType: "event", SubjectID: "*",
			Details: map[string]string{
				"events":   strconv.Itoa(len(subs)),
				"first_id": strconv.FormatInt(slices.Min(ids), 10),
				"last_id":  strconv.FormatInt(slices.Max(ids), 10),
			}})
	})
}

// insertLoadedEvents inserts the events and returns their IDs, in the
// order of subs. Each event goes in by a statement of its own, without
// RETURNING: on SQLite, a statement that may write several rows (several
// VALUES, or RETURNING, which it runs as a trigger) keeps a statement
// journal on disk, which costs more than the statements saved. The IDs
// are read back by reference afterwards. A reference already stored
// inserts nothing and is drawn again, as in Submit.
func insertLoadedEvents(ctx context.Context, tx *db.Tx, subs []Submission) ([]int64, error) {
	st, err := tx.PrepareContext(ctx, `INSERT INTO events (reference, event_type, org_ods, source, reporter_id,
		occurred_from, occurred_to, submitted_at, version, updated_at, physical_harm, psychological_harm,
		service_type, sharing_opt_out, statement_version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (reference) DO NOTHING`)
	if err != nil {
		return nil, fmt.Errorf("incident: prepare a load: %w", err)
	}
	defer st.Close()
	refs := make([]any, len(subs))
	byRef := make(map[Reference]int, len(subs))
	for i, sub := range subs {
		reporter := db.NullID(sub.ReporterID)
		for trial := 0; refs[i] == nil; trial++ {
			ref := NewReference()
			if _, taken := byRef[ref]; taken {
				continue
			}
			if trial == referenceTrials {
				return nil, fmt.Errorf("incident: no free reference after %d draws", referenceTrials)
			}
			res, err := st.ExecContext(ctx, ref, sub.Type, sub.OrgCode, sub.Source, reporter,
				sub.OccurredFrom.UTC(), sub.OccurredTo.UTC(), tx.Now, sub.Index.PhysicalHarm, sub.Index.PsychologicalHarm,
				sub.Index.ServiceType, sub.SharingOptOut, sub.StatementVersion)
			if err != nil {
				return nil, fmt.Errorf("incident: load events: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return nil, fmt.Errorf("incident: load events: %w", err)
			} else if n == 1 {
				refs[i], byRef[ref] = ref, i
			}
		}
	}
	ids := make([]int64, len(subs))
	text := func(rows int) string {
		return `SELECT id, reference FROM events WHERE reference IN ` + db.Values(1, rows, 1, "")
	}
	err = inChunks(ctx, tx, len(subs), loadLookupRows, text, func(st *sql.Stmt, from, to int) error {
		rows, err := st.QueryContext(ctx, refs[from:to]...)
		if err != nil {
			return fmt.Errorf("incident: read loaded events: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var ref Reference
			if err := rows.Scan(&id, &ref); err != nil {
				return fmt.Errorf("incident: read loaded events: %w", err)
			}
			ids[byRef[ref]] = id
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	if slices.Contains(ids, 0) {
		return nil, fmt.Errorf("incident: a loaded event could not be read back")
	}
	return ids, nil
}

func insertLoadedVersions(ctx context.Context, tx *db.Tx, subs []Submission, ids []int64, answers []string) error {
	text := func(rows int) string {
		return `INSERT INTO event_versions (created_at, version, reason, event_id, author_id, answers) VALUES ` +
			db.Values(rows, 3, 2, "$1, 1, '', ")
	}
	return inChunks(ctx, tx, len(subs), loadVersionRows, text, func(st *sql.Stmt, from, to int) error {
		args := make([]any, 0, 1+3*(to-from))
		args = append(args, tx.Now)
		for i := from; i < to; i++ {
			args = append(args, ids[i], db.NullID(subs[i].ReporterID), answers[i])
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("incident: load versions: %w", err)
		}
		return nil
	})
}

func insertLoadedCodes(ctx context.Context, tx *db.Tx, subs []Submission, ids []int64) error {
	// One row per statement, as for events: the lookup index makes a
	// multi-row statement keep a statement journal on SQLite.
	st, err := tx.PrepareContext(ctx, `INSERT INTO event_codes (event_id, element, code, org_ods) VALUES ($1, $2, $3, $4)`)
	if err != nil {
		return fmt.Errorf("incident: prepare a load: %w", err)
	}
	defer st.Close()
	for i, sub := range subs {
		// Each code once per element, as Submit stores them.
		for _, element := range slices.Sorted(maps.Keys(sub.Index.Codes)) {
			seen := map[string]bool{}
			for _, code := range sub.Index.Codes[element] {
				if seen[code] {
					continue
				}
				seen[code] = true
				if _, err := st.ExecContext(ctx, ids[i], element, code, sub.OrgCode); err != nil {
					return fmt.Errorf("incident: load codes: %w", err)
				}
			}
		}
	}
	return nil
}

// inChunks calls fn for rows in chunks of at most size, from and to
// bounding each, with the statement text(to-from) makes, prepared in tx:
// once for every full chunk, and once for the last when it is shorter.
func inChunks(ctx context.Context, tx *db.Tx, rows, size int, text func(rows int) string, fn func(st *sql.Stmt, from, to int) error) error {
	prepared := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range prepared {
			st.Close()
		}
	}()
	for from := 0; from < rows; from += size {
		to := min(from+size, rows)
		st, ok := prepared[to-from]
		if !ok {
			var err error
			if st, err = tx.PrepareContext(ctx, text(to-from)); err != nil {
				return fmt.Errorf("incident: prepare a load: %w", err)
			}
			prepared[to-from] = st
		}
		if err := fn(st, from, to); err != nil {
			return err
		}
	}
	return nil
}

// Analyze refreshes the statistics the query planner keeps on the event
// tables, so that after a large Load it chooses indexes for the new sizes
// at once rather than when it next gets round to it.
func (s *Service) Analyze(ctx context.Context) error {
	for _, table := range []string{"events", "event_versions", "event_codes"} {
		if _, err := s.db.ExecContext(ctx, "ANALYZE "+table); err != nil {
			return fmt.Errorf("incident: analyze %s: %w", table, err)
		}
	}
	return nil
}

// BusiestOrg returns the organisation with the most events and how many
// it has (the first by code of those with as many): the one a benchmark
// of the event list measures. With no events the error wraps
// sql.ErrNoRows.
func (s *Service) BusiestOrg(ctx context.Context) (string, int, error) {
	var org string
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT org_ods, COUNT(*) AS n FROM events GROUP BY org_ods ORDER BY n DESC, org_ods LIMIT 1`).Scan(&org, &n)
	if err != nil {
		return "", 0, fmt.Errorf("incident: busiest organisation: %w", err)
	}
	return org, n, nil
}

// insertLoadedText indexes the events' free text for searches, as Submit
// does.
func insertLoadedText(ctx context.Context, tx *db.Tx, subs []Submission, ids []int64) error {
	st, err := tx.PrepareContext(ctx, tx.Dialect.TextInsert(searchTable))
	if err != nil {
		return fmt.Errorf("incident: prepare a load: %w", err)
	}
	defer st.Close()
	for i, sub := range subs {
		if _, err := st.ExecContext(ctx, ids[i], sub.OrgCode, sub.Index.Text); err != nil {
			return fmt.Errorf("incident: load search index: %w", err)
		}
	}
	return nil
}

// countLoaded adds the events to the day's counts, one statement for each
// organisation, type and harm.
func countLoaded(ctx context.Context, tx *db.Tx, subs []Submission) error {
	type key struct {
		org  string
		typ  Type
		harm string
	}
	counts := map[key]int{}
	for _, sub := range subs {
		counts[key{sub.OrgCode, sub.Type, sub.Index.PhysicalHarm}]++
	}
	keys := slices.SortedFunc(maps.Keys(counts), func(a, b key) int {
		return strings.Compare(a.org+"\x00"+string(a.typ)+"\x00"+a.harm, b.org+"\x00"+string(b.typ)+"\x00"+b.harm)
	})
	for _, k := range keys {
		if err := countDay(ctx, tx, k.org, tx.Now, k.typ, k.harm, counts[k]); err != nil {
			return err
		}
	}
	return nil
}
