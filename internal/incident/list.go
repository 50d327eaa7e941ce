package incident

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
)

// This file lists events for the people allowed to see them: a filtered,
// sorted list paged by keyset (the sort time and id of the last event shown)
// rather than by offset, so a page deep into a million events costs the
// same as the first.

// The multi-valued elements lists filter on, as the form indexes them.
const (
	ElementSafetyChallenges = "AdverseEventSafetyChallenges.SafetyChallenges"
	ElementAgents           = "AdverseEventAgent.InvolvedAgents"
)

// Paging and counting of event lists.
const (
	DefaultPerPage = 25
	MaxPerPage     = 100
	// CountCap is how many matching events a list counts at most; past it
	// the list says "more than CountCap", so no page view counts a million
	// rows.
	CountCap = 10_000
	// maxFilterValues bounds each multi-valued filter, so a crafted address
	// cannot build a huge query.
	maxFilterValues = 20
)

// Label is how the source is named to people.
func (s Source) Label() string {
	switch s {
	case Staff:
		return "Staff"
	case Public:
		return "Patient or public"
	case System:
		return "Local risk management system"
	}
	return string(s)
}

// Scope is which events someone may see: every event (national admins),
// the events of some organisations (reviewers and organisation admins for
// their own, read-only users for those granted to them), and the events a
// reporter recorded. An event is in scope when any part admits it; the zero
// Scope admits nothing. The caller decides the scope from the
// authorisation policy; this package only applies it.
type Scope struct {
	All        bool
	Orgs       []string // ODS codes
	ReporterID int64
}

// Sort is the order of a list.
type Sort string

// The orders a list can take. The zero Sort is SubmittedNewest.
const (
	SubmittedNewest Sort = "submitted-newest"
	SubmittedOldest Sort = "submitted-oldest"
	OccurredNewest  Sort = "occurred-newest"
	OccurredOldest  Sort = "occurred-oldest"
	// DueSoonest lists the events whose review has a due date, the
	// soonest due first.
	DueSoonest Sort = "due-soonest"
)

// Sorts lists every order, in the order pages offer them.
func Sorts() []Sort { return []Sort{SubmittedNewest, SubmittedOldest, OccurredNewest, OccurredOldest} }

// ReviewSorts lists the orders of the review, which only those who may
// read the reviews of the events listed may choose; DueSoonest lists only
// the events that have a due date.
func ReviewSorts() []Sort { return []Sort{DueSoonest} }

// Label is how the order is named to people.
func (s Sort) Label() string {
	switch s {
	case SubmittedOldest:
		return "Submitted, oldest first"
	case OccurredNewest:
		return "Happened, newest first"
	case OccurredOldest:
		return "Happened, oldest first"
	case DueSoonest:
		return "Review due, soonest first"
	}
	return "Submitted, newest first"
}

func (s Sort) orDefault() Sort {
	if s == "" {
		return SubmittedNewest
	}
	return s
}

func (s Sort) valid() bool {
	for _, x := range append(Sorts(), ReviewSorts()...) {
		if x == s.orDefault() {
			return true
		}
	}
	return false
}

// column is the events column the order sorts on, after the id.
func (s Sort) column() string {
	if s == OccurredNewest || s == OccurredOldest {
		return "e.occurred_from"
	}
	if s == DueSoonest {
		return "e.review_due"
	}
	return "e.submitted_at"
}

func (s Sort) newestFirst() bool { return s.orDefault() == SubmittedNewest || s == OccurredNewest }

