package sdc

import (
	"errors"
	"slices"
	"testing"
)

// noRounding are the default rules without rounding, so that the attacks
// below are not blurred by it.
func noRounding() Rules {
	r := Default()
	r.Round = 0
	return r
}

// attack is a table an attacker can difference to find a small count when
// only the primary rules are applied.
type attack struct {
	name  string
	rules Rules
	build func(tb *Table) (targets []Figure)
}

func attacks() []attack {
	return []attack{
		{
			// A national exact figure minus the published organisation
			// figures when the other organisations have none: 5 - 0 - 0.
			name:  "national figure minus organisations that had none",
			rules: Default(),
			build: func(tb *Table) []Figure {
				n := tb.Add(5, Exact)
				a := tb.Add(5, Protected)
				b := tb.Add(0, Protected)
				c := tb.Add(0, Protected)
				tb.Sum(n, a, b, c)
				return []Figure{a}
			},
		},
		{
			// A row total minus the rest of the row: 20 - 17 = 3.
			name:  "row total minus the rest of the row",
			rules: noRounding(),
			build: func(tb *Table) []Figure {
				total := tb.Add(20, Protected)
				a := tb.Add(3, Protected)
				b := tb.Add(17, Protected)
				tb.Sum(total, a, b)
				return []Figure{a}
			},
		},
		{
			// Rounding does not save a row when the suppressed band pins
			// the rest: national 9 = * + 10, and a count shown as 10 is at
			// least 8 (1 to 7 would be *), so * is 1.
			name:  "row total minus a rounded count at the edge of the band",
			rules: Default(),
			build: func(tb *Table) []Figure {
				n := tb.Add(9, Exact)
				a := tb.Add(1, Protected)
				b := tb.Add(8, Protected)
				tb.Sum(n, a, b)
				return []Figure{a}
			},
		},
		{
			// Two sums differenced: (A + B + C) - (A + B) = C. Each sum
			// alone leaves C anywhere from 1 to 7, because A and B are
			// suppressed too; their difference pins it.
			name:  "two sums differenced",
			rules: noRounding(),
			build: func(tb *Table) []Figure {
				a := tb.Add(3, Protected)
				b := tb.Add(5, Protected)
				c := tb.Add(2, Protected)
				t1 := tb.Add(8, Protected)
				t2 := tb.Add(10, Protected)
				tb.Sum(t1, a, b)
				tb.Sum(t2, a, b, c)
				return []Figure{c}
			},
		},
		{
			// A small national total: 2 = * + * + 0, and each * is at
			// least 1, so both are 1.
			name:  "a total that is itself small",
			rules: Default(),
			build: func(tb *Table) []Figure {
				n := tb.Add(2, Exact)
				a := tb.Add(1, Protected)
				b := tb.Add(1, Protected)
				c := tb.Add(0, Protected)
				tb.Sum(n, a, b, c)
				return []Figure{a, b}
			},
		},
		{
			// A chain across two tables sharing a total. Table 1 splits
			// organisation X's total (9, shown as 10) by type: * and 10;
			// alone it leaves * anywhere from 1 to 4. Table 2 splits the
			// national total (exact, 9) by organisation: X and Y, which
			// had none, so X's total is exactly 9 and * is 1.
			name:  "a chain across two tables sharing a total",
			rules: Default(),
			build: func(tb *Table) []Figure {
				n := tb.Add(9, Exact)
				x := tb.Add(9, Protected)
				y := tb.Add(0, Protected)
				tb.Sum(n, x, y)
				a := tb.Add(1, Protected)
				b := tb.Add(8, Protected)
				tb.Sum(x, a, b)
				return []Figure{a}
			},
		},
		{
			// The classic two-way table: one * in a row and a column is
			// the row total minus the rest. Protecting it takes a
			// rectangle of suppressed cells.
			name:  "two-way table with totals",
			rules: noRounding(),
			build: func(tb *Table) []Figure {
				a := tb.Add(3, Protected)
				b := tb.Add(10, Protected)
				c := tb.Add(12, Protected)
				d := tb.Add(15, Protected)
				r1 := tb.Add(13, Protected)
				r2 := tb.Add(27, Protected)
				c1 := tb.Add(15, Protected)
				c2 := tb.Add(25, Protected)
				g := tb.Add(40, Exact)
				tb.Sum(r1, a, b)
				tb.Sum(r2, c, d)
				tb.Sum(c1, a, c)
				tb.Sum(c2, b, d)
				tb.Sum(g, r1, r2)
				tb.Sum(g, c1, c2)
				return []Figure{a}
			},
		},
	}
}

