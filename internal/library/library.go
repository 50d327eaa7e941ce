// Package library is the guidance library (issue 12): documents that
// national admins upload for the people who use PSIMS to read (PDF, Word,
// Excel, HTML and Markdown, at most 20 MB), each with a title, a summary,
// an audience (everyone, or chosen roles) and every version ever uploaded.
//
// A file's type is found in its content, never taken from its name, and
// the name must agree with it. The files are kept in the database, so that
// every psims serve process serves them; a new version never replaces an
// old one, which stays readable. Every change is audited in the
// transaction that makes it. Who may read or manage a document is for
// internal/authz to say; lists are filtered by the scope it gives.
package library

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/textcheck"
)

// MaxSize is the largest file the library takes, in bytes (20 MB).
const MaxSize = 20 << 20

// Limits on what is typed about a document, in characters.
const (
	maxTitle    = 200
	maxSummary  = 2000
	maxLabel    = 50
	maxFileName = 200
	// maxWords is how many words of a search are used.
	maxWords = 10
)

// Roles are the roles a document may be for, in the order forms show them.
func Roles() []string {
	return []string{authz.Reporter, authz.Reviewer, authz.OrgAdmin, authz.ReadOnly, authz.NationalAdmin}
}

// Document is a document of the library, with its newest version.
type Document struct {
	ID       int64
	Title    string
	Summary  string
	Audience authz.Audience
	// CreatedAt is when it was added; UpdatedAt when it last changed: a
	// new version or new details.
	CreatedAt, UpdatedAt time.Time
	// Latest is the newest version, without its content.
	Latest Version
}

// Version is one uploaded version of a document, without its content.
type Version struct {
	DocumentID int64
	Number     int    // 1 for the first upload, then 2, 3, …
	Label      string // the uploader's own name for it, such as "2.1"; may be empty
	FileName   string
	Type       Type
	MediaType  string
	Size       int64
	SHA256     string // hex
	UploadedBy int64  // 0 for the command line, or an account since deleted
	UploadedAt time.Time
}

// File is a version with its content.
type File struct {
	Version
	Content []byte
}

// Upload is a file as it arrives: its name as the uploader's computer
// gave it, and its content, of which at most MaxSize+1 bytes are read.
type Upload struct {
	FileName string
	Content  io.Reader // nil when no file was chosen
}

// NewDocument is a document to add, with its first version.
type NewDocument struct {
	Title, Summary string
	Audience       authz.Audience
	Label          string // the first version's label
	File           Upload
}

// Details are what may change about a document without a new version.
type Details struct {
	Title, Summary string
	Audience       authz.Audience
}

// Client says where a change came from, for the audit log.
type Client struct {
	IP string // empty for the command line
}

// Service keeps the library.
type Service struct {
	db *db.DB
}

// NewService returns a Service on d.
func NewService(d *db.DB) *Service { return &Service{db: d} }

