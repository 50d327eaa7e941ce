package stats

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/taxonomy"
	"github.com/psims/psims/internal/numfmt"
	"github.com/psims/psims/internal/stats/sdc"
)

// The code lists the tables show display text from.
const (
	listHarm       = "level-of-physical-harm-5"
	listService    = "service-type-5"
	listChallenges = "safety-challenges-5"
	listAgents     = "agent-type-5"
)

// Measure is what a reporting rate is counted per.
type Measure string

// The measures a denominator can be.
const (
	Admissions Measure = "admissions"
	BedDays    Measure = "bed-days"
)

// Valid reports whether m is one of the measures.
func (m Measure) Valid() bool { return m == Admissions || m == BedDays }

// Label is the measure in words, as a rate says it: "per 1,000 admissions".
func (m Measure) Label() string {
	if m == BedDays {
		return "bed days"
	}
	return "admissions"
}

// Denominator is how many admissions or bed days an organisation had in a
// period, loaded by the operator so that reporting rates can be shown.
type Denominator struct {
	Org     string
	Measure Measure
	Value   int64
}

// Meta is what a publication says about itself: the same metadata gives
// the same bytes.
type Meta struct {
	Title string
	// From and To are the first and last days of the period (UTC dates).
	From, To time.Time
	Basis    incident.Basis
	// Release is when the publication is, or was, released to the public.
	Release time.Time
	// Version is 1 for the first publication, N for the Nth revision + 1.
	Version int
	// Reason is why this version replaced the one before; "" for version 1.
	Reason string
}

// Input is everything a publication is built from. Build reads nothing
// else: no clock, no randomness, no database.
type Input struct {
	Meta   Meta
	Rules  sdc.Rules
	Counts incident.StatCounts
	// OrgNames names organisations by ODS code; a code it lacks is shown
	// as the code.
	OrgNames map[string]string
	// Denominators are the period's, in any order.
	Denominators []Denominator
	Taxonomy     *taxonomy.Taxonomy
}

// Report is a built publication: its tables of published figures, in a
// fixed order, ready to be written as CSV, XLSX and HTML.
type Report struct {
	Meta  Meta
	Rules sdc.Rules
	// Tables are in the order they are published.
	Tables []Table
	// Charts are national figures drawn as bar charts on the HTML page.
	Charts []Chart
	// Total is the national number of events in the period.
	Total int64
	// Orgs is how many organisations recorded at least one event.
	Orgs int
	// Suppressed is how many figures are shown as the symbol, and
	// Secondary how many of them only to protect others.
	Suppressed, Secondary int
	// Rates is true when any organisation has a denominator loaded.
	Rates bool
	// SymbolLo to SymbolHi is what the symbol can stand for in this
	// publication (from SymbolLo up when SymbolBounded is false): secondary
	// suppression can hide zeros and counts above the rules' High.
	SymbolLo, SymbolHi int64
	SymbolBounded      bool
}

// Table is one published table. Every row has one header cell per
// RowHeads column and one cell per Columns column.
type Table struct {
	// Name is the file name stem: "organisation-type-harm".
	Name    string
	Title   string
	Caption string
	// National is true for national figures, published as they are.
	National bool
	RowHeads []string
	Columns  []string
	Rows     []Row
}

// Row is one row of a table.
type Row struct {
	Heads []string
	Cells []Cell
}

// Cell is one published figure.
type Cell struct {
	// Text is what is published: "0", "*", "15", "1,235", "3.4".
	Text string
	// Value is the published number; meaningless when Suppressed.
	Value      int64
	Suppressed bool
	// Number is false for a rate, whose Text is a decimal.
	Number bool
}

// Chart is a bar chart of published national figures.
type Chart struct {
	ID, Title string
	Bars      []Bar
}

// Bar is one bar of a Chart.
type Bar struct {
	Label string
	Value int64
}

// Figure is one published figure named in words, to say what changed
// between versions.
type Figure struct {
	Key  string `json:"key"`
	Text string `json:"text"`
}