// T16: every classic differencing attack works on a table with primary
// suppression alone, the checker sees it, and Protect's table defeats it.
func TestProtectDefeatsDifferencingAttacks(t *testing.T) {
	for _, at := range attacks() {
		t.Run(at.name, func(t *testing.T) {
			var tb Table
			targets := at.build(&tb)
			naive := applyRules(at.rules, &tb)
			assertSound(t, at.rules, &tb, naive)
			found := Check(at.rules, &tb, naive)
			for _, f := range targets {
				if !naive.Suppressed(f) {
					t.Fatalf("figure %d is not suppressed by the rules", f)
				}
				if !slices.ContainsFunc(found, func(d Disclosure) bool { return d.Figure == f }) {
					t.Errorf("the checker misses the attack on figure %d (found %v)", f, found)
				}
			}
			res, err := Protect(at.rules, &tb)
			if err != nil {
				t.Fatalf("Protect: %v", err)
			}
			if d := Check(at.rules, &tb, res); d != nil {
				t.Fatalf("the protected table still discloses %v", d)
			}
			if res.Secondary() == 0 {
				t.Error("no secondary suppression, yet the rules alone disclosed")
			}
			for _, f := range targets {
				if !res.Suppressed(f) || res.SecondaryFigure(f) {
					t.Errorf("figure %d: suppressed %v, secondary %v", f, res.Suppressed(f), res.SecondaryFigure(f))
				}
			}
			assertSound(t, at.rules, &tb, res)
			assertShownByRules(t, at.rules, &tb, res)
		})
	}
}

// The two-way table is protected with the rectangle a, b, c, d: one
// suppression in a row or column is always a difference away.
func TestSecondarySuppressionMakesARectangle(t *testing.T) {
	at := attacks()[6]
	var tb Table
	at.build(&tb)
	res, err := Protect(at.rules, &tb)
	if err != nil {
		t.Fatal(err)
	}
	for f := Figure(0); f < 4; f++ {
		if !res.Suppressed(f) {
			t.Errorf("cell %d shown as %s", f, res.Text(f))
		}
	}
	for f := Figure(4); f < 9; f++ {
		if res.Suppressed(f) {
			t.Errorf("total %d suppressed; the rectangle of cells is enough", f)
		}
	}
	if res.Secondary() != 3 {
		t.Errorf("Secondary = %d, want 3", res.Secondary())
	}
	lo, _, bounded := res.SymbolRange()
	if lo != 1 || bounded {
		t.Errorf("SymbolRange: from %d, bounded %v; want from 1 upward (10, 12 and 15 hidden)", lo, bounded)
	}
}

// Secondary suppression takes a zero when nothing else is left, and then
// the symbol stands for 0 too.
func TestSecondarySuppressionTakesAZeroWhenNeeded(t *testing.T) {
	var tb Table
	attacks()[0].build(&tb)
	res, err := Protect(Default(), &tb)
	if err != nil {
		t.Fatal(err)
	}
	if res.Secondary() != 1 || !res.SecondaryFigure(2) {
		t.Fatalf("want the first zero suppressed, got %s %s %s", res.Text(1), res.Text(2), res.Text(3))
	}
	if lo, hi, bounded := res.SymbolRange(); lo != 0 || hi != 7 || !bounded {
		t.Errorf("SymbolRange = %d..%d bounded %v, want 0..7", lo, hi, bounded)
	}
}

// Secondary suppression prefers the smallest count above 0 to a zero.
func TestSecondarySuppressionPrefersSmallCounts(t *testing.T) {
	var tb Table
	n := tb.Add(25, Exact)
	a := tb.Add(3, Protected)
	zero := tb.Add(0, Protected)
	big := tb.Add(12, Protected)
	small := tb.Add(10, Protected)
	tb.Sum(n, a, zero, big, small)
	res, err := Protect(noRounding(), &tb)
	if err != nil {
		t.Fatal(err)
	}
	if !res.SecondaryFigure(small) || res.Suppressed(zero) || res.Suppressed(big) {
		t.Errorf("got %s %s %s, want the 10 suppressed", res.Text(zero), res.Text(big), res.Text(small))
	}
}

