package library

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// admin adds a national admin to d and returns their id, for audit rows.
func admin(t *testing.T, d *db.DB) int64 {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	if _, err := d.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ('X26', 'NHS England', $1, $1)`, now); err != nil {
		t.Fatal(err)
	}
	var id int64
	err := d.WriteRowContext(ctx, `INSERT INTO users (email, name, job_role, org_ods, role, status, password_hash, created_at, updated_at)
		VALUES ('library.admin@nhs.net', 'Library Admin', 'Editor', 'X26', 'national-admin', 'active', 'x', $1, $1) RETURNING id`, now).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func upload(name string, content []byte) Upload {
	return Upload{FileName: name, Content: bytes.NewReader(content)}
}

// fieldsOf returns the fields of err's field errors, and fails unless err
// is one.
func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	var fields apperr.Fields
	if !errors.As(err, &fields) {
		t.Fatalf("want field errors, got %v", err)
	}
	m := map[string]string{}
	for _, f := range fields {
		m[f.Field] = f.Message
	}
	return m
}

func TestDocumentsAreAddedWithTheirFirstVersionAndAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc := NewService(d)
		actor := admin(t, d)
		pdf := []byte("%PDF-1.7 guidance")
		doc, err := svc.Add(ctx, actor, Client{IP: "192.0.2.7"}, NewDocument{Title: "  Reporting guide ", Summary: "How to record an event.",
			Audience: authz.Audience{Roles: []string{authz.Reviewer, authz.Reporter, authz.Reviewer}}, Label: "1.0",
			File: upload(`C:\Users\me\Reporting guide.PDF`, pdf)})
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(pdf)
		want := Version{DocumentID: doc.ID, Number: 1, Label: "1.0", FileName: "Reporting guide.PDF", Type: PDF,
			MediaType: "application/pdf", Size: int64(len(pdf)), SHA256: hex.EncodeToString(sum[:]), UploadedBy: actor,
			UploadedAt: doc.CreatedAt}
		if doc.Latest != want {
			t.Fatalf("latest version %+v, want %+v", doc.Latest, want)
		}
		got, err := svc.Get(ctx, doc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != "Reporting guide" || got.Summary != "How to record an event." || got.Latest != want ||
			!slices.Equal(got.Audience.Roles, []string{authz.Reporter, authz.Reviewer}) || got.Audience.Everyone {
			t.Fatalf("got %+v", got)
		}
		f, err := svc.Open(ctx, doc.ID, 0)
		if err != nil || !bytes.Equal(f.Content, pdf) || f.Version != want {
			t.Fatalf("open: %v %+v", err, f.Version)
		}
		rows, err := audit.List(ctx, d, "library_document", "1", 10)
		if err != nil || len(rows) != 1 {
			t.Fatalf("audit: %v %d rows", err, len(rows))
		}
		if r := rows[0]; r.Action != "library.add" || r.ActorID != actor || r.IP != "192.0.2.7" || r.Details["title"] != "Reporting guide" ||
			r.Details["audience"] != "reporter,reviewer" || r.Details["sha256"] != want.SHA256 || r.Details["type"] != "pdf" {
			t.Fatalf("audit row %+v", r)
		}
	})
}

func TestANewVersionKeepsTheOldOnes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc := NewService(d)
		actor := admin(t, d)
		doc, err := svc.Add(ctx, actor, Client{}, NewDocument{Title: "Never events list", Audience: authz.Audience{Everyone: true},
			File: upload("never-events.md", []byte("# Never events\n"))})
		if err != nil {
			t.Fatal(err)
		}
		v, err := svc.AddVersion(ctx, actor, Client{}, doc.ID, "2026", upload("never-events.pdf", []byte("%PDF-2.0 new")))
		if err != nil {
			t.Fatal(err)
		}
		if v.Number != 2 || v.Type != PDF || v.Label != "2026" {
			t.Fatalf("new version %+v", v)
		}
		versions, err := svc.Versions(ctx, doc.ID)
		if err != nil || len(versions) != 2 || versions[0].Number != 2 || versions[1].Number != 1 || versions[1].Type != Markdown {
			t.Fatalf("versions %v %+v", err, versions)
		}
		newest, err := svc.Open(ctx, doc.ID, 0)
		if err != nil || string(newest.Content) != "%PDF-2.0 new" {
			t.Fatalf("newest: %v %q", err, newest.Content)
		}
		first, err := svc.Open(ctx, doc.ID, 1)
		if err != nil || string(first.Content) != "# Never events\n" || first.MediaType != "text/markdown; charset=utf-8" {
			t.Fatalf("first: %v %q", err, first.Content)
		}
		if _, err := svc.Open(ctx, doc.ID, 3); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("a version that does not exist: %v", err)
		}
		if _, err := svc.AddVersion(ctx, actor, Client{}, doc.ID+100, "", upload("x.pdf", []byte("%PDF-1"))); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("a version of a document that does not exist: %v", err)
		}
		got, err := svc.Get(ctx, doc.ID)
		if err != nil || got.Latest.Number != 2 || !got.UpdatedAt.Equal(v.UploadedAt) {
			t.Fatalf("document after the new version: %v %+v", err, got)
		}
		// Versions are never changed or deleted, whatever the SQL.
		w := d.WritePool()
		if _, err := w.ExecContext(ctx, `UPDATE library_versions SET content = $1 WHERE document_id = $2`, []byte("%PDF-evil"), doc.ID); err == nil {
			t.Error("a version's content was changed")
		}
		if _, err := w.ExecContext(ctx, `DELETE FROM library_versions WHERE document_id = $1`, doc.ID); err == nil {
			t.Error("versions were deleted")
		}
		rows, err := audit.List(ctx, d, "library_document", "1", 10)
		if err != nil || len(rows) != 2 || rows[0].Action != "library.version_add" || rows[0].Details["version"] != "2" || rows[0].Details["label"] != "2026" {
			t.Fatalf("audit: %v %+v", err, rows)
		}
	})
}

func TestUploadsAreCheckedByContentSizeAndName(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc := NewService(d)
		good := NewDocument{Title: "Guide", Audience: authz.Audience{Everyone: true}}
		cases := []struct {
			name  string
			doc   func(n NewDocument) NewDocument
			field string
			says  string
		}{
			{"no file", func(n NewDocument) NewDocument { return n }, "file", "Choose a file"},
			{"an empty file", func(n NewDocument) NewDocument { n.File = upload("a.pdf", nil); return n }, "file", "empty"},
			{"a file over 20 MB", func(n NewDocument) NewDocument {
				n.File = Upload{FileName: "big.pdf", Content: io.MultiReader(strings.NewReader("%PDF-1.7"), zeros{})}
				return n
			}, "file", "20 MB or smaller"},
			{"an image", func(n NewDocument) NewDocument {
				n.File = upload("photo.pdf", []byte("\x89PNG\r\n\x1a\n\x00"))
				return n
			}, "file", "must be a PDF"},
			{"a PDF named as Word", func(n NewDocument) NewDocument { n.File = upload("guide.docx", []byte("%PDF-1.7")); return n }, "file",
				"The file is a PDF, but its name ends in .docx. Rename it to end in .pdf"},
			{"Markdown named as HTML", func(n NewDocument) NewDocument { n.File = upload("guide.html", []byte("plain words")); return n }, "file",
				"The file is a Markdown text, but its name ends in .html"},
			{"a name without an ending", func(n NewDocument) NewDocument { n.File = upload("guide", []byte("%PDF-1.7")); return n }, "file",
				"its name has no ending such as .pdf"},
			{"a name with a line break", func(n NewDocument) NewDocument { n.File = upload("a\nb.pdf", []byte("%PDF-1.7")); return n }, "file", "cannot be used"},
			{"no title", func(n NewDocument) NewDocument { n.File = upload("a.pdf", []byte("%PDF-1")); n.Title = " "; return n }, "title", "Enter a title"},
			{"a long title", func(n NewDocument) NewDocument {
				n.File = upload("a.pdf", []byte("%PDF-1"))
				n.Title = strings.Repeat("t", 201)
				return n
			}, "title", "200 characters or fewer"},
			{"no audience", func(n NewDocument) NewDocument {
				n.File = upload("a.pdf", []byte("%PDF-1"))
				n.Audience = authz.Audience{}
				return n
			}, "audience", "at least one role"},
			{"an unknown role", func(n NewDocument) NewDocument {
				n.File = upload("a.pdf", []byte("%PDF-1"))
				n.Audience = authz.Audience{Roles: []string{"superuser"}}
				return n
			}, "audience", "Choose roles from the list"},
			{"a hidden character in the label", func(n NewDocument) NewDocument {
				n.File = upload("a.pdf", []byte("%PDF-1"))
				n.Label = "v\x1b2"
				return n
			}, "label", "The version label"},
		}
		for _, c := range cases {
			_, err := svc.Add(ctx, 0, Client{}, c.doc(good))
			fields := fieldsOf(t, err)
			if !strings.Contains(fields[c.field], c.says) {
				t.Errorf("%s: %v, want %s to say %q", c.name, fields, c.field, c.says)
			}
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM library_documents`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d documents stored (%v)", n, err)
		}
		// Exactly 20 MB is allowed.
		content := append([]byte("%PDF-1.7"), make([]byte, MaxSize-8)...)
		doc, err := svc.Add(ctx, 0, Client{}, NewDocument{Title: "Largest", Audience: authz.Audience{Everyone: true}, File: upload("big.pdf", content)})
		if err != nil || doc.Latest.Size != MaxSize {
			t.Fatalf("a file of exactly 20 MB: %v %d", err, doc.Latest.Size)
		}
	})
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestListsShowTheViewersAudienceAndFindWords(t *testing.T) { // P2
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc := NewService(d)
		add := func(title, summary string, a authz.Audience) Document {
			t.Helper()
			doc, err := svc.Add(ctx, 0, Client{}, NewDocument{Title: title, Summary: summary, Audience: a, File: upload("f.md", []byte(title))})
			if err != nil {
				t.Fatal(err)
			}
			return doc
		}
		all := add("Recording an event", "For everyone who records.", authz.Audience{Everyone: true})
		review := add("Reviewing events", "Triage and 100% follow-up.", authz.Audience{Roles: []string{authz.Reviewer, authz.OrgAdmin}})
		admins := add("Approving registrations", "For organisation admins.", authz.Audience{Roles: []string{authz.OrgAdmin}})
		titles := func(scope authz.LibraryScope, q string) []string {
			t.Helper()
			docs, err := svc.List(ctx, scope, q)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, doc := range docs {
				out = append(out, doc.Title)
			}
			return out
		}
		cases := []struct {
			scope authz.LibraryScope
			q     string
			want  []string
		}{
			{authz.LibraryScope{Role: authz.Reporter}, "", []string{all.Title}},
			{authz.LibraryScope{Role: authz.Reviewer}, "", []string{review.Title, all.Title}},
			{authz.LibraryScope{Role: authz.OrgAdmin}, "", []string{admins.Title, review.Title, all.Title}},
			{authz.LibraryScope{All: true}, "", []string{admins.Title, review.Title, all.Title}},
			{authz.LibraryScope{All: true}, "EVENT", []string{review.Title, all.Title}},
			{authz.LibraryScope{All: true}, "events triage", []string{review.Title}},
			{authz.LibraryScope{All: true}, "records", []string{all.Title}},
			{authz.LibraryScope{All: true}, "100%", []string{review.Title}},
			{authz.LibraryScope{All: true}, "%", []string{review.Title}},
			{authz.LibraryScope{All: true}, "_", nil},
			{authz.LibraryScope{Role: authz.Reporter}, "reviewing", nil},
		}
		for _, c := range cases {
			if got := titles(c.scope, c.q); !slices.Equal(got, c.want) {
				t.Errorf("%+v %q: %q, want %q", c.scope, c.q, got, c.want)
			}
		}
		docs, err := svc.List(ctx, authz.LibraryScope{All: true}, "")
		if err != nil || !slices.Equal(docs[1].Audience.Roles, []string{authz.Reviewer, authz.OrgAdmin}) || !docs[2].Audience.Everyone {
			t.Fatalf("audiences in the list: %v %+v", err, docs)
		}
	})
}

