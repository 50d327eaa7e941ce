package web

import (
	"bytes"
	"fmt"
	"html/template"
	"time"

	"github.com/psims/psims/internal/stats"
)

// This file renders the HTML of an official statistics publication (issue
// 15): the tables, charts and guidance notes, as a fragment that the
// publication's page shows inside the site's layout and that is stored,
// byte for byte, with each published version. It uses nothing that changes
// between deployments (no asset addresses, no clock), so the same report
// always gives the same bytes.

// statisticsHTML is a parsed publication template.
type statisticsHTML struct {
	t  *template.Template
	uk *time.Location
}

// NewStatisticsHTML parses the publication template and returns the
// function that renders a report with it, drawing the charts as the usage
// reports draw theirs.
func NewStatisticsHTML() (stats.HTMLFunc, error) {
	t, err := template.New("publication").Funcs(template.FuncMap{
		"add": func(a, b int) int { return a + b },
		"sub": func(a, b int) int { return a - b },
	}).ParseFS(templateFiles, "templates/partials/chart.html", "templates/statistics/publication.html")
	if err != nil {
		return nil, fmt.Errorf("web: statistics template: %w", err)
	}
	h := statisticsHTML{t: t, uk: ukTime()}
	return h.render, nil
}

// publicationView is what the publication template shows.
type publicationView struct {
	R        *stats.Report
	Release  string
	Label    string
	Notes    []stats.Note
	Sections []publicationSection
}

// publicationSection is one table with, for national tables, its chart.
type publicationSection struct {
	Table stats.Table
	Chart *barChart
	// Rows is how many rows the table has, said beside large tables.
	Rows int
}

func (h statisticsHTML) render(r *stats.Report) ([]byte, error) {
	v := publicationView{R: r, Label: stats.TermsLabel, Notes: r.Notes()}
	if !r.Meta.Release.IsZero() {
		v.Release = r.Meta.Release.In(h.uk).Format("2 January 2006 at 15:04")
	}
	charts := map[string]*barChart{}
	for _, c := range r.Charts {
		points := make([]chartPoint, len(c.Bars))
		for i, b := range c.Bars {
			points[i] = chartPoint{Label: b.Label, Value: b.Value}
		}
		chart := newBarChart(c.ID, c.Title, "events", points)
		charts[c.ID] = &chart
	}
	for _, t := range r.Tables {
		s := publicationSection{Table: t, Rows: len(t.Rows)}
		switch t.Name {
		case "national-totals":
			s.Chart = charts["chart-types"]
		case "national-type-harm":
			s.Chart = charts["chart-harm"]
		}
		v.Sections = append(v.Sections, s)
	}
	var buf bytes.Buffer
	if err := h.t.ExecuteTemplate(&buf, "publication", v); err != nil {
		return nil, fmt.Errorf("web: statistics html: %w", err)
	}
	return buf.Bytes(), nil
}
