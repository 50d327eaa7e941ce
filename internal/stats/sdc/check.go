package sdc

// Disclosure is a suppressed figure that differencing narrows to fewer
// than MinRange possible values: the attacker knows it lies from Lo to Hi.
type Disclosure struct {
	Figure Figure
	Lo, Hi int64
}

// interval is what the attacker knows of a figure: from lo to hi, or from
// lo upward when inf is true.
type interval struct {
	lo, hi int64
	inf    bool
}

func (iv interval) width() int64 {
	return iv.hi - iv.lo + 1
}

// Check is the differencing checker. From the published figures alone
// (what an attacker sees: exact figures as points, rounded figures as the
// interval they can stand for, suppressed figures as the interval the
// symbol can stand for, see Result.SymbolRange) and every published sum,
// it narrows each figure's possible range by differencing sums repeatedly
// until nothing changes, and reports every suppressed figure left with
// fewer than r.MinRange possible values. nil means safe. res must be the
// result of Protect for t; a result of another table is reported as
// disclosing every figure.
func Check(r Rules, t *Table, res Result) []Disclosure {
	if len(res.shown) != len(t.values) {
		out := make([]Disclosure, len(t.values))
		for i := range out {
			out[i] = Disclosure{Figure: Figure(i)}
		}
		return out
	}
	sys := systemOf(t)
	ivs, _, _ := bounds(r, t, res, sys)
	return disclosures(r, res, ivs)
}

func disclosures(r Rules, res Result, ivs []interval) []Disclosure {
	var out []Disclosure
	for i, iv := range ivs {
		if res.suppressed[i] && !iv.inf && iv.width() < r.MinRange {
			out = append(out, Disclosure{Figure: Figure(i), Lo: iv.lo, Hi: iv.hi})
		}
	}
	return out
}

// published is what the attacker knows of each figure before any
// differencing.
func published(r Rules, t *Table, res Result) []interval {
	ivs := make([]interval, len(t.values))
	for i := range ivs {
		switch {
		case res.suppressed[i]:
			ivs[i] = interval{lo: res.symLo, hi: res.symHi, inf: res.symInf}
		case t.levels[i] == Exact:
			ivs[i] = interval{lo: res.shown[i], hi: res.shown[i]}
		default:
			lo, hi, ok := r.roundedRange(res.shown[i])
			if !ok { // cannot happen for a result of Protect; know nothing
				ivs[i] = interval{inf: true}
				continue
			}
			ivs[i] = interval{lo: lo, hi: hi}
		}
	}
	return ivs
}

// propagationBudget bounds the work of one propagation, in terms visited,
// as a multiple of the size of the system. Each step of propagation is
// sound, so stopping early can only leave ranges wider than a patient
// attacker would get; on tables of counts a fixpoint comes long before.
const propagationBudget = 256

// bounds narrows every figure's interval by the equations until nothing
// changes (or the budget runs out), and returns the intervals and, for
// each figure, the equation that last raised its lower bound and the one
// that last lowered its upper bound (-1 for none).
func bounds(r Rules, t *Table, res Result, sys system) (ivs []interval, whyLo, whyHi []int32) {
	ivs = published(r, t, res)
	whyLo = make([]int32, len(ivs))
	whyHi = make([]int32, len(ivs))
	for i := range whyLo {
		whyLo[i], whyHi[i] = -1, -1
	}
	size := 0
	for _, e := range sys.eqs {
		size += len(e.vars)
	}
	budget := propagationBudget*size + 1024

	queued := make([]bool, len(sys.eqs))
	queue := make([]int32, 0, len(sys.eqs))
	for i := range sys.eqs {
		queue = append(queue, int32(i))
		queued[i] = true
	}
	for len(queue) > 0 && budget > 0 {
		ei := queue[0]
		queue = queue[1:]
		queued[ei] = false
		e := sys.eqs[ei]
		budget -= 2 * len(e.vars)
		changed := narrowInto(e, ei, ivs, whyLo, whyHi)
		for _, v := range changed {
			for _, ej := range sys.occ[v] {
				if !queued[ej] && ej != ei {
					queued[ej] = true
					queue = append(queue, ej)
				}
			}
		}
	}
	return ivs, whyLo, whyHi
}

// narrowInto applies one equation to the intervals: each term equals minus
// the sum of the others, so its range is bounded by theirs. It returns the
// figures whose interval changed.
func narrowInto(e equation, ei int32, ivs []interval, whyLo, whyHi []int32) []int32 {
	// Bounds of each term c*x, summed over the equation with infinite
	// ends counted apart.
	var sumLo, sumHi int64
	var infLo, infHi int
	for k, v := range e.vars {
		iv := ivs[v]
		if e.coefs[k] > 0 {
			sumLo += iv.lo
			if iv.inf {
				infHi++
			} else {
				sumHi += iv.hi
			}
		} else {
			sumHi -= iv.lo
			if iv.inf {
				infLo++
			} else {
				sumLo -= iv.hi
			}
		}
	}
	var changed []int32
	for k, v := range e.vars {
		iv := ivs[v]
		// The term's own bounds, to take out of the sums.
		var tLo, tHi int64
		tLoInf, tHiInf := false, false
		if e.coefs[k] > 0 {
			tLo = iv.lo
			if iv.inf {
				tHiInf = true
			} else {
				tHi = iv.hi
			}
		} else {
			tHi = -iv.lo
			if iv.inf {
				tLoInf = true
			} else {
				tLo = -iv.hi
			}
		}
		// The rest of the equation, without this term.
		restLoInf := infLo - b2i(tLoInf)
		restHiInf := infHi - b2i(tHiInf)
		restLo, restHi := sumLo-tLo, sumHi-tHi
		// term = -rest, so x = -rest when c = 1 and x = rest when c = -1.
		var lo, hi int64
		var hasLo, hasHi bool
		if e.coefs[k] > 0 {
			lo, hasLo = -restHi, restHiInf == 0
			hi, hasHi = -restLo, restLoInf == 0
		} else {
			lo, hasLo = restLo, restLoInf == 0
			hi, hasHi = restHi, restHiInf == 0
		}
		moved := false
		if hasLo && lo > iv.lo {
			iv.lo = lo
			whyLo[v] = ei
			moved = true
		}
		if hasHi && (iv.inf || hi < iv.hi) {
			iv.hi, iv.inf = hi, false
			whyHi[v] = ei
			moved = true
		}
		if moved {
			ivs[v] = iv
			changed = append(changed, v)
		}
	}
	return changed
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
