package spc

import (
	"math"
	"slices"
	"testing"
)

// near reports whether a and b agree to four decimal places, as the hand
// calculations in the comments are rounded.
func near(a, b float64) bool { return math.Abs(a-b) < 5e-4 }

// flagged lists the indexes of the points rule r flags, with the side.
func flagged(c Chart, r Rule) map[int]Side {
	out := map[int]Side{}
	for i, p := range c.Points {
		for _, f := range p.Flags {
			if f.Rule == r {
				out[i] = f.Side
			}
		}
	}
	return out
}

// span makes the map of indexes from..to (inclusive) all on side s.
func span(from, to int, s Side) map[int]Side {
	out := map[int]Side{}
	for i := from; i <= to; i++ {
		out[i] = s
	}
	return out
}

func sameFlags(t *testing.T, what string, got, want map[int]Side) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: flagged %v, want %v", what, got, want)
	}
	for i, s := range want {
		if g, ok := got[i]; !ok || g != s {
			t.Fatalf("%s: flagged %v, want %v", what, got, want)
		}
	}
}

func repeat(v float64, n int) []float64 { return slices.Repeat([]float64{v}, n) }

func join(parts ...[]float64) []float64 { return slices.Concat(parts...) }

// A worked example of the limits. // T14
//
// Values 5 7 6 8 4 6 7 5 6 6: sum 60, mean 60/10 = 6.
// Moving ranges 2 1 2 4 2 1 2 1 0: sum 15, mean 15/9 = 1.6667.
// Upper process limit 6 + 2.66 × 1.6667 = 10.4333; lower 6 − 4.4333 = 1.5667.
// Near a limit (2 sigma): 6 ± 1.7733 × 1.6667 = 6 ± 2.9556, so 8.9556 and
// 3.0444. No point is beyond either, no run of 7, no trend: common cause.
func TestXmRLimitsOfAWorkedExample(t *testing.T) {
	c := XmR([]float64{5, 7, 6, 8, 4, 6, 7, 5, 6, 6}, Options{Counts: true})
	for _, f := range []struct {
		name      string
		got, want float64
	}{{"mean", c.Mean, 6}, {"mean moving range", c.MeanRange, 1.6667}, {"upper", c.Upper, 10.4333},
		{"lower", c.Lower, 1.5667}, {"upper near", c.UpperNear, 8.9556}, {"lower near", c.LowerNear, 3.0444}} {
		if !near(f.got, f.want) {
			t.Errorf("%s = %.4f, want %.4f", f.name, f.got, f.want)
		}
	}
	if c.Points[0].HasRange || !c.Points[4].HasRange || c.Points[4].MovingRange != 4 {
		t.Errorf("moving ranges: %+v", c.Points[:5])
	}
	for i, p := range c.Points {
		if p.Special() {
			t.Errorf("point %d flagged %v", i, p.Flags)
		}
	}
	if c.Variation != CommonCause || c.Reliable || c.Baseline != 10 {
		t.Errorf("variation %v, reliable %v, baseline %d", c.Variation, c.Reliable, c.Baseline)
	}
}

// Counts floor the lower limit at 0. // T14
//
// Values 0 3 0 3 0 3: mean 1.5, moving ranges all 3, so the lower limit
// is 1.5 − 2.66 × 3 = −6.48: 0 for counts, as a count cannot be negative.
// The upper limit is 1.5 + 7.98 = 9.48 either way.
func TestXmRLowerLimitOfCountsIsNotBelowZero(t *testing.T) {
	values := []float64{0, 3, 0, 3, 0, 3}
	plain := XmR(values, Options{})
	counts := XmR(values, Options{Counts: true})
	if !near(plain.Lower, -6.48) || !near(plain.Upper, 9.48) {
		t.Fatalf("plain limits %.4f to %.4f", plain.Lower, plain.Upper)
	}
	if counts.Lower != 0 || counts.LowerNear != 0 || !near(counts.Upper, 9.48) {
		t.Fatalf("count limits %.4f to %.4f (near %.4f)", counts.Lower, counts.Upper, counts.LowerNear)
	}
	// A 0 on a lower limit of 0 is on it, not beyond it.
	if counts.Points[0].Special() {
		t.Fatalf("a zero is flagged: %v", counts.Points[0].Flags)
	}
}

