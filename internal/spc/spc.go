// Package spc draws the statistical process control charts that NHS
// England's "Making Data Count" teaches: the XmR chart (individuals and
// moving range) of a measure over time, its process limits, and the four
// rules that say a point shows special cause variation. It is pure: values
// in, a chart out.
//
// Choices, where the guidance leaves room (docs/architecture.md, section
// "Dashboards and SPC", says why):
//
//   - The process limits are the mean ± 2.66 × the mean moving range
//     (3 sigma, with sigma estimated as the mean moving range / 1.128).
//     "Near a limit" is beyond two thirds of the way from the mean to a
//     limit: the mean ± 1.773 × the mean moving range (2 sigma).
//   - Options.Counts floors the lower process limit at 0, as a count cannot
//     be negative; a point of 0 on a limit of 0 is on the limit, not beyond
//     it. "Beyond" is always strictly beyond.
//   - A run is 7 or more consecutive points all above or all below the
//     mean. A point exactly on the mean neither counts towards a run nor
//     joins the points either side: it ends the run.
//   - A trend is 7 or more consecutive points each strictly higher (or
//     each strictly lower) than the one before. A point equal to the one
//     before ends the trend; the next trend may start from it.
//   - Two out of three: of three consecutive points, at least two are near
//     or beyond the same limit; the points near or beyond it are flagged.
//   - Provisional points (the current, incomplete period) are drawn but
//     take no part in the limits or the rules.
//   - The limits are computed from every other point; with fewer than
//     MinReliable of them, the chart says the limits are not yet reliable.
//   - The chart's variation is that of its latest point that is not
//     provisional, as Making Data Count's icons are.
package spc

import "math"

// The constants of the XmR chart.
const (
	// LimitFactor times the mean moving range is the distance from the
	// mean to a process limit (3 sigma).
	LimitFactor = 2.66
	// NearFactor times the mean moving range is the distance from the
	// mean beyond which a point is near a limit (2 sigma, two thirds of
	// LimitFactor).
	NearFactor = LimitFactor * 2 / 3
	// RunLength is how many consecutive points on one side of the mean
	// make a run, and TrendLength how many consecutive rising or falling
	// points make a trend.
	RunLength   = 7
	TrendLength = 7
	// MinReliable is the fewest points whose limits the chart calls
	// reliable. Making Data Count advises 15 to 20 points and treats
	// limits from fewer than 12 or so with caution.
	MinReliable = 12
)

// Rule is one of the special cause rules.
type Rule int

// The rules, in the order a point lists them.
const (
	// BeyondLimit: a point above the upper or below the lower process
	// limit.
	BeyondLimit Rule = iota + 1
	// TwoOfThree: two out of three consecutive points near or beyond the
	// same limit.
	TwoOfThree
	// Run: RunLength or more consecutive points on one side of the mean.
	Run
	// Trend: TrendLength or more consecutive points rising, or falling.
	Trend
)

// Rules lists every rule, in order.
func Rules() []Rule { return []Rule{BeyondLimit, TwoOfThree, Run, Trend} }

// String names the rule in words, for a page.
func (r Rule) String() string {
	switch r {
	case BeyondLimit:
		return "beyond a process limit"
	case TwoOfThree:
		return "two out of three near a process limit"
	case Run:
		return "run of 7 or more on one side of the mean"
	case Trend:
		return "trend of 7 or more rising or falling"
	}
	return "unknown rule"
}

// Side is which way a special cause points: higher or lower.
type Side int

// The sides.
const (
	None Side = iota
	Higher
	Lower
)

// Flag is one rule that flags a point, and which way.
type Flag struct {
	Rule Rule
	Side Side
}

// Point is one value of the chart.
type Point struct {
	Value float64
	// MovingRange is the absolute difference from the point before;
	// HasRange is false for the first point and for provisional points.
	MovingRange float64
	HasRange    bool
	// Provisional is true for a point drawn but left out of the limits
	// and the rules (the current, incomplete period).
	Provisional bool
	// Flags are the rules that flag the point, in the order of Rules;
	// none for common cause variation.
	Flags []Flag
}

// Special reports whether any rule flags the point.
func (p Point) Special() bool { return len(p.Flags) > 0 }

// Side is the direction of the point's special cause: that of its first
// flag (beyond a limit before two of three before a run before a trend),
// or None.
func (p Point) Side() Side {
	if len(p.Flags) == 0 {
		return None
	}
	return p.Flags[0].Side
}

// Variation is what a chart's latest point shows, as Making Data Count's
// variation icons say it.
type Variation int

// The variations. For a measure where neither higher nor lower is better
// (a count of recorded events: more may mean a better reporting culture),
// special cause is "neither improvement nor concern".
const (
	// NoData: there is no point that is not provisional.
	NoData Variation = iota
	CommonCause
	SpecialCauseHigher
	SpecialCauseLower
)

// String says the variation in words.
func (v Variation) String() string {
	switch v {
	case CommonCause:
		return "Common cause variation"
	case SpecialCauseHigher:
		return "Special cause variation: higher, neither improvement nor concern"
	case SpecialCauseLower:
		return "Special cause variation: lower, neither improvement nor concern"
	}
	return "No data yet"
}

// Options shape a chart.
type Options struct {
	// Counts floors the lower process limit at 0, and takes a negative
	// value as 0.
	Counts bool
	// Provisional is how many of the last values are provisional.
	Provisional int
}

