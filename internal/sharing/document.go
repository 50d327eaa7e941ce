package sharing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/textcheck"
)

// MaxDocument is the largest signed agreement taken, in bytes (10 MB).
const MaxDocument = 10 << 20

// Upload is a file as it arrives: its name as the uploader's computer gave
// it, and its content, of which at most MaxDocument+1 bytes are read.
type Upload struct {
	FileName string
	Content  io.Reader // nil when no file was chosen
}

// AttachDocument keeps the signed agreement u (a PDF, found by its content)
// with agreement id, replacing any kept before, audited as done by by with
// its SHA-256. Errors: NotFound; Invalid with field "file"; Conflict once
// the agreement is revoked.
func (s *Service) AttachDocument(ctx context.Context, by Actor, id int64, u Upload) error {
	name, content, problem := readPDF(u)
	if problem != "" {
		var problems apperr.Fields
		problems.Add("file", problem)
		return problems.Err()
	}
	sum := sha256.Sum256(content)
	digest := hex.EncodeToString(sum[:])
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		a, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if !a.RevokedAt.IsZero() {
			return apperr.New(apperr.Conflict, "This agreement has been revoked: its signed document can no longer be changed.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sharing_agreements SET document_name = $1, document_size = $2, document_sha256 = $3,
			document = $4, document_uploaded_at = $5, updated_at = $5 WHERE id = $6`,
			name, len(content), digest, content, tx.Now, id); err != nil {
			return fmt.Errorf("sharing: attach document to %d: %w", id, err)
		}
		details := map[string]string{"reference": a.Reference, "file_name": name, "size": strconv.Itoa(len(content)), "sha256": digest}
		if a.Document.SHA256 != "" {
			details["replaced_sha256"] = a.Document.SHA256
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: by.ID, Action: "sharing.document_upload", SubjectType: "sharing_agreement",
			SubjectID: strconv.FormatInt(id, 10), IP: by.IP, Details: details})
	})
}

// OpenDocument returns the signed agreement kept with agreement id: what
// is known about it and its content. Errors: NotFound, also when none was
// uploaded.
func (s *Service) OpenDocument(ctx context.Context, id int64) (Document, []byte, error) {
	var d Document
	var content []byte
	var at sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT document_name, document_size, document_sha256, document_uploaded_at, document
		FROM sharing_agreements WHERE id = $1 AND document IS NOT NULL`, id).Scan(&d.Name, &d.Size, &d.SHA256, &at, &content)
	if errors.Is(err, sql.ErrNoRows) {
		return Document{}, nil, apperr.New(apperr.NotFound, "No signed agreement has been uploaded for this agreement.")
	}
	if err != nil {
		return Document{}, nil, fmt.Errorf("sharing: open document of %d: %w", id, err)
	}
	d.UploadedAt = at.Time.UTC()
	return d, content, nil
}

// readPDF reads and checks an upload: at most MaxDocument bytes, a PDF by
// its content (whatever its name says), and a usable name ending in .pdf.
// The problem, if any, is a sentence for the uploader.
func readPDF(u Upload) (string, []byte, string) {
	if u.Content == nil {
		return "", nil, "Choose the signed agreement to upload, as a PDF"
	}
	content, err := io.ReadAll(io.LimitReader(u.Content, MaxDocument+1))
	if err != nil {
		return "", nil, "The file could not be read. Choose it and upload it again"
	}
	switch {
	case len(content) == 0:
		return "", nil, "The file is empty. Choose the signed agreement, as a PDF"
	case len(content) > MaxDocument:
		return "", nil, fmt.Sprintf("The file must be %d MB or smaller", MaxDocument>>20)
	case http.DetectContentType(content) != "application/pdf" || !bytes.HasPrefix(content, []byte("%PDF-")):
		return "", nil, "The file must be a PDF. Save the signed agreement as a PDF and upload that"
	}
	name := u.FileName
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSpace(name)
	switch {
	case name == "" || !textcheck.Valid(name) || strings.ContainsAny(name, "\t\r\n\""):
		name = "agreement.pdf"
	case utf8.RuneCountInString(name) > 200:
		return "", nil, "The file's name must be 200 characters or fewer. Rename it and upload it again"
	case !strings.HasSuffix(strings.ToLower(name), ".pdf"):
		name += ".pdf"
	}
	return name, content, ""
}
