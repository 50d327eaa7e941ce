package usage

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Retention is how long something is kept, in calendar months and days,
// as people say it: "13 months", "30 days".
type Retention struct {
	Months, Days int
}

// maxRetention bounds each number, so a typo cannot overflow a date.
const maxRetention = 100_000

// ParseRetention reads a retention period: a whole number and a unit,
// "d", "day" or "days", or "mo", "month" or "months", with or without a
// space between ("30d", "30 days", "13mo", "13 months").
func ParseRetention(s string) (Retention, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	end := 0
	for end < len(t) && t[end] >= '0' && t[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(t[:end])
	if err != nil || n < 1 || n > maxRetention {
		return Retention{}, fmt.Errorf("%q is not a period such as 30d or 13mo (a whole number of days or months, at least 1)", s)
	}
	switch strings.TrimSpace(t[end:]) {
	case "d", "day", "days":
		return Retention{Days: n}, nil
	case "mo", "month", "months":
		return Retention{Months: n}, nil
	}
	return Retention{}, fmt.Errorf("%q is not a period such as 30d or 13mo (the unit must be d or mo)", s)
}

// String says the period in words, as the privacy policy does: "30
// days", "13 months", "1 month and 2 days".
func (r Retention) String() string {
	unit := func(n int, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + one + "s"
	}
	switch {
	case r.Months > 0 && r.Days > 0:
		return unit(r.Months, "month") + " and " + unit(r.Days, "day")
	case r.Months > 0:
		return unit(r.Months, "month")
	}
	return unit(r.Days, "day")
}

// Flag is the period as the flags write it: "30d", "13mo".
func (r Retention) Flag() string {
	switch {
	case r.Months > 0 && r.Days == 0:
		return strconv.Itoa(r.Months) + "mo"
	case r.Months == 0:
		return strconv.Itoa(r.Days) + "d"
	}
	return r.String()
}

// IsZero reports whether the period is empty.
func (r Retention) IsZero() bool { return r.Months <= 0 && r.Days <= 0 }

// Before is the moment the period ends for something made at t: what is
// older than that has been kept long enough.
func (r Retention) Before(now time.Time) time.Time {
	return now.UTC().AddDate(0, -r.Months, -r.Days)
}

// Shorter reports whether r ends sooner than other for anything made now.
func (r Retention) Shorter(other Retention) bool {
	ref := time.Date(2000, 1, 31, 0, 0, 0, 0, time.UTC) // a long month, the worst case
	return r.Before(ref).After(other.Before(ref))
}
