package web

import (
	"strings"
	"testing"
)

func TestNiceCeiling(t *testing.T) {
	for _, c := range []struct{ v, want int64 }{
		{0, 4}, {1, 4}, {4, 4}, {5, 8}, {9, 20}, {30, 40}, {41, 80}, {100, 100}, {101, 200}, {999, 1000}, {12345, 20000},
	} {
		if got := niceCeiling(c.v); got != c.want {
			t.Errorf("niceCeiling(%d) = %d, want %d", c.v, got, c.want)
		}
	}
}

// P19, P10: a figure withheld because fewer than 5 people are behind it is
// drawn as a note, never as a bar of height 0 that would read as none.
func TestBarChartLayout(t *testing.T) {
	points := []chartPoint{{Label: "5 Oct", Value: 40}, {Label: "12 Oct", Note: "<5", Why: "fewer than 5 people, not shown"}, {Label: "19 Oct", Value: 10}}
	c := newBarChart("views", "Page views", "page views", points)
	if len(c.Bars) != 3 || len(c.Ticks) != 5 || c.Ticks[4].Label != "40" {
		t.Fatalf("chart %+v", c)
	}
	full, withheld, small := c.Bars[0], c.Bars[1], c.Bars[2]
	if full.Y != chartTop || full.Y+full.H != c.Baseline {
		t.Errorf("the highest bar spans %d to %d, want %d to %d", full.Y, full.Y+full.H, chartTop, c.Baseline)
	}
	if small.H*4 != full.H && small.H*4 != full.H+1 && small.H*4 != full.H-1 {
		t.Errorf("a quarter of the value is %d high against %d", small.H, full.H)
	}
	if withheld.H != 0 || withheld.Note != "<5" || !strings.Contains(withheld.Tooltip, "fewer than 5") {
		t.Errorf("suppressed bar %+v", withheld)
	}
	for i, b := range c.Bars {
		if b.X < chartLeft || b.X+b.W > chartWidth-chartRight || (i > 0 && b.X <= c.Bars[i-1].X+c.Bars[i-1].W) {
			t.Errorf("bar %d at %d..%d overlaps or leaves the plot", i, b.X, b.X+b.W)
		}
	}
	for _, want := range []string{"3 bars from 5 Oct to 19 Oct", "Highest 40 page views (5 Oct)", "lowest 10 page views (19 Oct)", "1 not shown, as the table says"} {
		if !strings.Contains(c.Desc, want) {
			t.Errorf("description %q lacks %q", c.Desc, want)
		}
	}
	// Many bars: labels are thinned so they do not overlap.
	many := make([]chartPoint, 53)
	for i := range many {
		many[i] = chartPoint{Label: "w", Value: int64(i)}
	}
	labelled := 0
	for _, b := range newBarChart("w", "Weeks", "x", many).Bars {
		if b.Label != "" {
			labelled++
		}
	}
	if labelled == 0 || labelled > chartMaxLabels {
		t.Errorf("%d of 53 bars labelled, want 1 to %d", labelled, chartMaxLabels)
	}
	if empty := newBarChart("e", "Nothing", "x", nil); len(empty.Bars) != 0 || !strings.Contains(empty.Desc, "nothing") {
		t.Errorf("empty chart %+v", empty)
	}
}