// Rule 1: a point beyond a process limit. // T14
//
// Values 2 14 2 14 2 14 2 14 2 14 2 60: sum 142, mean 11.8333. Moving
// ranges ten of 12 and one of 58: 178/11 = 16.1818. Upper limit 11.8333 +
// 2.66 × 16.1818 = 54.8770; 60 is beyond it. Lower limit 11.8333 − 43.0436
// < 0, so 0. Near the upper limit from 11.8333 + 28.6957 = 40.5290: only
// 60, so no two of three. Sides alternate: no run; no trend.
func TestRuleBeyondALimit(t *testing.T) {
	values := []float64{2, 14, 2, 14, 2, 14, 2, 14, 2, 14, 2, 60}
	c := XmR(values, Options{Counts: true})
	if !near(c.Upper, 54.8770) || c.Lower != 0 {
		t.Fatalf("limits %.4f to %.4f", c.Lower, c.Upper)
	}
	sameFlags(t, "beyond", flagged(c, BeyondLimit), map[int]Side{11: Higher})
	for _, r := range []Rule{TwoOfThree, Run, Trend} {
		sameFlags(t, r.String(), flagged(c, r), nil)
	}
	if c.Variation != SpecialCauseHigher || !c.Reliable {
		t.Fatalf("variation %v, reliable %v", c.Variation, c.Reliable)
	}

	// Below the lower limit: 20 18 20 18 ... 20 18 2 (not counts). Sum
	// 6×20 + 5×18 + 2 = 212, mean 17.6667; moving ranges ten of 2 and one of
	// 18: 38/11 = 3.4545; lower limit 17.6667 − 9.1891 = 8.4776: 2 is below.
	// (The 18s are above the mean and the 20s too: a run, as a dip pulls
	// the mean down; the test looks at rule 1 alone.)
	low := XmR([]float64{20, 18, 20, 18, 20, 18, 20, 18, 20, 18, 20, 2}, Options{})
	if !near(low.Lower, 8.4776) {
		t.Fatalf("lower limit %.4f", low.Lower)
	}
	sameFlags(t, "below", flagged(low, BeyondLimit), map[int]Side{11: Lower})
	if low.Variation != SpecialCauseLower {
		t.Fatalf("variation %v", low.Variation)
	}

	// On a limit is not beyond it: values all 5 have every limit at 5.
	flat := XmR(repeat(5, 12), Options{Counts: true})
	if flat.Upper != 5 || flat.Lower != 5 || flagged(flat, BeyondLimit)[0] != None {
		t.Fatalf("flat: %.4f to %.4f, %v", flat.Lower, flat.Upper, flat.Points[0].Flags)
	}
	for _, r := range Rules() {
		sameFlags(t, "flat "+r.String(), flagged(flat, r), nil)
	}
}

