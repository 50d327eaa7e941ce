package usage

import (
	"testing"
	"time"
)

// P4: retention periods are read as people write them and said back in
// words, as the privacy policy states them.
func TestParseRetention(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in    string
		want  Retention
		words string
	}{
		{"30d", Retention{Days: 30}, "30 days"},
		{"30 days", Retention{Days: 30}, "30 days"},
		{" 1 DAY ", Retention{Days: 1}, "1 day"},
		{"13mo", Retention{Months: 13}, "13 months"},
		{"1 month", Retention{Months: 1}, "1 month"},
	} {
		got, err := ParseRetention(c.in)
		if err != nil || got != c.want || got.String() != c.words {
			t.Errorf("ParseRetention(%q) = %+v (%q), %v; want %+v (%q)", c.in, got, got.String(), err, c.want, c.words)
		}
		if again, err := ParseRetention(got.Flag()); err != nil || again != got {
			t.Errorf("%+v.Flag() = %q reads back as %+v, %v", got, got.Flag(), again, err)
		}
	}
	for _, bad := range []string{"", "30", "d", "0d", "-1d", "30h", "720h", "1.5mo", "30 d d", "99999999999d"} {
		if r, err := ParseRetention(bad); err == nil {
			t.Errorf("ParseRetention(%q) = %+v, want an error", bad, r)
		}
	}
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	if got := (Retention{Months: 13}).Before(now); !got.Equal(time.Date(2025, 3, 3, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("13 months before %s = %s", now, got) // 2025-02-31 normalised
	}
	if !(Retention{Days: 30}).Shorter(Retention{Months: 1}) || (Retention{Days: 31}).Shorter(Retention{Months: 1}) {
		t.Error("Shorter compares wrongly")
	}
}