// Chart is an XmR chart.
type Chart struct {
	Points []Point
	// Baseline is how many points the limits come from: every point not
	// provisional.
	Baseline int
	// Mean is the mean of those points and MeanRange the mean of their
	// moving ranges.
	Mean, MeanRange float64
	// Upper and Lower are the process limits; UpperNear and LowerNear the
	// lines beyond which a point is near a limit (2 sigma).
	Upper, Lower         float64
	UpperNear, LowerNear float64
	// Reliable is true when the limits come from MinReliable points or
	// more.
	Reliable  bool
	Variation Variation
}

// MaxValue is the largest size of value a chart takes; larger ones are
// taken as MaxValue (and smaller than -MaxValue as -MaxValue), so that no
// sum overflows.
const MaxValue = 1e12

// XmR makes the chart of values. Values that are not numbers are taken
// as 0, so that bad input draws a chart rather than failing.
func XmR(values []float64, o Options) Chart {
	c := Chart{Points: make([]Point, len(values))}
	provisional := min(max(o.Provisional, 0), len(values))
	c.Baseline = len(values) - provisional
	for i, v := range values {
		if math.IsNaN(v) {
			v = 0
		}
		v = min(max(v, -MaxValue), MaxValue)
		if o.Counts {
			v = max(v, 0)
		}
		c.Points[i] = Point{Value: v, Provisional: i >= c.Baseline}
	}
	base := c.Points[:c.Baseline]
	if len(base) == 0 {
		return c
	}
	var sum, ranges float64
	for i := range base {
		sum += base[i].Value
		if i > 0 {
			base[i].MovingRange, base[i].HasRange = math.Abs(base[i].Value-base[i-1].Value), true
			ranges += base[i].MovingRange
		}
	}
	c.Mean = sum / float64(len(base))
	if len(base) > 1 {
		c.MeanRange = ranges / float64(len(base)-1)
	}
	c.Upper, c.Lower = c.Mean+LimitFactor*c.MeanRange, c.Mean-LimitFactor*c.MeanRange
	c.UpperNear, c.LowerNear = c.Mean+NearFactor*c.MeanRange, c.Mean-NearFactor*c.MeanRange
	if o.Counts {
		c.Lower, c.LowerNear = max(c.Lower, 0), max(c.LowerNear, 0)
	}
	c.Reliable = len(base) >= MinReliable
	flags := make([][]Flag, len(base))
	c.beyondLimits(flags)
	c.twoOfThree(flags)
	c.runs(flags)
	c.trends(flags)
	for i := range base {
		base[i].Flags = flags[i]
	}
	c.Variation = CommonCause
	switch base[len(base)-1].Side() {
	case Higher:
		c.Variation = SpecialCauseHigher
	case Lower:
		c.Variation = SpecialCauseLower
	}
	return c
}

// add flags point i with r, once per rule and side.
func add(flags [][]Flag, i int, r Rule, s Side) {
	for _, f := range flags[i] {
		if f.Rule == r && f.Side == s {
			return
		}
	}
	flags[i] = append(flags[i], Flag{Rule: r, Side: s})
}

func (c *Chart) beyondLimits(flags [][]Flag) {
	for i := range flags {
		switch v := c.Points[i].Value; {
		case v > c.Upper:
			add(flags, i, BeyondLimit, Higher)
		case v < c.Lower:
			add(flags, i, BeyondLimit, Lower)
		}
	}
}

func (c *Chart) twoOfThree(flags [][]Flag) {
	near := func(i int, s Side) bool {
		if s == Higher {
			return c.Points[i].Value > c.UpperNear
		}
		return c.Points[i].Value < c.LowerNear
	}
	for start := 0; start+3 <= len(flags); start++ {
		for _, s := range []Side{Higher, Lower} {
			n := 0
			for i := start; i < start+3; i++ {
				if near(i, s) {
					n++
				}
			}
			if n < 2 {
				continue
			}
			for i := start; i < start+3; i++ {
				if near(i, s) {
					add(flags, i, TwoOfThree, s)
				}
			}
		}
	}
}

// runs flags every point of a run of RunLength or more on one side of the
// mean; a point on the mean ends a run.
func (c *Chart) runs(flags [][]Flag) {
	side := func(i int) Side {
		switch v := c.Points[i].Value; {
		case v > c.Mean:
			return Higher
		case v < c.Mean:
			return Lower
		}
		return None
	}
	markSpans(len(flags), RunLength, func(i int) Side { return side(i) },
		func(i int, s Side) { add(flags, i, Run, s) })
}

// trends flags every point of a trend of TrendLength or more points each
// strictly above (or below) the one before.
func (c *Chart) trends(flags [][]Flag) {
	// step(i) is the direction from point i-1 to point i; a trend of n
	// points is n-1 steps the same way, so the span of steps starts one
	// point late and is one shorter.
	step := func(i int) Side {
		if i == 0 {
			return None
		}
		switch a, b := c.Points[i-1].Value, c.Points[i].Value; {
		case b > a:
			return Higher
		case b < a:
			return Lower
		}
		return None
	}
	markSpans(len(flags), TrendLength-1, step, func(i int, s Side) {
		add(flags, i, Trend, s)
		if i > 0 {
			add(flags, i-1, Trend, s)
		}
	})
}

// markSpans calls mark for every index of each maximal span of at least
// length consecutive indexes whose side is the same and not None.
func markSpans(n, length int, side func(int) Side, mark func(int, Side)) {
	for start := 0; start < n; {
		s := side(start)
		end := start + 1
		for end < n && s != None && side(end) == s {
			end++
		}
		if s != None && end-start >= length {
			for i := start; i < end; i++ {
				mark(i, s)
			}
		}
		start = end
	}
}
