package usage

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/terms"
)

// MinUsers is the fewest different people a figure of a usage report may
// stand for. A figure behind fewer (but more than none) is suppressed, so
// that no report shows what one person or a handful did: people are shown
// one by one only when they consent (P19), and the operator's report
// names no one and counts no one apart (P10).
const MinUsers = 5

// maxReportDays bounds a report's period.
const maxReportDays = 3660

// ReportQuery asks for a usage report.
type ReportQuery struct {
	// Org is the organisation's ODS code, or "" for the whole service
	// (every organisation, and people of none).
	Org string
	// From and To are the first and last days reported, UTC dates
	// (the time of day is ignored); To is cut to today.
	From, To time.Time
	// Individuals asks for a row per person, which only an organisation's
	// report has, and only for people who consent to it now (P19).
	Individuals bool
}

// Figure is one number of a report.
type Figure struct {
	Value int64
	// Suppressed is true when fewer than MinUsers different people (but
	// some) are behind the figure; Value is then 0.
	Suppressed bool
	// Unknown is true when the figure cannot be worked out any more: it
	// counts different people over days that are not a whole week or
	// month and are older than --usage-retention, whose per-person rows
	// have been deleted. Value is then 0. Only ActiveUsers is ever
	// Unknown; other figures over such days are suppressed unless a whole
	// week or month inside them had MinUsers people behind them.
	Unknown bool
}

// String is the figure as a table shows it: the number, "<5" when
// suppressed, "unknown" when not known.
func (f Figure) String() string {
	switch {
	case f.Unknown:
		return "unknown"
	case f.Suppressed:
		return fmt.Sprintf("<%d", MinUsers)
	}
	return fmt.Sprint(f.Value)
}

// AreaFigure is the page views of one area (see Areas).
type AreaFigure struct {
	Area  string
	Views Figure
}

// Period is the figures of a week, a month or the whole report.
type Period struct {
	// From and To are its first and last days, inside the report's.
	From, To time.Time
	// ActiveUsers is how many different people used the service.
	ActiveUsers Figure
	// SignIns, PageViews and DocumentsOpened count usage events of each
	// kind; a page view is any request a signed-in person made.
	SignIns, PageViews, DocumentsOpened Figure
	// EventsRecorded is how many patient safety events the organisation
	// (or the service) received, suppressed when fewer than MinUsers
	// different people with an account recorded them.
	EventsRecorded Figure
	// Areas are the page views of each area, in the order of Areas.
	Areas []AreaFigure
}

// PersonUse is one person's use of the service over a report's period,
// in the report's organisation.
type PersonUse struct {
	UserID                              int64
	Name, Email                         string
	SignIns, PageViews, DocumentsOpened int64
	ActiveDays                          int
	LastActive                          time.Time
}

// Report is a usage report.
type Report struct {
	Query ReportQuery
	// Weeks are ISO weeks (from Monday) and Months calendar months, the
	// first and last cut to the report's days; Total is all its days.
	Weeks, Months []Period
	Total         Period
	// People are the people of the organisation who consent to analysis
	// of their use (terms.UsageAnalysis) and used the service in the
	// period, by name; only when the query asked for Individuals, and
	// never in the report of the whole service.
	People []PersonUse
}

// ConsentReader says who consents to what now; *terms.Service is one.
type ConsentReader interface {
	// ConsentingMembers returns the users of the organisation who
	// consent to p now.
	ConsentingMembers(ctx context.Context, orgCode string, p terms.Purpose) ([]int64, error)
}

// Directory names people; *account.Service is one.
type Directory interface {
	// Contact returns the user's name and email address. Errors:
	// NotFound.
	Contact(ctx context.Context, userID int64) (name, email string, err error)
}

// EventCounter counts recorded patient safety events; *incident.Service
// is one. org "" means every organisation; days are UTC dates.
type EventCounter interface {
	// RecordedPerDay returns how many events were received on each day
	// from from to to (inclusive), keyed by date (YYYY-MM-DD).
	RecordedPerDay(ctx context.Context, org string, from, to time.Time) (map[string]int64, error)
	// RecordedReporters returns how many different people with an
	// account recorded the events received from from to to (inclusive),
	// counting no further than enough.
	RecordedReporters(ctx context.Context, org string, from, to time.Time, enough int) (int, error)
}