// Rule 2: a run of 7 or more points on one side of the mean; 6 is not a
// run, and a point on the mean ends one. // T14
//
// 14 6 14 6 14 6, then seven 11s, seven 9s, then 14 6: sum 60 + 77 + 63 +
// 20 = 220 over 22 points, mean 10. The 11s (indexes 6 to 12) are a run
// above and the 9s (13 to 19) a run below; the 6 before and the 14 after
// are on the other side. Moving ranges 8×5, 5, 0×6, 2, 0×6, 5, 8: 60/21 =
// 2.8571, so the limits are 10 ± 7.6000 and "near" 10 ± 5.0667: nothing
// is near or beyond; equal neighbours make no trend.
func TestRuleRunOfSevenOnOneSide(t *testing.T) {
	zigzag := []float64{14, 6, 14, 6, 14, 6}
	c := XmR(join(zigzag, repeat(11, 7), repeat(9, 7), []float64{14, 6}), Options{Counts: true})
	if c.Mean != 10 || !near(c.MeanRange, 2.8571) {
		t.Fatalf("mean %.4f, mean range %.4f", c.Mean, c.MeanRange)
	}
	want := span(6, 12, Higher)
	for i, s := range span(13, 19, Lower) {
		want[i] = s
	}
	sameFlags(t, "run of 7", flagged(c, Run), want)
	for _, r := range []Rule{BeyondLimit, TwoOfThree, Trend} {
		sameFlags(t, r.String(), flagged(c, r), nil)
	}
	// The latest point is not in a run: common cause.
	if c.Variation != CommonCause {
		t.Fatalf("variation %v", c.Variation)
	}

	// Six 11s and six 9s: sum 60 + 66 + 54 + 20 = 200 over 20, mean 10,
	// and no run.
	six := XmR(join(zigzag, repeat(11, 6), repeat(9, 6), []float64{14, 6}), Options{Counts: true})
	if six.Mean != 10 {
		t.Fatalf("mean %.4f", six.Mean)
	}
	sameFlags(t, "run of 6", flagged(six, Run), nil)

	// 11 11 11 10 11 11 11 and 9 9 9 10 9 9 9: sum 60 + 76 + 64 + 20 =
	// 220 over 22, mean 10. The 10s are on the mean: they end each run.
	onMean := XmR(join(zigzag, []float64{11, 11, 11, 10, 11, 11, 11}, []float64{9, 9, 9, 10, 9, 9, 9}, []float64{14, 6}), Options{Counts: true})
	if onMean.Mean != 10 {
		t.Fatalf("mean %.4f", onMean.Mean)
	}
	sameFlags(t, "a point on the mean", flagged(onMean, Run), nil)

	// A longer run is flagged whole: eight above.
	eight := XmR(join(zigzag, repeat(11, 8), repeat(9, 8), []float64{14, 6}), Options{Counts: true})
	want = span(6, 13, Higher)
	for i, s := range span(14, 21, Lower) {
		want[i] = s
	}
	sameFlags(t, "run of 8", flagged(eight, Run), want)
}

// Rule 3: a trend of 7 or more points each higher, or lower, than the one
// before; 6 is not a trend, and an equal neighbour ends one. // T14
func TestRuleTrendOfSeven(t *testing.T) {
	zig := []float64{8, 12, 8, 12, 8, 12}
	// 12 then 7 8 9 10 11 12 13 (indexes 6 to 12: seven rising points, six
	// steps up), then 8 ends it.
	up := XmR(join(zig, []float64{7, 8, 9, 10, 11, 12, 13}, []float64{8, 12}), Options{Counts: true})
	sameFlags(t, "seven rising", flagged(up, Trend), span(6, 12, Higher))

	down := XmR(join(zig, []float64{13, 12, 11, 10, 9, 8, 7}, []float64{12, 8}), Options{Counts: true})
	sameFlags(t, "seven falling", flagged(down, Trend), span(6, 12, Lower))

	six := XmR(join(zig, []float64{7, 8, 9, 10, 11, 12}, []float64{8, 12}), Options{Counts: true})
	sameFlags(t, "six rising", flagged(six, Trend), nil)

	// 7 8 9 9 10 11 12 13: the second 9 is not higher than the first, so
	// there are a trend of 3 and one of 5 (9 to 13), neither of 7.
	tie := XmR(join(zig, []float64{7, 8, 9, 9, 10, 11, 12, 13}, []float64{8, 12}), Options{Counts: true})
	sameFlags(t, "a tie", flagged(tie, Trend), nil)

	// 1 2 3 4 5 6 7 6 5 4 3 2 1: the 7 ends a rising trend and starts a
	// falling one, so it is flagged both ways; its side is the first.
	peak := XmR([]float64{1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1}, Options{Counts: true})
	rising, falling := 0, 0
	for _, f := range peak.Points[6].Flags {
		if f.Rule == Trend && f.Side == Higher {
			rising++
		}
		if f.Rule == Trend && f.Side == Lower {
			falling++
		}
	}
	if rising != 1 || falling != 1 {
		t.Fatalf("the peak's flags: %v", peak.Points[6].Flags)
	}
	if len(flagged(peak, Trend)) != 13 {
		t.Fatalf("peak: %v", flagged(peak, Trend))
	}
}