// Add adds a document with its first version, audited as done by actorID
// (0 for the command line). Errors: Invalid, with a field error for each
// problem (fields "file", "title", "summary", "audience", "label").
func (s *Service) Add(ctx context.Context, actorID int64, c Client, n NewDocument) (Document, error) {
	n.Title, n.Summary, n.Label = strings.TrimSpace(n.Title), strings.TrimSpace(n.Summary), strings.TrimSpace(n.Label)
	var problems apperr.Fields
	f, fileErr := readUpload(n.File)
	if fileErr != "" {
		problems.Add("file", fileErr)
	}
	checkDetails(&problems, Details{Title: n.Title, Summary: n.Summary, Audience: n.Audience})
	checkLabel(&problems, n.Label)
	if err := problems.Err(); err != nil {
		return Document{}, err
	}
	n.Audience = normalAudience(n.Audience)
	doc := Document{Title: n.Title, Summary: n.Summary, Audience: n.Audience}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		doc.CreatedAt, doc.UpdatedAt = tx.Now, tx.Now
		err := tx.QueryRowContext(ctx, `INSERT INTO library_documents (title, summary, everyone, created_at, created_by, updated_at)
			VALUES ($1, $2, $3, $4, $5, $4) RETURNING id`,
			doc.Title, doc.Summary, doc.Audience.Everyone, tx.Now, db.NullID(actorID)).Scan(&doc.ID)
		if err != nil {
			return fmt.Errorf("library: insert document: %w", err)
		}
		if err := insertRoles(ctx, tx, doc.ID, doc.Audience.Roles); err != nil {
			return err
		}
		f.DocumentID, f.Number, f.Label, f.UploadedBy, f.UploadedAt = doc.ID, 1, n.Label, actorID, tx.Now
		if err := insertVersion(ctx, tx, f); err != nil {
			return err
		}
		doc.Latest = f.Version
		details := versionDetails(f.Version)
		details["title"] = doc.Title
		details["audience"] = audienceText(doc.Audience)
		return audit.Record(ctx, tx, audit.Entry{ActorID: actorID, Action: "library.add", SubjectType: "library_document",
			SubjectID: strconv.FormatInt(doc.ID, 10), IP: c.IP, Details: details})
	})
	if err != nil {
		return Document{}, err
	}
	return doc, nil
}

// AddVersion uploads a new version of document id, keeping every earlier
// one, audited as done by actorID. Errors: NotFound; Invalid, with field
// errors ("file", "label").
func (s *Service) AddVersion(ctx context.Context, actorID int64, c Client, id int64, label string, u Upload) (Version, error) {
	label = strings.TrimSpace(label)
	var problems apperr.Fields
	f, fileErr := readUpload(u)
	if fileErr != "" {
		problems.Add("file", fileErr)
	}
	checkLabel(&problems, label)
	if err := problems.Err(); err != nil {
		return Version{}, err
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		// Touching the document first locks its row (on PostgreSQL), so
		// two uploads at once number their versions one after the other.
		if err := touch(ctx, tx, id); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM library_versions WHERE document_id = $1`,
			id).Scan(&f.Number); err != nil {
			return fmt.Errorf("library: next version of %d: %w", id, err)
		}
		f.DocumentID, f.Label, f.UploadedBy, f.UploadedAt = id, label, actorID, tx.Now
		if err := insertVersion(ctx, tx, f); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: actorID, Action: "library.version_add", SubjectType: "library_document",
			SubjectID: strconv.FormatInt(id, 10), IP: c.IP, Details: versionDetails(f.Version)})
	})
	if err != nil {
		return Version{}, err
	}
	return f.Version, nil
}

// Update changes a document's title, summary and audience, audited as done
// by actorID. Errors: NotFound; Invalid, with field errors ("title",
// "summary", "audience").
func (s *Service) Update(ctx context.Context, actorID int64, c Client, id int64, d Details) (Document, error) {
	d.Title, d.Summary = strings.TrimSpace(d.Title), strings.TrimSpace(d.Summary)
	var problems apperr.Fields
	checkDetails(&problems, d)
	if err := problems.Err(); err != nil {
		return Document{}, err
	}
	d.Audience = normalAudience(d.Audience)
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := touch(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE library_documents SET title = $1, summary = $2, everyone = $3 WHERE id = $4`,
			d.Title, d.Summary, d.Audience.Everyone, id); err != nil {
			return fmt.Errorf("library: update %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM library_document_roles WHERE document_id = $1`, id); err != nil {
			return fmt.Errorf("library: clear roles of %d: %w", id, err)
		}
		if err := insertRoles(ctx, tx, id, d.Audience.Roles); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: actorID, Action: "library.update", SubjectType: "library_document",
			SubjectID: strconv.FormatInt(id, 10), IP: c.IP,
			Details: map[string]string{"title": d.Title, "audience": audienceText(d.Audience)}})
	})
	if err != nil {
		return Document{}, err
	}
	return s.Get(ctx, id)
}

