package web

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/numfmt"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/spc"
)

// This file is the organisation dashboard (issue 15, T14): a scope's
// events by month or week as XmR statistical process control charts, the
// way NHS England's "Making Data Count" teaches, drawn as SVG on the
// server with a data table under each chart. internal/spc makes the
// charts; incident.Series counts the events in one query.

// dashboardRoutes registers the dashboard.
func (s *Server) dashboardRoutes(r *router) {
	r.handleFunc("GET /dashboard", s.requireUser(s.dashboard))
}

// How many whole periods before the current one a dashboard shows: two
// years of months, or a year of weeks. Either is more than spc.MinReliable.
const (
	dashboardMonths = 24
	dashboardWeeks  = 52
)

// dashboardForm is the filter form as typed.
type dashboardForm struct {
	Org        string
	OrgMatches []org.Organisation
	Grain      string // "month" or "week"
	By         string // "total", "type" or "harm"
}

// dashboardData is what the page shows.
type dashboardData struct {
	National bool
	// Scope names whose events are counted: an organisation with its
	// code, or "every organisation".
	Scope string
	// CanChooseOrg offers any organisation by code or name (national
	// admins); Grants the organisations a read-only user may choose.
	CanChooseOrg bool
	Grants       []userOption
	Grains, Bys  []userOption
	Range        string // "December 2024 to November 2026"
	Charts       []dashboardChart
	// EventsURL lists the events counted.
	EventsURL string
	// NoGrants is true for a read-only user granted no organisation yet.
	NoGrants bool
}

// dashboardChart is one XmR chart with its table.
type dashboardChart struct {
	ID, Title string
	Chart     spcChart
	// Variation is the chart's Making Data Count variation in words, and
	// Icon what its icon draws: "common", "higher", "lower" or "none".
	Variation, Icon string
	Reliable        bool
	Baseline        int
	Mean            string
	Lower, Upper    string
	Special         int // how many points a rule flags
	Rows            []dashboardRow
}

// dashboardRow is one period of a chart's table.
type dashboardRow struct {
	Period  string
	Count   string
	Partial bool
	// Rules says which rules flag the period, in words; "" for none.
	Rules string
}

// dashboardBy are the ways to split the counts, in the order the form
// offers them.
var dashboardBy = []userOption{{Value: "total", Label: "All events"}, {Value: "type", Label: "Event type"}, {Value: "harm", Label: "Physical harm"}}

