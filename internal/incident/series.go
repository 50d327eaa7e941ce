package incident

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
)

// This file counts a scope's events by month or by week, by type and by
// physical harm, for the dashboards' statistical process control charts
// (issue 15, T14). It reads the day counts (tally.go), a few rows a day
// whatever the number of events, in one query for the whole range that
// adds them up period by period.

// Grain is the length of a series' periods.
type Grain string

// The grains. Weeks start on Monday; months are calendar months; both in
// UTC, as the day counts are.
const (
	Monthly Grain = "month"
	Weekly  Grain = "week"
)

// ParseGrain reads a grain by its name. Errors: apperr.Invalid for any
// other.
func ParseGrain(s string) (Grain, error) {
	switch g := Grain(s); g {
	case Monthly, Weekly:
		return g, nil
	}
	return "", apperr.New(apperr.Invalid, "Choose months or weeks")
}

// PeriodStart is the first day of the period of grain g that holds t.
func (g Grain) PeriodStart(t time.Time) time.Time {
	d := dayStart(t.UTC())
	if g == Weekly {
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	}
	return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// next is the first day of the period after the one starting on start.
func (g Grain) next(start time.Time) time.Time {
	if g == Weekly {
		return start.AddDate(0, 0, 7)
	}
	return start.AddDate(0, 1, 0)
}

// SeriesMaxPeriods is the most periods one series holds: a bounded
// amount of work, and more than a chart can show.
const SeriesMaxPeriods = 260

// SeriesPeriod is the events of one period.
type SeriesPeriod struct {
	// From is the period's first day and To its last, in UTC.
	From, To time.Time
	// Partial is true for the current period, which has not ended: its
	// count is not yet complete.
	Partial bool
	Total   int
	ByType  map[Type]int
	// ByHarm counts by the most severe physical harm, "" for none
	// recorded.
	ByHarm map[string]int
}

// Series is a scope's events counted period by period, oldest first.
// Every period of the range is there; one without events counts 0.
type Series struct {
	Grain   Grain
	Periods []SeriesPeriod
	// First is the first day, at any time, on which the scope received
	// an event: the zero time when it never has. Periods before it are
	// not zeros of a process but time before the scope reported at all.
	First time.Time
}

// Series counts the events in scope received in each period of grain g
// from the one that holds from to the one that holds to, or today when to
// is later. The scope is of organisations or all; the events a reporter
// recorded are not counted this way (every period 0). Errors:
// apperr.Invalid for an unknown grain, a range that ends before it starts
// or one of more than SeriesMaxPeriods periods.
func (s *Service) Series(ctx context.Context, scope Scope, g Grain, from, to time.Time) (Series, error) {
	if _, err := ParseGrain(string(g)); err != nil {
		return Series{}, err
	}
	today := dayStart(s.db.Now().UTC())
	if to.After(today) {
		to = today
	}
	first, last := g.PeriodStart(from), g.PeriodStart(to)
	if last.Before(first) {
		return Series{}, apperr.New(apperr.Invalid, "The end of the range must be the same as or after its start")
	}
	out := Series{Grain: g}
	for p := first; !p.After(last); p = g.next(p) {
		if len(out.Periods) == SeriesMaxPeriods {
			return Series{}, apperr.New(apperr.Invalid, fmt.Sprintf("Choose a range of %d periods or fewer", SeriesMaxPeriods))
		}
		end := g.next(p).AddDate(0, 0, -1)
		out.Periods = append(out.Periods, SeriesPeriod{From: p, To: end, Partial: !end.Before(today),
			ByType: map[Type]int{}, ByHarm: map[string]int{}})
	}
	if !scope.All && len(scope.Orgs) == 0 {
		return out, nil
	}
	// One query, a branch a period: each branch adds up its period's day
	// counts from a range of the primary key (or, for every organisation,
	// of the index on day), so the database sends a few rows a period,
	// not one a day, and each engine plans every branch the same simple
	// way.
	q := &sqlQuery{}
	org := ""
	if !scope.All {
		org = " AND org_ods IN " + q.in(scope.Orgs)
	}
	branches := make([]string, len(out.Periods))
	for i, p := range out.Periods {
		branches[i] = `SELECT ` + strconv.Itoa(i) + ` AS k, event_type, physical_harm, SUM(n) AS n FROM event_day_counts WHERE day >= ` +
			q.arg(dayKey(p.From)) + ` AND day <= ` + q.arg(dayKey(p.To)) + org + ` GROUP BY event_type, physical_harm`
	}
	rows, err := s.db.QueryContext(ctx, strings.Join(branches, " UNION ALL "), q.args...)
	if err != nil {
		return Series{}, fmt.Errorf("incident: count series: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, n int
		var typ, harm string
		if err := rows.Scan(&i, &typ, &harm, &n); err != nil {
			return Series{}, fmt.Errorf("incident: count series: %w", err)
		}
		if i < 0 || i >= len(out.Periods) {
			return Series{}, fmt.Errorf("incident: count series: no period %d", i)
		}
		p := &out.Periods[i]
		p.Total += n
		p.ByType[Type(typ)] += n
		p.ByHarm[strings.TrimSpace(harm)] += n
	}
	if err := rows.Err(); err != nil {
		return Series{}, fmt.Errorf("incident: count series: %w", err)
	}
	// The first day: the start of the primary key's range for one
	// organisation, or of the index on day for all.
	fq := &sqlQuery{}
	if !scope.All {
		fq.add("org_ods IN " + fq.in(scope.Orgs))
	}
	var day sql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(day) FROM event_day_counts`+fq.clause(), fq.args...).Scan(&day); err != nil {
		return Series{}, fmt.Errorf("incident: count series: first day: %w", err)
	}
	if day.Valid {
		if out.First, err = time.Parse(time.DateOnly, day.String); err != nil {
			return Series{}, fmt.Errorf("incident: count series: first day %q: %w", day.String, err)
		}
	}
	return out, nil
}
