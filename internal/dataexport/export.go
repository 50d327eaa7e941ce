package dataexport

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
)

// Kind says whose request made an export.
type Kind string

// The kinds of export.
const (
	KindSelf       Kind = "self"       // the person's own download (P15)
	KindDisclosure Kind = "disclosure" // a national admin's legal disclosure (P18)
)

// Status is where an export is in its life.
type Status string

// The statuses.
const (
	StatusPending Status = "pending" // being built by the job
	StatusReady   Status = "ready"   // may be downloaded until it expires
	StatusFailed  Status = "failed"  // the job gave up; the person may ask again
	StatusExpired Status = "expired" // its content has been deleted
)

// Keep is how long an export may be downloaded once it is ready.
const Keep = 7 * 24 * time.Hour

// DefaultJobThreshold is how many usage rows an account may have for its
// export to be made while the person waits; larger ones are built by the
// data_export job and the person is emailed.
const DefaultJobThreshold = 20000

// PerDay is how many exports of their own data a person may ask for in 24
// hours.
const PerDay = 5

// Export is one export as stored, without its content.
type Export struct {
	ID           int64
	PublicID     string // the random name its links use
	UserID       int64  // whose data it holds
	RequestedBy  int64  // who asked: the person, or the national admin who disclosed
	Kind         Kind
	Format       string
	Status       Status
	Basis        Basis  // for a disclosure
	Reference    string // for a disclosure
	Size         int64  // bytes of compressed content
	CreatedAt    time.Time
	ReadyAt      *time.Time
	ExpiresAt    time.Time
	DownloadedAt *time.Time
}

// Expired reports whether the export can no longer be downloaded at now.
func (e Export) Expired(now time.Time) bool {
	return e.Status == StatusExpired || !now.Before(e.ExpiresAt)
}

// Outbox queues email in a transaction (*mail.Outbox).
type Outbox interface {
	Enqueue(ctx context.Context, tx *db.Tx, m mail.Message) (int64, error)
}

// JobInserter inserts a job inside a transaction (*jobs.Runner).
type JobInserter interface {
	InsertTx(ctx context.Context, tx *db.Tx, args river.JobArgs, opts *river.InsertOpts) error
}

// Service makes, keeps and serves exports.
type Service struct {
	db        *db.DB
	parts     Parts
	jobs      JobInserter
	pageURL   string // the absolute address of /account/data/download, for the email
	threshold int
}

// NewService returns a Service reading from parts. pageURL is the absolute
// address of the "Download my data" page, which the ready email links to.
func NewService(d *db.DB, parts Parts, jobs JobInserter, pageURL string) *Service {
	return &Service{db: d, parts: parts, jobs: jobs, pageURL: pageURL, threshold: DefaultJobThreshold}
}

// WithJobThreshold sets how many usage rows an account may have for its
// export to be made at once; above it the job builds it. Tests set 0 to
// drive the job path.
func (s *Service) WithJobThreshold(n int) *Service {
	s.threshold = n
	return s
}

const exportColumns = `id, public_id, user_id, COALESCE(requested_by, 0), kind, format, status, legal_basis, reference, size,
	created_at, ready_at, expires_at, downloaded_at`

func scanExport(row interface{ Scan(...any) error }) (Export, error) {
	var e Export
	var ready, downloaded sql.NullTime
	if err := row.Scan(&e.ID, &e.PublicID, &e.UserID, &e.RequestedBy, &e.Kind, &e.Format, &e.Status, &e.Basis, &e.Reference,
		&e.Size, &e.CreatedAt, &ready, &e.ExpiresAt, &downloaded); err != nil {
		return Export{}, err
	}
	e.CreatedAt, e.ExpiresAt = e.CreatedAt.UTC(), e.ExpiresAt.UTC()
	if ready.Valid {
		t := ready.Time.UTC()
		e.ReadyAt = &t
	}
	if downloaded.Valid {
		t := downloaded.Time.UTC()
		e.DownloadedAt = &t
	}
	return e, nil
}

func newPublicID() string {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("dataexport: random: %v", err)) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// encode is how a document is stored: indented JSON, gzip-compressed.
func encode(doc Document) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	enc := json.NewEncoder(zw)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("dataexport: encode: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("dataexport: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// decompress returns a stored document's JSON text.
func decompress(content []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(content))
	if err != nil {
		return nil, fmt.Errorf("dataexport: decode: %w", err)
	}
	defer zr.Close()
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("dataexport: decode: %w", err)
	}
	return b, nil
}

func auditEntry(actor int64, action string, e Export, ip string, extra map[string]string) audit.Entry {
	details := map[string]string{"user": strconv.FormatInt(e.UserID, 10), "kind": string(e.Kind)}
	for k, v := range extra {
		details[k] = v
	}
	return audit.Entry{ActorID: actor, Action: action, SubjectType: "data_export", SubjectID: strconv.FormatInt(e.ID, 10),
		Details: details, IP: ip}
}

var errAlreadyWaiting = apperr.New(apperr.Conflict,
	"We are already preparing a download of your data. We will email you when it is ready.")

