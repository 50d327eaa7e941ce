package sdc

import (
	"fmt"
	"slices"
)

// Level says how a figure is published.
type Level int

// The levels.
const (
	Exact     Level = iota // published as it is (national figures)
	Protected              // below national level: the rules apply
)

// Figure is a handle to a figure added to a Table.
type Figure int

// Table is figures and the published sums that tie them together (rows,
// columns, totals of a table, and across tables). The zero Table is empty
// and ready to use. A Table is not safe for concurrent changes.
type Table struct {
	values []int64
	levels []Level
	sums   [][]Figure // each: total first, then the parts
}

// Add adds a figure with its true value and level, and returns its handle.
func (t *Table) Add(value int64, level Level) Figure {
	t.values = append(t.values, value)
	t.levels = append(t.levels, level)
	return Figure(len(t.values) - 1)
}

// Sum records a published relation: total = sum(parts). A figure may
// appear in any number of sums. Protect checks that the true values agree.
func (t *Table) Sum(total Figure, parts ...Figure) {
	s := make([]Figure, 0, len(parts)+1)
	s = append(s, total)
	s = append(s, parts...)
	t.sums = append(t.sums, s)
}

// Len is how many figures the table has.
func (t *Table) Len() int { return len(t.values) }

// validate reports figures out of range, unknown handles and sums whose
// true values do not add up: the checker's reasoning rests on them.
func (t *Table) validate() error {
	for i, v := range t.values {
		if v < 0 || v > MaxValue {
			return fmt.Errorf("sdc: figure %d is %d: counts must be from 0 to %d", i, v, MaxValue)
		}
		if l := t.levels[i]; l != Exact && l != Protected {
			return fmt.Errorf("sdc: figure %d has unknown level %d", i, l)
		}
	}
	for i, s := range t.sums {
		var total int64
		for j, f := range s {
			if f < 0 || int(f) >= len(t.values) {
				return fmt.Errorf("sdc: sum %d refers to figure %d, which is not in the table", i, f)
			}
			if j > 0 {
				total += t.values[f]
			}
		}
		if len(s) < 2 {
			return fmt.Errorf("sdc: sum %d has no parts", i)
		}
		if total != t.values[s[0]] {
			return fmt.Errorf("sdc: sum %d: figure %d is %d but its parts add up to %d", i, s[0], t.values[s[0]], total)
		}
	}
	return nil
}

// equation is a linear relation sum(coef[i] * figure vars[i]) = 0 with
// coefficients +1 or -1 and vars in increasing order. Published sums are
// equations (total - parts = 0); so are the differences and sums of two
// equations whose coefficients stay +1 or -1 (derived by differencing).
type equation struct {
	vars  []int32
	coefs []int8
}

// equationOf turns a published sum into an equation. A figure repeated in
// the parts gets a coefficient above 1, which the checker does not model;
// ok is false then, and the sum is left out (the checker is then less
// strong, never wrong). A sum whose total is also a part is left out too.
func equationOf(s []Figure) (equation, bool) {
	c := make(map[int32]int, len(s))
	c[int32(s[0])] = 1
	for _, f := range s[1:] {
		c[int32(f)]--
	}
	var e equation
	for v, k := range c {
		switch k {
		case 0:
			continue
		case 1, -1:
			e.vars = append(e.vars, v)
		default:
			return equation{}, false
		}
	}
	if len(e.vars) == 0 {
		return equation{}, false
	}
	slices.Sort(e.vars)
	e.coefs = make([]int8, len(e.vars))
	for i, v := range e.vars {
		e.coefs[i] = int8(c[v])
	}
	return e, true
}

// key is a canonical text of e, the same for e and -e.
func (e equation) key() string {
	b := make([]byte, 0, len(e.vars)*5)
	flip := e.coefs[0] < 0
	for i, v := range e.vars {
		c := e.coefs[i]
		if flip {
			c = -c
		}
		if c > 0 {
			b = append(b, '+')
		} else {
			b = append(b, '-')
		}
		b = append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return string(b)
}

// combine returns a + sign*b when every coefficient of the result is +1 or
// -1, at least one variable cancels and the result has no more than limit
// variables.
func combine(a, b equation, sign int8, limit int) (equation, bool) {
	var out equation
	cancelled := false
	i, j := 0, 0
	for i < len(a.vars) || j < len(b.vars) {
		switch {
		case j == len(b.vars) || (i < len(a.vars) && a.vars[i] < b.vars[j]):
			out.vars = append(out.vars, a.vars[i])
			out.coefs = append(out.coefs, a.coefs[i])
			i++
		case i == len(a.vars) || b.vars[j] < a.vars[i]:
			out.vars = append(out.vars, b.vars[j])
			out.coefs = append(out.coefs, sign*b.coefs[j])
			j++
		default:
			c := a.coefs[i] + sign*b.coefs[j]
			if c != 0 {
				return equation{}, false // a coefficient of 2
			}
			cancelled = true
			i++
			j++
		}
		if len(out.vars) > limit {
			return equation{}, false
		}
	}
	if !cancelled || len(out.vars) == 0 {
		return equation{}, false
	}
	return out, true
}

// system is the equations of a table, published and derived, with the
// equations each figure is in.
type system struct {
	eqs []equation
	occ [][]int32 // figure -> indexes into eqs
}

// Derivation limits: how many rounds of combining, how many derived
// equations at most (relative to the published ones), and how much longer
// than the longer of its two sources a derived equation may be. They keep
// the checker fast on large tables; what they leave out makes the checker
// weaker, never wrong.
const (
	deriveRounds = 2
	deriveFactor = 4
	deriveExtra  = 64
	deriveGrowth = 1
)

// systemOf builds the equations of t: its sums, then the differences and
// sums of pairs of equations that share a figure (differencing two sums,
// or chaining two tables through a shared total), for a few rounds.
func systemOf(t *Table) system {
	var sys system
	seen := map[string]bool{}
	add := func(e equation) {
		k := e.key()
		if seen[k] {
			return
		}
		seen[k] = true
		sys.eqs = append(sys.eqs, e)
	}
	for _, s := range t.sums {
		if e, ok := equationOf(s); ok {
			add(e)
		}
	}
	limit := deriveFactor*len(sys.eqs) + deriveExtra
	sys.occ = occurrences(sys.eqs, len(t.values))
	start := 0
	for round := 0; round < deriveRounds; round++ {
		end := len(sys.eqs)
		for i := start; i < end && len(sys.eqs) < limit; i++ {
			a := sys.eqs[i]
			for _, v := range a.vars {
				for _, j := range sys.occ[v] {
					if int(j) >= end || (int(j) >= start && int(j) <= i) {
						continue // each pair once; new ones pair with all older ones
					}
					b := sys.eqs[j]
					lim := max(len(a.vars), len(b.vars)) + deriveGrowth
					for _, sign := range [2]int8{1, -1} {
						if e, ok := combine(a, b, sign, lim); ok {
							add(e)
						}
					}
					if len(sys.eqs) >= limit {
						break
					}
				}
			}
		}
		if len(sys.eqs) == end {
			break
		}
		start = end
		sys.occ = occurrences(sys.eqs, len(t.values))
	}
	sys.occ = occurrences(sys.eqs, len(t.values))
	return sys
}

func occurrences(eqs []equation, n int) [][]int32 {
	occ := make([][]int32, n)
	for i, e := range eqs {
		for _, v := range e.vars {
			occ[v] = append(occ[v], int32(i))
		}
	}
	return occ
}