// touch marks document id changed now, or returns NotFound.
func touch(ctx context.Context, tx *db.Tx, id int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE library_documents SET updated_at = $1 WHERE id = $2`, tx.Now, id)
	if err != nil {
		return fmt.Errorf("library: touch %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("library: touch %d: %w", id, err)
	} else if n == 0 {
		return notFound()
	}
	return nil
}

func notFound() error {
	return apperr.New(apperr.NotFound, "There is no such document in the library.")
}

func insertRoles(ctx context.Context, tx *db.Tx, id int64, roles []string) error {
	for _, r := range roles {
		if _, err := tx.ExecContext(ctx, `INSERT INTO library_document_roles (document_id, role) VALUES ($1, $2)`, id, r); err != nil {
			return fmt.Errorf("library: insert role of %d: %w", id, err)
		}
	}
	return nil
}

func insertVersion(ctx context.Context, tx *db.Tx, f File) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO library_versions (document_id, version, label, file_name, file_type, media_type,
		size, sha256, content, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		f.DocumentID, f.Number, f.Label, f.FileName, string(f.Type), f.MediaType, f.Size, f.SHA256, f.Content,
		db.NullID(f.UploadedBy), f.UploadedAt)
	if db.IsUniqueViolation(err) {
		return apperr.New(apperr.Conflict, "Another version was uploaded at the same moment. Look at the document before uploading yours.")
	}
	if err != nil {
		return fmt.Errorf("library: insert version %d of %d: %w", f.Number, f.DocumentID, err)
	}
	return nil
}

// versionDetails are the facts about a version the audit log keeps.
func versionDetails(v Version) map[string]string {
	return map[string]string{"version": strconv.Itoa(v.Number), "label": v.Label, "file_name": v.FileName,
		"type": string(v.Type), "size": strconv.FormatInt(v.Size, 10), "sha256": v.SHA256}
}

// audienceText is an audience as the audit log records it.
func audienceText(a authz.Audience) string {
	if a.Everyone {
		return "everyone"
	}
	return strings.Join(a.Roles, ",")
}

// normalAudience lists roles once each, in the order of Roles, and none
// when the document is for everyone.
func normalAudience(a authz.Audience) authz.Audience {
	if a.Everyone {
		return authz.Audience{Everyone: true}
	}
	var roles []string
	for _, r := range Roles() {
		if slices.Contains(a.Roles, r) {
			roles = append(roles, r)
		}
	}
	return authz.Audience{Roles: roles}
}

// checkDetails adds the problems with d.
func checkDetails(problems *apperr.Fields, d Details) {
	checkText(problems, "title", "the title", d.Title, maxTitle)
	if d.Title == "" {
		problems.Add("title", "Enter a title")
	}
	checkText(problems, "summary", "the summary", d.Summary, maxSummary)
	for _, r := range d.Audience.Roles {
		if !slices.Contains(Roles(), r) {
			problems.Add("audience", "Choose roles from the list")
			return
		}
	}
	if !d.Audience.Everyone && len(d.Audience.Roles) == 0 {
		problems.Add("audience", "Choose who may read the document: everyone, or at least one role")
	}
}

func checkLabel(problems *apperr.Fields, label string) {
	checkText(problems, "label", "the version label", label, maxLabel)
}

// checkText adds a problem when text is too long or holds characters
// that cannot be stored.
func checkText(problems *apperr.Fields, field, name, text string, max int) {
	switch {
	case !textcheck.Valid(text):
		problems.Add(field, textcheck.Message(upperFirst(name)))
	case utf8.RuneCountInString(text) > max:
		problems.Add(field, fmt.Sprintf("%s must be %d characters or fewer", upperFirst(name), max))
	}
}

func upperFirst(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// readUpload reads and checks an upload: at most MaxSize bytes, a type
// found in the content, and a file name that agrees with it. The problem,
// if any, is a sentence for the uploader.
func readUpload(u Upload) (File, string) {
	if u.Content == nil {
		return File{}, "Choose a file to upload"
	}
	content, err := io.ReadAll(io.LimitReader(u.Content, MaxSize+1))
	if err != nil {
		return File{}, "The file could not be read. Choose it and upload it again"
	}
	if len(content) > MaxSize {
		return File{}, fmt.Sprintf("The file must be %d MB or smaller", MaxSize>>20)
	}
	name, problem := fileName(u.FileName)
	if problem != "" {
		return File{}, problem
	}
	t, err := Detect(content)
	if err != nil {
		return File{}, apperr.MessageOf(err)
	}
	if ext := fileExtension(name); !slices.Contains(t.Extensions(), ext) {
		ending := "has no ending such as " + t.Extensions()[0]
		if ext != "" {
			ending = "ends in " + ext
		}
		return File{}, fmt.Sprintf("The file is a %s, but its name %s. Rename it to end in %s and upload it again",
			t.Label(), ending, t.Extensions()[0])
	}
	sum := sha256.Sum256(content)
	return File{Version: Version{FileName: name, Type: t, MediaType: t.MediaType(), Size: int64(len(content)),
		SHA256: hex.EncodeToString(sum[:])}, Content: content}, ""
}

// fileName is the last part of the name an upload came with (some
// browsers send the whole path), or the problem with it.
func fileName(raw string) (string, string) {
	name := raw
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSpace(name)
	switch {
	case name == "" || name == "." || name == "..":
		return "", "The file has no name. Give it a name, such as guidance.pdf, and upload it again"
	case !textcheck.Valid(name) || strings.ContainsAny(name, "\t\r\n"):
		return "", "The file's name has characters that cannot be used. Rename it and upload it again"
	case utf8.RuneCountInString(name) > maxFileName:
		return "", fmt.Sprintf("The file's name must be %d characters or fewer. Rename it and upload it again", maxFileName)
	}
	return name, ""
}

// versionColumns are a version's columns without its content, for
// scanVersion.
const versionColumns = `v.document_id, v.version, v.label, v.file_name, v.file_type, v.media_type, v.size, v.sha256,
	COALESCE(v.uploaded_by, 0), v.uploaded_at`

func scanVersion(v *Version, t *string) []any {
	return []any{&v.DocumentID, &v.Number, &v.Label, &v.FileName, t, &v.MediaType, &v.Size, &v.SHA256, &v.UploadedBy, &v.UploadedAt}
}

// documentColumns are a document's columns and its newest version's, for
// a query of library_documents d joined to that version v.
const documentColumns = `d.id, d.title, d.summary, d.everyone, d.created_at, d.updated_at, ` + versionColumns

// latestJoin joins each document d to its newest version v.
const latestJoin = `library_documents d JOIN library_versions v ON v.document_id = d.id
	AND v.version = (SELECT MAX(version) FROM library_versions WHERE document_id = d.id)`

func scanDocument(row interface{ Scan(...any) error }) (Document, error) {
	var d Document
	var t string
	dest := append([]any{&d.ID, &d.Title, &d.Summary, &d.Audience.Everyone, &d.CreatedAt, &d.UpdatedAt}, scanVersion(&d.Latest, &t)...)
	if err := row.Scan(dest...); err != nil {
		return Document{}, err
	}
	d.Latest.Type, _ = ParseType(t)
	d.CreatedAt, d.UpdatedAt, d.Latest.UploadedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC(), d.Latest.UploadedAt.UTC()
	return d, nil
}

// List returns the documents scope lets the viewer see, most recently
// changed first, with their newest versions. A query keeps those whose
// title or summary holds every word of it, in any case.
func (s *Service) List(ctx context.Context, scope authz.LibraryScope, query string) ([]Document, error) {
	args := []any{scope.All, scope.Role}
	var where strings.Builder
	where.WriteString(`($1 OR d.everyone OR EXISTS (SELECT 1 FROM library_document_roles r WHERE r.document_id = d.id AND r.role = $2))`)
	for _, w := range searchWords(query) {
		args = append(args, "%"+db.EscapeLike(w)+"%")
		fmt.Fprintf(&where, ` AND (d.title %[1]s $%[2]d ESCAPE '\' OR d.summary %[1]s $%[2]d ESCAPE '\')`, s.db.Dialect().ILike, len(args))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+documentColumns+` FROM `+latestJoin+`
		WHERE `+where.String()+` ORDER BY d.updated_at DESC, d.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("library: list: %w", err)
	}
	defer rows.Close()
	var docs []Document
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, fmt.Errorf("library: scan document: %w", err)
		}
		docs = append(docs, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("library: list: %w", err)
	}
	if err := s.loadRoles(ctx, docs); err != nil {
		return nil, err
	}
	return docs, nil
}

