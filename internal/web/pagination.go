package web

import (
	"net/url"
	"strconv"
)

// pagination is the content of the NHS.UK numbered pagination component,
// shown by the "pagination" partial.
type pagination struct {
	Previous, Next string // links; empty on the first or last page
	Items          []pageItem
}

// pageItem is a page number, or a gap when Ellipsis is set.
type pageItem struct {
	Number   int
	URL      string
	Current  bool
	Ellipsis bool
}

// paginate lists the pages to link to: the first, the last, and those
// next to the current one, with gaps between. link makes a page's URL.
func paginate(current, pages int, link func(int) string) pagination {
	var p pagination
	if pages <= 1 {
		return p
	}
	if current > 1 {
		p.Previous = link(current - 1)
	}
	if current < pages {
		p.Next = link(current + 1)
	}
	last := 0
	for n := 1; n <= pages; n++ {
		if n != 1 && n != pages && (n < current-1 || n > current+1) {
			continue
		}
		if last != 0 && n > last+1 {
			p.Items = append(p.Items, pageItem{Ellipsis: true})
		}
		p.Items = append(p.Items, pageItem{Number: n, URL: link(n), Current: n == current})
		last = n
	}
	return p
}

// pageLink makes the links of a numbered list at path: each keeps the
// list's query (its filters) and adds the page number, except for the
// first page.
func pageLink(path string, query url.Values) func(int) string {
	return func(n int) string {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		if n > 1 {
			q.Set("page", strconv.Itoa(n))
		}
		if len(q) == 0 {
			return path
		}
		return path + "?" + q.Encode()
	}
}