// parseDashboard reads the form: the organisation asked for ("" for the
// default of the viewer's role), the grain and the split. Unknown grains
// and splits fall back to the defaults, as the form only offers good ones.
func (s *Server) parseDashboard(r *http.Request, sub authz.Subject) (dashboardForm, []FieldError, error) {
	q := r.URL.Query()
	form := dashboardForm{Org: strings.TrimSpace(q.Get("org")), Grain: q.Get("grain"), By: q.Get("by")}
	if _, err := incident.ParseGrain(form.Grain); err != nil {
		form.Grain = string(incident.Monthly)
	}
	if !slices.ContainsFunc(dashboardBy, func(o userOption) bool { return o.Value == form.By }) {
		form.By = "total"
	}
	if form.Org == "" {
		return form, nil, nil
	}
	if authz.Decide(sub, authz.ViewDashboard, authz.Object{}).Allowed {
		// Anyone's: a code or part of a name (orgsearch.go).
		code, matches, problem, err := s.orgFilter(r.Context(), form.Org)
		if err != nil {
			return form, nil, err
		}
		if problem != "" {
			form.OrgMatches = matches
			return form, []FieldError{{Field: "org", Message: problem}}, nil
		}
		form.Org = code
		return form, nil, nil
	}
	if c, err := org.ParseCode(form.Org); err == nil {
		form.Org = c.String()
	}
	return form, nil, nil
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form, errs, err := s.parseDashboard(r, sub)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	asked := form.Org
	if len(errs) > 0 {
		asked = "" // the national dashboard, whose form says what is wrong
	}
	code := authz.DashboardOrg(sub, asked)
	if sub.Role == authz.ReadOnly && code == "" && len(sub.ReadOrgs) == 0 && authz.Decide(sub, authz.ViewDashboard, authz.Object{}).Reason == authz.NotPermitted {
		// Nothing granted yet: say so, as the events list does, rather
		// than refuse a page the header offers.
		p := s.page(r, "Dashboard")
		p.Form = form
		p.Data = dashboardData{NoGrants: true}
		s.render.Render(w, r, http.StatusOK, "dashboard", p)
		return
	}
	if !s.authorize(w, r, authz.ViewDashboard, authz.Object{Org: code}) {
		return
	}
	data := dashboardData{National: code == "", CanChooseOrg: authz.Decide(sub, authz.ViewDashboard, authz.Object{}).Allowed}
	if len(errs) == 0 {
		form.Org = code
	}
	if sub.Role == authz.ReadOnly {
		for _, g := range sub.ReadOrgs {
			data.Grants = append(data.Grants, userOption{Value: g, Label: s.orgLabel(r, g), Selected: g == code})
		}
	}
	data.Grains = []userOption{{Value: string(incident.Monthly), Label: "Month", Selected: form.Grain == string(incident.Monthly)},
		{Value: string(incident.Weekly), Label: "Week", Selected: form.Grain == string(incident.Weekly)}}
	for _, o := range dashboardBy {
		o.Selected = o.Value == form.By
		data.Bys = append(data.Bys, o)
	}
	title := "Dashboard: every organisation"
	data.Scope = "every organisation"
	scope := incident.Scope{All: true}
	if code != "" {
		data.Scope = s.orgLabel(r, code)
		title = "Dashboard: " + data.Scope
		scope = incident.Scope{Orgs: []string{code}}
		data.EventsURL = "/events?org=" + code
	} else {
		data.EventsURL = "/events"
	}
	p := s.page(r, title)
	p.Form = form
	if len(errs) > 0 {
		p.Errors = errs
		p.Data = data
		s.render.Render(w, r, http.StatusUnprocessableEntity, "dashboard", p)
		return
	}
	grain := incident.Grain(form.Grain)
	today := s.now().UTC()
	from := grain.PeriodStart(today).AddDate(0, -dashboardMonths, 0)
	if grain == incident.Weekly {
		from = grain.PeriodStart(today).AddDate(0, 0, -7*dashboardWeeks)
	}
	series, err := s.Incidents.Series(r.Context(), scope, grain, from, today)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	series.Periods = sinceFirst(series)
	data.Charts = s.dashboardCharts(series, form.By)
	if n := len(series.Periods); n > 0 {
		data.Range = periodLabel(grain, series.Periods[0], true)
		if n > 1 {
			data.Range += " to " + periodLabel(grain, series.Periods[n-1], true)
		}
	}
	p.Data = data
	s.render.Render(w, r, http.StatusOK, "dashboard", p)
}

// sinceFirst is the periods of series from the one in which the scope
// first received an event: the months before an organisation reported at
// all are not zeros of its process, and counting them would make a run
// below the mean of every new organisation. A new organisation's chart
// is short, and says its limits are not yet reliable. A scope that never
// received an event keeps every period.
func sinceFirst(series incident.Series) []incident.SeriesPeriod {
	for i, p := range series.Periods {
		if !p.To.Before(series.First) {
			return series.Periods[i:]
		}
	}
	return series.Periods
}

// orgLabel names an organisation with its code, or by its code alone
// when it is not known.
func (s *Server) orgLabel(r *http.Request, code string) string {
	if o, err := s.Orgs.Get(r.Context(), parsedCode(code)); err == nil {
		return fmt.Sprintf("%s (%s)", o.Name, code)
	}
	return code
}

// dashboardCharts makes the charts of series split by by: one of every
// event, or one for each event type or level of physical harm.
func (s *Server) dashboardCharts(series incident.Series, by string) []dashboardChart {
	type split struct {
		id, title string
		count     func(incident.SeriesPeriod) int
	}
	var splits []split
	switch by {
	case "type":
		for _, t := range incident.Types() {
			splits = append(splits, split{"type-" + string(t), t.Label(), func(p incident.SeriesPeriod) int { return p.ByType[t] }})
		}
	case "harm":
		physical, _ := s.Taxonomy.List(physicalHarmList)
		for i, c := range physical.Codes {
			splits = append(splits, split{"harm-" + strconv.Itoa(i), "Physical harm: " + c.Display,
				func(p incident.SeriesPeriod) int { return p.ByHarm[c.Code] }})
		}
		splits = append(splits, split{"harm-none", "Physical harm: not recorded", func(p incident.SeriesPeriod) int { return p.ByHarm[""] }})
	default:
		splits = []split{{"total", "All events", func(p incident.SeriesPeriod) int { return p.Total }}}
	}
	var out []dashboardChart
	for _, sp := range splits {
		values := make([]float64, len(series.Periods))
		provisional := 0
		for i, p := range series.Periods {
			values[i] = float64(sp.count(p))
			if p.Partial {
				provisional++
			}
		}
		c := spc.XmR(values, spc.Options{Counts: true, Provisional: provisional})
		out = append(out, newDashboardChart(sp.id, sp.title+" by "+string(series.Grain), series, c))
	}
	return out
}

