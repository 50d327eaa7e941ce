package usage

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
)

// This file is the rollup: each complete UTC day of usage events becomes
// the rows usage reports read (migration 0016 describes them).

// Settle is how long after a UTC day ends the rollup waits before rolling
// it up: the Writer may still be writing the day's last events for a few
// seconds, and a day is rolled up only once.
const Settle = 15 * time.Minute

// nationalOrg is the organisation that stands for the whole service in
// usage_days and usage_period_users.
const nationalOrg = "*"

// insertRows is how many rows one multi-row INSERT of the rollup writes
// (see loadRows for why not more).
const insertRows = 100

// RollUp rolls up every complete UTC day not rolled up yet, oldest
// first, each in a transaction of its own that also moves the watermark
// and records an audit entry ("usage.rollup"): a rollup that stops part
// way resumes at the next day, and running it again, or in two processes
// at once, rolls up no day twice. A day is complete once it ended Settle
// before now. It returns how many days it rolled up.
//
// The first day rolled up is the day of the earliest usage event; after
// that every day is rolled up, with events or without, so that every
// week and month is completed.
func RollUp(ctx context.Context, d *db.DB, now time.Time) (int, error) {
	days := 0
	for {
		rolled, err := rollUpNext(ctx, d, now)
		if err != nil {
			return days, err
		}
		if !rolled {
			return days, nil
		}
		days++
	}
}

// rollUpNext rolls up the next day if it is complete, and reports
// whether it did.
func rollUpNext(ctx context.Context, d *db.DB, now time.Time) (bool, error) {
	rolled := false
	err := d.InTx(ctx, func(tx *db.Tx) error {
		was, err := progress(ctx, tx, progressRollup)
		if err != nil {
			return err
		}
		var day time.Time
		if was == "" {
			first, ok, err := firstEventAt(ctx, tx, time.Time{})
			if err != nil || !ok {
				return err
			}
			day = startOfDay(first)
		} else {
			last, err := parseDay(was)
			if err != nil {
				return fmt.Errorf("usage: the rollup watermark %q: %w", was, err)
			}
			day = last.AddDate(0, 0, 1)
		}
		if day.AddDate(0, 0, 1).Add(Settle).After(now) {
			return nil
		}
		if ok, err := advance(ctx, tx, progressRollup, was, dayKey(day)); err != nil || !ok {
			return err
		}
		events, people, err := rollUpDay(ctx, tx, day)
		if err != nil {
			return err
		}
		rolled = true
		return audit.Record(ctx, tx, audit.Entry{Action: "usage.rollup", SubjectType: "usage_day", SubjectID: dayKey(day),
			Details: map[string]string{"events": strconv.FormatInt(events, 10), "people": strconv.Itoa(people)}})
	})
	if err != nil {
		return false, fmt.Errorf("usage: roll up: %w", err)
	}
	return rolled, nil
}

// personDay is what one person did on one day in one organisation.
type personDay struct {
	signIns, pages, documents int64
	mask                      int64
	last                      time.Time
}

// add counts n events of kind in area, the last at last.
func (p *personDay) add(kind, area string, n int64, last time.Time) {
	switch kind {
	case KindSignIn:
		p.signIns += n
	case KindPage:
		p.pages += n
	case KindDocument:
		p.documents += n
	}
	p.mask |= eventBits(kind, area)
	if last.After(p.last) {
		p.last = last
	}
}

// personKey is a person in an organisation ("" for none).
type personKey struct {
	org  string
	user int64
}

// countKey is a kind of event in an area of an organisation.
type countKey struct {
	org, kind, area string
}

// dayUse is a day's usage events read and grouped: per person, and
// counted per organisation, kind and area (the whole service as
// nationalOrg too).
type dayUse struct {
	people map[personKey]*personDay
	counts map[countKey]int64
	events int64
}

// readDay groups the usage events from start (inclusive) to end
// (exclusive): of org alone, or every event when org is nationalOrg.
func readDay(ctx context.Context, q rowsQuerier, start, end time.Time, org string) (dayUse, error) {
	u := dayUse{people: map[personKey]*personDay{}, counts: map[countKey]int64{}}
	query := `SELECT COALESCE(org_ods, ''), user_id, kind, route, COUNT(*), MAX(at) FROM usage_events
		WHERE at >= $1 AND at < $2`
	args := []any{start.UTC(), end.UTC()}
	if org != nationalOrg {
		query += ` AND org_ods = $3`
		args = append(args, org)
	}
	rows, err := q.QueryContext(ctx, query+` GROUP BY org_ods, user_id, kind, route`, args...)
	if err != nil {
		return dayUse{}, fmt.Errorf("usage: read the day's events: %w", err)
	}
	defer rows.Close()
	areas := map[string]string{} // route to area: a day has few routes and many rows
	for rows.Next() {
		var k personKey
		var kind, route string
		var n int64
		var last anyTime
		if err := rows.Scan(&k.org, &k.user, &kind, &route, &n, &last); err != nil {
			return dayUse{}, fmt.Errorf("usage: read the day's events: %w", err)
		}
		area, ok := areas[kind+" "+route]
		if !ok {
			area = EventArea(kind, route)
			areas[kind+" "+route] = area
		}
		p := u.people[k]
		if p == nil {
			p = &personDay{}
			u.people[k] = p
		}
		p.add(kind, area, n, last.t)
		u.counts[countKey{k.org, kind, area}] += n
		u.counts[countKey{nationalOrg, kind, area}] += n
		u.events += n
	}
	if err := rows.Err(); err != nil {
		return dayUse{}, fmt.Errorf("usage: read the day's events: %w", err)
	}
	return u, nil
}

