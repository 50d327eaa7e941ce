package incident

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/psims/psims/internal/db"
)

// This file keeps and reads how many events each organisation received
// each day, by type and physical harm (table event_day_counts, migration
// 0012). A count over a week reads a few rows a day per organisation,
// whatever the number of events, so the signed-in home can show it on
// every visit.

// dayKey is how a day is stored: its date in UTC.
func dayKey(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// countDay adds delta to the count of events of org received on day with
// type t and physical harm harm.
func countDay(ctx context.Context, tx *db.Tx, org string, day time.Time, t Type, harm string, delta int) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO event_day_counts (org_ods, day, event_type, physical_harm, n) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (org_ods, day, event_type, physical_harm) DO UPDATE SET n = event_day_counts.n + EXCLUDED.n`,
		org, dayKey(day), string(t), harm, delta)
	if err != nil {
		return fmt.Errorf("incident: count event: %w", err)
	}
	return nil
}

// Tally is how many events in a scope were received over some days: in
// all, by type and by the most severe physical harm ("" for none
// recorded).
type Tally struct {
	// From is the first day counted and To the last, both whole days in
	// UTC.
	From, To time.Time
	Total    int
	ByType   map[Type]int
	ByHarm   map[string]int
}

// CountSince counts the events in scope received from the day of since
// (UTC) to now. The scope is of organisations or all; the events a
// reporter recorded are not counted this way (the zero Tally). Errors: none
// but the database's.
func (s *Service) CountSince(ctx context.Context, scope Scope, since time.Time) (Tally, error) {
	t := Tally{From: dayStart(since), ByType: map[Type]int{}, ByHarm: map[string]int{}}
	t.To = dayStart(s.db.Now())
	if !scope.All && len(scope.Orgs) == 0 {
		return t, nil
	}
	q := &sqlQuery{}
	q.add("day >= " + q.arg(dayKey(t.From)))
	if !scope.All {
		q.add("org_ods IN " + q.in(scope.Orgs))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT event_type, physical_harm, SUM(n) FROM event_day_counts`+q.clause()+
		` GROUP BY event_type, physical_harm`, q.args...)
	if err != nil {
		return Tally{}, fmt.Errorf("incident: count events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ, harm string
		var n int
		if err := rows.Scan(&typ, &harm, &n); err != nil {
			return Tally{}, fmt.Errorf("incident: count events: %w", err)
		}
		t.Total += n
		t.ByType[Type(typ)] += n
		t.ByHarm[strings.TrimSpace(harm)] += n
	}
	if err := rows.Err(); err != nil {
		return Tally{}, fmt.Errorf("incident: count events: %w", err)
	}
	return t, nil
}
