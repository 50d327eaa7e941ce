package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/numfmt"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/usage"
)

// UsageReports makes usage reports; *usage.Reports is one.
type UsageReports interface {
	Report(ctx context.Context, q usage.ReportQuery) (usage.Report, error)
	// RecordIndividualsShown audits that actorID was shown the people of
	// an organisation's report (P19).
	RecordIndividualsShown(ctx context.Context, actorID int64, ip string, rep usage.Report) error
}

// usageReportRoutes registers the usage reports (issue 12; T9, P2, P10,
// P19): an organisation's for its admins and national admins, and the
// national one, which names nobody, for national admins.
func (s *Server) usageReportRoutes(r *router) {
	r.handleFunc("GET /admin/usage", s.requireUser(s.usageReport))
	r.handleFunc("GET /admin/usage/download", s.requireUser(s.usageReportDownload))
}

// usageMaxDays is the longest period one report covers: two years, so a
// report is always a bounded amount of work.
const usageMaxDays = 2 * 366

// usageReportForm is the report's form, as typed.
type usageReportForm struct {
	Org        string
	OrgMatches []org.Organisation
	By         string // "week" or "month"
	Dates      map[string]dateInput
}

// usageReportData is what the report page shows.
type usageReportData struct {
	CanChooseOrg bool
	OrgName      string // "" for the national report
	National     bool
	Period       string // "1 September 2026 to 30 November 2026"
	Totals       []usageFigure
	Charts       []usageChart
	Areas        []usageAreaRow
	People       []usagePersonRow
	// ShowPeople is true for an organisation's report, which lists the
	// people who agreed to their use being analysed (P19).
	ShowPeople  bool
	DownloadURL string
}

// usageFigure is one figure as shown: a number, or why it is not shown,
// with the short Note a chart draws in place of its bar.
type usageFigure struct {
	Label string
	Value string
	Note  string
}

// usageChart is one figure by week or month: the chart and its table.
type usageChart struct {
	Chart barChart
	Rows  []usageChartRow
}

// usageChartRow is one period of a chart's table.
type usageChartRow struct {
	Period string
	Figure usageFigure
}

// usageAreaRow is the page views of one area of the service.
type usageAreaRow struct {
	Area  string
	Views usageFigure
}

// usagePersonRow is one person who agreed to individual analysis.
type usagePersonRow struct {
	Name, Email                    string
	ActiveDays                     int
	SignIns, PageViews, DocsOpened string
	LastActive                     string
}

// usageDateFields are the two ends of the period.
var usageDateFields = []struct{ name, label string }{{"from", "From"}, {"to", "To"}}

// parseUsageReport reads the report's form. It returns the query, the
// form as typed and the problems with it; a viewer who may not choose the
// organisation gets their own.
func (s *Server) parseUsageReport(r *http.Request) (usage.ReportQuery, usageReportForm, []FieldError, error) {
	q := r.URL.Query()
	f, orgForm, errs, err := s.userListScope(r, authz.ViewUsageReport)
	if err != nil {
		return usage.ReportQuery{}, usageReportForm{}, nil, err
	}
	form := usageReportForm{Org: orgForm.Org, OrgMatches: orgForm.OrgMatches, By: q.Get("by"), Dates: map[string]dateInput{}}
	if form.By != "month" {
		form.By = "week"
	}
	query := usage.ReportQuery{Org: f.Org}
	today := s.now().UTC().Truncate(24 * time.Hour)
	// By default, the last 13 weeks: this week and the 12 before it.
	defaults := map[string]time.Time{"from": startOfWeek(today).AddDate(0, 0, -7*12), "to": today}
	dates := map[string]time.Time{}
	for _, d := range usageDateFields {
		in := dateInput{Day: q.Get(d.name + "-day"), Month: q.Get(d.name + "-month"), Year: q.Get(d.name + "-year")}
		if strings.TrimSpace(in.Day+in.Month+in.Year) == "" {
			t := defaults[d.name]
			in = dateInput{Day: strconv.Itoa(t.Day()), Month: strconv.Itoa(int(t.Month())), Year: strconv.Itoa(t.Year())}
			form.Dates[d.name], dates[d.name] = in, t
			continue
		}
		day, in, ok := parseDateInput(in, d.label, "")
		form.Dates[d.name] = in
		if !ok {
			errs = append(errs, FieldError{Field: in.errorField(d.name), Message: in.Message})
			continue
		}
		dates[d.name] = day
	}
	query.From, query.To = dates["from"], dates["to"]
	if !query.From.IsZero() && !query.To.IsZero() {
		var problem string
		switch {
		case query.To.Before(query.From):
			problem = "To must be the same as or after from"
		case query.To.Sub(query.From) > usageMaxDays*24*time.Hour:
			problem = "Choose a period of 2 years or less"
		case query.From.After(today):
			problem = "From must be today or in the past"
		}
		if problem != "" {
			in := form.Dates["to"]
			in.DayErr, in.MonthErr, in.YearErr, in.Message = true, true, true, problem
			form.Dates["to"] = in
			errs = append(errs, FieldError{Field: "to-day", Message: problem})
		}
	}
	// Only an organisation's report lists people, and only those who
	// agreed (P19); the national report names nobody (P10).
	query.Individuals = query.Org != ""
	return query, form, errs, nil
}