// Request asks for an export of the person's own data (P15). A small
// account's export is made at once and is ready on return; a large one's
// (more usage rows than the job threshold) is left to the data_export job,
// which emails the person when it is ready. Either way it can be
// downloaded for 7 days. Requested (and, when made at once, ready) is
// audited. Errors: Conflict while another of the person's exports is being
// built; RateLimited after PerDay requests in 24 hours; NotFound when
// there is no such account.
func (s *Service) Request(ctx context.Context, userID int64, ip string) (Export, error) {
	now := s.db.Now()
	var waiting, recent int
	err := s.db.QueryRowContext(ctx, `SELECT
		COUNT(CASE WHEN status = 'pending' THEN 1 END), COUNT(CASE WHEN created_at > $2 THEN 1 END)
		FROM data_exports WHERE user_id = $1 AND kind = 'self'`, userID, now.Add(-24*time.Hour)).Scan(&waiting, &recent)
	if err != nil {
		return Export{}, fmt.Errorf("dataexport: request: %w", err)
	}
	if waiting > 0 {
		return Export{}, errAlreadyWaiting
	}
	if recent >= PerDay {
		return Export{}, apperr.New(apperr.RateLimited, fmt.Sprintf(
			"You can ask for a download of your data %d times in 24 hours. Use one of the downloads below, or try again tomorrow.", PerDay))
	}
	n, err := s.size(ctx, userID)
	if err != nil {
		return Export{}, err
	}
	e := Export{PublicID: newPublicID(), UserID: userID, RequestedBy: userID, Kind: KindSelf, Format: Format, Status: StatusPending}
	var content []byte
	if n <= s.threshold {
		doc, err := s.Assemble(ctx, userID)
		if err != nil {
			return Export{}, err
		}
		if content, err = encode(doc); err != nil {
			return Export{}, err
		}
		e.Status = StatusReady
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		e.CreatedAt, e.ExpiresAt = tx.Now, tx.Now.Add(Keep)
		if e.Status == StatusReady {
			e.ReadyAt, e.Size = &tx.Now, int64(len(content))
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO data_exports
			(public_id, user_id, requested_by, kind, format, status, content, size, created_at, ready_at, expires_at)
			VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			e.PublicID, userID, string(e.Kind), e.Format, string(e.Status), content, e.Size, e.CreatedAt, e.ReadyAt, e.ExpiresAt).Scan(&e.ID)
		if err != nil {
			if db.IsUniqueViolation(err) {
				return errAlreadyWaiting
			}
			return fmt.Errorf("dataexport: request: %w", err)
		}
		if err := audit.Record(ctx, tx, auditEntry(userID, "data_export.requested", e, ip, nil)); err != nil {
			return err
		}
		if e.Status == StatusReady {
			return audit.Record(ctx, tx, auditEntry(userID, "data_export.ready", e, ip, map[string]string{"bytes": strconv.FormatInt(e.Size, 10)}))
		}
		return s.jobs.InsertTx(ctx, tx, BuildArgs{ExportID: e.ID}, nil)
	})
	if err != nil {
		return Export{}, err
	}
	return e, nil
}

// Build makes the content of a pending export, marks it ready for 7 days
// from now, audits that, and emails the person a link to it, all in one
// transaction. An export that is no longer pending is left alone, so a
// repeated job does nothing.
func (s *Service) Build(ctx context.Context, exportID int64) error {
	e, err := s.byID(ctx, exportID)
	if err != nil || e.Status != StatusPending {
		return err
	}
	doc, err := s.Assemble(ctx, e.UserID)
	if err != nil {
		return err
	}
	content, err := encode(doc)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		e.Size, e.ExpiresAt = int64(len(content)), tx.Now.Add(Keep)
		res, err := tx.ExecContext(ctx, `UPDATE data_exports SET status = 'ready', content = $1, size = $2, ready_at = $3, expires_at = $4
			WHERE id = $5 AND status = 'pending'`, content, e.Size, tx.Now, e.ExpiresAt, e.ID)
		if err != nil {
			return fmt.Errorf("dataexport: build: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // built by another run meanwhile
		}
		if err := audit.Record(ctx, tx, auditEntry(0, "data_export.ready", e, "", map[string]string{"bytes": strconv.FormatInt(e.Size, 10)})); err != nil {
			return err
		}
		a := doc.Account.Account
		_, err = s.parts.Mail.Enqueue(ctx, tx, mail.DataExportReady(mail.Addressee{Email: a.Email, Name: a.Name},
			s.pageURL+"/"+e.PublicID, e.ExpiresAt))
		return err
	})
}

