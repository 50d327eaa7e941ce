package incident

import (
	"context"
	"fmt"
	"time"

	"github.com/psims/psims/internal/apperr"
)

// This file counts events for official statistics (issue 15): how many
// events of each organisation, type, physical harm and service type fell
// in a period, and how many carried each safety challenge and agent. The
// statistics package builds its tables from these counts; it never reads
// the events tables itself.

// Basis says which date places an event in a period.
type Basis string

// The bases a period can be counted on.
const (
	// BasisOccurred counts an event on the first day it can have happened
	// (occurred_from), as the national statistics count "occurring in".
	BasisOccurred Basis = "occurred"
	// BasisSubmitted counts an event on the day it was first submitted.
	BasisSubmitted Basis = "submitted"
)

// Valid reports whether b is one of the bases.
func (b Basis) Valid() bool { return b == BasisOccurred || b == BasisSubmitted }

// Label is how a basis reads in a sentence: "occurring in" or
// "submitted in".
func (b Basis) Label() string {
	if b == BasisSubmitted {
		return "submitted in"
	}
	return "occurring in"
}

// StatCount is how many events of one organisation, type, most severe
// physical harm ("" when none was recorded) and service type ("" when none)
// fell in a period.
type StatCount struct {
	Org          string
	Type         Type
	PhysicalHarm string
	ServiceType  string
	N            int64
}

// StatCodeCount is how many events of one organisation and type carried a
// code of a multi-valued element (ElementSafetyChallenges or
// ElementAgents) in a period. An event with several codes counts once
// for each.
type StatCodeCount struct {
	Org     string
	Type    Type
	Element string
	Code    string
	N       int64
}

// StatCounts is what a period's statistics are built from. Both lists are
// in a fixed order (by every field in turn), so that the same data always
// gives the same counts in the same order.
type StatCounts struct {
	Events []StatCount
	Codes  []StatCodeCount
}

// StatCounts counts the current version of every event whose basis date
// falls on a day (UTC) from the day of from to the day of to, both
// included. It reads the statistics rollups (stats_rollup.go): the whole
// months of the period from the month rollups, the days at its ends from
// the day rollups. Errors: Invalid for an unknown basis or to before from.
func (s *Service) StatCounts(ctx context.Context, basis Basis, from, to time.Time) (StatCounts, error) {
	var out StatCounts
	if !basis.Valid() {
		return out, apperr.New(apperr.Invalid, "Choose whether to count events by when they occurred or when they were submitted")
	}
	from, to = dayStart(from), dayStart(to).AddDate(0, 0, 1)
	if !to.After(from) {
		return out, apperr.New(apperr.Invalid, "The end of the period must be the same as or after its start")
	}
	p := statPeriodOf(from, to)
	rows, err := s.db.QueryContext(ctx, `SELECT org_ods, event_type, physical_harm, service_type, CAST(SUM(n) AS BIGINT) FROM (
		SELECT org_ods, event_type, physical_harm, service_type, n FROM event_stat_days WHERE basis = $1 AND day >= $2 AND day < $3
		UNION ALL
		SELECT org_ods, event_type, physical_harm, service_type, n FROM event_stat_days WHERE basis = $1 AND day >= $4 AND day < $5
		UNION ALL
		SELECT org_ods, event_type, physical_harm, service_type, n FROM event_stat_months
		WHERE basis = $1 AND month >= $6 AND month < $7) x
		GROUP BY org_ods, event_type, physical_harm, service_type HAVING SUM(n) > 0
		ORDER BY org_ods, event_type, physical_harm, service_type`, p.args(basis)...)
	if err != nil {
		return out, fmt.Errorf("incident: count for statistics: %w", err)
	}
	for rows.Next() {
		var c StatCount
		if err := rows.Scan(&c.Org, &c.Type, &c.PhysicalHarm, &c.ServiceType, &c.N); err != nil {
			rows.Close()
			return out, fmt.Errorf("incident: count for statistics: %w", err)
		}
		out.Events = append(out.Events, c)
	}
	if err := rows.Close(); err != nil {
		return out, fmt.Errorf("incident: count for statistics: %w", err)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("incident: count for statistics: %w", err)
	}
	rows, err = s.db.QueryContext(ctx, `SELECT org_ods, event_type, element, code, CAST(SUM(n) AS BIGINT) FROM (
		SELECT org_ods, event_type, element, code, n FROM event_stat_code_days WHERE basis = $1 AND day >= $2 AND day < $3
		UNION ALL
		SELECT org_ods, event_type, element, code, n FROM event_stat_code_days WHERE basis = $1 AND day >= $4 AND day < $5
		UNION ALL
		SELECT org_ods, event_type, element, code, n FROM event_stat_code_months
		WHERE basis = $1 AND month >= $6 AND month < $7) x
		GROUP BY org_ods, event_type, element, code HAVING SUM(n) > 0
		ORDER BY org_ods, event_type, element, code`, p.args(basis)...)
	if err != nil {
		return out, fmt.Errorf("incident: count codes for statistics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c StatCodeCount
		if err := rows.Scan(&c.Org, &c.Type, &c.Element, &c.Code, &c.N); err != nil {
			return out, fmt.Errorf("incident: count codes for statistics: %w", err)
		}
		out.Codes = append(out.Codes, c)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("incident: count codes for statistics: %w", err)
	}
	return out, nil
}

// statPeriod is a period as the rollups read it: the whole months it
// covers from the month rollups, and the days before and after them from
// the day rollups. Each range is from its first key, included, to its
// second, excluded; an empty range has both keys equal.
type statPeriod struct {
	headFrom, headTo   string // days before the first whole month
	tailFrom, tailTo   string // days after the last whole month
	monthFrom, monthTo string
}

// statPeriodOf splits the days from from up to to (midnights, UTC, to
// excluded) into whole months and the days at either end.
func statPeriodOf(from, to time.Time) statPeriod {
	firstMonth := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	if !firstMonth.Equal(from) {
		firstMonth = firstMonth.AddDate(0, 1, 0)
	}
	endMonth := time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC)
	if !firstMonth.Before(endMonth) {
		// No whole month: every day from the day rollups.
		return statPeriod{headFrom: dayKey(from), headTo: dayKey(to)}
	}
	return statPeriod{
		headFrom: dayKey(from), headTo: dayKey(firstMonth),
		tailFrom: dayKey(endMonth), tailTo: dayKey(to),
		monthFrom: firstMonth.Format("2006-01"), monthTo: endMonth.Format("2006-01"),
	}
}

func (p statPeriod) args(basis Basis) []any {
	return []any{string(basis), p.headFrom, p.headTo, p.tailFrom, p.tailTo, p.monthFrom, p.monthTo}
}