// searchWords are the words of a search, at most maxWords of them.
func searchWords(query string) []string {
	words := strings.Fields(query)
	if len(words) > maxWords {
		words = words[:maxWords]
	}
	return words
}

// loadRoles fills in the roles of the documents not for everyone.
func (s *Service) loadRoles(ctx context.Context, docs []Document) error {
	byID := map[int64]*Document{}
	var args []any
	for i := range docs {
		if !docs[i].Audience.Everyone {
			byID[docs[i].ID] = &docs[i]
			args = append(args, docs[i].ID)
		}
	}
	if len(args) == 0 {
		return nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT document_id, role FROM library_document_roles
		WHERE document_id IN `+db.Values(1, len(args), 1, "")+` ORDER BY document_id, role`, args...)
	if err != nil {
		return fmt.Errorf("library: roles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var role string
		if err := rows.Scan(&id, &role); err != nil {
			return fmt.Errorf("library: scan role: %w", err)
		}
		if d := byID[id]; d != nil {
			d.Audience.Roles = append(d.Audience.Roles, role)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("library: roles: %w", err)
	}
	for _, d := range byID {
		d.Audience = normalAudience(d.Audience)
	}
	return nil
}

// Get returns document id with its audience and newest version. Errors:
// NotFound.
func (s *Service) Get(ctx context.Context, id int64) (Document, error) {
	d, err := scanDocument(s.db.QueryRowContext(ctx, `SELECT `+documentColumns+` FROM `+latestJoin+` WHERE d.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Document{}, notFound()
	}
	if err != nil {
		return Document{}, fmt.Errorf("library: get %d: %w", id, err)
	}
	docs := []Document{d}
	if err := s.loadRoles(ctx, docs); err != nil {
		return Document{}, err
	}
	return docs[0], nil
}

