package incident

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/csvsafe"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/incident/taxonomy"
)

// exportBatch is how many events an export reads per query: each batch is
// one keyset page and one look-up of its codes, so an export of any size
// holds no long-running query open.
const exportBatch = 500

// The code lists the export shows display text from.
const (
	listPhysicalHarm      = "level-of-physical-harm-5"
	listPsychologicalHarm = "level-of-psychological-harm-5"
	listServiceType       = "service-type-5"
	listSafetyChallenges  = "safety-challenges-5"
	listAgents            = "agent-type-5"
)

// exportHeader is the first line of an event export.
var exportHeader = []string{"Reference", "Event type", "Organisation ODS code", "Source", "Occurred from", "Occurred to",
	"Submitted (UTC)", "Version", "Physical harm", "Psychological harm", "Service type", "Safety challenges", "Agents",
	"Data sharing opt-out"}

// exportKeys name the columns of exportHeader, in its order, for the
// fields a data sharing agreement permits (ExportOptions.Fields). They are
// stored in agreements: never change one.
var exportKeys = []string{"reference", "event_type", "org", "source", "occurred_from", "occurred_to",
	"submitted", "version", "physical_harm", "psychological_harm", "service_type", "safety_challenges", "agents",
	"sharing_opt_out"}

// ExportField is a column an event export can hold: Key names it in
// ExportOptions.Fields, Heading is its header.
type ExportField struct {
	Key, Heading string
}

// ExportFields lists every column of an export with the answer columns
// cols, in the order an export writes them. An answer column's key is its
// element.
func ExportFields(cols []AnswerColumn) []ExportField {
	out := make([]ExportField, 0, len(exportHeader)+len(cols))
	for i, h := range exportHeader {
		out = append(out, ExportField{Key: exportKeys[i], Heading: h})
	}
	for _, c := range cols {
		out = append(out, ExportField{Key: c.Element, Heading: c.Heading})
	}
	return out
}

// ExportOptions shape an export made under a data sharing agreement (see
// internal/sharing). The zero value is the organisation's own export:
// every column, every event, no preamble.
type ExportOptions struct {
	// Fields are the keys of the columns to write (see ExportFields); the
	// other columns are left out entirely. nil writes every column.
	Fields []string
	// ExcludeOptedOut leaves out every event whose current version opted
	// out of data sharing (T15).
	ExcludeOptedOut bool
	// Preamble are lines written before the header, each a row of one
	// cell, such as the agreement and terms an extract is shared under
	// (T17).
	Preamble []string
	// Details are added to the details of the export's audit entry.
	Details map[string]string
	// Record, when set, runs in the transaction that audits the export,
	// with the rows written and whether the export was complete, so that
	// what the caller keeps about it is written with the audit entry.
	Record func(ctx context.Context, tx *db.Tx, rows int, complete bool) error
}

// AnswerColumn is an answer an export shows in a column of its own: the
// form that asks it says how it is headed and shown.
type AnswerColumn struct {
	Heading string
	Element string
	// Display is the answer's values as people read them.
	Display func(values []string) string
}

// Export writes every event in scope that f chooses, in f's order, to w as
// CSV with a header line, codes shown with their display text from tax,
// then a column for each of cols from the current version's answers. It
// returns how many events it wrote. Cells a spreadsheet would take for a
// formula are made text. opts choose the columns and events and add lines
// before the header; the zero ExportOptions is the whole export. The export is written to the audit log once the
// rows have been written (with how many there were), also when writing
// stopped part way, so no export goes unrecorded. Errors: Invalid as List.
func (s *Service) Export(ctx context.Context, tax *taxonomy.Taxonomy, scope Scope, f Filter, cols []AnswerColumn, opts ExportOptions, actorID int64, c Client, w io.Writer) (int, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	f.Sort = f.Sort.orDefault()
	f.dialect = s.db.Dialect()
	if _, err := s.planWords(ctx, scope, &f, s.few()+1); err != nil {
		return 0, err
	}
	n, exportErr := s.writeCSV(ctx, tax, scope, f, cols, opts, w)
	details := exportDetails(scope, f)
	for k, v := range opts.Details {
		details[k] = v
	}
	details["rows"] = strconv.Itoa(n)
	if exportErr != nil {
		details["complete"] = "no"
	}
	// The rows may have gone even if the client has gone: record it anyway.
	actx := context.WithoutCancel(ctx)
	err := s.db.InTx(actx, func(tx *db.Tx) error {
		if err := audit.Record(actx, tx, audit.Entry{ActorID: actorID, Action: "event.export", SubjectType: "events",
			SubjectID: details["scope"], IP: c.IP, Details: details}); err != nil {
			return err
		}
		if opts.Record != nil {
			return opts.Record(actx, tx, n, exportErr == nil)
		}
		return nil
	})
	return n, errors.Join(exportErr, err)
}

