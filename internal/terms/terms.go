// Package terms owns the service's versioned documents (the terms of use,
// the privacy policy and the recording statement), the ledger of who
// accepted which version, and people's consent preferences (T1, T2, T7,
// T19, P9, P15, P16, P19).
//
// A published version never changes. A version published as material must
// be accepted again by everyone before they go on using the service; the
// first version of a kind is always material. Consent is kept apart from
// acceptance: no consent is needed to use the service.
package terms

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/textcheck"
)

// Kind is a kind of document.
type Kind string

// The kinds of document. Terms and Privacy must be accepted; the recording
// statement is shown before each submission and its version is stored with
// the event (T7).
const (
	Terms              Kind = "terms"
	Privacy            Kind = "privacy"
	RecordingStatement Kind = "recording-statement"
)

// Kinds lists every kind, in the order pages show them.
func Kinds() []Kind { return []Kind{Terms, Privacy, RecordingStatement} }

// AcceptedKinds lists the kinds people must accept before using the service.
func AcceptedKinds() []Kind { return []Kind{Terms, Privacy} }

// ParseKind returns the kind named s, or an Invalid error.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds() {
		if string(k) == s {
			return k, nil
		}
	}
	return "", apperr.New(apperr.Invalid, "There is no document of that kind.")
}

// Label is the kind's name as people read it, such as "terms of use".
func (k Kind) Label() string {
	switch k {
	case Terms:
		return "terms of use"
	case Privacy:
		return "privacy policy"
	case RecordingStatement:
		return "recording statement"
	}
	return string(k)
}

// Title is Label with a capital letter, for headings.
func (k Kind) Title() string {
	l := k.Label()
	return strings.ToUpper(l[:1]) + l[1:]
}

// Accepted reports whether people must accept documents of the kind.
func (k Kind) Accepted() bool { return k == Terms || k == Privacy }

// Document is one published version of a document.
type Document struct {
	ID      int64
	Kind    Kind
	Version int
	Body    string // Markdown
	// HTML is Body rendered by Render when the version was published:
	// people see exactly the text that was published, and pages do not
	// render Markdown on every request.
	HTML template.HTML
	// Summary says what changed since the previous version.
	Summary string
	// Material versions must be accepted again by everyone (T2, P16).
	Material    bool
	PublishedAt time.Time
	PublishedBy int64 // 0 for the system or the command line
}

// Limits on what a national admin may publish.
const (
	MaxBytes       = 200_000
	maxSummaryRune = 2000
)

// Draft is a version about to be published.
type Draft struct {
	Kind     Kind
	Body     string
	Summary  string
	Material bool
	// Replaces is the version the author started from. When it is set and
	// another version has been published since, nothing is published and
	// Publish returns a Conflict, so nobody overwrites a change unseen.
	Replaces int
}

// JobInserter queues background jobs in the caller's transaction.
type JobInserter interface {
	InsertTx(ctx context.Context, tx *db.Tx, args river.JobArgs, opts *river.InsertOpts) error
}

// Service publishes documents and keeps acceptances and consents.
type Service struct {
	db      *db.DB
	jobs    JobInserter
	figures DefaultFigures
}

// DefaultFigures are the settings the default texts state, written into
// them when PublishDefaults publishes them, so that the privacy policy
// says what the service really does.
type DefaultFigures struct {
	// IPRetention is how long usage events keep whole IP addresses, in
	// words ("30 days"): --usage-ip-retention. Empty means the default,
	// 30 days.
	IPRetention string
}

// ipRetentionPlaceholder is where the default privacy policy states
// DefaultFigures.IPRetention.
const ipRetentionPlaceholder = "[IP retention period]"

// WithDefaultFigures makes PublishDefaults write f into the default
// texts, and returns s.
func (s *Service) WithDefaultFigures(f DefaultFigures) *Service {
	s.figures = f
	return s
}

