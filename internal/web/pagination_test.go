package web

import (
	"fmt"
	"strings"
	"testing"
)

func TestPaginationLinksTheEndsAndTheNeighboursWithGapsBetween(t *testing.T) {
	link := func(n int) string { return fmt.Sprintf("/list?page=%d", n) }
	cases := []struct {
		current, pages int
		want           string
	}{
		{1, 1, ""},
		{1, 3, "[1] 2 3 >"},
		{5, 10, "< 1 … 4 [5] 6 … 10 >"},
		{10, 10, "< 1 … 9 [10]"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("page %d of %d", c.current, c.pages), func(t *testing.T) {
			p := paginate(c.current, c.pages, link)
			var parts []string
			if p.Previous != "" {
				parts = append(parts, "<")
			}
			for _, it := range p.Items {
				switch {
				case it.Ellipsis:
					parts = append(parts, "…")
				case it.Current:
					parts = append(parts, fmt.Sprintf("[%d]", it.Number))
				default:
					parts = append(parts, fmt.Sprint(it.Number))
				}
			}
			if p.Next != "" {
				parts = append(parts, ">")
			}
			if got := strings.Join(parts, " "); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
			if c.current > 1 && p.Previous != link(c.current-1) {
				t.Errorf("previous = %q", p.Previous)
			}
		})
	}
}
