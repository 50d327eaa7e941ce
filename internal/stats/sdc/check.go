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

// Probing limits: the work of one probe, in terms visited, and how many
// probes one check makes at most for each suppressed figure.
const (
	probeBudget     = 20000
	probesPerFigure = 24
)

// bounds narrows every figure's interval by the equations until nothing
// changes (or the budget runs out), then probes the ends of each
// suppressed figure's range (see probe), and returns the intervals and,
// for each figure, the equation that last raised its lower bound and the
// one that last lowered its upper bound (-1 for none).
func bounds(r Rules, t *Table, res Result, sys system) (ivs []interval, whyLo, whyHi []int32) {
	return boundsBy(r, t, res, sys, true)
}

// boundsBy is bounds, with probing only when probe is true.
func boundsBy(r Rules, t *Table, res Result, sys system, probe bool) (ivs []interval, whyLo, whyHi []int32) {
	p := newPropagator(sys, published(r, t, res))
	size := 0
	for _, e := range sys.eqs {
		size += len(e.vars)
	}
	all := make([]int32, len(sys.eqs))
	for i := range all {
		all[i] = int32(i)
	}
	p.run(all, propagationBudget*size+1024)
	if !probe {
		return p.ivs, p.whyLo, p.whyHi
	}
	var targets []int32
	for i, s := range res.suppressed {
		if s {
			targets = append(targets, int32(i))
		}
	}
	p.shave(targets)
	return p.ivs, p.whyLo, p.whyHi
}

// propagator narrows intervals by equations. While a probe is on, it
// records every change so that the probe can be undone.
type propagator struct {
	sys          system
	ivs          []interval
	whyLo, whyHi []int32
	queued       []bool
	queue        []int32
	recording    bool
	trail        []trailEntry
	conflictEq   int32 // the equation that found an empty range, -1 for none
}

type trailEntry struct {
	v            int32
	iv           interval
	whyLo, whyHi int32
}

func newPropagator(sys system, ivs []interval) *propagator {
	p := &propagator{sys: sys, ivs: ivs, whyLo: make([]int32, len(ivs)), whyHi: make([]int32, len(ivs)),
		queued: make([]bool, len(sys.eqs)), conflictEq: -1}
	for i := range p.whyLo {
		p.whyLo[i], p.whyHi[i] = -1, -1
	}
	return p
}

// run applies the equations start, then every equation of a figure whose
// range changed, until nothing changes or budget terms have been visited.
// It reports whether some figure was left with no possible value (which,
// outside a probe, cannot happen for a table whose sums hold).
func (p *propagator) run(start []int32, budget int) (conflict bool) {
	p.queue = p.queue[:0]
	for _, ei := range start {
		if !p.queued[ei] {
			p.queued[ei] = true
			p.queue = append(p.queue, ei)
		}
	}
	defer func() {
		for _, ei := range p.queue {
			p.queued[ei] = false
		}
		p.queue = p.queue[:0]
	}()
	for len(p.queue) > 0 && budget > 0 {
		ei := p.queue[0]
		p.queue = p.queue[1:]
		p.queued[ei] = false
		e := p.sys.eqs[ei]
		budget -= 2 * len(e.vars)
		changed, bad := p.narrow(e, ei)
		if bad {
			p.conflictEq = ei
			return true
		}
		for _, v := range changed {
			for _, ej := range p.sys.occ[v] {
				if !p.queued[ej] && ej != ei {
					p.queued[ej] = true
					p.queue = append(p.queue, ej)
				}
			}
		}
	}
	return false
}

// set changes a figure's interval, recording the old one during a probe.
func (p *propagator) set(v int32, iv interval, whyLo, whyHi int32) {
	if p.recording {
		p.trail = append(p.trail, trailEntry{v, p.ivs[v], p.whyLo[v], p.whyHi[v]})
	}
	p.ivs[v], p.whyLo[v], p.whyHi[v] = iv, whyLo, whyHi
}

// infeasible reports whether figure v cannot take the value x: whether
// propagating v = x empties some figure's range. A probe that runs out of
// budget proves nothing and reports false. Everything the probe changed is
// undone.
func (p *propagator) infeasible(v int32, x int64) bool {
	p.recording = true
	p.trail = p.trail[:0]
	p.set(v, interval{lo: x, hi: x}, p.whyLo[v], p.whyHi[v])
	conflict := p.run(p.sys.occ[v], probeBudget)
	for i := len(p.trail) - 1; i >= 0; i-- {
		e := p.trail[i]
		p.ivs[e.v], p.whyLo[e.v], p.whyHi[e.v] = e.iv, e.whyLo, e.whyHi
	}
	p.recording = false
	return conflict
}

// shave probes the ends of each target's range: when a figure cannot take
// the value at an end, that end moves in, and the change propagates.
// Interval reasoning alone loses what equations sharing several figures
// say together (a figure may have to be odd, or two figures may have to
// move together); an attacker who tries values finds it, and so does
// probing, for a bounded amount of work. Each narrowing is proved by an
// empty range, so probing is as sound as propagation.
func (p *propagator) shave(targets []int32) {
	probes := probesPerFigure * len(targets)
	for pass := 0; pass < 4 && probes > 0; pass++ {
		moved := false
		for _, v := range targets {
			for probes > 0 {
				iv := p.ivs[v]
				if iv.lo >= iv.hi && !iv.inf {
					break
				}
				probes--
				if p.infeasible(v, iv.lo) {
					iv.lo++
					p.set(v, iv, p.conflictEq, p.whyHi[v])
					p.run(p.sys.occ[v], probeBudget)
					moved = true
					continue
				}
				if iv.inf {
					break
				}
				probes--
				if p.infeasible(v, iv.hi) {
					iv.hi--
					p.set(v, iv, p.whyLo[v], p.conflictEq)
					p.run(p.sys.occ[v], probeBudget)
					moved = true
					continue
				}
				break
			}
		}
		if !moved {
			return
		}
	}
}

// narrow applies one equation to the intervals: each term equals minus
// the sum of the others, so its range is bounded by theirs. It returns the
// figures whose interval changed, and whether one was left empty.
func (p *propagator) narrow(e equation, ei int32) (changed []int32, conflict bool) {
	ivs := p.ivs
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
		whyLo, whyHi := p.whyLo[v], p.whyHi[v]
		moved := false
		if hasLo && lo > iv.lo {
			iv.lo, whyLo, moved = lo, ei, true
		}
		if hasHi && (iv.inf || hi < iv.hi) {
			iv.hi, iv.inf, whyHi, moved = hi, false, ei, true
		}
		if moved {
			p.set(v, iv, whyLo, whyHi)
			changed = append(changed, v)
			if !iv.inf && iv.lo > iv.hi {
				return changed, true
			}
		}
	}
	return changed, false
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
