package web

import (
	"fmt"
	"math"
	"strings"

	"github.com/psims/psims/internal/numfmt"
)

// This file draws the bar charts of the usage reports (issue 12) as SVG on
// the server, so they need no JavaScript and no third-party code. A chart
// is a picture of a table that is always shown beside it: the SVG is an
// image with a title and a short description for screen readers, and the
// table carries every figure.

// The chart's drawing area, in the SVG's own units; the SVG scales to the
// width of its column.
const (
	chartWidth  = 640
	chartHeight = 260
	chartLeft   = 56 // room for the y axis labels
	chartRight  = 8
	chartTop    = 12
	chartBottom = 44 // room for the x axis labels
	// chartMaxLabels is how many x axis labels fit; with more bars, only
	// every so many is labelled (the table has them all).
	chartMaxLabels = 8
)

// chartPoint is one bar's figure: a label ("7 Sep" or "Sep 26") and a
// value, or a Note drawn instead of a bar when the figure is withheld
// ("<5" when too few people are behind it), with Why in words.
type chartPoint struct {
	Label     string
	Value     int64
	Note, Why string
}

// barChart is what the "bar-chart" template draws.
type barChart struct {
	ID    string // unique on the page; the title and description ids derive from it
	Title string
	Desc  string // a sentence or two for screen readers: what it shows, the range, the highest bar
	// Width and Height are the viewBox size.
	Width, Height int
	Bars          []chartBar
	Ticks         []chartTick
	// AxisX and AxisY are where the axes are drawn; Baseline is the y of 0.
	AxisX, AxisY, Baseline int
}

// chartBar is one bar as drawn.
type chartBar struct {
	X, Y, W, H int
	// LabelX is the centre of the bar, where its x label is drawn;
	// Label is "" for bars that go unlabelled to make room.
	LabelX int
	Label  string
	// Note is drawn above a suppressed bar, which has no height.
	Note    string
	Tooltip string // the bar's label and figure, as an SVG <title>
}

// chartTick is one line across the chart with its value on the y axis.
type chartTick struct {
	Y     int
	Label string
}

// newBarChart lays out points as a bar chart. A withheld figure gets its
// note and no bar, so it is never drawn as a zero.
func newBarChart(id, title, unit string, points []chartPoint) barChart {
	c := barChart{ID: id, Title: title, Width: chartWidth, Height: chartHeight,
		AxisX: chartLeft, AxisY: chartHeight - chartBottom, Baseline: chartHeight - chartBottom}
	var top int64
	for _, p := range points {
		if p.Note == "" {
			top = max(top, p.Value)
		}
	}
	scaleMax := niceCeiling(top)
	plotH := float64(chartHeight - chartTop - chartBottom)
	for i := 0; i <= 4; i++ {
		v := scaleMax * int64(i) / 4
		c.Ticks = append(c.Ticks, chartTick{Y: c.Baseline - int(math.Round(plotH*float64(i)/4)), Label: numfmt.Thousands(v)})
	}
	if len(points) == 0 {
		c.Desc = title + ": there is nothing in this period."
		return c
	}
	plotW := float64(chartWidth - chartLeft - chartRight)
	slot := plotW / float64(len(points))
	every := (len(points) + chartMaxLabels - 1) / chartMaxLabels
	for i, p := range points {
		b := chartBar{X: chartLeft + int(math.Round(slot*float64(i)+slot*0.15)), W: max(1, int(math.Round(slot*0.7)))}
		b.LabelX = b.X + b.W/2
		if i%every == 0 {
			b.Label = p.Label
		}
		if p.Note != "" {
			b.Y, b.Note = c.Baseline, p.Note
			b.Tooltip = p.Label + ": " + p.Why
		} else {
			b.H = int(math.Round(plotH * float64(p.Value) / float64(scaleMax)))
			b.Y = c.Baseline - b.H
			b.Tooltip = fmt.Sprintf("%s: %s %s", p.Label, numfmt.Thousands(p.Value), unit)
		}
		c.Bars = append(c.Bars, b)
	}
	c.Desc = chartDescription(title, unit, points)
	return c
}

// chartDescription says in words what a chart shows: its range, and its
// highest and lowest bars.
func chartDescription(title, unit string, points []chartPoint) string {
	var hi, lo *chartPoint
	withheld := 0
	for i := range points {
		p := &points[i]
		if p.Note != "" {
			withheld++
			continue
		}
		if hi == nil || p.Value > hi.Value {
			hi = p
		}
		if lo == nil || p.Value < lo.Value {
			lo = p
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Bar chart of %s, %d bars from %s to %s.", strings.ToLower(title), len(points),
		points[0].Label, points[len(points)-1].Label)
	if hi != nil {
		fmt.Fprintf(&b, " Highest %s %s (%s), lowest %s %s (%s).", numfmt.Thousands(hi.Value), unit, hi.Label,
			numfmt.Thousands(lo.Value), unit, lo.Label)
	}
	if withheld > 0 {
		fmt.Fprintf(&b, " %d not shown, as the table says.", withheld)
	}
	b.WriteString(" The table that follows gives every figure.")
	return b.String()
}

// niceCeiling is four times the smallest tick step of 1, 2 or 5 (or,
// from 10 up, 2.5) times a power of ten that reaches v in four ticks, so
// every tick is a round whole number.
func niceCeiling(v int64) int64 {
	for p := int64(1); ; p *= 10 {
		steps := []int64{p, 2 * p, 5 * p}
		if p >= 10 {
			steps = []int64{p, 2 * p, 5 * p / 2, 5 * p}
		}
		for _, step := range steps {
			if 4*step >= max(v, 1) {
				return 4 * step
			}
		}
	}
}