// Filter chooses events within a scope. Zero fields do not filter. Dates
// are whole days in UTC, both ends included.
type Filter struct {
	Types []Type
	// An event is in the occurred range when the days it can have happened
	// on overlap it.
	OccurredFrom, OccurredTo   time.Time
	SubmittedFrom, SubmittedTo time.Time
	// UpdatedFrom (included) and UpdatedTo (excluded) choose events by when
	// their latest version was saved, to the instant.
	UpdatedFrom, UpdatedTo time.Time
	// PhysicalHarm and PsychologicalHarm are codes of the harm lists,
	// matched against the most severe harm recorded for any patient.
	PhysicalHarm, PsychologicalHarm []string
	ServiceType                     string // a code of service-type-5
	SafetyChallenge                 string // a code of safety-challenges-5
	Agent                           string // a code of agent-type-5
	Source                          Source // "" means any
	Sort                            Sort
	// The review filters: the states chosen, the person the review is
	// assigned to (or Unassigned), and the last day it is due by. Only
	// those who may read the reviews of the events listed may use them
	// (authz.Listing.Review).
	ReviewStates []ReviewState
	AssigneeID   int64
	Unassigned   bool
	DueBy        time.Time
	// Words are words every event found holds in its free text answers
	// (see ParseWords); none does not filter.
	Words []string
	// Reference chooses the one event with that reference; "" does not
	// filter.
	Reference Reference
	// dialect makes the search by words; List and Export set it.
	dialect db.Dialect
	// plan is how the words are looked for (see planWords); wordIDs,
	// when its end is not 0, is the run of ids a stretch of the list
	// holds (see walkWords).
	plan    wordsPlan
	wordIDs [2]int64
}

// check refuses a filter this package cannot apply. Codes are not checked
// against the taxonomy here (an unknown code matches nothing); the page
// that reads the filter does that, to say which box is wrong.
func (f Filter) check() error {
	var problems apperr.Fields
	if !f.Sort.valid() {
		problems.Add("sort", "Choose how to sort the events")
	}
	for _, t := range f.Types {
		if _, err := ParseType(string(t)); err != nil {
			problems.Add("type", "Choose event types from the list")
			break
		}
	}
	if f.Source != "" && f.Source != Staff && f.Source != Public && f.Source != System {
		problems.Add("source", "Choose who recorded the events from the list")
	}
	if !checkWords(f.Words) {
		problems.Add("q", "Enter words to search for, using letters or numbers")
	}
	if len(f.Types) > maxFilterValues || len(f.PhysicalHarm) > maxFilterValues || len(f.PsychologicalHarm) > maxFilterValues {
		problems.Add("type", "Choose fewer options")
	}
	if !f.OccurredFrom.IsZero() && !f.OccurredTo.IsZero() && f.OccurredTo.Before(f.OccurredFrom) {
		problems.Add("occurred-to", "The date it happened to must be the same as or after the date from")
	}
	for _, st := range f.ReviewStates {
		if _, err := ParseReviewState(string(st)); err != nil || len(f.ReviewStates) > len(ReviewStates()) {
			problems.Add("state", "Choose review states from the list")
			break
		}
	}
	if !f.SubmittedFrom.IsZero() && !f.SubmittedTo.IsZero() && f.SubmittedTo.Before(f.SubmittedFrom) {
		problems.Add("submitted-to", "The date submitted to must be the same as or after the date from")
	}
	return problems.Err()
}

// Summary is an event as lists show it: its facts and index, not its
// answers.
type Summary struct {
	ID                       int64
	Reference                Reference
	Type                     Type
	OrgCode                  string
	Source                   Source
	ReporterID               int64 // 0 for the public
	OccurredFrom, OccurredTo time.Time
	SubmittedAt              time.Time
	Version                  int
	PhysicalHarm             string
	PsychologicalHarm        string
	ServiceType              string
	SharingOptOut            bool
	// The review: its state, who has it (0 for nobody) and when it is due
	// (zero for no date).
	ReviewState ReviewState
	AssigneeID  int64
	ReviewDue   time.Time
	sortKey     time.Time
}

// Cursor is a place in a list: just after (or, going back, just before)
// the event with this sort time and id. The zero Cursor is the start.
type Cursor struct {
	Sort     Sort
	Time     time.Time
	ID       int64
	Backward bool // the page ends just before the place, rather than starting after it
}