// A table where the figures that disclose are all national: nothing can
// be suppressed to protect the small count.
func TestProtectRefusesATableThatCannotBeProtected(t *testing.T) {
	var tb Table
	n := tb.Add(10, Exact)
	a := tb.Add(3, Protected)
	e := tb.Add(7, Exact)
	tb.Sum(n, a, e)
	_, err := Protect(Default(), &tb)
	if !errors.Is(err, ErrCannotProtect) {
		t.Fatalf("got %v, want ErrCannotProtect", err)
	}
	var pe *ProtectError
	if !errors.As(err, &pe) || len(pe.Disclosures) != 1 || pe.Disclosures[0] != (Disclosure{Figure: a, Lo: 3, Hi: 3}) {
		t.Fatalf("got %#v", err)
	}
	if got := err.Error(); got != "sdc: the table cannot be protected: figure 1 can be derived as 3 to 3" {
		t.Errorf("message %q", got)
	}

	// Two national sums differenced leave a count that nothing can hide:
	// (A + B + C) - (A + B) = C with both sums exact.
	var tb2 Table
	x := tb2.Add(3, Protected)
	y := tb2.Add(5, Protected)
	c := tb2.Add(2, Protected)
	t1 := tb2.Add(8, Exact)
	t2 := tb2.Add(10, Exact)
	tb2.Sum(t1, x, y)
	tb2.Sum(t2, x, y, c)
	_, err = Protect(Default(), &tb2)
	if !errors.As(err, &pe) || len(pe.Disclosures) != 1 || pe.Disclosures[0].Figure != c {
		t.Fatalf("differenced national sums: got %v", err)
	}
}

func TestProtectRefusesABadTable(t *testing.T) {
	cases := map[string]func(tb *Table){
		"negative count":  func(tb *Table) { tb.Add(-1, Protected) },
		"huge count":      func(tb *Table) { tb.Add(MaxValue+1, Protected) },
		"unknown level":   func(tb *Table) { tb.Add(1, Level(7)) },
		"unknown figure":  func(tb *Table) { f := tb.Add(1, Protected); tb.Sum(f, 5) },
		"no parts":        func(tb *Table) { f := tb.Add(1, Protected); tb.Sum(f) },
		"sum that is off": func(tb *Table) { a, b := tb.Add(1, Protected), tb.Add(2, Protected); tb.Sum(b, a) },
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			var tb Table
			build(&tb)
			if _, err := Protect(Default(), &tb); err == nil || errors.Is(err, ErrCannotProtect) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestResultOfAnotherTable(t *testing.T) {
	var tb Table
	tb.Add(3, Protected)
	var res Result
	if d := Check(Default(), &tb, res); len(d) != 1 {
		t.Fatalf("a result of another table must not pass the check: %v", d)
	}
	if res.Text(0) != "" || res.Suppressed(-1) {
		t.Error("an unknown figure has no text")
	}
	if _, ok := res.Value(3); ok {
		t.Error("an unknown figure has no value")
	}
}

// assertSound checks the checker's ranges hold every true value.
func assertSound(tb testing.TB, r Rules, t *Table, res Result) {
	tb.Helper()
	ivs, _, _ := bounds(r, t, res, systemOf(t))
	for i, iv := range ivs {
		v := t.values[i]
		if v < iv.lo || (!iv.inf && v > iv.hi) {
			tb.Fatalf("figure %d is %d, outside the checker's range %d..%d (inf %v)", i, v, iv.lo, iv.hi, iv.inf)
		}
	}
}

// assertShownByRules checks each published figure against the rules.
func assertShownByRules(tb testing.TB, r Rules, t *Table, res Result) {
	tb.Helper()
	for i, v := range t.values {
		f := Figure(i)
		got, shown := res.Value(f)
		switch {
		case t.levels[i] == Exact:
			if !shown || got != v {
				tb.Fatalf("national figure %d is %d, published %q", i, v, res.Text(f))
			}
		case v != 0 && r.suppresses(v):
			if shown || res.SecondaryFigure(f) {
				tb.Fatalf("small count %d published as %q", v, res.Text(f))
			}
		case shown && got != r.round(v):
			tb.Fatalf("count %d published as %d, want %d", v, got, r.round(v))
		case !shown && !res.SecondaryFigure(f):
			tb.Fatalf("count %d suppressed but not counted as secondary", v)
		}
		if res.Suppressed(f) && res.Text(f) != r.Symbol {
			tb.Fatalf("suppressed figure shown as %q", res.Text(f))
		}
	}
}
