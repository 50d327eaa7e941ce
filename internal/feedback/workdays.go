package feedback

import "time"

// WorkingDaysBefore returns the moment n working days before t, counting
// Monday to Friday in loc (so a Friday afternoon to the next Monday
// afternoon is one working day). A moment at the weekend counts as the end
// of the Friday before it. Bank holidays are not known and count as
// working days: the figure is a prompt for the operator, and a day early
// around a holiday errs on the side of answering sooner.
func WorkingDaysBefore(t time.Time, n int, loc *time.Location) time.Time {
	t = t.In(loc)
	if weekend(t) {
		t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		for weekend(t.AddDate(0, 0, -1)) {
			t = t.AddDate(0, 0, -1)
		}
	}
	for range n {
		t = t.AddDate(0, 0, -1)
		for weekend(t) {
			t = t.AddDate(0, 0, -1)
		}
	}
	return t
}

func weekend(t time.Time) bool { return t.Weekday() == time.Saturday || t.Weekday() == time.Sunday }