// fail marks a pending export failed after the job gave up, so the person
// may ask again.
func (s *Service) fail(ctx context.Context, exportID int64, cause error) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		e, err := scanExport(tx.QueryRowContext(ctx, `SELECT `+exportColumns+` FROM data_exports WHERE id = $1`, exportID))
		if err != nil || e.Status != StatusPending {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE data_exports SET status = 'failed' WHERE id = $1`, exportID); err != nil {
			return fmt.Errorf("dataexport: fail: %w", err)
		}
		return audit.Record(ctx, tx, auditEntry(0, "data_export.failed", e, "", map[string]string{"error": truncate(cause.Error(), 200)}))
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

func (s *Service) byID(ctx context.Context, id int64) (Export, error) {
	e, err := scanExport(s.db.QueryRowContext(ctx, `SELECT `+exportColumns+` FROM data_exports WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Export{}, apperr.New(apperr.NotFound, "There is no such download.")
	}
	if err != nil {
		return Export{}, fmt.Errorf("dataexport: export %d: %w", id, err)
	}
	return e, nil
}

// Mine lists the person's own exports, newest first.
func (s *Service) Mine(ctx context.Context, userID int64) ([]Export, error) {
	return s.list(ctx, `user_id = $1 AND kind = 'self'`, userID)
}

// Disclosures lists the disclosures made about userID, newest first.
func (s *Service) Disclosures(ctx context.Context, userID int64) ([]Export, error) {
	return s.list(ctx, `user_id = $1 AND kind = 'disclosure'`, userID)
}

func (s *Service) list(ctx context.Context, where string, arg any) ([]Export, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+exportColumns+` FROM data_exports WHERE `+where+` ORDER BY id DESC LIMIT 50`, arg)
	if err != nil {
		return nil, fmt.Errorf("dataexport: list: %w", err)
	}
	defer rows.Close()
	var out []Export
	for rows.Next() {
		e, err := scanExport(rows)
		if err != nil {
			return nil, fmt.Errorf("dataexport: list: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Download is an opened export: its record, and when it is ready and not
// expired, the document and its JSON text.
type Download struct {
	Export
	Document *Document
	JSON     []byte
}

// errNoDownload is the one answer for an export that does not exist or is
// not the caller's.
var errNoDownload = apperr.New(apperr.NotFound, "There is no such download.")

// Open returns the viewer's own export named publicID (P15). When it is
// ready and not expired, the document comes with it and the download is
// audited with format ("html" or "json"); a pending or expired one comes
// without, for the page to say so. Errors: NotFound when there is no such
// export or it is not the viewer's own.
func (s *Service) Open(ctx context.Context, viewerID int64, publicID, format, ip string) (Download, error) {
	return s.open(ctx, viewerID, publicID, format, ip, func(e Export) bool { return e.Kind == KindSelf && e.UserID == viewerID })
}

// OpenDisclosure returns the disclosure named publicID about userID, for
// a national admin (who may see it is for authz to decide), audited like
// Open. Errors: NotFound when there is no such disclosure about userID.
func (s *Service) OpenDisclosure(ctx context.Context, actorID, userID int64, publicID, format, ip string) (Download, error) {
	return s.open(ctx, actorID, publicID, format, ip, func(e Export) bool { return e.Kind == KindDisclosure && e.UserID == userID })
}

func (s *Service) open(ctx context.Context, actorID int64, publicID, format, ip string, mine func(Export) bool) (Download, error) {
	var content []byte
	e, err := scanExport(s.db.QueryRowContext(ctx, `SELECT `+exportColumns+` FROM data_exports WHERE public_id = $1`, publicID))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !mine(e)) {
		return Download{}, errNoDownload
	}
	if err != nil {
		return Download{}, fmt.Errorf("dataexport: open: %w", err)
	}
	d := Download{Export: e}
	if e.Status != StatusReady || e.Expired(s.db.Now()) {
		return d, nil
	}
	if err := s.db.QueryRowContext(ctx, `SELECT content FROM data_exports WHERE id = $1`, e.ID).Scan(&content); err != nil {
		return Download{}, fmt.Errorf("dataexport: open: %w", err)
	}
	if d.JSON, err = decompress(content); err != nil {
		return Download{}, err
	}
	var doc Document
	if err := json.Unmarshal(d.JSON, &doc); err != nil {
		return Download{}, fmt.Errorf("dataexport: open: %w", err)
	}
	d.Document = &doc
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE data_exports SET downloaded_at = $1 WHERE id = $2`, tx.Now, e.ID); err != nil {
			return fmt.Errorf("dataexport: open: %w", err)
		}
		return audit.Record(ctx, tx, auditEntry(actorID, "data_export.downloaded", e, ip, map[string]string{"format": format}))
	})
	if err != nil {
		return Download{}, err
	}
	return d, nil
}

// Sweep deletes the content of every export whose 7 days have passed
// (and gives up on any still pending by then), audited with the count,
// and returns how many it deleted. Running it again does nothing.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE data_exports SET status = 'expired', content = NULL, size = 0
			WHERE status <> 'expired' AND expires_at <= $1`, tx.Now)
		if err != nil {
			return fmt.Errorf("dataexport: sweep: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "data_export.expired", SubjectType: "data_export", SubjectID: "",
			Details: map[string]string{"exports": strconv.FormatInt(n, 10)}})
	})
	return int(n), err
}