// Reports makes usage reports from the rollup's aggregates and the raw
// events of the days not rolled up yet (today's), so a report is current.
type Reports struct {
	db      *db.DB
	consent ConsentReader
	people  Directory
	events  EventCounter
}

// NewReports returns Reports on d.
func NewReports(d *db.DB, consent ConsentReader, people Directory, events EventCounter) *Reports {
	return &Reports{db: d, consent: consent, people: people, events: events}
}

// periodCalc is a period being worked out.
type periodCalc struct {
	from, to time.Time
	// stored names the week or month the period is exactly, if it is
	// one: its figures of people may have been stored.
	stored    string
	counts    map[[2]string]int64 // by kind and area
	people    counts
	known     bool
	events    int64
	reporters int
}

// Report makes the report q asks for. Errors: Invalid when the days are
// missing, in the wrong order, in the future or more than ten years
// apart.
func (r *Reports) Report(ctx context.Context, q ReportQuery) (Report, error) {
	from, to := startOfDay(q.From), startOfDay(q.To)
	today := startOfDay(r.db.Now())
	switch {
	case q.From.IsZero() || q.To.IsZero():
		return Report{}, apperr.New(apperr.Invalid, "Enter the first and last days of the report.")
	case to.Before(from):
		return Report{}, apperr.New(apperr.Invalid, "The last day of the report must be the same as or after the first.")
	case from.After(today):
		return Report{}, apperr.New(apperr.Invalid, "The first day of the report must be today or in the past.")
	case to.Sub(from) > maxReportDays*24*time.Hour:
		return Report{}, apperr.New(apperr.Invalid, "A report can cover at most ten years.")
	}
	if to.After(today) {
		to = today
	}
	scope := q.Org
	if scope == "" {
		scope = nationalOrg
	}
	rolledKey, err := progress(ctx, r.db, progressRollup)
	if err != nil {
		return Report{}, err
	}
	rolled := from.AddDate(0, 0, -1) // nothing rolled up inside the report
	if rolledKey != "" {
		if rolled, err = parseDay(rolledKey); err != nil {
			return Report{}, fmt.Errorf("usage: the rollup watermark %q: %w", rolledKey, err)
		}
	}
	horizonKey, err := progress(ctx, r.db, progressHorizon)
	if err != nil {
		return Report{}, err
	}

	weeks, months := splitPeriods(from, to, periodWeek), splitPeriods(from, to, periodMonth)
	total := newPeriod(from, to)
	if len(weeks) == 1 && weeks[0].stored != "" {
		total.stored = weeks[0].stored
	} else if len(months) == 1 && months[0].stored != "" {
		total.stored = months[0].stored
	}
	all := append(append(slices.Clone(weeks), months...), total)

	// Counts of the days rolled up, then of the days that are not.
	if err := r.addDayCounts(ctx, scope, from, minDay(to, rolled), all); err != nil {
		return Report{}, err
	}
	raw := map[string]dayUse{}
	for day := maxDay(from, rolled.AddDate(0, 0, 1)); !day.After(to); day = day.AddDate(0, 0, 1) {
		u, err := readDay(ctx, r.db, day, day.AddDate(0, 0, 1), scope)
		if err != nil {
			return Report{}, err
		}
		raw[dayKey(day)] = u
		for k, n := range u.counts {
			if k.org == scope {
				addCount(all, day, k.kind, k.area, n)
			}
		}
	}

	// People behind each figure: stored for whole weeks and months,
	// worked out from per-person rows for the rest.
	stored, err := r.storedPeople(ctx, scope, from, to)
	if err != nil {
		return Report{}, err
	}
	for _, p := range all {
		if s, ok := stored[p.stored]; ok || (p.stored != "" && !p.to.After(rolled)) {
			p.people, p.known = s, true
			if p.people == nil {
				p.people = counts{}
			}
			continue
		}
		if p.people, p.known, err = r.distinct(ctx, scope, p.from, p.to, rolled, horizonKey, raw); err != nil {
			return Report{}, err
		}
		if !p.known {
			p.people = lowerBound(stored, p.from, p.to)
		}
	}

	if err := r.addEvents(ctx, q.Org, from, to, all); err != nil {
		return Report{}, err
	}
	rep := Report{Query: q, Total: total.figures()}
	for _, p := range weeks {
		rep.Weeks = append(rep.Weeks, p.figures())
	}
	for _, p := range months {
		rep.Months = append(rep.Months, p.figures())
	}
	if q.Individuals && q.Org != "" {
		if rep.People, err = r.individuals(ctx, q.Org, from, minDay(to, rolled), horizonKey, raw); err != nil {
			return Report{}, err
		}
	}
	return rep, nil
}