// newDashboardChart lays out one chart and its table.
func newDashboardChart(id, title string, series incident.Series, c spc.Chart) dashboardChart {
	d := dashboardChart{ID: id, Title: title, Reliable: c.Reliable, Baseline: c.Baseline,
		Mean: decimal(c.Mean), Lower: decimal(c.Lower), Upper: decimal(c.Upper), Variation: c.Variation.String()}
	switch c.Variation {
	case spc.CommonCause:
		d.Icon = "common"
	case spc.SpecialCauseHigher:
		d.Icon = "higher"
	case spc.SpecialCauseLower:
		d.Icon = "lower"
	default:
		d.Icon = "none"
	}
	labels := make([]string, len(series.Periods))
	for i, p := range series.Periods {
		labels[i] = periodLabel(series.Grain, p, false)
		row := dashboardRow{Period: periodLabel(series.Grain, p, true), Count: numfmt.Thousands(int64(c.Points[i].Value)), Partial: p.Partial}
		row.Rules = flagWords(c.Points[i])
		if c.Points[i].Special() {
			d.Special++
		}
		d.Rows = append(d.Rows, row)
	}
	d.Chart = newSPCChart(id, title, labels, c)
	return d
}

// flagWords says which rules flag a point, and which way.
func flagWords(p spc.Point) string {
	var parts []string
	for _, f := range p.Flags {
		side := "higher"
		if f.Side == spc.Lower {
			side = "lower"
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", f.Rule, side))
	}
	s := strings.Join(parts, "; ")
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

// periodLabel names a period, short for a chart's axis or long for a
// table.
func periodLabel(g incident.Grain, p incident.SeriesPeriod, long bool) string {
	switch {
	case g == incident.Weekly && long:
		return "Week from " + p.From.Format("2 January 2006")
	case g == incident.Weekly:
		return p.From.Format("2 Jan")
	case long:
		return p.From.Format("January 2006")
	}
	return p.From.Format("Jan 06")
}

// decimal shows a mean or limit to one decimal place.
func decimal(v float64) string {
	s := strconv.FormatFloat(math.Round(v*10)/10, 'f', 1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return s
	}
	return numfmt.Thousands(n) + "." + frac
}

// The XmR chart's drawing area, in the SVG's own units. The right margin
// holds the names of the lines.
const (
	spcWidth  = 680
	spcHeight = 280
	spcLeft   = 56
	spcRight  = 112
	spcTop    = 12
	spcBottom = 44
)

// spcChart is what the "spc-chart" template draws.
type spcChart struct {
	ID, Title, Desc string
	Width, Height   int
	AxisX, Baseline int
	PlotRight       int
	Ticks           []chartTick
	// Line is the points of the complete periods, as an SVG polyline;
	// Tail joins the last of them to the provisional ones, dashed.
	Line, Tail string
	// Mean, Upper and Lower are the lines across the chart.
	Mean, Upper, Lower spcLine
	Points             []spcMarker
	Labels             []spcLabel
}

// spcLine is a horizontal line with its name at the right, at LabelY:
// the line's height, moved apart from the other names when lines are
// close.
type spcLine struct {
	Y, LabelY int
	Label     string
	Show      bool
}

// spcMarker is one point: a circle for common cause, a triangle up or
// down for special cause higher or lower, a hollow circle for the
// current, incomplete period.
type spcMarker struct {
	X, Y    int
	Shape   string // "common", "higher", "lower" or "partial"
	Path    string // the triangle's outline, for "higher" and "lower"
	Tooltip string
}

// spcLabel is an x axis label.
type spcLabel struct {
	X     int
	Label string
}

// newSPCChart lays out chart c with its periods' labels.
func newSPCChart(id, title string, labels []string, c spc.Chart) spcChart {
	g := spcChart{ID: id, Title: title, Width: spcWidth, Height: spcHeight, AxisX: spcLeft,
		Baseline: spcHeight - spcBottom, PlotRight: spcWidth - spcRight}
	top := c.Upper
	for _, p := range c.Points {
		top = max(top, p.Value)
	}
	scaleMax := niceCeiling(int64(math.Ceil(top)))
	plotH := float64(g.Baseline - spcTop)
	y := func(v float64) int { return g.Baseline - int(math.Round(plotH*v/float64(scaleMax))) }
	for i := 0; i <= 4; i++ {
		v := scaleMax * int64(i) / 4
		g.Ticks = append(g.Ticks, chartTick{Y: y(float64(v)), Label: numfmt.Thousands(v)})
	}
	n := len(c.Points)
	if n == 0 {
		g.Desc = title + ": there is nothing to show yet."
		return g
	}
	slot := float64(g.PlotRight-spcLeft) / float64(n)
	x := func(i int) int { return spcLeft + int(math.Round(slot*(float64(i)+0.5))) }
	if c.Baseline > 0 {
		g.Mean = spcLine{Y: y(c.Mean), Label: "Mean " + decimal(c.Mean), Show: true}
		g.Upper = spcLine{Y: y(c.Upper), Label: "Upper " + decimal(c.Upper), Show: true}
		g.Lower = spcLine{Y: y(c.Lower), Label: "Lower " + decimal(c.Lower), Show: true}
		// The names are 12 units high: keep them 14 apart, the mean's
		// where its line is.
		g.Mean.LabelY = g.Mean.Y
		g.Upper.LabelY = max(min(g.Upper.Y, g.Mean.Y-14), spcTop)
		g.Lower.LabelY = max(g.Lower.Y, g.Mean.Y+14)
	}
	every := (n + chartMaxLabels - 1) / chartMaxLabels
	var line, tail []string
	for i, p := range c.Points {
		m := spcMarker{X: x(i), Y: y(p.Value), Shape: "common"}
		pt := fmt.Sprintf("%d,%d", m.X, m.Y)
		words := "common cause"
		switch {
		case p.Provisional:
			m.Shape, words = "partial", "incomplete period, not used for the limits"
			if len(tail) == 0 && len(line) > 0 {
				tail = append(tail, line[len(line)-1])
			}
			tail = append(tail, pt)
		default:
			line = append(line, pt)
		}
		switch p.Side() {
		case spc.Higher:
			m.Shape, words = "higher", "special cause, higher: "+strings.ToLower(flagWords(p))
			m.Path = fmt.Sprintf("M%d %d L%d %d L%d %d Z", m.X, m.Y-7, m.X+7, m.Y+5, m.X-7, m.Y+5)
		case spc.Lower:
			m.Shape, words = "lower", "special cause, lower: "+strings.ToLower(flagWords(p))
			m.Path = fmt.Sprintf("M%d %d L%d %d L%d %d Z", m.X, m.Y+7, m.X+7, m.Y-5, m.X-7, m.Y-5)
		}
		m.Tooltip = fmt.Sprintf("%s: %s (%s)", labels[i], numfmt.Thousands(int64(p.Value)), words)
		g.Points = append(g.Points, m)
		if i%every == 0 {
			g.Labels = append(g.Labels, spcLabel{X: m.X, Label: labels[i]})
		}
	}
	g.Line = strings.Join(line, " ")
	if len(tail) > 1 {
		g.Tail = strings.Join(tail, " ")
	}
	special := 0
	for _, p := range c.Points {
		if p.Special() {
			special++
		}
	}
	shows := fmt.Sprintf("%d points show", special)
	if special == 1 {
		shows = "1 point shows"
	}
	limits := fmt.Sprintf("Mean %s, process limits %s to %s.", decimal(c.Mean), decimal(c.Lower), decimal(c.Upper))
	if c.Baseline == 0 {
		limits = "No period is complete yet, so there is no mean and there are no limits."
	}
	g.Desc = fmt.Sprintf("Statistical process control chart of %s, %d points from %s to %s. %s "+
		"%s special cause variation. The table that follows gives every figure.",
		strings.ToLower(title), n, labels[0], labels[n-1], limits, shows)
	return g
}