func TestDetailsChangeWithoutANewVersionAndAreAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc := NewService(d)
		actor := admin(t, d)
		doc, err := svc.Add(ctx, actor, Client{}, NewDocument{Title: "Old title", Audience: authz.Audience{Roles: []string{authz.Reviewer}},
			File: upload("guide.html", []byte("<!doctype html><p>x"))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Update(ctx, actor, Client{}, doc.ID, Details{Title: "", Audience: authz.Audience{}}); len(fieldsOf(t, err)) != 2 {
			t.Fatalf("bad details: %v", err)
		}
		got, err := svc.Update(ctx, actor, Client{IP: "192.0.2.9"}, doc.ID, Details{Title: "New title", Summary: "Now for all.",
			Audience: authz.Audience{Everyone: true, Roles: []string{authz.Reviewer}}})
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != "New title" || got.Summary != "Now for all." || !got.Audience.Everyone || len(got.Audience.Roles) != 0 || got.Latest.Number != 1 {
			t.Fatalf("updated %+v", got)
		}
		if scoped, err := svc.List(ctx, authz.LibraryScope{Role: authz.Reporter}, ""); err != nil || len(scoped) != 1 {
			t.Fatalf("a reporter's list after the audience widened: %v %d", err, len(scoped))
		}
		if _, err := svc.Update(ctx, actor, Client{}, doc.ID+1, Details{Title: "x", Audience: authz.Audience{Everyone: true}}); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("a document that does not exist: %v", err)
		}
		rows, err := audit.List(ctx, d, "library_document", "1", 10)
		if err != nil || len(rows) != 2 || rows[0].Action != "library.update" || rows[0].Details["audience"] != "everyone" || rows[0].IP != "192.0.2.9" {
			t.Fatalf("audit: %v %+v", err, rows)
		}
		if _, err := svc.Get(ctx, doc.ID+1); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("get a document that does not exist: %v", err)
		}
	})
}
