package fhir

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apikey"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/incident"
)

// Search paging: how many events a page holds unless _count says.
const (
	defaultCount = 20
	maxCount     = 100
)

// searchParams are the parameters search takes; any other is refused.
var searchParams = []string{"date", "_lastUpdated", "location.organization", "_count", "_page"}

// search answers GET AdverseEvent?…: the key's organisation's events,
// oldest submitted first, a page at a time with a next link.
func (h *Handler) search(w http.ResponseWriter, r *http.Request, k apikey.Key, ip string) {
	q := r.URL.Query()
	f, count, page, issues := parseSearch(q, k.Org)
	if issues != nil {
		status := http.StatusBadRequest
		if issues[0].Code == codeForbidden {
			status = http.StatusForbidden
		}
		h.refuse(r.Context(), k, r, ip, status, issueCodes(issues))
		writeOutcome(w, status, issues...)
		return
	}
	list, err := h.Events.List(r.Context(), incident.Scope{Orgs: []string{k.Org}}, f, page, count)
	if apperr.CodeOf(err) == apperr.Invalid {
		writeOutcome(w, http.StatusBadRequest, Issue{Severity: severityError, Code: codeValue, Message: apperr.MessageOf(err)})
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	b := bundle{ResourceType: "Bundle", Type: "searchset", Link: []bundleLink{{Relation: "self", URL: h.searchURL(q, page)}}}
	if !list.More {
		b.Total = &list.Count
	}
	if !list.Next.IsZero() {
		b.Link = append(b.Link, bundleLink{Relation: "next", URL: h.searchURL(q, list.Next)})
	}
	for _, s := range list.Events {
		ev, err := h.Events.Get(r.Context(), s.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		body, err := h.codec.Encode(Snapshot{Reference: ev.Reference, Type: ev.Type, Version: ev.Version, Updated: ev.UpdatedAt, Answers: ev.Answers})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		b.Entry = append(b.Entry, bundleEntry{FullURL: h.Base + EventsRoot + "AdverseEvent/" + string(ev.Reference),
			Resource: body, Search: &bundleSearch{Mode: "match"}})
	}
	h.audit(r.Context(), "api.search", "api_key", strconv.FormatInt(k.ID, 10), ip,
		map[string]string{"org": k.Org, "query": r.URL.RawQuery, "events": strconv.Itoa(len(list.Events))})
	body, err := marshal(b)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// searchURL is the address of a page of the search.
func (h *Handler) searchURL(q url.Values, page incident.Cursor) string {
	out := url.Values{}
	for k, vs := range q {
		if k != "_page" {
			out[k] = vs
		}
	}
	if !page.IsZero() {
		out.Set("_page", page.String())
	}
	u := h.Base + EventsRoot + "AdverseEvent"
	if len(out) > 0 {
		u += "?" + out.Encode()
	}
	return u
}

// parseSearch reads the search's parameters into a filter of the list.
func parseSearch(q url.Values, org string) (incident.Filter, int, incident.Cursor, []Issue) {
	var issues []Issue
	bad := func(param, message string) {
		issues = append(issues, Issue{Severity: severityError, Code: codeValue, Expression: param, Message: message})
	}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if !slices.Contains(searchParams, k) {
			issues = append(issues, Issue{Severity: severityError, Code: codeNotSupported, Expression: safeName(k),
				Message: "PSIMS does not search by " + safeName(k) + ". It searches by date, _lastUpdated and location.organization"})
		}
	}
	f := incident.Filter{Sort: incident.SubmittedOldest}
	for _, v := range q["date"] {
		from, to, ok := dateRange(v)
		if !ok {
			bad("date", "Give date as a prefix (ge, gt, le, lt or eq) and a date, such as ge2026-01-01")
			continue
		}
		if !from.IsZero() && (f.OccurredFrom.IsZero() || from.After(f.OccurredFrom)) {
			f.OccurredFrom = from
		}
		if !to.IsZero() && (f.OccurredTo.IsZero() || to.Before(f.OccurredTo)) {
			f.OccurredTo = to
		}
	}
	for _, v := range q["_lastUpdated"] {
		from, to, ok := instantRange(v)
		if !ok {
			bad("_lastUpdated", "Give _lastUpdated as a prefix (ge, gt, le, lt or eq) and a date or a time with its offset, such as ge2026-01-01T09:00:00Z")
			continue
		}
		if !from.IsZero() && (f.UpdatedFrom.IsZero() || from.After(f.UpdatedFrom)) {
			f.UpdatedFrom = from
		}
		if !to.IsZero() && (f.UpdatedTo.IsZero() || to.Before(f.UpdatedTo)) {
			f.UpdatedTo = to
		}
	}
	for _, v := range q["location.organization"] {
		if code := strings.ToUpper(strings.TrimSpace(v[strings.LastIndexByte(v, '|')+1:])); code != org {
			issues = append(issues, Issue{Severity: severityError, Code: codeForbidden, Expression: "location.organization",
				Message: "An API key reads only its own organisation's events, " + org})
		}
	}
	count := defaultCount
	if v := q.Get("_count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxCount {
			bad("_count", fmt.Sprintf("Give _count as a whole number from 1 to %d", maxCount))
		}
		count = n
	}
	page, err := incident.ParseCursor(q.Get("_page"), f.Sort)
	if err != nil {
		bad("_page", "The page link is not valid: follow the next link of the last page as it was given")
	}
	if issues != nil {
		// Forbidden first: it decides the status.
		slices.SortStableFunc(issues, func(a, b Issue) int {
			return boolRank(b.Code == codeForbidden) - boolRank(a.Code == codeForbidden)
		})
		return incident.Filter{}, 0, incident.Cursor{}, issues
	}
	return f, count, page, nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// prefixed splits a FHIR search value into its prefix (eq when none) and
// the rest.
func prefixed(v string) (string, string) {
	if len(v) > 2 {
		switch p := v[:2]; p {
		case "eq", "ge", "gt", "le", "lt":
			return p, v[2:]
		}
	}
	return "eq", v
}

// dateRange reads a date search value as the first and last day it
// admits (zero when open).
func dateRange(v string) (from, to time.Time, ok bool) {
	p, rest := prefixed(v)
	d, err := time.Parse(time.DateOnly, rest)
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	day := 24 * time.Hour
	switch p {
	case "eq":
		return d, d, true
	case "ge":
		return d, time.Time{}, true
	case "gt":
		return d.Add(day), time.Time{}, true
	case "le":
		return time.Time{}, d, true
	}
	return time.Time{}, d.Add(-day), true
}

// instantRange reads a _lastUpdated search value as a range of instants:
// from included, to excluded (zero when open).
func instantRange(v string) (from, to time.Time, ok bool) {
	p, rest := prefixed(v)
	start, err := time.Parse(time.RFC3339Nano, rest)
	end := start.Add(time.Nanosecond)
	if err != nil {
		d, derr := time.Parse(time.DateOnly, rest)
		if derr != nil {
			return time.Time{}, time.Time{}, false
		}
		start, end = d, d.Add(24*time.Hour)
	}
	switch p {
	case "eq":
		return start, end, true
	case "ge":
		return start, time.Time{}, true
	case "gt":
		return end, time.Time{}, true
	case "le":
		return time.Time{}, end, true
	}
	return time.Time{}, start, true
}
