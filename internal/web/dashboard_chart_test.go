package web

import (
	"strings"
	"testing"

	"github.com/psims/psims/internal/spc"
)

// The XmR chart's layout: every point inside the plot, special cause
// drawn as a triangle pointing its way, the current period as a hollow
// circle joined by a dashed line, the names of close lines kept apart,
// and a description in words. // T14
func TestSPCChartLayout(t *testing.T) {
	values := []float64{2, 14, 2, 14, 2, 14, 2, 14, 2, 14, 2, 60, 3}
	labels := make([]string, len(values))
	for i := range labels {
		labels[i] = string(rune('A' + i))
	}
	c := spc.XmR(values, spc.Options{Counts: true, Provisional: 1})
	g := newSPCChart("total", "All events by month", labels, c)
	if len(g.Points) != len(values) {
		t.Fatalf("%d points", len(g.Points))
	}
	for i, p := range g.Points {
		if p.X < g.AxisX || p.X > g.PlotRight || p.Y < spcTop || p.Y > g.Baseline {
			t.Errorf("point %d at %d,%d is outside the plot", i, p.X, p.Y)
		}
	}
	if g.Points[11].Shape != "higher" || !strings.HasPrefix(g.Points[11].Path, "M") ||
		!strings.Contains(g.Points[11].Tooltip, "special cause, higher: beyond a process limit") {
		t.Errorf("the special cause point: %+v", g.Points[11])
	}
	if g.Points[12].Shape != "partial" || g.Tail == "" || strings.Count(g.Line, ",") != 12 {
		t.Errorf("the current period: %+v, line %q, tail %q", g.Points[12], g.Line, g.Tail)
	}
	if g.Points[0].Shape != "common" {
		t.Errorf("a common cause point: %+v", g.Points[0])
	}
	if g.Mean.LabelY-g.Upper.LabelY < 14 || g.Lower.LabelY-g.Mean.LabelY < 14 {
		t.Errorf("line names overlap: %d, %d, %d", g.Upper.LabelY, g.Mean.LabelY, g.Lower.LabelY)
	}
	if !strings.Contains(g.Desc, "13 points from A to M") || !strings.Contains(g.Desc, "1 point shows special cause") {
		t.Errorf("description %q", g.Desc)
	}

	// Close lines: all zeros but one, so the mean and the lower limit
	// are a unit apart; their names are still 14 apart.
	flat := newSPCChart("flat", "Flat", labels[:12], spc.XmR([]float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, spc.Options{Counts: true}))
	if flat.Lower.LabelY-flat.Mean.LabelY < 14 || flat.Mean.LabelY-flat.Upper.LabelY < 14 {
		t.Errorf("close names overlap: %d, %d, %d", flat.Upper.LabelY, flat.Mean.LabelY, flat.Lower.LabelY)
	}
	// Only the current period: no mean, no limits, and the words say so.
	current := newSPCChart("current", "Current", labels[:1], spc.XmR([]float64{3}, spc.Options{Counts: true, Provisional: 1}))
	if current.Mean.Show || !strings.Contains(current.Desc, "there is no mean") || current.Points[0].Shape != "partial" {
		t.Errorf("only the current period: %+v", current)
	}
	// Nothing at all draws axes and says so.
	empty := newSPCChart("none", "Nothing", nil, spc.XmR(nil, spc.Options{}))
	if len(empty.Points) != 0 || !strings.Contains(empty.Desc, "nothing to show") {
		t.Errorf("empty chart: %+v", empty)
	}
}
