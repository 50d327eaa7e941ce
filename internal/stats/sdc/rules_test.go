package sdc

import (
	"strconv"
	"strings"
	"testing"

	"github.com/psims/psims/internal/apperr"
)

// T16: the rules are applied exactly as NHS England applies them.
func TestRulesAppliedExactly(t *testing.T) {
	cases := []struct {
		value int64
		level Level
		want  string
	}{
		{0, Protected, "0"},
		{1, Protected, "*"},
		{7, Protected, "*"},
		{8, Protected, "10"},
		{12, Protected, "10"},
		{13, Protected, "15"},
		{1234, Protected, "1235"}, // 1 from 1235, 4 from 1230
		{1233, Protected, "1235"},
		{1232, Protected, "1230"},
		{3, Exact, "3"},
		{0, Exact, "0"},
		{1234, Exact, "1234"},
	}
	for _, c := range cases {
		var tb Table
		f := tb.Add(c.value, c.level)
		res, err := Protect(Default(), &tb)
		if err != nil {
			t.Fatalf("%d: %v", c.value, err)
		}
		if got := res.Text(f); got != c.want {
			t.Errorf("a %s count of %d is published as %q, want %q", levelName(c.level), c.value, got, c.want)
		}
		v, ok := res.Value(f)
		if ok == (c.want == "*") {
			t.Errorf("%d: Value ok = %v", c.value, ok)
		}
		if ok && res.Text(f) != strconv.FormatInt(v, 10) {
			t.Errorf("%d: Value %d disagrees with Text %q", c.value, v, res.Text(f))
		}
	}
}

func levelName(l Level) string {
	if l == Exact {
		return "national"
	}
	return "protected"
}

// T16: a total is rounded from its own unrounded value, not summed from
// its rounded parts: 12 + 12 + 12 = 36 is published as 35, not 30.
func TestTotalsRoundedFromUnroundedSums(t *testing.T) {
	var tb Table
	a := tb.Add(12, Protected)
	b := tb.Add(12, Protected)
	c := tb.Add(12, Protected)
	total := tb.Add(36, Protected)
	tb.Sum(total, a, b, c)
	res, err := Protect(Default(), &tb)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Figure{a, b, c} {
		if got := res.Text(f); got != "10" {
			t.Errorf("part: got %q, want 10", got)
		}
	}
	if got := res.Text(total); got != "35" {
		t.Errorf("total: got %q, want 35 (rounded from 36, not 10+10+10)", got)
	}
}

// Configurable rules: 1 to 9 suppressed, rounding to the nearest 10.
func TestConfigurableRules(t *testing.T) {
	r := Rules{Low: 1, High: 9, Round: 10, Symbol: "[c]", MinRange: 3}
	cases := map[int64]string{0: "0", 1: "[c]", 9: "[c]", 10: "10", 14: "10", 15: "20", 24: "20", 25: "30", 1234: "1230", 1235: "1240"}
	for v, want := range cases {
		var tb Table
		f := tb.Add(v, Protected)
		res, err := Protect(r, &tb)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Text(f); got != want {
			t.Errorf("%d: got %q, want %q", v, got, want)
		}
	}
	// No rounding: Round 0 and 1 both leave counts as they are.
	for _, round := range []int64{0, 1} {
		r := Rules{Low: 1, High: 7, Round: round, Symbol: "*", MinRange: 3}
		var tb Table
		f := tb.Add(13, Protected)
		res, err := Protect(r, &tb)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Text(f); got != "13" {
			t.Errorf("Round %d: got %q, want 13", round, got)
		}
	}
	// Counts below Low are shown (rounded) when Low is above 1.
	r = Rules{Low: 3, High: 7, Round: 0, Symbol: "*", MinRange: 3}
	var tb Table
	f := tb.Add(2, Protected)
	res, err := Protect(r, &tb)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Text(f); got != "2" {
		t.Errorf("Low 3: 2 got %q", got)
	}
}