// fill writes the figures into a default text.
func (f DefaultFigures) fill(body string) string {
	ip := f.IPRetention
	if ip == "" {
		ip = "30 days"
	}
	return strings.ReplaceAll(body, ipRetentionPlaceholder, ip)
}

// NewService returns a Service that queues change notices through jobs.
func NewService(d *db.DB, jobs JobInserter) *Service {
	return &Service{db: d, jobs: jobs}
}

// Client says where an action came from, for the ledger and the audit log.
type Client struct {
	IP        string
	UserAgent string
}

//go:embed defaults/*.md
var defaultFiles embed.FS

// PublishDefaults publishes the project's own first version of each kind
// that has none yet, so a new installation starts with texts to accept,
// with the figures of WithDefaultFigures written in (P4: the period after
// which IP addresses are truncated).
// Operators replace them by publishing their own. Running it again, or in
// several processes at once, publishes nothing twice.
func (s *Service) PublishDefaults(ctx context.Context) error {
	for _, k := range Kinds() {
		if _, err := s.Current(ctx, k); err == nil {
			continue
		} else if apperr.CodeOf(err) != apperr.NotFound {
			return err
		}
		body, err := defaultFiles.ReadFile("defaults/" + string(k) + ".md")
		if err != nil {
			return fmt.Errorf("terms: read default %s: %w", k, err)
		}
		_, err = s.publish(ctx, 0, Client{}, Draft{Kind: k, Body: s.figures.fill(string(body)),
			Summary: "The first version, provided with PSIMS.", Material: true}, true)
		if err != nil && apperr.CodeOf(err) != apperr.Conflict {
			return fmt.Errorf("terms: publish default %s: %w", k, err)
		}
	}
	return nil
}

func validate(d Draft) error {
	var problems apperr.Fields
	body := strings.TrimSpace(d.Body)
	switch {
	case body == "":
		problems.Add("body", "Enter the text of the "+d.Kind.Label())
	case len(d.Body) > MaxBytes:
		problems.Add("body", fmt.Sprintf("The text must be %d KB or smaller", MaxBytes/1000))
	case !textcheck.Valid(d.Body):
		problems.Add("body", textcheck.Message("The text")+" (paste it again as plain text)")
	}
	switch n := utf8.RuneCountInString(strings.TrimSpace(d.Summary)); {
	case n == 0:
		problems.Add("summary", "Enter a summary of what changed")
	case n > maxSummaryRune:
		problems.Add("summary", fmt.Sprintf("The summary must be %d characters or fewer", maxSummaryRune))
	case !textcheck.Valid(d.Summary):
		problems.Add("summary", textcheck.Message("The summary"))
	}
	return problems.Err()
}

// Publish publishes d as the next version of its kind and returns it. The
// first version of a kind is always material. A material version of the
// terms or privacy policy also queues an email to every active user (T19).
// actorID 0 means the command line. Errors: Invalid (with field errors),
// Conflict when another version was published since d.Replaces or at the
// same moment.
func (s *Service) Publish(ctx context.Context, actorID int64, c Client, d Draft) (Document, error) {
	return s.publish(ctx, actorID, c, d, false)
}