// Versions returns every version of document id, newest first, without
// their content. It is empty for a document that does not exist.
func (s *Service) Versions(ctx context.Context, id int64) ([]Version, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+versionColumns+` FROM library_versions v WHERE v.document_id = $1
		ORDER BY v.version DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("library: versions of %d: %w", id, err)
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		var v Version
		var t string
		if err := rows.Scan(scanVersion(&v, &t)...); err != nil {
			return nil, fmt.Errorf("library: scan version: %w", err)
		}
		v.Type, _ = ParseType(t)
		v.UploadedAt = v.UploadedAt.UTC()
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("library: versions of %d: %w", id, err)
	}
	return out, nil
}

// Open returns version number of document id with its content; number 0
// means the newest. Errors: NotFound.
func (s *Service) Open(ctx context.Context, id int64, number int) (File, error) {
	var f File
	var t string
	dest := append(scanVersion(&f.Version, &t), &f.Content)
	var err error
	if number == 0 {
		err = s.db.QueryRowContext(ctx, `SELECT `+versionColumns+`, v.content FROM library_versions v
			WHERE v.document_id = $1 ORDER BY v.version DESC LIMIT 1`, id).Scan(dest...)
	} else {
		err = s.db.QueryRowContext(ctx, `SELECT `+versionColumns+`, v.content FROM library_versions v
			WHERE v.document_id = $1 AND v.version = $2`, id, number).Scan(dest...)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return File{}, apperr.New(apperr.NotFound, "There is no such version of the document.")
	}
	if err != nil {
		return File{}, fmt.Errorf("library: open %d version %d: %w", id, number, err)
	}
	f.Type, _ = ParseType(t)
	f.UploadedAt = f.UploadedAt.UTC()
	return f, nil
}