func TestValidateMessages(t *testing.T) {
	ok := Default()
	cases := []struct {
		name string
		edit func(*Rules)
		want string
	}{
		{"low of 0", func(r *Rules) { r.Low = 0 }, "The smallest suppressed count must be 1 or more"},
		{"high below low", func(r *Rules) { r.Low, r.High = 5, 4 }, "must not be less than the smallest"},
		{"negative rounding", func(r *Rules) { r.Round = -5 }, "Rounding must be 0"},
		{"huge rounding", func(r *Rules) { r.Round = 10_000_000 }, "nearest 1000000 or less"},
		{"empty symbol", func(r *Rules) { r.Symbol = " " }, "Enter the symbol"},
		{"numeric symbol", func(r *Rules) { r.Symbol = "<5" }, "must not contain digits"},
		{"min range of 1", func(r *Rules) { r.MinRange = 1 }, "The minimum range must be 2 or more"},
		{"min range wider than the band", func(r *Rules) { r.MinRange = 8 }, "cannot be more than the number of counts that are suppressed (7, from 1 to 7)"},
		{"rounding shows small counts as 0", func(r *Rules) { r.Round = 20 }, "would show a count of 8 as 0"},
		{"rounding shows counts below Low as 0", func(r *Rules) { r.Low, r.Round = 2, 5 }, "would show a count of 1 as 0"},
	}
	if err := ok.Validate(); err != nil {
		t.Fatalf("Default: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Default()
			c.edit(&r)
			err := r.Validate()
			if err == nil || !strings.Contains(apperr.MessageOf(err), c.want) || apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("got %v, want a message with %q", err, c.want)
			}
			var tb Table
			tb.Add(1, Protected)
			if _, err := Protect(r, &tb); apperr.MessageOf(err) != apperr.MessageOf(r.Validate()) {
				t.Fatalf("Protect with bad rules: %v", err)
			}
		})
	}
}

func TestRoundedRange(t *testing.T) {
	r := Default()
	cases := []struct{ n, lo, hi int64 }{
		{0, 0, 0},
		{10, 8, 12},  // 8..12 round to 10, and none of them is suppressed
		{15, 13, 17}, // 13..17
		{1235, 1233, 1237},
	}
	for _, c := range cases {
		lo, hi, ok := r.roundedRange(c.n)
		if !ok || lo != c.lo || hi != c.hi {
			t.Errorf("%d: got %d..%d %v, want %d..%d", c.n, lo, hi, ok, c.lo, c.hi)
		}
	}
	if _, _, ok := r.roundedRange(5); ok {
		t.Error("5 cannot be published with the default rules (3..7 are suppressed)")
	}
	// Rounding to 10 with halves up: 20 stands for 15..24.
	r10 := Rules{Low: 1, High: 9, Round: 10, Symbol: "*", MinRange: 3}
	if lo, hi, _ := r10.roundedRange(20); lo != 15 || hi != 24 {
		t.Errorf("Round 10: 20 stands for %d..%d, want 15..24", lo, hi)
	}
	if lo, hi, _ := r10.roundedRange(10); lo != 10 || hi != 14 {
		t.Errorf("Round 10: 10 stands for %d..%d, want 10..14 (5..9 are suppressed)", lo, hi)
	}
	// Every count the rules show as n lies in roundedRange(n).
	for _, rr := range []Rules{r, r10, {Low: 3, High: 7, Round: 2, Symbol: "*", MinRange: 3}} {
		for v := int64(0); v < 200; v++ {
			if v != 0 && rr.suppresses(v) {
				continue
			}
			lo, hi, ok := rr.roundedRange(rr.round(v))
			if !ok || v < lo || v > hi {
				t.Errorf("%+v: %d shown as %d, range %d..%d %v", rr, v, rr.round(v), lo, hi, ok)
			}
		}
	}
}
