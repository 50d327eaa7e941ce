package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/numfmt"
)

// The signed-in home (GET /): what each role comes to the service for,
// read-only, with links into the lists. Visitors who are not signed in,
// and people who must accept new terms first, see the public page.

// homeWeek is how far back "this week" reaches: today and the six days
// before it, whole days in UTC.
const homeWeek = 6

// homeRows is how many events each short list on the home shows.
const homeRows = 5

// homeData is what the signed-in home shows; each part is nil when the
// viewer's role has none.
type homeData struct {
	Role string
	// Drafts and Recent are the viewer's own drafts and latest records.
	Drafts []homeDraft
	Recent []eventRow
	// Org is the organisations' part: new events and the week's counts
	// (reviewers and organisation admins for their organisation, read-only
	// users for those granted, national admins for all).
	Org *homeOrg
	// IGDue is true when the viewer's role would show events of others,
	// but their information governance training is not current.
	IGDue bool
	// Admin links to the national admins' tasks.
	Admin bool
	// Agreements is how many data sharing agreements in force name the
	// viewer as a recipient: their way to /sharing.
	Agreements int
}

// homeDraft is one draft on the home.
type homeDraft struct {
	Type, Summary, Resume string
	Updated               time.Time
}

// homeOrg is the organisations' events on the home.
type homeOrg struct {
	Heading  string
	New      []eventRow
	NewCount string
	NewURL   string
	// Awaiting is the events whose review has not started, and Mine those
	// in review assigned to the viewer, for those who review them; nil
	// otherwise.
	Awaiting, Mine *homeReview
	// Counts is nil when the week is not counted (read-only users, whose
	// home lists recent events only).
	Counts *homeCounts
	// DashboardURL links to the trends of the same events (dashboard.go),
	// for those who may see them.
	DashboardURL string
}

// homeReview is a count of an organisation's events at one point of
// their review, with the list that shows them.
type homeReview struct {
	Count, URL string
}

// homeCounts is the week's counts, each linking to the list it counts.
type homeCounts struct {
	From, To string
	Total    int
	TotalURL string
	ByType   []homeCount
	ByHarm   []homeCount
}

// homeCount is one row of a count table; URL is empty when no filter
// lists exactly those events.
type homeCount struct {
	Label string
	N     int
	URL   string
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	if v == nil {
		s.render.Render(w, r, http.StatusOK, "home", s.page(r, "Record and learn from patient safety events"))
		return
	}
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := homeData{Role: sub.Role}
	ctx := r.Context()
	if sub.Role != authz.ReadOnly {
		drafts, err := s.Incidents.Drafts(ctx, sub.UserID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, d := range drafts[:min(len(drafts), homeRows)] {
			steps := s.forms.Steps(d.Type, d.Answers, authz.Reviews(sub))
			hd := homeDraft{Type: d.Type.Label(), Resume: draftPath(d.ID, resumeStep(steps, d.Answers)), Updated: d.UpdatedAt}
			if vs := d.Answers["AdverseEvent.description"]; len(vs) == 1 {
				hd.Summary = shorten(vs[0], 80)
			}
			data.Drafts = append(data.Drafts, hd)
		}
		mine, err := s.Incidents.List(ctx, incident.Scope{ReporterID: sub.UserID}, incident.Filter{}, incident.Cursor{}, homeRows)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data.Recent = s.eventRows(mine.Events)
	}
	if sub.Role != authz.Reporter {
		l, d, _ := authz.ListEvents(sub, authz.EventList{Orgs: true})
		switch {
		case d.Denied():
			data.IGDue = d.Reason == authz.IGTrainingDue
		case !l.Mine():
			org, err := s.homeOrg(r, sub, l)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			data.Org = org
		}
	}
	data.Admin = sub.Role == authz.NationalAdmin
	if data.Agreements, err = s.Sharing.InForceFor(ctx, sub.UserID); err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Home")
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "home-signed-in", p)
}

