package datepart

import (
	"testing"
	"time"
)

var (
	today = time.Date(2026, 11, 24, 15, 30, 0, 0, time.UTC)
	rules = Rules{Label: "Date you completed the training", Missing: "Enter the date you completed the training", Today: today}
)

func TestParseAcceptsRealDates(t *testing.T) {
	cases := []struct {
		day, month, year string
		r                Rules
		want             time.Time
	}{
		{"24", "11", "2026", rules, time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)},
		{" 1 ", "\t2", "2024 ", rules, time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)},
		{"29", "2", "2024", rules, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"01", "01", "1000", rules, time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)},
		// Without Today, the future is allowed.
		{"1", "1", "9999", Rules{Label: "Happened to"}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"1", "1", "1900", Rules{Label: "Date", EarliestYear: 1900}, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		got, p := Parse(c.day, c.month, c.year, c.r)
		if p != nil || !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("Parse(%q, %q, %q) = %v, %+v; want %v", c.day, c.month, c.year, got, p, c.want)
		}
	}
}

func TestParseSaysWhichPartIsWrongInNHSStyle(t *testing.T) {
	cases := []struct {
		day, month, year string
		r                Rules
		parts            Parts
		first            Parts
		message          string
	}{
		{"", " ", "", rules, All, Day, "Enter the date you completed the training"},
		{"12", "", "2026", rules, Month, Month, "Date you completed the training must include a month"},
		{"", "3", "2026", rules, Day, Day, "Date you completed the training must include a day"},
		{"3", "4", "", rules, Year, Year, "Date you completed the training must include a year"},
		{"", "", "2026", rules, Day | Month, Day, "Date you completed the training must include a day and month"},
		{"", "3", "", rules, Day | Year, Day, "Date you completed the training must include a day and year"},
		{"3", "", "", rules, Month | Year, Month, "Date you completed the training must include a month and year"},
		{"31", "2", "2026", rules, All, Day, "Date you completed the training must be a real date"},
		{"29", "2", "2025", rules, All, Day, "Date you completed the training must be a real date"},
		{"3", "13", "2026", rules, All, Day, "Date you completed the training must be a real date"},
		{"0", "1", "2026", rules, All, Day, "Date you completed the training must be a real date"},
		{"x", "1", "2026", rules, All, Day, "Date you completed the training must be a real date"},
		{"1", "1", "20x6", rules, All, Day, "Date you completed the training must be a real date"},
		{"1", "1", "99999999999999999999", rules, All, Day, "Date you completed the training must be a real date"},
		{"3", "4", "26", rules, Year, Year, "Year must include 4 numbers"},
		{"3", "4", "20266", rules, Year, Year, "Year must include 4 numbers"},
		{"3", "4", "0999", rules, Year, Year, "Year must include 4 numbers"},
		{"x", "4", "26", rules, Year, Year, "Year must include 4 numbers"},
		{"25", "11", "2026", rules, All, Day, "Date you completed the training must be today or in the past"},
		{"31", "12", "1899", Rules{Label: "Date", EarliestYear: 1900}, Year, Year, "Date is too long ago: it must be in 1900 or later"},
		{"31", "2", "1899", Rules{Label: "Date", EarliestYear: 1900}, All, Day, "Date must be a real date"},
	}
	for _, c := range cases {
		got, p := Parse(c.day, c.month, c.year, c.r)
		if p == nil {
			t.Errorf("Parse(%q, %q, %q) = %v, want a problem", c.day, c.month, c.year, got)
			continue
		}
		if p.Parts != c.parts || p.Parts.First() != c.first || p.Message != c.message || !got.IsZero() {
			t.Errorf("Parse(%q, %q, %q) = %+v (first %v), want parts %v first %v: %s",
				c.day, c.month, c.year, p, p.Parts.First(), c.parts, c.first, c.message)
		}
	}
}

func TestParts(t *testing.T) {
	if !All.Has(Day|Year) || Month.Has(Day) || Parts(0).First() != 0 || (Month|Year).First() != Month {
		t.Error("Has or First is wrong")
	}
}

// FuzzParse checks that no input panics, that every problem names a box
// and has a message, and that every date accepted is midnight UTC, not
// after today, and what was typed.
func FuzzParse(f *testing.F) {
	for _, s := range [][3]string{
		{"24", "11", "2026"}, {"31", "2", "2026"}, {"", "", ""}, {"1", "", "26"}, {"+1", "-0", "+999"},
		{"99999999999999999999", "1", "2026"}, {" 7 ", "\u00a012", "٢٠٢٦"}, {"29", "2", "2000"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, day, month, year string) {
		r := Rules{Label: "Date", Missing: "Enter the date", EarliestYear: 1900, Today: today}
		got, p := Parse(day, month, year, r)
		if p != nil {
			if p.Parts == 0 || p.Parts&^All != 0 || p.Message == "" || !got.IsZero() {
				t.Fatalf("Parse(%q, %q, %q): problem %+v, date %v", day, month, year, p, got)
			}
			return
		}
		if got.Location() != time.UTC || got.Hour() != 0 || got.Minute() != 0 || got.Second() != 0 || got.Nanosecond() != 0 {
			t.Fatalf("Parse(%q, %q, %q) = %v, not midnight UTC", day, month, year, got)
		}
		if got.After(today) || got.Year() < 1900 {
			t.Fatalf("Parse(%q, %q, %q) = %v, outside the rules", day, month, year, got)
		}
		// The date printed back parses to itself.
		again, p := Parse(got.Format("2"), got.Format("1"), got.Format("2006"), r)
		if p != nil || !again.Equal(got) {
			t.Fatalf("Parse(%q, %q, %q) = %v, which reads back as %v, %+v", day, month, year, got, again, p)
		}
	})
}
