package sdc

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ErrCannotProtect is returned (wrapped in a *ProtectError) when no
// suppression makes a table safe.
var ErrCannotProtect = errors.New("sdc: the table cannot be protected")

// ProtectError says which figures could still be derived when Protect
// gave up: each is suppressed, but every other figure in the sums that
// disclose it is already suppressed or published exactly.
type ProtectError struct {
	Disclosures []Disclosure
}

// Error lists the figures that cannot be protected.
func (e *ProtectError) Error() string {
	var b strings.Builder
	b.WriteString(ErrCannotProtect.Error())
	b.WriteString(": ")
	for i, d := range e.Disclosures {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == 10 {
			fmt.Fprintf(&b, "and %d more", len(e.Disclosures)-10)
			break
		}
		fmt.Fprintf(&b, "figure %d can be derived as %d to %d", d.Figure, d.Lo, d.Hi)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrCannotProtect) true.
func (e *ProtectError) Unwrap() error { return ErrCannotProtect }

// Result is a protected table: what is published for each figure.
type Result struct {
	symbol     string
	shown      []int64 // the published number (the true value when exact)
	suppressed []bool
	secondary  []bool
	// What the symbol stands for in this table: from symLo to symHi, or
	// from symLo upward when symInf.
	symLo, symHi int64
	symInf       bool
}

func (res Result) has(f Figure) bool { return f >= 0 && int(f) < len(res.shown) }

// Text is how a figure is published: "0", "*", "15", "1234". It is "" for
// a figure not in the table.
func (res Result) Text(f Figure) string {
	if !res.has(f) {
		return ""
	}
	if res.suppressed[f] {
		return res.symbol
	}
	return strconv.FormatInt(res.shown[f], 10)
}

// Value is the published number of a figure (rounded when the rules round
// it), and false when the figure is suppressed or not in the table.
func (res Result) Value(f Figure) (int64, bool) {
	if !res.has(f) || res.suppressed[f] {
		return 0, false
	}
	return res.shown[f], true
}

// Suppressed reports whether a figure is shown as the symbol.
func (res Result) Suppressed(f Figure) bool { return res.has(f) && res.suppressed[f] }

// Secondary is how many figures were suppressed only to protect others.
func (res Result) Secondary() int {
	n := 0
	for _, s := range res.secondary {
		if s {
			n++
		}
	}
	return n
}

// SecondaryFigure reports whether a figure was suppressed only to protect
// others. It is for the publisher's own records: a publication must not
// say which symbols are secondary.
func (res Result) SecondaryFigure(f Figure) bool { return res.has(f) && res.secondary[f] }

// SymbolRange is what the symbol stands for in this table, for the
// guidance notes and for the checker's attacker: a count from lo to hi, or
// from lo upward when bounded is false. With no secondary suppression it
// is the rules' Low to High; a suppressed zero brings lo to 0, and a
// suppressed count above High makes it unbounded.
func (res Result) SymbolRange() (lo, hi int64, bounded bool) {
	return res.symLo, res.symHi, !res.symInf
}

// Protect applies the rules to every protected figure (totals are figures
// too, rounded from their own unrounded value), then checks the result
// with the differencing checker. While the checker finds a disclosure it
// adds secondary suppression: in the equation that narrowed the disclosed
// figure, the smallest protected figure still shown (counts above 0 first,
// a zero only when nothing else is left), then checks again. It returns a
// *ProtectError (errors.Is ErrCannotProtect) when no suppression makes the
// table safe, and an error for invalid rules or a table whose sums do not
// add up.
func Protect(r Rules, t *Table) (Result, error) {
	if err := r.Validate(); err != nil {
		return Result{}, fmt.Errorf("sdc: %w", err)
	}
	if err := t.validate(); err != nil {
		return Result{}, err
	}
	res := applyRules(r, t)
	sys := systemOf(t)
	for {
		res.setSymbolRange(r, t)
		ivs, whyLo, whyHi := bounds(r, t, res, sys)
		found := disclosures(r, res, ivs)
		if len(found) == 0 {
			return res, nil
		}
		added := 0
		for _, d := range found {
			if c, ok := candidate(t, res, sys, d.Figure, whyLo[d.Figure], whyHi[d.Figure]); ok {
				res.suppressed[c] = true
				res.secondary[c] = true
				added++
			}
		}
		if added == 0 {
			return Result{}, &ProtectError{Disclosures: found}
		}
	}
}

// setSymbolRange sets what the symbol stands for from what is suppressed.
func (res *Result) setSymbolRange(r Rules, t *Table) {
	res.symLo, res.symHi, res.symInf = r.Low, r.High, false
	for i, s := range res.suppressed {
		if !s {
			continue
		}
		v := t.values[i]
		switch {
		case v == 0:
			res.symLo = 0
		case v < r.Low:
			res.symLo = min(res.symLo, 1)
		case v > r.High:
			res.symInf = true
		}
	}
	if res.symInf {
		res.symHi = 0
	}
}

// candidate picks the figure to suppress to protect f: the smallest
// protected figure still shown in the equations that narrowed f (above 0
// first), then in any equation f is in. The smallest figures cost the
// publication least information, and suppressing one in the very sum that
// discloses f widens the attacker's difference by its whole range.
func candidate(t *Table, res Result, sys system, f Figure, whyLo, whyHi int32) (Figure, bool) {
	var order []int32
	for _, e := range [2]int32{whyLo, whyHi} {
		if e >= 0 && !slices.Contains(order, e) {
			order = append(order, e)
		}
	}
	rest := slices.Clone(sys.occ[f])
	slices.SortStableFunc(rest, func(a, b int32) int { return len(sys.eqs[a].vars) - len(sys.eqs[b].vars) })
	for _, e := range rest {
		if !slices.Contains(order, e) {
			order = append(order, e)
		}
	}
	for _, ei := range order {
		best := Figure(-1)
		for _, v := range sys.eqs[ei].vars {
			g := Figure(v)
			if g == f || res.suppressed[g] || t.levels[g] != Protected {
				continue
			}
			if best < 0 || better(t.values[g], t.values[best]) {
				best = g
			}
		}
		if best >= 0 {
			return best, true
		}
	}
	return 0, false
}

// better reports whether a count a is a better secondary suppression than
// b: any count above 0 before a zero, then the smaller.
func better(a, b int64) bool {
	if (a == 0) != (b == 0) {
		return b == 0
	}
	return a < b
}

// applyRules is primary protection alone: exact figures as they are, 0 as
// 0, small counts suppressed, the rest rounded.
func applyRules(r Rules, t *Table) Result {
	n := len(t.values)
	res := Result{
		symbol:     r.Symbol,
		shown:      make([]int64, n),
		suppressed: make([]bool, n),
		secondary:  make([]bool, n),
	}
	for i, v := range t.values {
		switch {
		case t.levels[i] == Exact || v == 0:
			res.shown[i] = v
		case r.suppresses(v):
			res.suppressed[i] = true
		default:
			res.shown[i] = r.round(v)
		}
	}
	res.setSymbolRange(r, t)
	return res
}