// rowsQuerier runs queries: the database or a transaction.
type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// rollUpDay writes the rows of day and, when the day ends a week or a
// month, the people counts of that period. It returns how many events
// and people the day had.
func rollUpDay(ctx context.Context, tx *db.Tx, day time.Time) (int64, int, error) {
	u, err := readDay(ctx, tx, day, day.AddDate(0, 0, 1), nationalOrg)
	if err != nil {
		return 0, 0, err
	}
	key := dayKey(day)
	var people []any
	for k, p := range u.people {
		people = append(people, k.org, key, k.user, p.signIns, p.pages, p.documents, p.mask, p.last)
	}
	if err := insertMany(ctx, tx, `INSERT INTO usage_user_days (org_ods, day, user_id, sign_ins, page_views, documents, mask, last_at) VALUES `,
		"", 8, people); err != nil {
		return 0, 0, fmt.Errorf("usage: write the day per person: %w", err)
	}
	var counts []any
	for k, n := range u.counts {
		if k.org == "" {
			continue // people of no organisation count in the whole service's rows only
		}
		counts = append(counts, k.org, key, k.kind, k.area, n)
	}
	if err := insertMany(ctx, tx, `INSERT INTO usage_days (org_ods, day, kind, area, n) VALUES `, "", 5, counts); err != nil {
		return 0, 0, fmt.Errorf("usage: write the day's counts: %w", err)
	}
	week, month := dayKey(weekStart(day)), dayKey(monthStart(day))
	for _, period := range []struct{ name, start string }{{periodWeek, week}, {periodMonth, month}} {
		var rows []any
		for k, p := range u.people {
			rows = append(rows, k.org, period.name, period.start, k.user, p.mask)
		}
		err := insertMany(ctx, tx, `INSERT INTO usage_user_periods (org_ods, period, start, user_id, mask) VALUES `,
			` ON CONFLICT (org_ods, period, start, user_id) DO UPDATE SET mask = usage_user_periods.mask | excluded.mask`, 5, rows)
		if err != nil {
			return 0, 0, fmt.Errorf("usage: write the %s per person: %w", period.name, err)
		}
	}
	if day.Weekday() == time.Sunday {
		if err := completePeriod(ctx, tx, periodWeek, week); err != nil {
			return 0, 0, err
		}
	}
	if day.AddDate(0, 0, 1).Day() == 1 {
		if err := completePeriod(ctx, tx, periodMonth, month); err != nil {
			return 0, 0, err
		}
	}
	distinct := map[int64]bool{}
	for k := range u.people {
		distinct[k.user] = true
	}
	return u.events, len(distinct), nil
}

// completePeriod stores how many different people did each thing in the
// week or month starting on start, in each organisation and in the whole
// service, now that its last day is rolled up.
func completePeriod(ctx context.Context, tx *db.Tx, period, start string) error {
	rows, err := tx.QueryContext(ctx, `SELECT org_ods, user_id, mask FROM usage_user_periods WHERE period = $1 AND start = $2`,
		period, start)
	if err != nil {
		return fmt.Errorf("usage: read the %s per person: %w", period, err)
	}
	byOrg := map[string]map[int64]int64{nationalOrg: {}}
	for rows.Next() {
		var org string
		var user, mask int64
		if err := rows.Scan(&org, &user, &mask); err != nil {
			rows.Close()
			return fmt.Errorf("usage: read the %s per person: %w", period, err)
		}
		if org != "" {
			if byOrg[org] == nil {
				byOrg[org] = map[int64]int64{}
			}
			byOrg[org][user] |= mask
		}
		byOrg[nationalOrg][user] |= mask
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("usage: read the %s per person: %w", period, err)
	}
	var out []any
	for org, masks := range byOrg {
		for m, n := range countMasks(masks) {
			out = append(out, org, period, start, m, n)
		}
	}
	if err := insertMany(ctx, tx, `INSERT INTO usage_period_users (org_ods, period, start, measure, users) VALUES `, "", 5, out); err != nil {
		return fmt.Errorf("usage: write the people of the %s: %w", period, err)
	}
	return nil
}

// insertMany inserts values, perRow to a row, with multi-row INSERTs of
// up to insertRows rows: head is the statement up to VALUES, tail what
// follows the rows. The statements have one of a few numbers of rows, so
// that they are a few texts for the prepared statement cache, not one
// for every number of rows a day happens to have.
func insertMany(ctx context.Context, tx *db.Tx, head, tail string, perRow int, values []any) error {
	for len(values) > 0 {
		rows := len(values) / perRow
		n := 1
		for _, size := range []int{insertRows, 20, 5} {
			if rows >= size {
				n = size
				break
			}
		}
		if _, err := tx.ExecContext(ctx, head+db.Values(n, perRow, 1, "")+tail, values[:n*perRow]...); err != nil {
			return err
		}
		values = values[n*perRow:]
	}
	return nil
}