// Rule 4: two out of three consecutive points near (beyond two thirds of
// the way to) or beyond the same limit. // T14
//
// Twenty points 9 11 9 11 ..., then 16 10 16 4 10 4: sum 200 + 42 + 18 =
// 260 over 26, mean 10. Moving ranges: nineteen of 2, then 5 6 6 12 6 6:
// 38 + 41 = 79, over 25 = 3.16. Limits 10 ± 2.66 × 3.16 = 10 ± 8.4056
// (1.5944 to 18.4056): nothing beyond. Near: 10 ± 1.7733 × 3.16 =
// 10 ± 5.6037, so above 15.6037 or below 4.3963: the 16s (indexes 20
// and 22) and the 4s (23 and 25). The 10s are on the mean.
func TestRuleTwoOfThreeNearALimit(t *testing.T) {
	base := slices.Repeat([]float64{9, 11}, 10)
	c := XmR(join(base, []float64{16, 10, 16, 4, 10, 4}), Options{Counts: true})
	if c.Mean != 10 || !near(c.MeanRange, 3.16) || !near(c.UpperNear, 15.6037) || !near(c.LowerNear, 4.3963) {
		t.Fatalf("mean %.4f, range %.4f, near %.4f and %.4f", c.Mean, c.MeanRange, c.LowerNear, c.UpperNear)
	}
	sameFlags(t, "two of three", flagged(c, TwoOfThree), map[int]Side{20: Higher, 22: Higher, 23: Lower, 25: Lower})
	sameFlags(t, "beyond", flagged(c, BeyondLimit), nil)
	if c.Variation != SpecialCauseLower {
		t.Fatalf("variation %v", c.Variation)
	}

	// 16 10 10 16: each window of three holds one near point, not two.
	// Sum 200 + 52 = 252 over 24, mean 10.5; moving ranges nineteen of 2,
	// then 5 6 0 6: 55/23 = 2.3913; near above 10.5 + 4.2406 = 14.7406,
	// which the 16s are.
	apart := XmR(join(base, []float64{16, 10, 10, 16}), Options{Counts: true})
	if !near(apart.UpperNear, 14.7406) {
		t.Fatalf("near %.4f", apart.UpperNear)
	}
	sameFlags(t, "one of three", flagged(apart, TwoOfThree), nil)

	// One near the upper limit and one near the lower are not two of
	// three on the same side: 16 10 4 after the base (sum 230 over 23,
	// mean 10).
	sides := XmR(join(base, []float64{16, 10, 4}), Options{Counts: true})
	if sides.Mean != 10 {
		t.Fatalf("mean %.4f", sides.Mean)
	}
	sameFlags(t, "opposite sides", flagged(sides, TwoOfThree), nil)
}

// Fewer than MinReliable points: limits are drawn but not yet reliable.
// // T14
func TestLimitsFromFewerThanTwelvePointsAreNotReliable(t *testing.T) {
	if XmR(repeat(3, 11), Options{}).Reliable {
		t.Fatal("11 points are reliable")
	}
	if !XmR(repeat(3, 12), Options{}).Reliable {
		t.Fatal("12 points are not reliable")
	}
	// Provisional points do not count towards it.
	if XmR(repeat(3, 12), Options{Provisional: 1}).Reliable {
		t.Fatal("11 points and a provisional one are reliable")
	}
}

