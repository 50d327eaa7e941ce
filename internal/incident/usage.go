package incident

import (
	"context"
	"fmt"
	"time"
)

// This file counts recorded events for usage reports (issue 12): how many
// an organisation, or the whole service, received each day, and how many
// different people recorded them, so that a report can suppress a figure
// that stands for fewer than five people.

// reporterSample is how many events RecordedReporters reads before it
// counts exactly: among that many, a handful of people is usual.
const reporterSample = 200

// RecordedPerDay returns how many events org (every organisation when
// org is "") received on each UTC day from from to to, inclusive, keyed
// by date (YYYY-MM-DD). It reads the daily counts, not the events.
func (s *Service) RecordedPerDay(ctx context.Context, org string, from, to time.Time) (map[string]int64, error) {
	q := &sqlQuery{}
	q.add("day >= " + q.arg(dayKey(from)))
	q.add("day <= " + q.arg(dayKey(to)))
	if org != "" {
		q.add("org_ods = " + q.arg(org))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT day, SUM(n) FROM event_day_counts`+q.clause()+` GROUP BY day`, q.args...)
	if err != nil {
		return nil, fmt.Errorf("incident: events per day: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var day string
		var n int64
		if err := rows.Scan(&day, &n); err != nil {
			return nil, fmt.Errorf("incident: events per day: %w", err)
		}
		out[day] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incident: events per day: %w", err)
	}
	return out, nil
}

// RecordedReporters returns how many different people with an account
// recorded the events org (every organisation when "") received from the
// start of from's UTC day to the end of to's, counting no further than
// enough when enough is positive. Events of the public route have no
// reporter and count for no one.
func (s *Service) RecordedReporters(ctx context.Context, org string, from, to time.Time, enough int) (int, error) {
	q := &sqlQuery{}
	q.add("submitted_at >= " + q.arg(dayStart(from)))
	q.add("submitted_at < " + q.arg(dayStart(to).AddDate(0, 0, 1)))
	q.add("reporter_id IS NOT NULL")
	if org != "" {
		q.add("org_ods = " + q.arg(org))
	}
	// Most periods have enough people among their first events; only
	// when they do not is every event read.
	if enough > 0 {
		rows, err := s.db.QueryContext(ctx, `SELECT reporter_id FROM events`+q.clause()+` LIMIT `+fmt.Sprint(reporterSample), q.args...)
		if err != nil {
			return 0, fmt.Errorf("incident: reporters: %w", err)
		}
		seen := map[int64]bool{}
		read := 0
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return 0, fmt.Errorf("incident: reporters: %w", err)
			}
			seen[id] = true
			read++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("incident: reporters: %w", err)
		}
		if len(seen) >= enough {
			return enough, nil
		}
		if read < reporterSample {
			return len(seen), nil
		}
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(DISTINCT reporter_id) FROM events`+q.clause(), q.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("incident: reporters: %w", err)
	}
	if enough > 0 {
		n = min(n, enough)
	}
	return n, nil
}
