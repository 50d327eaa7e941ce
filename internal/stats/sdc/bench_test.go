package sdc

import (
	"math/rand/v2"
	"testing"
)

// publicationTable builds a table shaped like a publication: for each
// organisation, cells by event type (3) and physical harm (4), type and
// harm totals, the organisation's total by type and by harm; and the
// national figures (exact) by type and harm, by type, by harm and in all.
// 500 organisations give 10,000 protected figures and 3,000 of their sums.
func publicationTable(orgs int, seed uint64) *Table {
	const types, harms = 3, 4
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	count := func() int64 {
		switch rng.IntN(10) {
		case 0, 1, 2:
			return 0
		case 3, 4, 5:
			return 1 + rng.Int64N(7)
		}
		return 8 + rng.Int64N(200)
	}
	var tb Table
	cells := make([][types][harms]Figure, orgs)
	var nat [types][harms]int64
	for o := range orgs {
		var byType [types]int64
		var byHarm [harms]int64
		for ty := range types {
			for h := range harms {
				v := count()
				cells[o][ty][h] = tb.Add(v, Protected)
				byType[ty] += v
				byHarm[h] += v
				nat[ty][h] += v
			}
		}
		var typeTotals [types]Figure
		var harmTotals [harms]Figure
		var all int64
		for ty := range types {
			typeTotals[ty] = tb.Add(byType[ty], Protected)
			tb.Sum(typeTotals[ty], cells[o][ty][:]...)
			all += byType[ty]
		}
		for h := range harms {
			harmTotals[h] = tb.Add(byHarm[h], Protected)
		}
		h0 := make([]Figure, types)
		for ty := range types {
			h0[ty] = cells[o][ty][0]
		}
		tb.Sum(harmTotals[0], h0...)
		total := tb.Add(all, Protected)
		tb.Sum(total, typeTotals[:]...)
		tb.Sum(total, harmTotals[:]...)
	}
	var grand int64
	var natType [types]Figure
	for ty := range types {
		var tyTotal int64
		var parts []Figure
		for h := range harms {
			parts = append(parts, tb.Add(nat[ty][h], Exact))
			tyTotal += nat[ty][h]
		}
		natType[ty] = tb.Add(tyTotal, Exact)
		tb.Sum(natType[ty], parts...)
		grand += tyTotal
		for h := range harms {
			var orgsCells []Figure
			for o := range orgs {
				orgsCells = append(orgsCells, cells[o][ty][h])
			}
			tb.Sum(parts[h], orgsCells...)
		}
	}
	tb.Sum(tb.Add(grand, Exact), natType[:]...)
	return &tb
}

// Protect must be fast on a publication: 10,000 figures and 3,000 sums
// well under a second.
func BenchmarkProtect(b *testing.B) {
	tb := publicationTable(500, 1)
	var res Result
	var err error
	for b.Loop() {
		res, err = Protect(Default(), tb)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(tb.Len()), "figures")
	b.ReportMetric(float64(len(tb.sums)), "sums")
	b.ReportMetric(float64(res.Secondary()), "secondary")
}

func TestProtectPublicationTable(t *testing.T) {
	tb := publicationTable(60, 2)
	res, err := Protect(Default(), tb)
	if err != nil {
		t.Fatal(err)
	}
	if d := Check(Default(), tb, res); d != nil {
		t.Fatalf("discloses %v", d)
	}
	assertSound(t, Default(), tb, res)
	assertShownByRules(t, Default(), tb, res)
	t.Logf("%d figures, %d sums, %d secondary", tb.Len(), len(tb.sums), res.Secondary())
}
