package stats

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/emailaddr"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/taxonomy"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/stats/sdc"
)

// Counter counts a period's events; *incident.Service is one.
type Counter interface {
	StatCounts(ctx context.Context, basis incident.Basis, from, to time.Time) (incident.StatCounts, error)
}

// Orgs finds organisations by code; *org.Store is one.
type Orgs interface {
	Get(ctx context.Context, code org.Code) (org.Organisation, error)
}

// Status is where a publication stands.
type Status string

// The statuses.
const (
	StatusDraft     Status = "draft"
	StatusPublished Status = "published"
)

// MaxTitleLength is the longest title.
const MaxTitleLength = 200

// Publication is one publication: its period, basis and release time, and
// how many versions it has.
type Publication struct {
	ID       int64
	Title    string
	From, To time.Time
	Basis    incident.Basis
	Release  time.Time
	Status   Status
	Rules    sdc.Rules
	// Versions is how many versions are published; 0 for a draft.
	Versions  int
	CreatedAt time.Time
}

// Released reports whether the public may see the publication at now.
func (p Publication) Released(now time.Time) bool {
	return p.Status == StatusPublished && !now.Before(p.Release)
}

// Meta is the metadata of version n of the publication.
func (p Publication) Meta(n int, reason string) Meta {
	return Meta{Title: p.Title, From: p.From, To: p.To, Basis: p.Basis, Release: p.Release, Version: n, Reason: reason}
}

// Version is one published version of a publication.
type Version struct {
	PublicationID int64
	N             int
	Reason        string
	Rules         sdc.Rules
	Fingerprint   string
	// Changes says which figures changed from the version before, in
	// words: "Events by organisation and type: RXX, Example Trust, Incident: 15 → 20".
	Changes     []string
	PublishedAt time.Time
	// Files are listed without their bytes.
	Files []File
}

// Draft is a new publication as typed.
type Draft struct {
	Title    string
	From, To time.Time
	Basis    incident.Basis
	Release  time.Time
}

// Actor is who acts: a national admin, or the operator at the command line
// (ID 0).
type Actor struct {
	ID int64
	IP string
}

// Output is a publication built from live data: its report, its files and
// the fingerprint of what it was built from.
type Output struct {
	Report      *Report
	Files       []File
	Fingerprint string
}

// Service keeps publications, their immutable versions, the pre-release
// access list and the denominators for rates.
type Service struct {
	db       *db.DB
	counts   Counter
	orgs     Orgs
	taxonomy *taxonomy.Taxonomy
	html     HTMLFunc
	rules    sdc.Rules
	outbox   Outbox
	// baseURL is the public address of the service, for links in emails;
	// uk the zone emails give release times in.
	baseURL string
	uk      *time.Location
}

// Outbox queues emails in the caller's transaction (*mail.Outbox).
type Outbox interface {
	Enqueue(ctx context.Context, tx *db.Tx, m mail.Message) (int64, error)
}

// New returns the service. rules are the disclosure control rules new
// publications get; html renders the HTML page of a report (nil writes no
// HTML file); outbox sends the emails telling people they are on a
// pre-release list, linking to the publication under baseURL.
func New(d *db.DB, counts Counter, orgs Orgs, tax *taxonomy.Taxonomy, html HTMLFunc, rules sdc.Rules, outbox Outbox, baseURL string) *Service {
	uk, err := time.LoadLocation("Europe/London")
	if err != nil { // the zone database is built in (see package web), so not expected
		uk = time.UTC
	}
	return &Service{db: d, counts: counts, orgs: orgs, taxonomy: tax, html: html, rules: rules, outbox: outbox, baseURL: baseURL, uk: uk}
}

// Rules are the disclosure control rules new publications get.
func (s *Service) Rules() sdc.Rules { return s.rules }

