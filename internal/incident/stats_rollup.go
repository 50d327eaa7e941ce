package incident

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/psims/psims/internal/db"
)

// This file keeps the statistics rollups (migration 0027): for each basis,
// how many current events of each organisation, type, physical harm and
// service type fell on each day and in each month, and how many carried
// each safety challenge and agent code. Every write that changes what they
// count (Submit, Amend, Load, LoadGenerated) changes them in the same
// transaction, through a statTally.

// statTables are the rollup tables, by what they count and how finely.
const (
	statDays = iota
	statMonths
	statCodeDays
	statCodeMonths
)

// statTableNames are the tables, in the order of the constants above.
var statTableNames = [4]string{"event_stat_days", "event_stat_months", "event_stat_code_days", "event_stat_code_months"}

// statKey is one row of a rollup table: for the code tables, a and b are
// the element and code; for the others, the physical harm and service type.
type statKey struct {
	table  int
	basis  Basis
	period string // YYYY-MM-DD or YYYY-MM
	org    string
	typ    Type
	a, b   string
}

func (k statKey) compare(o statKey) int {
	return cmp.Or(cmp.Compare(k.table, o.table), cmp.Compare(k.basis, o.basis), cmp.Compare(k.period, o.period),
		cmp.Compare(k.org, o.org), cmp.Compare(k.typ, o.typ), cmp.Compare(k.a, o.a), cmp.Compare(k.b, o.b))
}

// statEvent is what the statistics count of one event.
type statEvent struct {
	org                 string
	typ                 Type
	harm, service       string
	occurred, submitted time.Time
	codes               map[string][]string // every element; only the counted ones are used
}

// statElements are the elements whose codes the statistics count.
var statElements = []string{ElementSafetyChallenges, ElementAgents}

// statTally gathers changes to the rollups, to write at once.
type statTally map[statKey]int64

// add counts e delta times (1 for a new event, -1 for what an amended one
// was).
func (t statTally) add(e statEvent, delta int64) {
	for _, basis := range []Basis{BasisOccurred, BasisSubmitted} {
		day := dayKey(e.occurred)
		if basis == BasisSubmitted {
			day = dayKey(e.submitted)
		}
		month := day[:7]
		t[statKey{statDays, basis, day, e.org, e.typ, e.harm, e.service}] += delta
		t[statKey{statMonths, basis, month, e.org, e.typ, e.harm, e.service}] += delta
		for _, element := range statElements {
			seen := map[string]bool{}
			for _, code := range e.codes[element] {
				if seen[code] {
					continue // stored once, as insertCodes does
				}
				seen[code] = true
				t[statKey{statCodeDays, basis, day, e.org, e.typ, element, code}] += delta
				t[statKey{statCodeMonths, basis, month, e.org, e.typ, element, code}] += delta
			}
		}
	}
}

// statRowsPerStatement is how many rollup rows one statement changes.
// statsOf is the tally of tx's submissions, written once just before it
// commits: when submissions share a commit (db.InSharedTx), one upsert a
// rollup table serves them all rather than four statements each.
func statsOf(tx *db.Tx) statTally {
	return tx.Shared("incident.stats", func() any { return statTally{} }, func(ctx context.Context, tx *db.Tx, v any) error {
		return v.(statTally).write(ctx, tx)
	}).(statTally)
}

const statRowsPerStatement = 50

// write adds the tally to the rollups in tx, in a fixed order (so that two
// transactions changing the same rows on PostgreSQL lock them in the same
// order), leaving out changes that came to nothing.
func (t statTally) write(ctx context.Context, tx *db.Tx) error {
	keys := slices.SortedFunc(maps.Keys(t), statKey.compare)
	keys = slices.DeleteFunc(keys, func(k statKey) bool { return t[k] == 0 })
	for start := 0; start < len(keys); {
		table := keys[start].table
		end := start
		for end < len(keys) && end-start < statRowsPerStatement && keys[end].table == table {
			end++
		}
		args := make([]any, 0, 7*(end-start))
		for _, k := range keys[start:end] {
			args = append(args, string(k.basis), k.period, k.org, string(k.typ), k.a, k.b, t[k])
		}
		if _, err := tx.ExecContext(ctx, statUpsert(table, end-start), args...); err != nil {
			return fmt.Errorf("incident: count for statistics: %w", err)
		}
		start = end
	}
	return nil
}

// statUpsert is the statement that adds rows counts to table.
func statUpsert(table, rows int) string {
	name := statTableNames[table]
	period, a, b := "day", "physical_harm", "service_type"
	if table == statMonths || table == statCodeMonths {
		period = "month"
	}
	if table == statCodeDays || table == statCodeMonths {
		a, b = "element", "code"
	}
	cols := "basis, " + period + ", org_ods, event_type, " + a + ", " + b
	return `INSERT INTO ` + name + ` (` + cols + `, n) VALUES ` + db.Values(rows, 7, 1, "") +
		` ON CONFLICT (` + cols + `) DO UPDATE SET n = ` + name + `.n + EXCLUDED.n`
}

// statCodesOf reads the counted codes an event has now.
func statCodesOf(ctx context.Context, tx *db.Tx, eventID int64) (map[string][]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT element, code FROM event_codes WHERE event_id = $1 AND element IN ($2, $3)`,
		eventID, ElementSafetyChallenges, ElementAgents)
	if err != nil {
		return nil, fmt.Errorf("incident: read codes for statistics: %w", err)
	}
	defer rows.Close()
	codes := map[string][]string{}
	for rows.Next() {
		var element, code string
		if err := rows.Scan(&element, &code); err != nil {
			return nil, fmt.Errorf("incident: read codes for statistics: %w", err)
		}
		codes[element] = append(codes[element], code)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incident: read codes for statistics: %w", err)
	}
	return codes, nil
}