// publish is Publish; with onlyFirst it publishes nothing (and returns a
// Conflict) when the kind already has a version.
func (s *Service) publish(ctx context.Context, actorID int64, c Client, d Draft, onlyFirst bool) (Document, error) {
	d.Body = strings.ReplaceAll(d.Body, "\r\n", "\n")
	d.Summary = strings.TrimSpace(d.Summary)
	if err := validate(d); err != nil {
		return Document{}, err
	}
	html, err := Render(d.Body)
	if err != nil {
		return Document{}, fmt.Errorf("terms: render %s: %w", d.Kind, err)
	}
	doc := Document{Kind: d.Kind, Body: d.Body, HTML: html, Summary: d.Summary, Material: d.Material, PublishedBy: actorID}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var latest sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM documents WHERE kind = $1`, d.Kind).Scan(&latest); err != nil {
			return fmt.Errorf("terms: latest version: %w", err)
		}
		if onlyFirst && latest.Valid {
			return apperr.New(apperr.Conflict, "The "+d.Kind.Label()+" has already been published.")
		}
		if d.Replaces != 0 && int(latest.Int64) != d.Replaces {
			return apperr.New(apperr.Conflict, fmt.Sprintf("Version %d of the %s was published while you were editing.", latest.Int64, d.Kind.Label()))
		}
		doc.Version = int(latest.Int64) + 1
		if doc.Version == 1 {
			doc.Material = true
		}
		doc.PublishedAt = tx.Now
		err := tx.QueryRowContext(ctx, `INSERT INTO documents (kind, version, body, html, summary, material, published_at, published_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			doc.Kind, doc.Version, doc.Body, string(doc.HTML), doc.Summary, doc.Material, doc.PublishedAt, db.NullID(actorID)).Scan(&doc.ID)
		if db.IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "Another version was published at the same moment. Look at it before publishing yours.")
		}
		if err != nil {
			return fmt.Errorf("terms: insert document: %w", err)
		}
		if doc.Material && doc.Kind.Accepted() && doc.Version > 1 {
			if err := s.queueNotice(ctx, tx, doc.ID); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: actorID, Action: "document.publish", SubjectType: "document",
			SubjectID: strconv.FormatInt(doc.ID, 10), IP: c.IP,
			Details: map[string]string{"kind": string(doc.Kind), "version": strconv.Itoa(doc.Version),
				"material": strconv.FormatBool(doc.Material)}})
	})
	if err != nil {
		return Document{}, err
	}
	return doc, nil
}

const documentColumns = `id, kind, version, body, html, summary, material, published_at, COALESCE(published_by, 0)`

// listColumns are documentColumns without the texts, for lists.
const listColumns = `id, kind, version, '', '', summary, material, published_at, COALESCE(published_by, 0)`

func scanDocument(row interface{ Scan(...any) error }) (Document, error) {
	var d Document
	var html string
	err := row.Scan(&d.ID, &d.Kind, &d.Version, &d.Body, &html, &d.Summary, &d.Material, &d.PublishedAt, &d.PublishedBy)
	d.HTML = template.HTML(html)
	d.PublishedAt = d.PublishedAt.UTC()
	return d, err
}

// Current returns the latest version of kind. Errors: NotFound when none
// has been published.
func (s *Service) Current(ctx context.Context, kind Kind) (Document, error) {
	d, err := scanDocument(s.db.QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE kind = $1 ORDER BY version DESC LIMIT 1`, kind))
	if errors.Is(err, sql.ErrNoRows) {
		return Document{}, apperr.New(apperr.NotFound, "No "+kind.Label()+" has been published yet.")
	}
	if err != nil {
		return Document{}, fmt.Errorf("terms: current %s: %w", kind, err)
	}
	return d, nil
}

// Version returns one version of kind. Errors: NotFound.
func (s *Service) Version(ctx context.Context, kind Kind, version int) (Document, error) {
	d, err := scanDocument(s.db.QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE kind = $1 AND version = $2`, kind, version))
	if errors.Is(err, sql.ErrNoRows) {
		return Document{}, apperr.New(apperr.NotFound, "There is no such version of the "+kind.Label()+".")
	}
	if err != nil {
		return Document{}, fmt.Errorf("terms: %s version %d: %w", kind, version, err)
	}
	return d, nil
}

// Versions returns every version of kind, newest first, without their text.
func (s *Service) Versions(ctx context.Context, kind Kind) ([]Document, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+listColumns+` FROM documents WHERE kind = $1 ORDER BY version DESC`, kind)
	if err != nil {
		return nil, fmt.Errorf("terms: list %s versions: %w", kind, err)
	}
	defer rows.Close()
	var docs []Document
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, fmt.Errorf("terms: scan version: %w", err)
		}
		docs = append(docs, d)
	}
	return docs, rows.Err()
}