// SixMonthPeriod returns the six-monthly statistical period holding day:
// 1 April to 30 September, or 1 October to 31 March.
func SixMonthPeriod(day time.Time) (from, to time.Time) {
	y := day.Year()
	switch {
	case day.Month() >= time.April && day.Month() <= time.September:
		from = time.Date(y, time.April, 1, 0, 0, 0, 0, time.UTC)
		to = time.Date(y, time.September, 30, 0, 0, 0, 0, time.UTC)
	case day.Month() >= time.October:
		from = time.Date(y, time.October, 1, 0, 0, 0, 0, time.UTC)
		to = time.Date(y+1, time.March, 31, 0, 0, 0, 0, time.UTC)
	default:
		from = time.Date(y-1, time.October, 1, 0, 0, 0, 0, time.UTC)
		to = time.Date(y, time.March, 31, 0, 0, 0, 0, time.UTC)
	}
	return from, to
}

func dateOnly(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

const dayLayout = "2006-01-02"

// check validates a draft. Errors: apperr.Fields.
func check(d Draft) (Draft, error) {
	var errs apperr.Fields
	d.Title = strings.TrimSpace(d.Title)
	switch {
	case d.Title == "":
		errs.Add("title", "Enter a title")
	case len([]rune(d.Title)) > MaxTitleLength:
		errs.Add("title", fmt.Sprintf("Title must be %d characters or fewer", MaxTitleLength))
	}
	if d.From.IsZero() {
		errs.Add("from-day", "Enter the first day of the period")
	}
	if d.To.IsZero() {
		errs.Add("to-day", "Enter the last day of the period")
	}
	d.From, d.To = dateOnly(d.From), dateOnly(d.To)
	if !d.From.IsZero() && !d.To.IsZero() && d.To.Before(d.From) {
		errs.Add("to-day", "The last day of the period must be the same as or after the first day")
	}
	if !d.Basis.Valid() {
		errs.Add("basis-occurred", "Select whether to count events by when they occurred or when they were submitted")
	}
	if d.Release.IsZero() {
		errs.Add("release-day", "Enter the release date")
	}
	if len(errs) > 0 {
		return d, errs
	}
	return d, nil
}

// Check reports the problems with a draft, as Create would.
func (s *Service) Check(d Draft) error {
	_, err := check(d)
	return err
}

// Create adds a draft publication. Errors: apperr.Fields for bad input.
func (s *Service) Create(ctx context.Context, by Actor, d Draft) (int64, error) {
	d, err := check(d)
	if err != nil {
		return 0, err
	}
	rules, err := json.Marshal(s.rules)
	if err != nil {
		return 0, fmt.Errorf("stats: create: %w", err)
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO statistics_publications
			(title, period_start, period_end, basis, release_at, status, rules, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id`,
			d.Title, d.From.Format(dayLayout), d.To.Format(dayLayout), string(d.Basis), d.Release.UTC(),
			string(StatusDraft), string(rules), db.NullID(by.ID), tx.Now).Scan(&id)
		if err != nil {
			return fmt.Errorf("stats: create: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: by.ID, Action: "statistics.create", SubjectType: "publication",
			SubjectID: strconv.FormatInt(id, 10), IP: by.IP, Details: map[string]string{
				"title": d.Title, "from": d.From.Format(dayLayout), "to": d.To.Format(dayLayout), "basis": string(d.Basis),
				"release_at": d.Release.UTC().Format(time.RFC3339)}})
	})
	return id, err
}

const publicationColumns = `p.id, p.title, p.period_start, p.period_end, p.basis, p.release_at, p.status, p.rules, p.created_at,
	(SELECT COUNT(*) FROM statistics_versions v WHERE v.publication_id = p.id)`

type scanner interface{ Scan(dest ...any) error }

func scanPublication(r scanner) (Publication, error) {
	var p Publication
	var from, to, rules string
	if err := r.Scan(&p.ID, &p.Title, &from, &to, &p.Basis, &p.Release, &p.Status, &rules, &p.CreatedAt, &p.Versions); err != nil {
		return p, err
	}
	var err error
	if p.From, err = time.Parse(dayLayout, from); err != nil {
		return p, fmt.Errorf("stats: stored period start %q: %w", from, err)
	}
	if p.To, err = time.Parse(dayLayout, to); err != nil {
		return p, fmt.Errorf("stats: stored period end %q: %w", to, err)
	}
	if err := json.Unmarshal([]byte(rules), &p.Rules); err != nil {
		return p, fmt.Errorf("stats: stored rules: %w", err)
	}
	p.Release, p.CreatedAt = p.Release.UTC(), p.CreatedAt.UTC()
	return p, nil
}

// Get returns publication id. Errors: NotFound.
func (s *Service) Get(ctx context.Context, id int64) (Publication, error) {
	p, err := scanPublication(s.db.QueryRowContext(ctx, `SELECT `+publicationColumns+` FROM statistics_publications p WHERE p.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, apperr.New(apperr.NotFound, "There is no such publication")
	}
	if err != nil {
		return p, fmt.Errorf("stats: get %d: %w", id, err)
	}
	return p, nil
}

// List returns every publication, newest period first, for the admins'
// list; with releasedBy set, only those released by then, for the public.
func (s *Service) List(ctx context.Context, releasedBy time.Time) ([]Publication, error) {
	q := `SELECT ` + publicationColumns + ` FROM statistics_publications p`
	var args []any
	if !releasedBy.IsZero() {
		q += ` WHERE p.status = $1 AND p.release_at <= $2`
		args = append(args, string(StatusPublished), releasedBy.UTC())
	}
	q += ` ORDER BY p.period_start DESC, p.id DESC`
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("stats: list: %w", err)
	}
	defer rows.Close()
	var out []Publication
	for rows.Next() {
		p, err := scanPublication(rows)
		if err != nil {
			return nil, fmt.Errorf("stats: list: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stats: list: %w", err)
	}
	return out, nil
}

// Build builds a publication from live data, storing nothing: the preview,
// the command's files and each published version are all built here.
func (s *Service) Build(ctx context.Context, meta Meta, rules sdc.Rules) (*Output, error) {
	counts, err := s.counts.StatCounts(ctx, meta.Basis, meta.From, meta.To)
	if err != nil {
		return nil, fmt.Errorf("stats: build: %w", err)
	}
	names := map[string]string{}
	for _, c := range counts.Events {
		if _, ok := names[c.Org]; ok {
			continue
		}
		code, err := org.ParseCode(c.Org)
		if err != nil {
			names[c.Org] = c.Org
			continue
		}
		o, err := s.orgs.Get(ctx, code)
		switch {
		case apperr.CodeOf(err) == apperr.NotFound:
			names[c.Org] = c.Org
		case err != nil:
			return nil, fmt.Errorf("stats: build: organisation %s: %w", c.Org, err)
		default:
			names[c.Org] = o.Name
		}
	}
	dens, err := s.denominatorsFor(ctx, meta.From, meta.To)
	if err != nil {
		return nil, err
	}
	rep, err := Build(Input{Meta: meta, Rules: rules, Counts: counts, OrgNames: names, Denominators: dens, Taxonomy: s.taxonomy})
	if err != nil {
		return nil, err
	}
	files, err := Files(rep, s.html)
	if err != nil {
		return nil, err
	}
	return &Output{Report: rep, Files: files, Fingerprint: fingerprint(counts, dens)}, nil
}

// BuildPeriod does all of a publication's work for a period but store it
// (counts, names, denominators, disclosure control, every file) with the
// service's rules, and discards the result: the hook `psims bench stats`
// times (its Publish option). A refusal by disclosure control is an error.
func (s *Service) BuildPeriod(ctx context.Context, from, to time.Time, basis incident.Basis) error {
	_, err := s.Build(ctx, Meta{Title: "Benchmark publication", From: dateOnly(from), To: dateOnly(to), Basis: basis, Version: 1}, s.rules)
	return err
}

// fingerprint is the SHA-256 of what a publication was built from, so a
// later build can tell whether the data changed.
func fingerprint(c incident.StatCounts, dens []Denominator) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	// Encoding errors cannot happen for these plain structs.
	_ = enc.Encode(c)
	_ = enc.Encode(dens)
	return hex.EncodeToString(h.Sum(nil))
}

// Preview builds publication id from live data, storing nothing.
func (s *Service) Preview(ctx context.Context, id int64) (*Output, error) {
	p, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	reason := ""
	if p.Versions > 0 {
		reason = "(preview of a revision)"
	}
	return s.Build(ctx, p.Meta(p.Versions+1, reason), p.Rules)
}

// Publish publishes draft id as version 1. Errors: NotFound; Conflict when
// it is already published or disclosure control refuses it.
func (s *Service) Publish(ctx context.Context, by Actor, id int64) error {
	p, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if p.Status != StatusDraft {
		return apperr.New(apperr.Conflict, "This publication has already been published; revise it instead")
	}
	out, err := s.Build(ctx, p.Meta(1, ""), p.Rules)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE statistics_publications SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4`,
			string(StatusPublished), tx.Now, id, string(StatusDraft))
		if err != nil {
			return fmt.Errorf("stats: publish %d: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return apperr.New(apperr.Conflict, "This publication has already been published; revise it instead")
		}
		if err := storeVersion(ctx, tx, id, 1, "", p.Rules, out, nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: by.ID, Action: "statistics.publish", SubjectType: "publication",
			SubjectID: strconv.FormatInt(id, 10), IP: by.IP, Details: map[string]string{
				"version": "1", "fingerprint": out.Fingerprint, "files": strconv.Itoa(len(out.Files)),
				"suppressed": strconv.Itoa(out.Report.Suppressed)}})
	})
}

// MaxReasonLength is the longest reason for a revision.
const MaxReasonLength = 2000

// Revise publishes version N+1 of published publication id, built from
// live data, with the reason for it and the figures that changed. The
// earlier versions stay published. Errors: NotFound; Fields for a missing
// reason; Conflict when it is not published yet or disclosure control
// refuses it.
func (s *Service) Revise(ctx context.Context, by Actor, id int64, reason string) (int, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return 0, apperr.Fields{{Field: "reason", Message: "Enter the reason for the revision"}}
	}
	if len([]rune(reason)) > MaxReasonLength {
		return 0, apperr.Fields{{Field: "reason", Message: fmt.Sprintf("Reason must be %d characters or fewer", MaxReasonLength)}}
	}
	p, err := s.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	if p.Status != StatusPublished {
		return 0, apperr.New(apperr.Conflict, "Only a published publication can be revised; publish it first")
	}
	n := p.Versions + 1
	out, err := s.Build(ctx, p.Meta(n, reason), p.Rules)
	if err != nil {
		return 0, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var figures string
		err := tx.QueryRowContext(ctx, `SELECT figures FROM statistics_versions WHERE publication_id = $1 AND version = $2`, id, n-1).Scan(&figures)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.Conflict, "This publication was revised at the same time; look at it again")
		}
		if err != nil {
			return fmt.Errorf("stats: revise %d: %w", id, err)
		}
		var old []Figure
		if err := json.Unmarshal([]byte(figures), &old); err != nil {
			return fmt.Errorf("stats: revise %d: stored figures: %w", id, err)
		}
		changes := Changes(old, out.Report.Figures())
		if err := storeVersion(ctx, tx, id, n, reason, p.Rules, out, changes); err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.New(apperr.Conflict, "This publication was revised at the same time; look at it again")
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE statistics_publications SET updated_at = $1 WHERE id = $2`, tx.Now, id); err != nil {
			return fmt.Errorf("stats: revise %d: %w", id, err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: by.ID, Action: "statistics.revise", SubjectType: "publication",
			SubjectID: strconv.FormatInt(id, 10), IP: by.IP, Details: map[string]string{
				"version": strconv.Itoa(n), "reason": reason, "fingerprint": out.Fingerprint,
				"changed_figures": strconv.Itoa(len(changes))}})
	})
	return n, err
}