// homeOrg fills the organisations' part of the home for listing l.
func (s *Server) homeOrg(r *http.Request, sub authz.Subject, l authz.Listing) (*homeOrg, error) {
	ctx := r.Context()
	scope := incident.Scope{All: l.All, Orgs: l.Orgs}
	since := s.now().UTC().AddDate(0, 0, -homeWeek)
	week := incident.Filter{SubmittedFrom: since}
	link := func(q url.Values) string {
		if sub.Role == authz.Reviewer || sub.Role == authz.OrgAdmin {
			q.Set("view", "org")
		}
		return "/events?" + q.Encode()
	}
	weekQuery := func() url.Values {
		q := url.Values{}
		q.Set("submitted-from-day", strconv.Itoa(since.Day()))
		q.Set("submitted-from-month", strconv.Itoa(int(since.Month())))
		q.Set("submitted-from-year", strconv.Itoa(since.Year()))
		return q
	}
	o := &homeOrg{}
	if authz.Decide(sub, authz.ViewDashboard, authz.Object{Org: authz.DashboardOrg(sub, "")}).Allowed {
		o.DashboardURL = "/dashboard"
	}
	switch {
	case l.All:
		o.Heading = "Events at every organisation"
	case sub.Role == authz.ReadOnly:
		o.Heading = "Events of the organisations you can see"
	default:
		o.Heading = "Your organisation's events"
	}
	if sub.Role == authz.ReadOnly {
		// Read-only users see the latest events of their organisations.
		res, err := s.Incidents.List(ctx, scope, incident.Filter{}, incident.Cursor{}, homeRows)
		if err != nil {
			return nil, err
		}
		o.New, o.NewCount, o.NewURL = s.eventRows(res.Events), countText(res), "/events"
		return o, nil
	}
	res, err := s.Incidents.List(ctx, scope, week, incident.Cursor{}, homeRows)
	if err != nil {
		return nil, err
	}
	o.New, o.NewCount, o.NewURL = s.eventRows(res.Events), countText(res), link(weekQuery())
	tally, err := s.Incidents.CountSince(ctx, scope, since)
	if err != nil {
		return nil, err
	}
	c := &homeCounts{From: tally.From.Format("2 January"), To: tally.To.Format("2 January 2006"), Total: tally.Total,
		TotalURL: link(weekQuery())}
	for _, t := range incident.Types() {
		q := weekQuery()
		q.Set("type", string(t))
		c.ByType = append(c.ByType, homeCount{Label: t.Label(), N: tally.ByType[t], URL: link(q)})
	}
	physical, _ := s.Taxonomy.List(physicalHarmList)
	for _, code := range physical.Codes {
		q := weekQuery()
		q.Set("physical", code.Code)
		c.ByHarm = append(c.ByHarm, homeCount{Label: code.Display, N: tally.ByHarm[code.Code], URL: link(q)})
	}
	if n := tally.ByHarm[""]; n > 0 {
		c.ByHarm = append(c.ByHarm, homeCount{Label: "Not recorded", N: n})
	}
	o.Counts = c
	if l.Review {
		review := func(f incident.Filter, q url.Values) (*homeReview, error) {
			res, err := s.Incidents.List(ctx, scope, f, incident.Cursor{}, 1)
			if err != nil {
				return nil, err
			}
			return &homeReview{Count: countText(res), URL: link(q)}, nil
		}
		if o.Awaiting, err = review(incident.Filter{ReviewStates: []incident.ReviewState{incident.ReviewNew}},
			url.Values{reviewStateParam: {string(incident.ReviewNew)}}); err != nil {
			return nil, err
		}
		if sub.Role != authz.Reviewer && sub.Role != authz.OrgAdmin {
			return o, nil // only they are assigned reviews
		}
		if o.Mine, err = review(incident.Filter{ReviewStates: []incident.ReviewState{incident.InReview}, AssigneeID: sub.UserID},
			url.Values{reviewStateParam: {string(incident.InReview)}, reviewAssigneeParam: {"me"}}); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// countText says how many events a list found.
func countText(p incident.ListPage) string {
	switch {
	case p.More:
		return "More than " + numfmt.Thousands(p.Count) + " events"
	case p.Count == 1:
		return "1 event"
	}
	return numfmt.Thousands(p.Count) + " events"
}

// eventRows shows events as the home's short lists do: reference, type,
// organisation, when submitted and the harm.
func (s *Server) eventRows(events []incident.Summary) []eventRow {
	physical, _ := s.Taxonomy.List(physicalHarmList)
	rows := make([]eventRow, 0, len(events))
	for _, e := range events {
		row := eventRow{Reference: string(e.Reference), Type: e.Type.Label(), Org: e.OrgCode,
			Occurred: occurredText(e.OccurredFrom, e.OccurredTo), Submitted: e.SubmittedAt.Format("2 January 2006")}
		if e.PhysicalHarm != "" {
			row.Harm = append(row.Harm, physical.Display(e.PhysicalHarm))
		}
		rows = append(rows, row)
	}
	return rows
}
