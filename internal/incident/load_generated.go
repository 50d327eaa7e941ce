package incident

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
)

// This file generates many events inside the database, for benchmarks of
// the statistics at national scale (ten million events), where walking the
// recording form for each (Load) would take an hour. Each batch is a few
// INSERT ... SELECT statements over a recursive count, with every value
// made by arithmetic on the row's number: the same rows Submit writes
// (events, their first version, codes, search index, day counts and the
// statistics rollups), with small answers, consistent with one another.

// GenerateSpec says what LoadGenerated makes.
type GenerateSpec struct {
	// Events is how many events to make.
	Events int
	// Orgs are the ODS codes of existing organisations the events are
	// recorded in. LargestOrg, one of them, gets LargestEvents of the
	// events; the others share the rest evenly.
	Orgs          []string
	LargestOrg    string
	LargestEvents int
	// Events happen at times spread evenly over From to To (UTC, To
	// excluded), in the order they are made, and are submitted up to
	// three days after.
	From, To time.Time
	// Seed varies the references (the rest is the same for the same
	// Events and Orgs).
	Seed uint64
	// StatementVersion is the recording statement the events were
	// recorded under.
	StatementVersion int
	// Progress, when not nil, is called after each transaction with how
	// many events are written so far.
	Progress func(done int)
}

// generateBatch is how many events LoadGenerated writes a transaction.
const generateBatch = 20000

// The alphabet and size of references, for making them in SQL: seven
// characters of the alphabet, then the check character (see checkChar).
const (
	referenceSpace      = 30 * 30 * 30 * 30 * 30 * 30 * 30
	referenceMultiplier = 4093082899 // prime to 30: row numbers map to distinct references
)

// Codes the generator draws from (taxonomy lists service-type-5,
// safety-challenges-5 and agent-type-5).
var (
	generatedServiceTypes = []string{"1", "19", "17", "18", "3", "4", "6", "7", "8", "9", "10", "11", "12", "16", "13", "14", "15"}
	generatedChallenges   = []string{"1", "2", "3", "4", "5", "7", "6"}
	generatedAgents       = []string{"4", "3", "9", "13", "14", "11", "12", "8", "10"}
)

// generatedText is the description of every generated event, the answer
// to generatedDescription.
const (
	generatedText        = "Generated event for a benchmark of the statistics."
	generatedDescription = "AdverseEvent.description"
)

// LoadGenerated makes spec.Events events inside the database, in
// transactions of twenty thousand, each with one audit entry
// "event.load_generated". It is for a database nobody else is writing
// events to at the same time (a benchmark's scratch database): it checks
// that, and fails rather than mislabel another writer's events. The
// planner's statistics are not refreshed (see Analyze). Errors: Invalid
// for a spec that cannot be met.
func (s *Service) LoadGenerated(ctx context.Context, spec GenerateSpec) error {
	if err := spec.check(); err != nil {
		return err
	}
	var base int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&base); err != nil {
		return fmt.Errorf("incident: generate events: %w", err)
	}
	return s.loadGenerated(ctx, spec, base, generateBatch)
}

// loadGenerated writes the events batch to a transaction, numbering their
// references on from base.
func (s *Service) loadGenerated(ctx context.Context, spec GenerateSpec, base int64, batch int) error {
	g := newGenerator(spec)
	for from := 0; from < spec.Events; from += batch {
		to := min(from+batch, spec.Events)
		err := s.db.InTx(ctx, func(tx *db.Tx) error { return g.batch(ctx, tx, base, from, to) })
		if err != nil {
			return err
		}
		if spec.Progress != nil {
			spec.Progress(to)
		}
	}
	return nil
}