// Changes lists, in words, the figures of new that differ from old: a
// changed figure "key: old → new", a new one "key: added (text)" and one
// no longer published "key: removed (was text)". Figures are compared by
// what they say, in the order new lists them, then the removed ones.
func Changes(old, new []Figure) []string {
	was := make(map[string]string, len(old))
	for _, f := range old {
		was[f.Key] = f.Text
	}
	var out []string
	seen := make(map[string]bool, len(new))
	for _, f := range new {
		seen[f.Key] = true
		prev, ok := was[f.Key]
		switch {
		case !ok:
			out = append(out, f.Key+": added ("+f.Text+")")
		case prev != f.Text:
			out = append(out, f.Key+": "+prev+" → "+f.Text)
		}
	}
	for _, f := range old {
		if !seen[f.Key] {
			out = append(out, f.Key+": removed (was "+f.Text+")")
		}
	}
	return out
}

func storeVersion(ctx context.Context, tx *db.Tx, id int64, n int, reason string, rules sdc.Rules, out *Output, changes []string) error {
	rulesJSON, err := json.Marshal(rules)
	if err != nil {
		return fmt.Errorf("stats: store version: %w", err)
	}
	figures, err := json.Marshal(out.Report.Figures())
	if err != nil {
		return fmt.Errorf("stats: store version: %w", err)
	}
	if changes == nil {
		changes = []string{}
	}
	changesJSON, err := json.Marshal(changes)
	if err != nil {
		return fmt.Errorf("stats: store version: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO statistics_versions
		(publication_id, version, reason, rules, fingerprint, figures, changes, published_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		id, n, reason, string(rulesJSON), out.Fingerprint, string(figures), string(changesJSON), tx.Now); err != nil {
		return fmt.Errorf("stats: store version %d of %d: %w", n, id, err)
	}
	for i, f := range out.Files {
		if _, err := tx.ExecContext(ctx, `INSERT INTO statistics_files
			(publication_id, version, position, name, content_type, content, sha256) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			id, n, i, f.Name, f.ContentType, f.Body, f.SHA256); err != nil {
			return fmt.Errorf("stats: store %s: %w", f.Name, err)
		}
	}
	return nil
}

// Versions returns the published versions of publication id, oldest
// first, each with its files listed (without their bytes).
func (s *Service) Versions(ctx context.Context, id int64) ([]Version, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version, reason, rules, fingerprint, changes, published_at
		FROM statistics_versions WHERE publication_id = $1 ORDER BY version`, id)
	if err != nil {
		return nil, fmt.Errorf("stats: versions of %d: %w", id, err)
	}
	var out []Version
	for rows.Next() {
		v := Version{PublicationID: id}
		var rules, changes string
		if err := rows.Scan(&v.N, &v.Reason, &rules, &v.Fingerprint, &changes, &v.PublishedAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("stats: versions of %d: %w", id, err)
		}
		if err := json.Unmarshal([]byte(rules), &v.Rules); err != nil {
			rows.Close()
			return nil, fmt.Errorf("stats: versions of %d: rules: %w", id, err)
		}
		if err := json.Unmarshal([]byte(changes), &v.Changes); err != nil {
			rows.Close()
			return nil, fmt.Errorf("stats: versions of %d: changes: %w", id, err)
		}
		v.PublishedAt = v.PublishedAt.UTC()
		out = append(out, v)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("stats: versions of %d: %w", id, err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stats: versions of %d: %w", id, err)
	}
	frows, err := s.db.QueryContext(ctx, `SELECT version, name, content_type, sha256 FROM statistics_files
		WHERE publication_id = $1 ORDER BY version, position`, id)
	if err != nil {
		return nil, fmt.Errorf("stats: files of %d: %w", id, err)
	}
	defer frows.Close()
	for frows.Next() {
		var n int
		var f File
		if err := frows.Scan(&n, &f.Name, &f.ContentType, &f.SHA256); err != nil {
			return nil, fmt.Errorf("stats: files of %d: %w", id, err)
		}
		if n >= 1 && n <= len(out) {
			out[n-1].Files = append(out[n-1].Files, f)
		}
	}
	if err := frows.Err(); err != nil {
		return nil, fmt.Errorf("stats: files of %d: %w", id, err)
	}
	return out, nil
}

// File returns one stored file of version n of publication id, with its
// bytes. Errors: NotFound.
func (s *Service) File(ctx context.Context, id int64, n int, name string) (File, error) {
	f := File{Name: name}
	err := s.db.QueryRowContext(ctx, `SELECT content_type, content, sha256 FROM statistics_files
		WHERE publication_id = $1 AND version = $2 AND name = $3`, id, n, name).Scan(&f.ContentType, &f.Body, &f.SHA256)
	if errors.Is(err, sql.ErrNoRows) {
		return f, apperr.New(apperr.NotFound, "There is no such file")
	}
	if err != nil {
		return f, fmt.Errorf("stats: file %s of %d v%d: %w", name, id, n, err)
	}
	return f, nil
}

// PreRelease lists the email addresses on publication id's pre-release
// access list, in order.
func (s *Service) PreRelease(ctx context.Context, id int64) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT email FROM statistics_prerelease WHERE publication_id = $1 ORDER BY email`, id)
	if err != nil {
		return nil, fmt.Errorf("stats: pre-release list of %d: %w", id, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, fmt.Errorf("stats: pre-release list of %d: %w", id, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// OnPreRelease reports whether email is on publication id's pre-release
// access list.
func (s *Service) OnPreRelease(ctx context.Context, id int64, email string) (bool, error) {
	addr, err := emailaddr.Parse(email)
	if err != nil {
		return false, nil
	}
	var n int
	err = s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM statistics_prerelease WHERE publication_id = $1 AND email = $2`,
		id, addr.String()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("stats: pre-release check: %w", err)
	}
	return n > 0, nil
}

// AddPreRelease puts email on publication id's pre-release access list,
// and emails the address to say so, with the link and the release time.
// Errors: NotFound; Fields for an address that is not one.
func (s *Service) AddPreRelease(ctx context.Context, by Actor, id int64, email string) error {
	addr, err := emailaddr.Parse(strings.TrimSpace(email))
	if err != nil {
		return apperr.Fields{{Field: "email", Message: "Enter an email address in the correct format, like name@example.nhs.uk"}}
	}
	p, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO statistics_prerelease (publication_id, email, added_by, added_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT (publication_id, email) DO NOTHING`, id, addr.String(), db.NullID(by.ID), tx.Now)
		if err != nil {
			return fmt.Errorf("stats: add pre-release: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		link := s.baseURL + "/statistics/" + strconv.FormatInt(id, 10)
		if _, err := s.outbox.Enqueue(ctx, tx, mail.PreReleaseAccess(addr.String(), p.Title,
			p.Release.In(s.uk).Format("2 January 2006 at 15:04")+" (UK time)", link)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: by.ID, Action: "statistics.prerelease_add", SubjectType: "publication",
			SubjectID: strconv.FormatInt(id, 10), IP: by.IP, Details: map[string]string{"email": addr.String()}})
	})
}

// RecordPreReleaseView records in the audit log that someone on the
// pre-release list read publication id before its release, as the list
// exists to account for who saw it early.
func (s *Service) RecordPreReleaseView(ctx context.Context, by Actor, id int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		return audit.Record(ctx, tx, audit.Entry{ActorID: by.ID, Action: "statistics.prerelease_view", SubjectType: "publication",
			SubjectID: strconv.FormatInt(id, 10), IP: by.IP})
	})
}

// RemovePreRelease takes email off publication id's pre-release list.
func (s *Service) RemovePreRelease(ctx context.Context, by Actor, id int64, email string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM statistics_prerelease WHERE publication_id = $1 AND email = $2`, id, email)
		if err != nil {
			return fmt.Errorf("stats: remove pre-release: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: by.ID, Action: "statistics.prerelease_remove", SubjectType: "publication",
			SubjectID: strconv.FormatInt(id, 10), IP: by.IP, Details: map[string]string{"email": email}})
	})
}