// startOfWeek is the Monday of t's week.
func startOfWeek(t time.Time) time.Time {
	return t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
}

func (s *Server) usageReport(w http.ResponseWriter, r *http.Request) {
	query, form, errs, err := s.parseUsageReport(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.authorize(w, r, authz.ViewUsageReport, authz.Object{Org: query.Org}) {
		return
	}
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	title := "Usage report"
	data := usageReportData{CanChooseOrg: authz.Decide(sub, authz.ViewUsageReport, authz.Object{}).Allowed,
		National: query.Org == "", ShowPeople: query.Individuals}
	if query.Org != "" {
		if o, err := s.Orgs.Get(r.Context(), parsedCode(query.Org)); err == nil {
			data.OrgName = o.Name
		}
	}
	p := s.page(r, title)
	p.Form = form
	if len(errs) > 0 {
		p.Errors = errs
		p.Data = data
		s.render.Render(w, r, http.StatusUnprocessableEntity, "usage-report", p)
		return
	}
	rep, err := s.reportUsage(r, query)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data.Period = query.From.Format("2 January 2006") + " to " + query.To.Format("2 January 2006")
	t := rep.Total
	data.Totals = []usageFigure{
		figureOf("Active users", t.ActiveUsers), figureOf("Sign-ins", t.SignIns), figureOf("Page views", t.PageViews),
		figureOf("Documents opened", t.DocumentsOpened), figureOf("Events recorded", t.EventsRecorded),
	}
	periods, label := rep.Weeks, weekLabel
	if form.By == "month" {
		periods, label = rep.Months, monthLabel
	}
	for _, c := range []struct {
		id, title, unit string
		figure          func(usage.Period) usage.Figure
	}{
		{"active", "Active users", "people", func(p usage.Period) usage.Figure { return p.ActiveUsers }},
		{"signins", "Sign-ins", "sign-ins", func(p usage.Period) usage.Figure { return p.SignIns }},
		{"views", "Page views", "page views", func(p usage.Period) usage.Figure { return p.PageViews }},
		{"documents", "Documents opened", "documents", func(p usage.Period) usage.Figure { return p.DocumentsOpened }},
		{"events", "Events recorded", "events", func(p usage.Period) usage.Figure { return p.EventsRecorded }},
	} {
		var points []chartPoint
		var rows []usageChartRow
		for _, p := range periods {
			f := c.figure(p)
			shown := figureOf("", f)
			points = append(points, chartPoint{Label: label(p, false), Value: f.Value, Note: shown.Note, Why: shown.Value})
			rows = append(rows, usageChartRow{Period: label(p, true), Figure: shown})
		}
		data.Charts = append(data.Charts, usageChart{Chart: newBarChart(c.id, c.title+" by "+form.By, c.unit, points), Rows: rows})
	}
	for _, a := range t.Areas {
		data.Areas = append(data.Areas, usageAreaRow{Area: usage.AreaLabel(a.Area), Views: figureOf("", a.Views)})
	}
	for _, u := range rep.People {
		data.People = append(data.People, usagePersonRow{Name: u.Name, Email: u.Email, ActiveDays: u.ActiveDays,
			SignIns: numfmt.Thousands(u.SignIns), PageViews: numfmt.Thousands(u.PageViews), DocsOpened: numfmt.Thousands(u.DocumentsOpened),
			LastActive: lastActive(u.LastActive)})
	}
	data.DownloadURL = "/admin/usage/download?" + usageQuery(query, form.By).Encode()
	if data.National {
		title = "National usage report"
	} else if data.OrgName != "" {
		title = "Usage report: " + data.OrgName
	}
	p.Title = title
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "usage-report", p)
}