func newPeriod(from, to time.Time) *periodCalc {
	return &periodCalc{from: from, to: to, counts: map[[2]string]int64{}}
}

// splitPeriods cuts from..to into weeks or months, the first and last cut
// to from and to.
func splitPeriods(from, to time.Time, period string) []*periodCalc {
	var out []*periodCalc
	start := weekStart(from)
	if period == periodMonth {
		start = monthStart(from)
	}
	for !start.After(to) {
		end := periodEnd(period, start)
		p := newPeriod(maxDay(start, from), minDay(end, to))
		if p.from.Equal(start) && p.to.Equal(end) {
			p.stored = period + " " + dayKey(start)
		}
		out = append(out, p)
		start = end.AddDate(0, 0, 1)
	}
	return out
}

// addCount adds n events of kind in area on day to every period holding
// the day.
func addCount(all []*periodCalc, day time.Time, kind, area string, n int64) {
	for _, p := range all {
		if !day.Before(p.from) && !day.After(p.to) {
			p.counts[[2]string{kind, area}] += n
		}
	}
}

// addDayCounts adds the rolled-up counts of scope from from to to.
func (r *Reports) addDayCounts(ctx context.Context, scope string, from, to time.Time, all []*periodCalc) error {
	if to.Before(from) {
		return nil
	}
	rows, err := r.db.QueryContext(ctx, `SELECT day, kind, area, n FROM usage_days WHERE org_ods = $1 AND day >= $2 AND day <= $3`,
		scope, dayKey(from), dayKey(to))
	if err != nil {
		return fmt.Errorf("usage: read daily counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, kind, area string
		var n int64
		if err := rows.Scan(&key, &kind, &area, &n); err != nil {
			return fmt.Errorf("usage: read daily counts: %w", err)
		}
		day, err := parseDay(key)
		if err != nil {
			return fmt.Errorf("usage: read daily counts: %w", err)
		}
		addCount(all, day, kind, area, n)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("usage: read daily counts: %w", err)
	}
	return nil
}

// storedPeople reads the people counts stored for the weeks and months of
// scope that start from from to to, keyed "week YYYY-MM-DD" or "month
// YYYY-MM-DD".
func (r *Reports) storedPeople(ctx context.Context, scope string, from, to time.Time) (map[string]counts, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT period, start, measure, users FROM usage_period_users
		WHERE org_ods = $1 AND start >= $2 AND start <= $3`, scope, dayKey(monthStart(weekStart(from))), dayKey(to))
	if err != nil {
		return nil, fmt.Errorf("usage: read people per period: %w", err)
	}
	defer rows.Close()
	out := map[string]counts{}
	for rows.Next() {
		var period, start, m string
		var n int64
		if err := rows.Scan(&period, &start, &m, &n); err != nil {
			return nil, fmt.Errorf("usage: read people per period: %w", err)
		}
		key := period + " " + start
		if out[key] == nil {
			out[key] = counts{}
		}
		out[key][m] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("usage: read people per period: %w", err)
	}
	return out, nil
}

// lowerBound is, for each measure, the most people of any stored week or
// month inside from..to: at least that many were behind the figure over
// from..to.
func lowerBound(stored map[string]counts, from, to time.Time) counts {
	out := counts{}
	for key, c := range stored {
		period, start, _ := strings.Cut(key, " ")
		s, err := parseDay(start)
		if err != nil || s.Before(from) || periodEnd(period, s).After(to) {
			continue
		}
		for m, n := range c {
			out[m] = max(out[m], n)
		}
	}
	return out
}

// distinct counts the different people of scope behind each measure from
// from to to: over the days rolled up (to rolled) from the per-person
// rows, reading whole months and weeks where it can, and over the days
// after from the raw events in raw. It reports false when some of the
// days are before horizon, whose per-person rows are gone.
func (r *Reports) distinct(ctx context.Context, scope string, from, to, rolled time.Time, horizon string,
	raw map[string]dayUse) (counts, bool, error) {
	masks := map[int64]int64{}
	end := minDay(to, rolled)
	if !end.Before(from) {
		if horizon != "" && dayKey(from) < horizon {
			return nil, false, nil
		}
		orgClause, orgArgs := "", []any{}
		if scope != nationalOrg {
			orgClause, orgArgs = " AND org_ods = $3", []any{scope}
		}
		read := func(query string, args ...any) error {
			rows, err := r.db.QueryContext(ctx, query+orgClause, append(args, orgArgs...)...)
			if err != nil {
				return fmt.Errorf("usage: read people: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var user, mask int64
				if err := rows.Scan(&user, &mask); err != nil {
					return fmt.Errorf("usage: read people: %w", err)
				}
				masks[user] |= mask
			}
			return rows.Err()
		}
		// A week's or month's row holds its days rolled up so far, so it
		// also serves a period that ends with the last day rolled up.
		usable := func(period string, start time.Time) bool {
			e := periodEnd(period, start)
			return !e.After(end) || end.Equal(rolled)
		}
		day := from
		var runFrom time.Time
		flush := func(last time.Time) error {
			if runFrom.IsZero() {
				return nil
			}
			err := read(`SELECT user_id, mask FROM usage_user_days WHERE day >= $1 AND day <= $2`, dayKey(runFrom), dayKey(last))
			runFrom = time.Time{}
			return err
		}
		for !day.After(end) {
			period := ""
			switch {
			case day.Equal(monthStart(day)) && usable(periodMonth, day):
				period = periodMonth
			case day.Equal(weekStart(day)) && usable(periodWeek, day):
				period = periodWeek
			}
			if period == "" {
				if runFrom.IsZero() {
					runFrom = day
				}
				day = day.AddDate(0, 0, 1)
				continue
			}
			if err := flush(day.AddDate(0, 0, -1)); err != nil {
				return nil, false, err
			}
			if err := read(`SELECT user_id, mask FROM usage_user_periods WHERE period = $1 AND start = $2`, period, dayKey(day)); err != nil {
				return nil, false, err
			}
			day = periodEnd(period, day).AddDate(0, 0, 1)
		}
		if err := flush(end); err != nil {
			return nil, false, err
		}
	}
	for day := maxDay(from, rolled.AddDate(0, 0, 1)); !day.After(to); day = day.AddDate(0, 0, 1) {
		for k, p := range raw[dayKey(day)].people {
			masks[k.user] |= p.mask
		}
	}
	return countMasks(masks), true, nil
}

// addEvents adds the patient safety events recorded, and how many people
// recorded them, to every period.
func (r *Reports) addEvents(ctx context.Context, org string, from, to time.Time, all []*periodCalc) error {
	perDay, err := r.events.RecordedPerDay(ctx, org, from, to)
	if err != nil {
		return fmt.Errorf("usage: events recorded: %w", err)
	}
	for key, n := range perDay {
		day, err := parseDay(key)
		if err != nil {
			return fmt.Errorf("usage: events recorded: %w", err)
		}
		for _, p := range all {
			if !day.Before(p.from) && !day.After(p.to) {
				p.events += n
			}
		}
	}
	for _, p := range all {
		if p.events == 0 {
			continue
		}
		if p.reporters, err = r.events.RecordedReporters(ctx, org, p.from, p.to, MinUsers); err != nil {
			return fmt.Errorf("usage: people recording events: %w", err)
		}
	}
	return nil
}

// figure is value behind people different people: suppressed when there
// are some but fewer than MinUsers (P10, P19).
func figure(value, people int64) Figure {
	if value != 0 && people < MinUsers {
		return Figure{Suppressed: true}
	}
	return Figure{Value: value}
}

// figures turns a period worked out into its figures.
func (p *periodCalc) figures() Period {
	sum := func(kind, area string) int64 {
		var n int64
		for k, v := range p.counts {
			if k[0] == kind && (area == "" || k[1] == area) {
				n += v
			}
		}
		return n
	}
	out := Period{From: p.from, To: p.to,
		SignIns:         figure(sum(KindSignIn, ""), p.people[KindSignIn]),
		PageViews:       figure(sum(KindPage, ""), p.people[KindPage]),
		DocumentsOpened: figure(sum(KindDocument, ""), p.people[KindDocument]),
		EventsRecorded:  figure(p.events, int64(p.reporters)),
	}
	if p.known {
		out.ActiveUsers = figure(p.people[measureActive], p.people[measureActive])
	} else {
		out.ActiveUsers = Figure{Unknown: true}
	}
	for _, a := range Areas() {
		out.Areas = append(out.Areas, AreaFigure{Area: a, Views: figure(sum(KindPage, a), p.people[areaMeasure+a])})
	}
	return out
}

// individuals is the use of each person of org who consents now to
// analysis of their use (P19), from from to rolled from per-person rows
// (none before horizon) and after that from raw.
func (r *Reports) individuals(ctx context.Context, org string, from, rolled time.Time, horizon string, raw map[string]dayUse) ([]PersonUse, error) {
	ids, err := r.consent.ConsentingMembers(ctx, org, terms.UsageAnalysis)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	use := map[int64]*PersonUse{}
	for _, id := range ids {
		use[id] = &PersonUse{UserID: id}
	}
	add := func(user int64, p personDay) {
		u := use[user]
		if u == nil {
			return
		}
		u.SignIns += p.signIns
		u.PageViews += p.pages
		u.DocumentsOpened += p.documents
		u.ActiveDays++
		if p.last.After(u.LastActive) {
			u.LastActive = p.last
		}
	}
	start := from
	if horizon != "" && dayKey(start) < horizon {
		if start, err = parseDay(horizon); err != nil {
			return nil, fmt.Errorf("usage: the horizon %q: %w", horizon, err)
		}
	}
	if !rolled.Before(start) {
		rows, err := r.db.QueryContext(ctx, `SELECT user_id, sign_ins, page_views, documents, last_at FROM usage_user_days
			WHERE org_ods = $1 AND day >= $2 AND day <= $3`, org, dayKey(start), dayKey(rolled))
		if err != nil {
			return nil, fmt.Errorf("usage: read people's days: %w", err)
		}
		for rows.Next() {
			var user int64
			var p personDay
			if err := rows.Scan(&user, &p.signIns, &p.pages, &p.documents, &p.last); err != nil {
				rows.Close()
				return nil, fmt.Errorf("usage: read people's days: %w", err)
			}
			add(user, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("usage: read people's days: %w", err)
		}
	}
	for _, u := range raw {
		for k, p := range u.people {
			add(k.user, *p)
		}
	}
	var out []PersonUse
	for _, u := range use {
		if u.ActiveDays == 0 {
			continue
		}
		u.Name, u.Email, err = r.people.Contact(ctx, u.UserID)
		if apperr.CodeOf(err) == apperr.NotFound {
			continue // deleted since
		}
		if err != nil {
			return nil, fmt.Errorf("usage: name a person: %w", err)
		}
		u.LastActive = u.LastActive.UTC()
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b PersonUse) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return cmp.Compare(a.UserID, b.UserID)
	})
	return out, nil
}

func minDay(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxDay(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// RecordIndividualsShown audits that someone was shown the per-person
// rows of an organisation's report (P19: their use analysed one by one):
// actorID 0 for the command line, with the report's organisation, days
// and how many people it named, and no one's name.
func (r *Reports) RecordIndividualsShown(ctx context.Context, actorID int64, ip string, rep Report) error {
	err := r.db.InTx(ctx, func(tx *db.Tx) error {
		return audit.Record(ctx, tx, audit.Entry{ActorID: actorID, Action: "usage.individuals_shown", SubjectType: "organisation",
			SubjectID: rep.Query.Org, IP: ip, Details: map[string]string{"from": dayKey(rep.Query.From), "to": dayKey(rep.Query.To),
				"people": strconv.Itoa(len(rep.People))}})
	})
	if err != nil {
		return fmt.Errorf("usage: audit a report: %w", err)
	}
	return nil
}
