package sdc

import (
	"errors"
	"testing"
)

// byteSource hands out the fuzzer's bytes as small numbers, then zeros.
type byteSource struct{ b []byte }

func (s *byteSource) next(n int) int {
	if n <= 0 {
		return 0
	}
	if len(s.b) == 0 {
		return 0
	}
	v := int(s.b[0])
	s.b = s.b[1:]
	return v % n
}

// count is a count biased to what publications hold: zeros, small counts
// around the suppressed band, and some larger ones.
func (s *byteSource) count() int64 {
	switch s.next(4) {
	case 0:
		return 0
	case 1:
		return int64(1 + s.next(9))
	case 2:
		return int64(s.next(30))
	}
	return int64(s.next(256) * (1 + s.next(8)))
}

func (s *byteSource) level() Level {
	if s.next(6) == 0 {
		return Exact
	}
	return Protected
}

var fuzzRules = []Rules{
	Default(),
	{Low: 1, High: 7, Round: 0, Symbol: "*", MinRange: 3},
	{Low: 1, High: 9, Round: 10, Symbol: "[c]", MinRange: 3},
	{Low: 3, High: 7, Round: 2, Symbol: "x", MinRange: 4},
	{Low: 1, High: 4, Round: 5, Symbol: "*", MinRange: 2},
}

// randomTable builds a consistent table from the fuzzer's bytes: cells,
// totals over chosen figures, and figures split into new parts (several
// tables sharing a total).
func randomTable(s *byteSource) *Table {
	var tb Table
	cells := 1 + s.next(10)
	for range cells {
		tb.Add(s.count(), s.level())
	}
	sums := s.next(10)
	for range sums {
		if tb.Len() > 60 {
			break
		}
		switch s.next(2) {
		case 0: // a total over some figures
			k := 1 + s.next(4)
			var parts []Figure
			var total int64
			for range k {
				f := Figure(s.next(tb.Len()))
				dup := false
				for _, p := range parts {
					dup = dup || p == f
				}
				if !dup {
					parts = append(parts, f)
					total += tb.values[f]
				}
			}
			tb.Sum(tb.Add(total, s.level()), parts...)
		case 1: // a figure split into new parts
			f := Figure(s.next(tb.Len()))
			rest := tb.values[f]
			k := 1 + s.next(3)
			var parts []Figure
			for i := range k {
				v := rest
				if i < k-1 && rest > 0 {
					v = int64(s.next(int(min(rest, 1<<20)) + 1))
				}
				rest -= v
				parts = append(parts, tb.Add(v, s.level()))
			}
			tb.Sum(f, parts...)
		}
	}
	return &tb
}

// T16: FuzzProtect: random tables with sums. Protect never panics; its
// result passes the checker; every true value lies within the checker's
// ranges (for the rules alone and for the protected table); a figure shown
// as a number is what the rules say; a failure is only ErrCannotProtect.
func FuzzProtect(f *testing.F) {
	f.Add([]byte{0, 5, 3, 5, 1, 0, 0, 2, 0, 1, 2, 1, 0})
	f.Add([]byte{1, 9, 1, 3, 2, 5, 3, 200, 1, 7, 0, 8, 1, 1, 3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{2, 3, 1, 1, 1, 2, 0, 0, 4, 0, 3, 0, 1, 2, 1, 1, 2, 2, 1, 0, 0, 0, 3})
	f.Add([]byte{3, 6, 0, 0, 1, 4, 2, 9, 3, 50, 1, 1, 3, 12, 0, 0, 0, 0, 4, 1, 2, 1, 0, 1})
	f.Add([]byte{4, 2, 1, 2, 1, 3, 5, 0, 4, 1, 1, 0, 1, 2, 1, 2, 0, 1, 1, 0, 3, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &byteSource{b: data}
		r := fuzzRules[s.next(len(fuzzRules))]
		tb := randomTable(s)
		assertSound(t, r, tb, applyRules(r, tb))
		res, err := Protect(r, tb)
		if err != nil {
			if !errors.Is(err, ErrCannotProtect) {
				t.Fatalf("Protect: %v", err)
			}
			return
		}
		if d := Check(r, tb, res); d != nil {
			t.Fatalf("Protect's table discloses %v", d)
		}
		assertSound(t, r, tb, res)
		assertShownByRules(t, r, tb, res)
	})
}

// The fuzz corpus as a plain test over many seeds, so that every run of
// the tests tries a few thousand random tables.
func TestProtectRandomTables(t *testing.T) {
	cannot := 0
	for seed := range 5000 {
		data := make([]byte, 64)
		x := uint32(seed*2654435761 + 1)
		for i := range data {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			data[i] = byte(x)
		}
		s := &byteSource{b: data}
		r := fuzzRules[s.next(len(fuzzRules))]
		tb := randomTable(s)
		assertSound(t, r, tb, applyRules(r, tb))
		res, err := Protect(r, tb)
		if err != nil {
			if !errors.Is(err, ErrCannotProtect) {
				t.Fatalf("seed %d: %v", seed, err)
			}
			cannot++
			continue
		}
		if d := Check(r, tb, res); d != nil {
			t.Fatalf("seed %d: discloses %v", seed, d)
		}
		assertSound(t, r, tb, res)
		assertShownByRules(t, r, tb, res)
	}
	t.Logf("%d of 5000 random tables cannot be protected", cannot)
}