// Figures lists every published figure of the report in words, in table
// order.
func (r *Report) Figures() []Figure {
	var out []Figure
	for _, t := range r.Tables {
		for _, row := range t.Rows {
			for i, c := range row.Cells {
				key := t.Title + ": "
				for j, h := range row.Heads {
					if j > 0 {
						key += ", "
					}
					key += h
				}
				key += ", " + t.Columns[i]
				out = append(out, Figure{Key: key, Text: c.Text})
			}
		}
	}
	return out
}

// ErrUnsafe is returned (wrapped in an apperr Conflict) when disclosure
// control cannot make the tables safe to publish.
var ErrUnsafe = errors.New("stats: the tables cannot be protected")

// notRecorded is the column or row of events that did not record an
// answer.
const notRecorded = "Not recorded"

// codeAxis is the ordered codes of one dimension: the code list's order,
// then codes the list no longer has (sorted), then "" for not recorded.
type codeAxis struct {
	codes  []string
	labels []string
	index  map[string]int
}

func newAxis(list taxonomy.CodeList, seen []string, all bool) codeAxis {
	var a codeAxis
	a.index = map[string]int{}
	add := func(code, label string) {
		if _, ok := a.index[code]; ok {
			return
		}
		a.index[code] = len(a.codes)
		a.codes = append(a.codes, code)
		a.labels = append(a.labels, label)
	}
	present := map[string]bool{}
	for _, c := range seen {
		present[c] = true
	}
	for _, c := range list.Codes {
		if all || present[c.Code] {
			add(c.Code, c.Display)
		}
	}
	var extra []string
	for _, c := range seen {
		if _, ok := list.Lookup(c); !ok && c != "" {
			extra = append(extra, c)
		}
	}
	slices.Sort(extra)
	for _, c := range extra {
		add(c, c)
	}
	if all || present[""] {
		add("", notRecorded)
	}
	return a
}