// The current, incomplete period is drawn but left out of the limits and
// the rules. // T14
func TestProvisionalPointsTakeNoPart(t *testing.T) {
	values := []float64{5, 7, 6, 8, 4, 6, 7, 5, 6, 6, 100}
	c := XmR(values, Options{Counts: true, Provisional: 1})
	if c.Mean != 6 || !near(c.Upper, 10.4333) || c.Baseline != 10 {
		t.Fatalf("mean %.4f, upper %.4f, baseline %d", c.Mean, c.Upper, c.Baseline)
	}
	last := c.Points[10]
	if !last.Provisional || last.Special() || last.HasRange || last.Value != 100 {
		t.Fatalf("provisional point %+v", last)
	}
	if c.Variation != CommonCause {
		t.Fatalf("variation %v", c.Variation)
	}
	// Every point provisional, or none at all: no limits, no data.
	for _, cc := range []Chart{XmR(values, Options{Provisional: 99}), XmR(nil, Options{})} {
		if cc.Variation != NoData || cc.Baseline != 0 {
			t.Fatalf("no data: %+v", cc)
		}
	}
}

// One point has a mean and no moving range; values that are not numbers
// are taken as 0.
func TestOnePointAndBadValues(t *testing.T) {
	one := XmR([]float64{4}, Options{Counts: true})
	if one.Mean != 4 || one.Upper != 4 || one.Lower != 4 || one.Variation != CommonCause {
		t.Fatalf("one point: %+v", one)
	}
	bad := XmR([]float64{math.NaN(), math.Inf(1), -3}, Options{Counts: true})
	if bad.Points[0].Value != 0 || bad.Points[1].Value != MaxValue || bad.Points[2].Value != 0 {
		t.Fatalf("bad values: %+v", bad.Points)
	}
}

// FuzzXmR: any values make a chart without panicking, with ordered,
// finite limits, and flags only on points that take part. // T14
func FuzzXmR(f *testing.F) {
	f.Add([]byte{5, 7, 6, 8, 4, 6, 7, 5, 6, 6}, uint8(1), true)
	f.Add([]byte{}, uint8(0), false)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 255}, uint8(0), true)
	f.Fuzz(func(t *testing.T, data []byte, provisional uint8, counts bool) {
		// Each pair of bytes is a value, big or small, whole or not; odd
		// seeds also try bit patterns of float64, NaN and infinities
		// among them.
		var values []float64
		for i := 0; i+1 < len(data); i += 2 {
			v := float64(int(data[i])<<8|int(data[i+1])) / 4
			if data[i]&0x80 != 0 && i+8 <= len(data) {
				v = math.Float64frombits(uint64(data[i])<<56 | uint64(data[i+1])<<48 | uint64(data[i+2])<<40 |
					uint64(data[i+3])<<32 | uint64(data[i+4])<<24 | uint64(data[i+5])<<16 | uint64(data[i+6])<<8 | uint64(data[i+7]))
			}
			values = append(values, v)
		}
		c := XmR(values, Options{Counts: counts, Provisional: int(provisional % 4)})
		if len(c.Points) != len(values) {
			t.Fatalf("%d points for %d values", len(c.Points), len(values))
		}
		lines := []float64{c.Lower, c.LowerNear, c.Mean, c.UpperNear, c.Upper}
		for _, v := range lines {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("limits %v", lines)
			}
		}
		if !slices.IsSorted(lines) {
			t.Fatalf("limits out of order: %v", lines)
		}
		if counts && c.Lower < 0 {
			t.Fatalf("lower limit of counts %v", c.Lower)
		}
		for i, p := range c.Points {
			if (p.Provisional || i >= c.Baseline) && (p.Special() || p.HasRange) {
				t.Fatalf("provisional point %d takes part: %+v", i, p)
			}
			for _, fl := range p.Flags {
				if fl.Side != Higher && fl.Side != Lower || !slices.Contains(Rules(), fl.Rule) {
					t.Fatalf("point %d flag %+v", i, fl)
				}
			}
		}
	})
}