func (s *Service) writeCSV(ctx context.Context, tax *taxonomy.Taxonomy, scope Scope, f Filter, cols []AnswerColumn, opts ExportOptions, w io.Writer) (int, error) {
	lists := map[string]taxonomy.CodeList{}
	for _, id := range []string{listPhysicalHarm, listPsychologicalHarm, listServiceType, listSafetyChallenges, listAgents} {
		l, ok := tax.List(id)
		if !ok {
			return 0, fmt.Errorf("incident: export: the taxonomy has no list %q", id)
		}
		lists[id] = l
	}
	cw := csv.NewWriter(w)
	for _, line := range opts.Preamble {
		if err := cw.Write([]string{csvsafe.Cell(line)}); err != nil {
			return 0, fmt.Errorf("incident: export: %w", err)
		}
	}
	header := slices.Clone(exportHeader)
	for _, col := range cols {
		header = append(header, col.Heading)
	}
	keep := keptColumns(cols, opts.Fields)
	if err := cw.Write(kept(header, keep)); err != nil {
		return 0, fmt.Errorf("incident: export: %w", err)
	}
	n := 0
	at := Cursor{}
	for {
		batch, more, err := s.page(ctx, scope, f, at, exportBatch)
		if err != nil {
			return n, err
		}
		codes, err := s.batchCodes(ctx, batch)
		if err != nil {
			return n, err
		}
		var answers map[int64]Answers
		if len(cols) > 0 {
			if answers, err = s.batchAnswers(ctx, batch); err != nil {
				return n, err
			}
		}
		for _, e := range batch {
			if opts.ExcludeOptedOut && e.SharingOptOut {
				continue
			}
			yes := "No"
			if e.SharingOptOut {
				yes = "Yes"
			}
			rec := []string{string(e.Reference), e.Type.Label(), e.OrgCode, e.Source.Label(),
				e.OccurredFrom.Format(time.DateOnly), e.OccurredTo.Format(time.DateOnly), e.SubmittedAt.Format("2006-01-02 15:04"),
				strconv.Itoa(e.Version), display(lists[listPhysicalHarm], e.PhysicalHarm),
				display(lists[listPsychologicalHarm], e.PsychologicalHarm), display(lists[listServiceType], e.ServiceType),
				display(lists[listSafetyChallenges], codes[e.ID][ElementSafetyChallenges]...),
				display(lists[listAgents], codes[e.ID][ElementAgents]...), yes}
			for _, col := range cols {
				rec = append(rec, col.Display(answers[e.ID][col.Element]))
			}
			if err := cw.Write(kept(rec, keep)); err != nil {
				return n, fmt.Errorf("incident: export: %w", err)
			}
			n++
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, fmt.Errorf("incident: export: %w", err)
		}
		if !more || len(batch) == 0 {
			return n, nil
		}
		last := batch[len(batch)-1]
		at = Cursor{Sort: f.Sort, Time: last.sortKey, ID: last.ID}
	}
}

// keptColumns says, for each column of an export with the answer columns
// cols, whether it is written: every one when fields is nil, else those
// whose key fields holds.
func keptColumns(cols []AnswerColumn, fields []string) []bool {
	all := ExportFields(cols)
	keep := make([]bool, len(all))
	for i, f := range all {
		keep[i] = fields == nil || slices.Contains(fields, f.Key)
	}
	return keep
}