// Build makes a publication from its input: the tables, with disclosure
// control applied to every figure below national level. It is a pure
// function: the same input gives the same report. Errors: Invalid for bad
// rules or a missing taxonomy list; Conflict wrapping ErrUnsafe when the
// tables cannot be protected.
func Build(in Input) (*Report, error) {
	if err := in.Rules.Validate(); err != nil {
		return nil, apperr.New(apperr.Invalid, err.Error())
	}
	if in.Taxonomy == nil {
		return nil, errors.New("stats: build: no taxonomy")
	}
	lists := map[string]taxonomy.CodeList{}
	for _, id := range []string{listHarm, listService, listChallenges, listAgents} {
		l, ok := in.Taxonomy.List(id)
		if !ok {
			return nil, fmt.Errorf("stats: build: the taxonomy has no list %q", id)
		}
		lists[id] = l
	}
	types := incident.Types()
	typeIndex := map[incident.Type]int{}
	for i, t := range types {
		typeIndex[t] = i
	}

	// The dimensions, each in a fixed order.
	var orgCodes, harms, services []string
	for _, c := range in.Counts.Events {
		if _, ok := typeIndex[c.Type]; !ok {
			return nil, fmt.Errorf("stats: build: unknown event type %q", c.Type)
		}
		orgCodes = append(orgCodes, c.Org)
		harms = append(harms, c.PhysicalHarm)
		services = append(services, c.ServiceType)
	}
	slices.Sort(orgCodes)
	orgCodes = slices.Compact(orgCodes)
	orgIndex := map[string]int{}
	for i, o := range orgCodes {
		orgIndex[o] = i
	}
	harmAxis := newAxis(lists[listHarm], harms, true)
	serviceAxis := newAxis(lists[listService], services, false)
	var challenges, agents []string
	for _, c := range in.Counts.Codes {
		if _, ok := typeIndex[c.Type]; !ok {
			return nil, fmt.Errorf("stats: build: unknown event type %q", c.Type)
		}
		switch c.Element {
		case incident.ElementSafetyChallenges:
			challenges = append(challenges, c.Code)
		case incident.ElementAgents:
			agents = append(agents, c.Code)
		}
	}
	challengeAxis := newAxis(lists[listChallenges], challenges, false)
	agentAxis := newAxis(lists[listAgents], agents, false)

	nT, nH, nO := len(types), len(harmAxis.codes), len(orgCodes)
	// The true counts.
	cell := make([]int64, nO*nT*nH) // org × type × harm
	service := make([]int64, len(serviceAxis.codes)*nT)
	for _, c := range in.Counts.Events {
		o, t, h := orgIndex[c.Org], typeIndex[c.Type], harmAxis.index[c.PhysicalHarm]
		cell[(o*nT+t)*nH+h] += c.N
		service[serviceAxis.index[c.ServiceType]*nT+t] += c.N
	}
	challenge := make([]int64, len(challengeAxis.codes)*nT)
	agent := make([]int64, len(agentAxis.codes)*nT)
	for _, c := range in.Counts.Codes {
		t := typeIndex[c.Type]
		switch c.Element {
		case incident.ElementSafetyChallenges:
			challenge[challengeAxis.index[c.Code]*nT+t] += c.N
		case incident.ElementAgents:
			agent[agentAxis.index[c.Code]*nT+t] += c.N
		}
	}

	// Every figure and every published sum goes to the disclosure control
	// table, so the checker sees each relation a reader could use.
	var tab sdc.Table
	// tie gives the checker a published sum; a sum of nothing (a period
	// without events has no organisations) ties nothing.
	tie := func(total sdc.Figure, parts ...sdc.Figure) {
		if len(parts) > 0 {
			tab.Sum(total, parts...)
		}
	}
	sum := func(parts []int64) int64 {
		var n int64
		for _, p := range parts {
			n += p
		}
		return n
	}
	natTH := make([]int64, nT*nH)
	for o := range nO {
		for i := range nT * nH {
			natTH[i] += cell[o*nT*nH+i]
		}
	}
	// below is the level of an organisation's figure whose national
	// figure is national: a national 0 makes every organisation's 0 public
	// knowledge (counts are never negative), so those zeros are published
	// as they are, and secondary suppression never spends itself on them
	// (good care records no physical harm, so whole columns are always 0).
	below := func(national int64) sdc.Level {
		if national == 0 {
			return sdc.Exact
		}
		return sdc.Protected
	}
	fOTH := make([]sdc.Figure, len(cell))
	for i, v := range cell {
		fOTH[i] = tab.Add(v, below(natTH[i%(nT*nH)]))
	}
	fOT := make([]sdc.Figure, nO*nT)
	fO := make([]sdc.Figure, nO)
	for o := range nO {
		var orgTotal int64
		for t := range nT {
			base := (o*nT + t) * nH
			v := sum(cell[base : base+nH])
			orgTotal += v
			fOT[o*nT+t] = tab.Add(v, below(sum(natTH[t*nH:t*nH+nH])))
			tie(fOT[o*nT+t], fOTH[base:base+nH]...)
		}
		fO[o] = tab.Add(orgTotal, sdc.Protected)
		tie(fO[o], fOT[o*nT:o*nT+nT]...)
	}
	// National: type × harm, type totals, harm totals, the total.
	fNTH := make([]sdc.Figure, nT*nH)
	for i, v := range natTH {
		fNTH[i] = tab.Add(v, sdc.Exact)
		parts := make([]sdc.Figure, nO)
		for o := range nO {
			parts[o] = fOTH[o*nT*nH+i]
		}
		tie(fNTH[i], parts...)
	}
	fNT := make([]sdc.Figure, nT)
	natT := make([]int64, nT)
	for t := range nT {
		natT[t] = sum(natTH[t*nH : t*nH+nH])
		fNT[t] = tab.Add(natT[t], sdc.Exact)
		tie(fNT[t], fNTH[t*nH:t*nH+nH]...)
		parts := make([]sdc.Figure, nO)
		for o := range nO {
			parts[o] = fOT[o*nT+t]
		}
		tie(fNT[t], parts...)
	}
	fNH := make([]sdc.Figure, nH)
	natH := make([]int64, nH)
	for h := range nH {
		parts := make([]sdc.Figure, nT)
		for t := range nT {
			natH[h] += natTH[t*nH+h]
			parts[t] = fNTH[t*nH+h]
		}
		fNH[h] = tab.Add(natH[h], sdc.Exact)
		tie(fNH[h], parts...)
	}
	total := sum(natT)
	fN := tab.Add(total, sdc.Exact)
	tie(fN, fNT...)
	tie(fN, fNH...)
	tie(fN, fO...)
	// National by service type: each type's column adds up to its total.
	fS := make([]sdc.Figure, len(service))
	for i, v := range service {
		fS[i] = tab.Add(v, sdc.Exact)
	}
	fST := make([]sdc.Figure, len(serviceAxis.codes))
	for s := range serviceAxis.codes {
		fST[s] = tab.Add(sum(service[s*nT:s*nT+nT]), sdc.Exact)
		tie(fST[s], fS[s*nT:s*nT+nT]...)
	}
	for t := range nT {
		parts := make([]sdc.Figure, len(serviceAxis.codes))
		for s := range serviceAxis.codes {
			parts[s] = fS[s*nT+t]
		}
		tie(fNT[t], parts...)
	}
	tie(fN, fST...)
	// National by code: an event may carry several codes, so only each
	// code's row adds up.
	codeFigures := func(values []int64, n int) ([]sdc.Figure, []sdc.Figure) {
		fs := make([]sdc.Figure, len(values))
		for i, v := range values {
			fs[i] = tab.Add(v, sdc.Exact)
		}
		totals := make([]sdc.Figure, n)
		for c := range n {
			totals[c] = tab.Add(sum(values[c*nT:c*nT+nT]), sdc.Exact)
			tie(totals[c], fs[c*nT:c*nT+nT]...)
		}
		return fs, totals
	}
	fC, fCT := codeFigures(challenge, len(challengeAxis.codes))
	fA, fAT := codeFigures(agent, len(agentAxis.codes))

	res, err := sdc.Protect(in.Rules, &tab)
	var pe *sdc.ProtectError
	if errors.As(err, &pe) {
		// Name a few of them, as the tables would, so the admin can see why.
		var named []string
		for _, d := range pe.Disclosures {
			if len(named) == 3 {
				break
			}
			if int(d.Figure) >= nO*nT*nH+nO*(nT+1) {
				continue
			}
			o, t, h := protectedFigure(int(d.Figure), nO, nT, nH)
			what := orgCodes[o]
			if t >= 0 {
				what += ", " + types[t].Label()
			}
			if h >= 0 {
				what += ", " + harmAxis.labels[h]
			}
			named = append(named, fmt.Sprintf("%s (could be worked out as %d to %d)", what, d.Lo, d.Hi))
		}
		return nil, apperr.Wrap(apperr.Conflict, fmt.Sprintf(
			"These tables cannot be published safely: after suppression, %d figures below national level could still be worked out from the published totals, such as %s. A national count this small cannot be broken down by organisation: choose a longer period or other rules.",
			len(pe.Disclosures), strings.Join(named, "; ")), errors.Join(ErrUnsafe, err))
	}
	if err != nil {
		return nil, fmt.Errorf("stats: build: disclosure control: %w", err)
	}

	rep := &Report{Meta: in.Meta, Rules: in.Rules, Total: total, Orgs: nO, Secondary: res.Secondary()}
	rep.SymbolLo, rep.SymbolHi, rep.SymbolBounded = res.SymbolRange()
	show := func(f sdc.Figure) Cell {
		v, ok := res.Value(f)
		c := Cell{Text: res.Text(f), Value: v, Suppressed: !ok, Number: true}
		if ok {
			c.Text = numfmt.Thousands(v)
		}
		return c
	}
	typeLabels := make([]string, nT)
	for t, ty := range types {
		typeLabels[t] = ty.Label()
	}
	orgName := func(code string) string {
		if n, ok := in.OrgNames[code]; ok && n != "" {
			return n
		}
		return code
	}

	// National totals.
	totals := Table{Name: "national-totals", Title: "National totals", National: true,
		Caption:  "Patient safety events recorded in England, by event type",
		RowHeads: []string{"Event type"}, Columns: []string{"Events"}}
	for t := range nT {
		totals.Rows = append(totals.Rows, Row{Heads: []string{typeLabels[t]}, Cells: []Cell{show(fNT[t])}})
	}
	totals.Rows = append(totals.Rows, Row{Heads: []string{"All types"}, Cells: []Cell{show(fN)}})

	// National type × harm.
	harmCols := append(slices.Clone(harmAxis.labels), "Total")
	nth := Table{Name: "national-type-harm", Title: "National events by type and physical harm", National: true,
		Caption:  "Patient safety events by event type and the most severe physical harm recorded",
		RowHeads: []string{"Event type"}, Columns: harmCols}
	for t := range nT {
		row := Row{Heads: []string{typeLabels[t]}}
		for h := range nH {
			row.Cells = append(row.Cells, show(fNTH[t*nH+h]))
		}
		row.Cells = append(row.Cells, show(fNT[t]))
		nth.Rows = append(nth.Rows, row)
	}
	all := Row{Heads: []string{"All types"}}
	for h := range nH {
		all.Cells = append(all.Cells, show(fNH[h]))
	}
	all.Cells = append(all.Cells, show(fN))
	nth.Rows = append(nth.Rows, all)

	// Organisation × type × harm.
	oth := Table{Name: "organisation-type-harm", Title: "Events by organisation, type and physical harm",
		Caption:  "Patient safety events by organisation, event type and the most severe physical harm recorded, with disclosure control",
		RowHeads: []string{"ODS code", "Organisation", "Event type"}, Columns: harmCols}
	ot := Table{Name: "organisation-totals", Title: "Events by organisation and type",
		Caption:  "Patient safety events by organisation and event type, with disclosure control",
		RowHeads: []string{"ODS code", "Organisation"}, Columns: append(slices.Clone(typeLabels), "All types")}
	for o, code := range orgCodes {
		name := orgName(code)
		for t := range nT {
			row := Row{Heads: []string{code, name, typeLabels[t]}}
			for h := range nH {
				row.Cells = append(row.Cells, show(fOTH[(o*nT+t)*nH+h]))
			}
			row.Cells = append(row.Cells, show(fOT[o*nT+t]))
			oth.Rows = append(oth.Rows, row)
		}
		row := Row{Heads: []string{code, name}}
		for t := range nT {
			row.Cells = append(row.Cells, show(fOT[o*nT+t]))
		}
		row.Cells = append(row.Cells, show(fO[o]))
		ot.Rows = append(ot.Rows, row)
	}

	typeCols := append(slices.Clone(typeLabels), "All types")
	codeTable := func(name, title, caption, head string, axis codeAxis, fs, ts []sdc.Figure) Table {
		tb := Table{Name: name, Title: title, Caption: caption, National: true, RowHeads: []string{head}, Columns: typeCols}
		for c := range axis.codes {
			row := Row{Heads: []string{axis.labels[c]}}
			for t := range nT {
				row.Cells = append(row.Cells, show(fs[c*nT+t]))
			}
			row.Cells = append(row.Cells, show(ts[c]))
			tb.Rows = append(tb.Rows, row)
		}
		return tb
	}
	svc := codeTable("national-service-type", "National events by service type and event type",
		"Patient safety events by the service they happened in and event type", "Service type", serviceAxis, fS, fST)
	ch := codeTable("national-safety-challenges", "National events by safety challenge and event type",
		"Patient safety events recording each safety challenge; an event may record several, so the rows do not add up to the total",
		"Safety challenge", challengeAxis, fC, fCT)
	ag := codeTable("national-agents", "National events by agent and event type",
		"Patient safety events recording each agent involved; an event may record several, so the rows do not add up to the total",
		"Agent", agentAxis, fA, fAT)

	rep.Tables = []Table{totals, nth, svc, ch, ag, ot, oth}

	// Reporting rates, from the published (protected) organisation totals.
	dens := slices.Clone(in.Denominators)
	slices.SortFunc(dens, func(a, b Denominator) int {
		if a.Org != b.Org {
			if a.Org < b.Org {
				return -1
			}
			return 1
		}
		if a.Measure < b.Measure {
			return -1
		}
		if a.Measure > b.Measure {
			return 1
		}
		return 0
	})
	rates := Table{Name: "reporting-rates", Title: "Reporting rates by organisation",
		Caption:  "Events per 1,000 admissions or bed days, from the published (rounded) number of events; not shown where that number is suppressed",
		RowHeads: []string{"ODS code", "Organisation", "Per 1,000"}, Columns: []string{"Denominator", "Events", "Rate per 1,000"}}
	for i, d := range dens {
		if i > 0 && dens[i-1].Org == d.Org && dens[i-1].Measure == d.Measure {
			continue
		}
		o, ok := orgIndex[d.Org]
		if !ok || d.Value <= 0 || !d.Measure.Valid() {
			continue
		}
		events := show(fO[o])
		rate := Cell{Text: in.Rules.Symbol, Suppressed: true}
		if !events.Suppressed {
			rate = Cell{Text: rateText(events.Value, d.Value)}
		}
		rates.Rows = append(rates.Rows, Row{Heads: []string{d.Org, orgName(d.Org), d.Measure.Label()},
			Cells: []Cell{{Text: numfmt.Thousands(d.Value), Value: d.Value, Number: true}, events, rate}})
	}
	if len(rates.Rows) > 0 {
		rep.Rates = true
		rep.Tables = append(rep.Tables, rates)
	}
	// Each suppressed figure once, though organisation × type totals
	// appear in two tables (national figures are never suppressed).
	for i := range fOTH {
		if res.Suppressed(fOTH[i]) {
			rep.Suppressed++
		}
	}
	for i := range fOT {
		if res.Suppressed(fOT[i]) {
			rep.Suppressed++
		}
	}
	for i := range fO {
		if res.Suppressed(fO[i]) {
			rep.Suppressed++
		}
	}

	typeChart := Chart{ID: "chart-types", Title: "Events by type"}
	for t := range nT {
		typeChart.Bars = append(typeChart.Bars, Bar{Label: typeLabels[t], Value: natT[t]})
	}
	harmChart := Chart{ID: "chart-harm", Title: "Events by physical harm"}
	for h := range nH {
		// "No physical harm" is "No harm" under its bar, where room is short.
		label := strings.TrimSuffix(harmAxis.labels[h], " physical harm")
		if label == "No" {
			label = "No harm"
		}
		harmChart.Bars = append(harmChart.Bars, Bar{Label: label, Value: natH[h]})
	}
	rep.Charts = []Chart{typeChart, harmChart}
	return rep, nil
}

// protectedFigure says which organisation (index), type and harm (-1
// for "all") the protected figure with handle f is. Build adds them first,
// in a fixed order: every organisation × type × harm cell, then each
// organisation's type totals followed by its total.
func protectedFigure(f, nO, nT, nH int) (o, t, h int) {
	if f < nO*nT*nH {
		return f / (nT * nH), f / nH % nT, f % nH
	}
	f -= nO * nT * nH
	o, k := f/(nT+1), f%(nT+1)
	if k == nT {
		return o, -1, -1
	}
	return o, k, -1
}

// rateText is events per 1,000 of the denominator, to one decimal place,
// rounded half up in integer arithmetic so no float formatting reaches
// the bytes.
func rateText(events, denominator int64) string {
	tenths := (events*10000*2 + denominator) / (denominator * 2)
	return numfmt.Thousands(tenths/10) + "." + strconv.FormatInt(tenths%10, 10)
}
