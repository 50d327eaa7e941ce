package usage

import "time"

// A measure is one thing people are counted doing in a report: anything
// at all (being active), a kind of event, or viewing pages of an area.
// Every figure of a report is suppressed when fewer than MinUsers
// different people are behind it, so each figure has a measure.
//
// Per-person rows keep which measures the person did in a mask. The bits
// are stored (usage_user_days, usage_user_periods): never renumber them,
// only add.
const (
	bitSignIn   int64 = 1 << 0
	bitPage     int64 = 1 << 1
	bitDocument int64 = 1 << 2
	// areaBitBase is the bit of the first area of Areas; each next area
	// has the next bit.
	areaBitBase = 8
)

// The measures as usage_period_users names them.
const (
	measureActive = "active"
	areaMeasure   = "area:"
)

// measure is a measure's name and its bit; measureActive has none (a
// person with a row at all was active).
type measure struct {
	name string
	bit  int64
}

// measures lists every measure: active, the three kinds, then each area.
func measures() []measure {
	list := []measure{{measureActive, 0}, {KindSignIn, bitSignIn}, {KindPage, bitPage}, {KindDocument, bitDocument}}
	for i, a := range Areas() {
		list = append(list, measure{areaMeasure + a, 1 << (areaBitBase + i)})
	}
	return list
}

// kindBit is the bit of an event kind; 0 for a kind reports do not count.
func kindBit(kind string) int64 {
	switch kind {
	case KindSignIn:
		return bitSignIn
	case KindPage:
		return bitPage
	case KindDocument:
		return bitDocument
	}
	return 0
}

// areaBit is the bit of an area.
func areaBit(area string) int64 {
	for i, a := range Areas() {
		if a == area {
			return 1 << (areaBitBase + i)
		}
	}
	return 0
}

// eventBits is what one event marks a person as having done: its kind,
// and for a page its area.
func eventBits(kind, area string) int64 {
	b := kindBit(kind)
	if kind == KindPage {
		b |= areaBit(area)
	}
	return b
}

// counts holds, for each measure, how many different people did it.
type counts map[string]int64

// countMasks counts the people of masks (one mask a person) for every
// measure.
func countMasks(masks map[int64]int64) counts {
	c := counts{}
	ms := measures()
	for _, mask := range masks {
		c[measureActive]++
		for _, m := range ms[1:] {
			if mask&m.bit != 0 {
				c[m.name]++
			}
		}
	}
	return c
}

// Days are stored as their date in UTC, YYYY-MM-DD.

// dayKey is how day is stored.
func dayKey(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// parseDay reads a stored day.
func parseDay(s string) (time.Time, error) { return time.Parse(time.DateOnly, s) }

// startOfDay is midnight UTC at the start of t's day.
func startOfDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// weekStart is the Monday of t's ISO week.
func weekStart(t time.Time) time.Time {
	t = startOfDay(t)
	return t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
}

// monthStart is the first day of t's month.
func monthStart(t time.Time) time.Time {
	y, m, _ := t.UTC().Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}

// The kinds of period stored.
const (
	periodWeek  = "week"
	periodMonth = "month"
)

// periodEnd is the last day of the week or month starting on start.
func periodEnd(period string, start time.Time) time.Time {
	if period == periodWeek {
		return start.AddDate(0, 0, 6)
	}
	return start.AddDate(0, 1, -1)
}