// kept is the cells of rec whose column is kept, each made safe for a
// spreadsheet.
func kept(rec []string, keep []bool) []string {
	out := make([]string, 0, len(rec))
	for i, cell := range rec {
		if keep[i] {
			out = append(out, csvsafe.Cell(cell))
		}
	}
	return out
}

// batchCodes returns the safety challenges and agents of the events, by
// event and element.
func (s *Service) batchCodes(ctx context.Context, batch []Summary) (map[int64]map[string][]string, error) {
	out := map[int64]map[string][]string{}
	if len(batch) == 0 {
		return out, nil
	}
	q := &sqlQuery{}
	text := `SELECT event_id, element, code FROM event_codes WHERE event_id IN ` + q.ids(batch) +
		` AND element IN (` + q.arg(ElementSafetyChallenges) + `, ` + q.arg(ElementAgents) + `) ORDER BY event_id, element, code`
	rows, err := s.db.QueryContext(ctx, text, q.args...)
	if err != nil {
		return nil, fmt.Errorf("incident: export codes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var element, code string
		if err := rows.Scan(&id, &element, &code); err != nil {
			return nil, fmt.Errorf("incident: export codes: %w", err)
		}
		if out[id] == nil {
			out[id] = map[string][]string{}
		}
		out[id][element] = append(out[id][element], code)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incident: export codes: %w", err)
	}
	return out, nil
}

// batchAnswers returns the current answers of the events, by event.
func (s *Service) batchAnswers(ctx context.Context, batch []Summary) (map[int64]Answers, error) {
	out := map[int64]Answers{}
	if len(batch) == 0 {
		return out, nil
	}
	q := &sqlQuery{}
	rows, err := s.db.QueryContext(ctx, `SELECT v.event_id, v.answers FROM events e
		JOIN event_versions v ON v.event_id = e.id AND v.version = e.version WHERE e.id IN `+q.ids(batch), q.args...)
	if err != nil {
		return nil, fmt.Errorf("incident: export answers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var body string
		if err := rows.Scan(&id, &body); err != nil {
			return nil, fmt.Errorf("incident: export answers: %w", err)
		}
		var a Answers
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			return nil, fmt.Errorf("incident: decode answers of event %d: %w", id, err)
		}
		out[id] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incident: export answers: %w", err)
	}
	return out, nil
}

// display is the display text of the codes, joined with "; ".
func display(l taxonomy.CodeList, codes ...string) string {
	texts := make([]string, 0, len(codes))
	for _, c := range codes {
		if c != "" {
			texts = append(texts, l.Display(c))
		}
	}
	return strings.Join(texts, "; ")
}

// exportDetails describes the scope and filter of an export for the audit
// log.
func exportDetails(scope Scope, f Filter) map[string]string {
	d := map[string]string{"sort": string(f.Sort.orDefault())}
	switch {
	case scope.All:
		d["scope"] = "all"
	default:
		var parts []string
		if len(scope.Orgs) > 0 {
			parts = append(parts, strings.Join(scope.Orgs, " "))
		}
		if scope.ReporterID != 0 {
			parts = append(parts, "reporter "+strconv.FormatInt(scope.ReporterID, 10))
		}
		d["scope"] = strings.Join(parts, "; ")
	}
	set := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	types := make([]string, len(f.Types))
	for i, t := range f.Types {
		types[i] = string(t)
	}
	set("types", strings.Join(types, " "))
	for k, t := range map[string]time.Time{"occurred_from": f.OccurredFrom, "occurred_to": f.OccurredTo,
		"submitted_from": f.SubmittedFrom, "submitted_to": f.SubmittedTo} {
		if !t.IsZero() {
			d[k] = t.Format(time.DateOnly)
		}
	}
	set("physical_harm", strings.Join(f.PhysicalHarm, " "))
	set("psychological_harm", strings.Join(f.PsychologicalHarm, " "))
	set("service_type", f.ServiceType)
	set("safety_challenge", f.SafetyChallenge)
	set("agent", f.Agent)
	set("source", string(f.Source))
	return d
}
