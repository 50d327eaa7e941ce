package sdc

import (
	"fmt"
	"strings"

	"github.com/psims/psims/internal/apperr"
)

// MaxValue is the largest count a Table accepts. It keeps every sum the
// checker forms far from int64 overflow.
const MaxValue int64 = 1_000_000_000_000

// maxRuleValue bounds Low, High and Round, for the same reason.
const maxRuleValue int64 = 1_000_000

// Rules are the disclosure control rules. Counts from Low to High (default
// 1 to 7) below national level are suppressed and shown as Symbol (default
// "*"); other counts below national level are rounded to the nearest Round
// (default 5; 0 or 1 means no rounding), halves rounded up; 0 stays 0.
// MinRange (default 2): after differencing, every suppressed figure must
// still have at least this many possible values.
type Rules struct {
	Low, High int64
	Round     int64
	Symbol    string
	MinRange  int64
}

// Default returns the rules NHS England applies to its official
// statistics: 1 to 7 suppressed as "*", others rounded to the nearest 5,
// and no suppressed figure that differencing can work out exactly (at
// least 2 possible values left for each).
func Default() Rules {
	return Rules{Low: 1, High: 7, Round: 5, Symbol: "*", MinRange: 2}
}

// Validate reports the first thing wrong with r, in words a national
// admin choosing the rules can act on: an apperr.Invalid error whose
// message can be shown as it is. nil means the rules can be used.
func (r Rules) Validate() error {
	bad := func(msg string) error { return apperr.New(apperr.Invalid, msg) }
	switch {
	case r.Low < 1:
		return bad("The smallest suppressed count must be 1 or more (0 is always shown as 0)")
	case r.High < r.Low:
		return bad(fmt.Sprintf("The largest suppressed count (%d) must not be less than the smallest (%d)", r.High, r.Low))
	case r.High > maxRuleValue:
		return bad(fmt.Sprintf("The largest suppressed count must be %d or less", maxRuleValue))
	case r.Round < 0:
		return bad("Rounding must be 0 (no rounding) or a positive whole number")
	case r.Round > maxRuleValue:
		return bad(fmt.Sprintf("Rounding must be to the nearest %d or less", maxRuleValue))
	case strings.TrimSpace(r.Symbol) == "":
		return bad("Enter the symbol that shows a suppressed count, for example *")
	case strings.ContainsAny(r.Symbol, "0123456789"):
		return bad(fmt.Sprintf("The suppression symbol %q must not contain digits, or it could be read as a count", r.Symbol))
	case r.MinRange < 2:
		return bad("The minimum range must be 2 or more, or a suppressed count could be known exactly")
	case r.MinRange > r.High-r.Low+1:
		return bad(fmt.Sprintf("The minimum range (%d) cannot be more than the number of counts that are suppressed (%d, from %d to %d)",
			r.MinRange, r.High-r.Low+1, r.Low, r.High))
	}
	// The smallest positive count that is shown rounded must not round to
	// 0, or "0" would no longer mean none.
	smallest := r.High + 1
	if r.Low > 1 {
		smallest = 1
	}
	if r.round(smallest) == 0 {
		return bad(fmt.Sprintf("Rounding to the nearest %d would show a count of %d as 0: suppress more small counts or round to a smaller number",
			r.Round, smallest))
	}
	return nil
}

// rounds reports whether r rounds at all.
func (r Rules) rounds() bool { return r.Round > 1 }

// round rounds v (0 or more) to the nearest r.Round, halves up.
func (r Rules) round(v int64) int64 {
	if !r.rounds() {
		return v
	}
	return (v + r.Round/2) / r.Round * r.Round
}

// suppresses reports whether a protected count v is shown as the symbol
// by the rules alone (primary suppression).
func (r Rules) suppresses(v int64) bool { return v >= r.Low && v <= r.High }

// roundedRange is every count a protected figure shown as the number n can
// stand for: the counts that round to n, less 0 and the counts the rules
// suppress, as one interval (the hull when the suppressed band splits it,
// which can only widen it). ok is false when no count can be shown as n.
func (r Rules) roundedRange(n int64) (lo, hi int64, ok bool) {
	if n == 0 {
		return 0, 0, true
	}
	lo, hi = n, n
	if r.rounds() {
		lo, hi = n-r.Round/2, n+r.Round-r.Round/2-1
	}
	lo = max(lo, 1)
	// The parts below and above the suppressed band.
	belowLo, belowHi := lo, min(hi, r.Low-1)
	aboveLo, aboveHi := max(lo, r.High+1), hi
	below, above := belowLo <= belowHi, aboveLo <= aboveHi
	switch {
	case below && above:
		return belowLo, aboveHi, true
	case below:
		return belowLo, belowHi, true
	case above:
		return aboveLo, aboveHi, true
	}
	return 0, 0, false
}