// reportUsage makes the report asked for and, when it names people,
// records in the audit log who was shown it.
func (s *Server) reportUsage(r *http.Request, q usage.ReportQuery) (usage.Report, error) {
	rep, err := s.UsageReports.Report(r.Context(), q)
	if err != nil || len(rep.People) == 0 {
		return rep, err
	}
	return rep, s.UsageReports.RecordIndividualsShown(r.Context(), viewerFrom(r.Context()).user.ID, s.client(r).IP, rep)
}

// usageQuery is the address query of a report, for its download link.
func usageQuery(q usage.ReportQuery, by string) url.Values {
	v := url.Values{"by": {by}}
	if q.Org != "" {
		v.Set("org", q.Org)
	}
	for name, t := range map[string]time.Time{"from": q.From, "to": q.To} {
		v.Set(name+"-day", strconv.Itoa(t.Day()))
		v.Set(name+"-month", strconv.Itoa(int(t.Month())))
		v.Set(name+"-year", strconv.Itoa(t.Year()))
	}
	return v
}

// figureOf shows a figure: withheld when fewer than 5 people are behind
// it (P10, P19), or not known when it counts people over days whose
// per-person records are gone (usage retention).
func figureOf(label string, f usage.Figure) usageFigure {
	switch {
	case f.Unknown:
		return usageFigure{Label: label, Value: "not known: older than the usage records kept", Note: "n/k"}
	case f.Suppressed:
		return usageFigure{Label: label, Value: "fewer than 5 people, not shown", Note: "<5"}
	}
	return usageFigure{Label: label, Value: numfmt.Thousands(f.Value)}
}

// weekLabel names a week by its first day, short for a chart's axis or
// long for a table.
func weekLabel(p usage.Period, long bool) string {
	if long {
		return p.From.Format("2 January 2006") + " to " + p.To.Format("2 January 2006")
	}
	return p.From.Format("2 Jan")
}

// monthLabel names a month.
func monthLabel(p usage.Period, long bool) string {
	if long {
		return p.From.Format("January 2006")
	}
	return p.From.Format("Jan 06")
}

// lastActive shows when someone was last active.
func lastActive(t time.Time) string {
	if t.IsZero() {
		return "Not in this period"
	}
	return t.Format("2 January 2006")
}

func (s *Server) usageReportDownload(w http.ResponseWriter, r *http.Request) {
	query, _, errs, err := s.parseUsageReport(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.authorize(w, r, authz.ViewUsageReport, authz.Object{Org: query.Org}) {
		return
	}
	if len(errs) > 0 {
		// The link comes from the page, which only offers it for a good
		// form; a changed address goes back to the page to say what is wrong.
		http.Redirect(w, r, "/admin/usage?"+r.URL.RawQuery, http.StatusSeeOther)
		return
	}
	rep, err := s.reportUsage(r, query)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	scope := "national"
	if query.Org != "" {
		scope = strings.ToLower(query.Org)
	}
	out := &csvDownload{w: w, filename: fmt.Sprintf("psims-usage-%s-%s-to-%s.csv", scope,
		query.From.Format("2006-01-02"), query.To.Format("2006-01-02"))}
	if err := usage.WriteCSV(out, rep); err != nil {
		if !out.started {
			s.fail(w, r, err)
			return
		}
		s.Logger.ErrorContext(r.Context(), "usage report download failed", "err", err, "request_id", RequestID(r.Context()))
	}
}
