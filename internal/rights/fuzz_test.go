package rights_test

import (
	"testing"
	"time"

	"github.com/psims/psims/internal/rights"
)

// FuzzAddMonths checks calendar-month arithmetic on any date: the month
// moves by exactly n, the day stays unless the month is shorter, when it
// is that month's last day, and the time of day never changes. // P15
func FuzzAddMonths(f *testing.F) {
	f.Add(int64(1800000000), 1)
	f.Add(time.Date(2028, 1, 31, 23, 59, 0, 0, time.UTC).Unix(), 1)
	f.Add(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC).Unix(), 3)
	f.Fuzz(func(t *testing.T, sec int64, n int) {
		if sec < 0 || sec > 1<<34 || n < 0 || n > 36 {
			t.Skip()
		}
		in := time.Unix(sec, 0).UTC()
		out := rights.AddMonths(in, n)
		months := (out.Year()*12 + int(out.Month())) - (in.Year()*12 + int(in.Month()))
		if months != n {
			t.Fatalf("AddMonths(%s, %d) = %s: moved %d months", in, n, out, months)
		}
		last := time.Date(out.Year(), out.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
		if want := min(in.Day(), last); out.Day() != want {
			t.Fatalf("AddMonths(%s, %d) = %s: day %d, want %d", in, n, out, out.Day(), want)
		}
		if out.Hour() != in.Hour() || out.Minute() != in.Minute() || out.Second() != in.Second() {
			t.Fatalf("AddMonths(%s, %d) = %s: the time of day changed", in, n, out)
		}
	})
}