// IsZero reports whether c is the start of the list.
func (c Cursor) IsZero() bool { return c.ID == 0 }

// String is the cursor as an opaque token for a link.
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	dir := "a"
	if c.Backward {
		dir = "b"
	}
	raw := fmt.Sprintf("%s.%s.%d.%d", dir, c.Sort.orDefault(), c.Time.UnixMicro(), c.ID)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ParseCursor reads a token made by Cursor.String for a list in order
// sort. Errors: Invalid when it is not one, or belongs to another order.
func ParseCursor(token string, sort Sort) (Cursor, error) {
	bad := apperr.New(apperr.Invalid, "The page link is not valid")
	if token == "" {
		return Cursor{}, nil
	}
	if len(token) > 200 {
		return Cursor{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return Cursor{}, bad
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 4 || (parts[0] != "a" && parts[0] != "b") || Sort(parts[1]) != sort.orDefault() {
		return Cursor{}, bad
	}
	micro, err1 := strconv.ParseInt(parts[2], 10, 64)
	id, err2 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return Cursor{}, bad
	}
	return Cursor{Sort: sort.orDefault(), Time: time.UnixMicro(micro).UTC(), ID: id, Backward: parts[0] == "b"}, nil
}

// ListPage is one page of a list.
type ListPage struct {
	Events []Summary
	// Next and Previous are the cursors of the neighbouring pages; zero
	// when there is none.
	Next, Previous Cursor
	// Count is how many events match, counting at most CountCap; More is
	// true when there are more than that.
	Count int
	More  bool
}

// sqlQuery builds a query's WHERE clause and its numbered arguments.
type sqlQuery struct {
	where []string
	args  []any
}

func (q *sqlQuery) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

func (q *sqlQuery) in(values []string) string {
	marks := make([]string, len(values))
	for i, v := range values {
		marks[i] = q.arg(v)
	}
	return "(" + strings.Join(marks, ", ") + ")"
}

// ids is a parenthesised list of the events' ids, as arguments.
func (q *sqlQuery) ids(events []Summary) string {
	marks := make([]string, len(events))
	for i, e := range events {
		marks[i] = q.arg(e.ID)
	}
	return "(" + strings.Join(marks, ", ") + ")"
}

func (q *sqlQuery) add(cond string) { q.where = append(q.where, cond) }

func (q *sqlQuery) clause() string {
	if len(q.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.where, " AND ")
}

// filterQuery is the WHERE clause choosing the scope's events that f
// chooses.
func filterQuery(scope Scope, f Filter) *sqlQuery {
	q := &sqlQuery{}
	q.addFilter(scope, f)
	return q
}

// addFilter adds the conditions choosing the scope's events that f chooses.
func (q *sqlQuery) addFilter(scope Scope, f Filter) {
	if !scope.All {
		var admits []string
		if len(scope.Orgs) > 0 {
			admits = append(admits, "e.org_ods IN "+q.in(scope.Orgs))
		}
		if scope.ReporterID != 0 {
			admits = append(admits, "e.reporter_id = "+q.arg(scope.ReporterID))
		}
		switch len(admits) {
		case 0:
			q.add("1 = 0")
		case 1:
			q.add(admits[0])
		default:
			q.add("(" + strings.Join(admits, " OR ") + ")")
		}
	}
	if len(f.Types) > 0 {
		types := make([]string, len(f.Types))
		for i, t := range f.Types {
			types[i] = string(t)
		}
		q.add("e.event_type IN " + q.in(types))
	}
	if f.Source != "" {
		q.add("e.source = " + q.arg(string(f.Source)))
	}
	day := 24 * time.Hour
	if !f.UpdatedFrom.IsZero() {
		q.add("e.updated_at >= " + q.arg(f.UpdatedFrom.UTC()))
	}
	if !f.UpdatedTo.IsZero() {
		q.add("e.updated_at < " + q.arg(f.UpdatedTo.UTC()))
	}
	if !f.OccurredFrom.IsZero() {
		// An event overlaps the range when it ends in or after it; since no
		// event spans more than MaxOccurredSpan, it also starts at most that
		// long before the range, which lets an index on occurred_from read
		// only that stretch.
		q.add("e.occurred_to >= " + q.arg(dayStart(f.OccurredFrom)))
		q.add("e.occurred_from >= " + q.arg(dayStart(f.OccurredFrom).Add(-MaxOccurredSpan)))
	}
	if !f.OccurredTo.IsZero() {
		q.add("e.occurred_from < " + q.arg(dayStart(f.OccurredTo).Add(day)))
	}
	if !f.SubmittedFrom.IsZero() {
		q.add("e.submitted_at >= " + q.arg(dayStart(f.SubmittedFrom)))
	}
	if !f.SubmittedTo.IsZero() {
		q.add("e.submitted_at < " + q.arg(dayStart(f.SubmittedTo).Add(day)))
	}
	if len(f.PhysicalHarm) > 0 {
		q.add("e.physical_harm IN " + q.in(f.PhysicalHarm))
	}
	if len(f.PsychologicalHarm) > 0 {
		q.add("e.psychological_harm IN " + q.in(f.PsychologicalHarm))
	}
	if f.ServiceType != "" {
		q.add("e.service_type = " + q.arg(f.ServiceType))
	}
	if len(f.ReviewStates) > 0 {
		states := make([]string, len(f.ReviewStates))
		for i, st := range f.ReviewStates {
			states[i] = string(st)
		}
		q.add("e.review_state IN " + q.in(states))
	}
	switch {
	case f.Unassigned:
		q.add("e.assignee_id IS NULL")
	case f.AssigneeID != 0:
		q.add("e.assignee_id = " + q.arg(f.AssigneeID))
	}
	if !f.DueBy.IsZero() {
		q.add("e.review_due < " + q.arg(dayStart(f.DueBy).Add(day)))
	}
	if f.Sort == DueSoonest {
		q.add("e.review_due IS NOT NULL")
	}
	for _, c := range []struct{ element, code string }{{ElementSafetyChallenges, f.SafetyChallenge}, {ElementAgents, f.Agent}} {
		if c.code != "" {
			q.add("EXISTS (SELECT 1 FROM event_codes c WHERE c.event_id = e.id AND c.element = " + q.arg(c.element) +
				" AND c.code = " + q.arg(c.code) + ")")
		}
	}
	q.addWords(scope, f)
	if f.Reference != "" {
		q.add("e.reference = " + q.arg(string(f.Reference)))
	}
}

// countQuery counts the events f chooses, up to limit. With a safety
// challenge or agent chosen, and a scope of organisations (or all), it
// starts from that code's rows, whose index holds the organisation, so a
// count of a common code reads index entries rather than checking event
// after event.
func countQuery(scope Scope, f Filter, limit int) (string, []any) {
	if scope.ReporterID == 0 && (f.SafetyChallenge != "" || f.Agent != "") {
		q := &sqlQuery{}
		element, code := ElementSafetyChallenges, f.SafetyChallenge
		if code == "" {
			element, code = ElementAgents, f.Agent
			f.Agent = ""
		} else {
			f.SafetyChallenge = ""
		}
		q.add("c.element = " + q.arg(element))
		q.add("c.code = " + q.arg(code))
		if !scope.All && len(scope.Orgs) > 0 {
			q.add("c.org_ods IN " + q.in(scope.Orgs))
		}
		if codeOnly(scope, f) {
			// The code's rows carry the organisation: counting them alone
			// reads one stretch of their index, without the events.
			return `SELECT COUNT(*) FROM (SELECT 1 FROM event_codes c` + q.clause() + ` LIMIT ` + q.arg(limit) + `) x`, q.args
		}
		q.addFilter(scope, f)
		return `SELECT COUNT(*) FROM (SELECT 1 FROM event_codes c JOIN events e ON e.id = c.event_id` + q.clause() +
			` LIMIT ` + q.arg(limit) + `) x`, q.args
	}
	q := filterQuery(scope, f)
	order := ""
	if !f.OccurredFrom.IsZero() || !f.OccurredTo.IsZero() {
		// From the end of the range back: events that happened in it are
		// found at once, before those that only start within the longest
		// span before it.
		order = ` ORDER BY e.occurred_from DESC`
	}
	return `SELECT COUNT(*) FROM (SELECT 1 FROM events e` + q.clause() + order + ` LIMIT ` + q.arg(limit) + `) x`, q.args
}

// dayStart is midnight UTC at the start of t's day.
func dayStart(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

const summaryColumns = `e.id, e.reference, e.event_type, e.org_ods, e.source, COALESCE(e.reporter_id, 0), e.occurred_from,
	e.occurred_to, e.submitted_at, e.version, e.physical_harm, e.psychological_harm, e.service_type, e.sharing_opt_out,
	e.review_state, e.assignee_id, e.review_due`

// page reads up to limit events after (or, going back, before) the
// cursor, in the filter's order, and reports whether there were more.
func (s *Service) page(ctx context.Context, scope Scope, f Filter, at Cursor, limit int) ([]Summary, bool, error) {
	var list []Summary
	var err error
	if f.plan == walkList {
		list, err = s.walkWords(ctx, scope, f, at, limit+1)
	} else {
		list, err = s.readPage(ctx, scope, f, at, Cursor{}, limit+1)
	}
	if err != nil {
		return nil, false, err
	}
	more := len(list) > limit
	if more {
		list = list[:limit]
	}
	if at.Backward {
		for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
			list[i], list[j] = list[j], list[i]
		}
	}
	return list, more, nil
}

// walkOrder is how a page read from at goes through the list: the sort
// column, whether it goes down it, the comparison that keeps the events
// past a place, and the one that keeps those up to a place.
func walkOrder(f Filter, at Cursor) (col, dir, past, upTo string) {
	// Going forward in a newest-first list means going down; going back
	// reverses both the comparison and the order, and the page is turned
	// round afterwards.
	if f.Sort.newestFirst() != at.Backward {
		return f.Sort.column(), "DESC", "<", ">="
	}
	return f.Sort.column(), "ASC", ">", "<="
}

// walkQuery is the WHERE clause of the events f chooses past at and, when
// end is not zero, up to and including end, in the order of at. Both are
// comparisons the list's index reads as the ends of a range.
func walkQuery(scope Scope, f Filter, at, end Cursor) *sqlQuery {
	q := filterQuery(scope, f)
	col, _, past, upTo := walkOrder(f, at)
	if !at.IsZero() {
		q.add("(" + col + ", e.id) " + past + " (" + q.arg(at.Time) + ", " + q.arg(at.ID) + ")")
	}
	if !end.IsZero() {
		q.add("(" + col + ", e.id) " + upTo + " (" + q.arg(end.Time) + ", " + q.arg(end.ID) + ")")
	}
	return q
}

// readPage reads up to n events past at (and up to end, when it is not
// zero), in the order of at: for a cursor going back, the page's last
// event first.
func (s *Service) readPage(ctx context.Context, scope Scope, f Filter, at, end Cursor, n int) ([]Summary, error) {
	q := walkQuery(scope, f, at, end)
	col, dir, _, _ := walkOrder(f, at)
	text := `SELECT ` + summaryColumns + ` FROM events e` + q.clause() +
		` ORDER BY ` + col + ` ` + dir + `, e.id ` + dir + ` LIMIT ` + q.arg(n)
	rows, err := s.db.QueryContext(ctx, text, q.args...)
	if err != nil {
		return nil, fmt.Errorf("incident: list events: %w", err)
	}
	defer rows.Close()
	var list []Summary
	for rows.Next() {
		var e Summary
		var assignee sql.NullInt64
		var due sql.NullTime
		if err := rows.Scan(&e.ID, &e.Reference, &e.Type, &e.OrgCode, &e.Source, &e.ReporterID, &e.OccurredFrom,
			&e.OccurredTo, &e.SubmittedAt, &e.Version, &e.PhysicalHarm, &e.PsychologicalHarm, &e.ServiceType,
			&e.SharingOptOut, &e.ReviewState, &assignee, &due); err != nil {
			return nil, fmt.Errorf("incident: scan event: %w", err)
		}
		e.AssigneeID = assignee.Int64
		if due.Valid {
			e.ReviewDue = due.Time.UTC()
		}
		e.OccurredFrom, e.OccurredTo, e.SubmittedAt = e.OccurredFrom.UTC(), e.OccurredTo.UTC(), e.SubmittedAt.UTC()
		e.sortKey = e.SubmittedAt
		if col == "e.occurred_from" {
			e.sortKey = e.OccurredFrom
		}
		if col == "e.review_due" {
			e.sortKey = e.ReviewDue
		}
		list = append(list, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incident: list events: %w", err)
	}
	return list, nil
}

// List returns one page of the events in scope that f chooses, starting
// after the cursor (or ending before it), with perPage events at most (0
// means DefaultPerPage). Errors: Invalid when the filter cannot be applied
// or the cursor is of another order.
func (s *Service) List(ctx context.Context, scope Scope, f Filter, at Cursor, perPage int) (ListPage, error) {
	if err := f.check(); err != nil {
		return ListPage{}, err
	}
	f.Sort = f.Sort.orDefault()
	f.dialect = s.db.Dialect()
	if !at.IsZero() && at.Sort.orDefault() != f.Sort {
		return ListPage{}, apperr.New(apperr.Invalid, "The page link is not valid")
	}
	if perPage <= 0 {
		perPage = DefaultPerPage
	}
	perPage = min(perPage, MaxPerPage)
	// How a search by words is read depends on how many events it
	// matches (see planWords). When the words are all the filter, that
	// count, taken to CountCap, is also the list's.
	limit, count := s.few()+1, -1
	if wordsOnly(scope, f) {
		limit = CountCap + 1
	}
	n, err := s.planWords(ctx, scope, &f, limit)
	if err != nil {
		return ListPage{}, err
	}
	if wordsOnly(scope, f) {
		count = n
	}
	list, more, err := s.page(ctx, scope, f, at, perPage)
	if err != nil {
		return ListPage{}, err
	}
	p := ListPage{Events: list}
	if len(list) > 0 {
		first, last := list[0], list[len(list)-1]
		// Forward: there is a next page when more rows came back, and a
		// previous one whenever we did not start at the top. Backward: the
		// other way round.
		hasNext, hasPrev := more, !at.IsZero()
		if at.Backward {
			hasNext, hasPrev = true, more
		}
		if hasNext {
			p.Next = Cursor{Sort: f.Sort, Time: last.sortKey, ID: last.ID}
		}
		if hasPrev {
			p.Previous = Cursor{Sort: f.Sort, Time: first.sortKey, ID: first.ID, Backward: true}
		}
	}
	p.Count = count
	if count < 0 {
		text, args := countQuery(scope, f, CountCap+1)
		if err := s.db.QueryRowContext(ctx, text, args...).Scan(&p.Count); err != nil {
			return ListPage{}, fmt.Errorf("incident: count events: %w", err)
		}
	}
	if p.Count > CountCap {
		p.Count, p.More = CountCap, true
	}
	return p, nil
}

// RecordView writes to the audit log that viewerID looked at the event
// (T14): who and when, never what it says.
func (s *Service) RecordView(ctx context.Context, eventID, viewerID int64, page string, c Client) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		return audit.Record(ctx, tx, audit.Entry{ActorID: viewerID, Action: "event.view", SubjectType: "event",
			SubjectID: strconv.FormatInt(eventID, 10), IP: c.IP, Details: map[string]string{"page": page}})
	})
}