func (spec GenerateSpec) check() error {
	bad := func(msg string) error { return apperr.New(apperr.Invalid, msg) }
	others := len(spec.Orgs) - 1
	switch {
	case spec.Events < 1:
		return bad("Generate at least 1 event.")
	case others < 1:
		return bad("Generate events over at least 2 organisations.")
	case !containsString(spec.Orgs, spec.LargestOrg):
		return bad("The largest organisation must be one of the organisations.")
	case spec.LargestEvents < 0 || spec.LargestEvents > spec.Events:
		return bad("The largest organisation cannot have more events than there are.")
	case !spec.To.After(spec.From):
		return bad("The events' period must end after it starts.")
	}
	for _, o := range spec.Orgs {
		if o == "" || strings.ContainsAny(o, "'\\") {
			return bad("An organisation code is not valid.")
		}
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// generator holds the statement texts of one LoadGenerated.
type generator struct {
	spec   GenerateSpec
	others []string
	// spread is prime to Events: k -> k*spread mod Events shuffles the row
	// numbers, so the largest organisation's events are spread over the
	// whole load, and exactly LargestEvents of them.
	spread int64
}

func newGenerator(spec GenerateSpec) *generator {
	g := &generator{spec: spec}
	for _, o := range spec.Orgs {
		if o != spec.LargestOrg {
			g.others = append(g.others, o)
		}
	}
	n := int64(spec.Events)
	g.spread = int64(float64(n)*0.6180339887) + 1
	for gcd(g.spread, n) != 1 {
		g.spread++
	}
	return g
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// hash is a pseudo-random whole number from 0 to 2^21-1 made from the
// integer expression x: the top bits of a multiplicative congruential
// step, salted so that each attribute draws its own.
func hash(x string, salt int) string {
	mul := 1103515245 + 2*salt*7919
	return fmt.Sprintf("(((%s) * %d + %d) %% 2147483648 / 1024)", x, mul, 12345+salt*104729)
}

// pick is a CASE choosing list[i] for the integer expression i in
// 0..len(list)-1. The codes are the package's own, never input.
func pick(i string, list []string) string {
	var b strings.Builder
	b.WriteString("CASE " + i)
	for j, c := range list {
		fmt.Fprintf(&b, " WHEN %d THEN '%s'", j, c)
	}
	b.WriteString(" END")
	return b.String()
}

// batch writes the events numbered from to to (excluded) in tx.
func (g *generator) batch(ctx context.Context, tx *db.Tx, base int64, from, to int) error {
	d := tx.Dialect
	n := int64(g.spec.Events)
	largest := int64(g.spec.LargestEvents)
	// Events happen in the order of their numbers, evenly over the
	// period, each within its own slot of it: as real events arrive, and
	// so the indexes on times grow at their ends rather than everywhere.
	span := max(int64(g.spec.To.Sub(g.spec.From)/time.Second), 1)
	slot := max(span/n, 1)
	fromUnix := g.spec.From.UTC().Unix()
	offset := int64(g.spec.Seed % referenceSpace)

	// The organisations, numbered: 0 the largest, then the others.
	var orgs strings.Builder
	args := []any{int64(from), int64(to - 1)}
	fmt.Fprintf(&orgs, "(0, $%d)", len(args)+1)
	args = append(args, g.spec.LargestOrg)
	for i, o := range g.others {
		fmt.Fprintf(&orgs, ", (%d, $%d)", i+1, len(args)+1)
		args = append(args, o)
	}
	args = append(args, g.spec.StatementVersion)
	statementArg := "$" + strconv.Itoa(len(args))

	// The reference of row k: x, a number below 30^7 distinct for each
	// row, written in the alphabet, then its check character.
	digit := func(j int) string {
		p := int64(1)
		for range j {
			p *= 30
		}
		return fmt.Sprintf("(x / %d %% 30)", p)
	}
	char := func(expr string) string {
		return "substr('" + referenceAlphabet + "', CAST(1 + " + expr + " AS INTEGER), 1)"
	}
	var sum []string
	for j := 0; j < referenceRandom; j++ {
		if (referenceRandom-1-j)%2 == 0 { // weight 2, from the last character
			sum = append(sum, fmt.Sprintf("(2 * %s / 30 + 2 * %s %% 30)", digit(j), digit(j)))
		} else {
			sum = append(sum, digit(j))
		}
	}
	reference := "'PSE-' || " + char(digit(0)) + " || " + char(digit(1)) + " || " + char(digit(2)) + " || " + char(digit(3)) +
		" || '-' || " + char(digit(4)) + " || " + char(digit(5)) + " || " + char(digit(6)) +
		" || " + char("((30 - ("+strings.Join(sum, " + ")+") % 30) % 30)")

	typ := fmt.Sprintf("CASE WHEN %[1]s %% 100 < 80 THEN '%[2]s' WHEN %[1]s %% 100 < 88 THEN '%[3]s' WHEN %[1]s %% 100 < 95 THEN '%[4]s' ELSE '%[5]s' END",
		hash("k", 1), Incident, GoodCare, Risk, Outcome)
	harm := fmt.Sprintf("CASE WHEN r.t NOT IN ('%s', '%s') THEN '' WHEN %[3]s %% 100 < 55 THEN '5' WHEN %[3]s %% 100 < 83 THEN '4' WHEN %[3]s %% 100 < 95 THEN '3' WHEN %[3]s %% 100 < 99 THEN '2' ELSE '1' END",
		Incident, Outcome, hash("k", 2))
	service := fmt.Sprintf("CASE WHEN %s %% 10 = 0 THEN '' ELSE %s END", hash("k", 3),
		pick(fmt.Sprintf("(%[1]s %% 1000) * (%[1]s %% 1000) * %[2]d / 1000000", hash("k", 4), len(generatedServiceTypes)), generatedServiceTypes))

	generate := `WITH RECURSIVE g(k) AS (SELECT CAST($1 AS BIGINT) UNION ALL SELECT k + 1 FROM g WHERE k < CAST($2 AS BIGINT)),
		o(j, code) AS (VALUES ` + orgs.String() + `),
		r AS (SELECT k,
			(CAST(` + strconv.FormatInt(base, 10) + ` + k AS BIGINT) * ` + strconv.FormatInt(referenceMultiplier, 10) + ` + ` +
		strconv.FormatInt(offset, 10) + `) % ` + strconv.FormatInt(referenceSpace, 10) + ` AS x,
			k * ` + strconv.FormatInt(g.spread, 10) + ` % ` + strconv.FormatInt(n, 10) + ` AS m,
			` + typ + ` AS t,
			` + strconv.FormatInt(fromUnix, 10) + ` + k * ` + strconv.FormatInt(span, 10) + ` / ` + strconv.FormatInt(n, 10) + ` + ` + hash("k", 5) + ` % ` + strconv.FormatInt(slot, 10) + ` AS occ,
			` + hash("k", 7) + ` % 259200 AS late
			FROM g)
		INSERT INTO events (reference, event_type, org_ods, source, reporter_id, occurred_from, occurred_to, submitted_at,
			version, updated_at, physical_harm, psychological_harm, service_type, sharing_opt_out, statement_version)
		SELECT ` + reference + `, r.t, o.code, '` + string(Staff) + `', NULL, ` + d.UnixTime("r.occ") + `, ` + d.UnixTime("r.occ") + `, ` +
		d.UnixTime("r.occ + r.late") + `, 1, ` + d.UnixTime("r.occ + r.late") + `, ` + harm + `, '', ` + service + `, ` +
		hash("k", 8) + ` % 20 = 0, ` + statementArg + `
		FROM r JOIN o ON o.j = CASE WHEN r.m < ` + strconv.FormatInt(largest, 10) + ` THEN 0 ELSE 1 + (r.m - ` + strconv.FormatInt(largest, 10) + `) % ` + strconv.Itoa(len(g.others)) + ` END
		ORDER BY r.k`
	before, err := maxEventID(ctx, tx)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, generate, args...)
	if err != nil {
		return fmt.Errorf("incident: generate events: %w", err)
	}
	if got, err := res.RowsAffected(); err != nil || got != int64(to-from) {
		return fmt.Errorf("incident: generate events: %d of %d rows written (a reference already taken?): %v", got, to-from, err)
	}
	after, err := maxEventID(ctx, tx)
	if err != nil {
		return err
	}
	var mine int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE id > $1`, before).Scan(&mine); err != nil {
		return fmt.Errorf("incident: generate events: %w", err)
	}
	if mine != int64(to-from) || after-before < mine {
		return errors.New("incident: generate events: another writer added events meanwhile; generate only into a database nobody else writes to")
	}
	for _, stmt := range g.followers(d) {
		if _, err := tx.ExecContext(ctx, stmt, before); err != nil {
			return fmt.Errorf("incident: generate events: %w", err)
		}
	}
	return audit.Record(ctx, tx, audit.Entry{Action: "event.load_generated", SubjectType: "event", SubjectID: "*",
		Details: map[string]string{
			"events":   strconv.Itoa(to - from),
			"first_id": strconv.FormatInt(before+1, 10),
			"last_id":  strconv.FormatInt(after, 10),
		}})
}

func maxEventID(ctx context.Context, tx *db.Tx) (int64, error) {
	var id int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&id); err != nil {
		return 0, fmt.Errorf("incident: generate events: %w", err)
	}
	return id, nil
}

// followers are the statements that write, for the events with an id
// above $1, what Submit writes beside the event: the version, the codes,
// the search index, the day counts and the statistics rollups.
func (g *generator) followers(d db.Dialect) []string {
	// Codes, from the event's id: incidents have up to two safety
	// challenges, and half of the events an agent.
	nChallenges := fmt.Sprintf("CASE WHEN e.event_type = '%s' THEN %s %% 3 ELSE 0 END", Incident, hash("e.id", 11))
	first := fmt.Sprintf("(%s %% 7)", hash("e.id", 12))
	second := fmt.Sprintf("((%s + 1 + %s %% 6) %% 7)", first, hash("e.id", 13))
	challenge1 := pick(first, generatedChallenges)
	challenge2 := pick(second, generatedChallenges)
	hasAgent := fmt.Sprintf("%s %% 2 = 0", hash("e.id", 14))
	agent := pick(fmt.Sprintf("(%s %% 9)", hash("e.id", 15)), generatedAgents)

	answers := `'{"` + generatedDescription + `":["` + generatedText + `"],"LocationDetails.Organisation":["' || e.org_ods || '"]'` +
		` || CASE WHEN e.physical_harm <> '' THEN ',"PatientInformation.PhysicalHarm":["' || e.physical_harm || '"]' ELSE '' END` +
		` || CASE WHEN e.service_type <> '' THEN ',"LocationDetails.ServiceArea":["' || e.service_type || '"]' ELSE '' END` +
		` || CASE ` + nChallenges + ` WHEN 1 THEN ',"` + ElementSafetyChallenges + `":["' || ` + challenge1 + ` || '"]'` +
		` WHEN 2 THEN ',"` + ElementSafetyChallenges + `":["' || ` + challenge1 + ` || '","' || ` + challenge2 + ` || '"]' ELSE '' END` +
		` || CASE WHEN ` + hasAgent + ` THEN ',"` + ElementAgents + `":["' || ` + agent + ` || '"]' ELSE '' END || '}'`

	mine := ` FROM events e WHERE e.id > $1`
	stmts := []string{
		`INSERT INTO event_versions (event_id, version, author_id, created_at, reason, answers)
			SELECT e.id, 1, NULL, e.submitted_at, '', ` + answers + mine,
		`INSERT INTO event_codes (event_id, element, code, org_ods)
			SELECT e.id, '` + ElementSafetyChallenges + `', ` + challenge1 + `, e.org_ods` + mine + ` AND ` + nChallenges + ` >= 1
			UNION ALL SELECT e.id, '` + ElementSafetyChallenges + `', ` + challenge2 + `, e.org_ods` + mine + ` AND ` + nChallenges + ` = 2
			UNION ALL SELECT e.id, '` + ElementAgents + `', ` + agent + `, e.org_ods` + mine + ` AND ` + hasAgent,
		d.TextInsertSelect(searchTable, "e.id", "e.org_ods", "'"+generatedText+"'", strings.TrimPrefix(mine, " ")),
		`INSERT INTO event_day_counts (org_ods, day, event_type, physical_harm, n)
			SELECT e.org_ods, ` + d.UTCDay("e.submitted_at") + `, e.event_type, e.physical_harm, COUNT(*)` + mine + `
			GROUP BY 1, 2, 3, 4
			ON CONFLICT (org_ods, day, event_type, physical_harm) DO UPDATE SET n = event_day_counts.n + EXCLUDED.n`,
	}
	// The code rollups read the batch's codes by their event ids: the
	// "|| ''" keeps SQLite from reading every code of the two elements
	// through event_codes_org instead, which made each batch slower than
	// the last.
	for _, basis := range []Basis{BasisOccurred, BasisSubmitted} {
		column := "e.occurred_from"
		if basis == BasisSubmitted {
			column = "e.submitted_at"
		}
		day := d.UTCDay(column)
		for _, t := range []struct {
			table, period string
		}{{"event_stat_days", day}, {"event_stat_months", "substr(" + day + ", 1, 7)"}} {
			cols := "basis, day, org_ods, event_type, physical_harm, service_type"
			if t.table == "event_stat_months" {
				cols = "basis, month, org_ods, event_type, physical_harm, service_type"
			}
			stmts = append(stmts, `INSERT INTO `+t.table+` (`+cols+`, n)
				SELECT '`+string(basis)+`', `+t.period+`, e.org_ods, e.event_type, e.physical_harm, e.service_type, COUNT(*)`+mine+`
				GROUP BY 2, 3, 4, 5, 6
				ON CONFLICT (`+cols+`) DO UPDATE SET n = `+t.table+`.n + EXCLUDED.n`)
		}
		for _, t := range []struct {
			table, period string
		}{{"event_stat_code_days", day}, {"event_stat_code_months", "substr(" + day + ", 1, 7)"}} {
			cols := "basis, day, org_ods, event_type, element, code"
			if t.table == "event_stat_code_months" {
				cols = "basis, month, org_ods, event_type, element, code"
			}
			stmts = append(stmts, `INSERT INTO `+t.table+` (`+cols+`, n)
				SELECT '`+string(basis)+`', `+t.period+`, e.org_ods, e.event_type, c.element, c.code, COUNT(*)
				FROM events e JOIN event_codes c ON c.event_id = e.id
				WHERE e.id > $1 AND c.event_id > $1 AND c.element || '' IN ('`+ElementSafetyChallenges+`', '`+ElementAgents+`')
				GROUP BY 2, 3, 4, 5, 6
				ON CONFLICT (`+cols+`) DO UPDATE SET n = `+t.table+`.n + EXCLUDED.n`)
		}
	}
	return stmts
}
