package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/library"
)

// uploadFile is a file a test uploads.
type uploadFile struct {
	Name    string
	Content []byte
}

// upload loads the page holding a form, then posts the fields and the
// file (when not nil) to action as multipart/form-data, with the page's
// form token, as a browser does.
func (b *browser) upload(formPage, action string, fields url.Values, file *uploadFile) response {
	b.t.Helper()
	page := b.get(formPage)
	m := csrfPattern.FindStringSubmatch(page.body)
	if m == nil {
		b.t.Fatalf("no form token on %s", formPage)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf_token", html.UnescapeString(m[1]))
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if file != nil {
		w, err := mw.CreateFormFile("file", file.Name)
		if err != nil {
			b.t.Fatal(err)
		}
		w.Write(file.Content)
	} else {
		// A browser sends an empty part when no file was chosen.
		w, _ := mw.CreateFormFile("file", "")
		w.Write(nil)
	}
	mw.Close()
	resp, err := b.c.Post(b.site.URL+action, mw.FormDataContentType(), &body)
	if err != nil {
		b.t.Fatal(err)
	}
	return read(b.t, resp)
}

// sampleDocx is a small Word document, as Detect recognises one.
func sampleDocx(t *testing.T) []byte {
	return docxOf(t, "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")
}

// docxOf is a small Office file whose main part, word/document.xml, has
// the content type mainType.
func docxOf(t *testing.T, mainType string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Override PartName="/word/document.xml" ContentType="` + mainType + `"/></Types>`,
		"word/document.xml": "<w:document/>",
	}
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	zw.Close()
	return buf.Bytes()
}

// libraryID reads the document's id from the address a form redirected to.
func libraryID(t *testing.T, r response, done string) int64 {
	t.Helper()
	var id int64
	if r.status != http.StatusSeeOther {
		t.Fatalf("status %d, want 303 (%s)", r.status, r.body)
	}
	if _, err := fmt.Sscanf(r.location, "/library/%d?done="+done, &id); err != nil || !strings.HasSuffix(r.location, "?done="+done) {
		t.Fatalf("redirected to %q", r.location)
	}
	return id
}

// National admins add documents, upload new versions that keep the old
// ones, and change a document's details; a form with a problem is shown
// again with 422 keeping what was typed and asking for the file again,
// and an upload over the limit gets a page saying so. P2
func TestNationalAdminsAddAndReplaceLibraryDocuments(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			ctx := context.Background()
			admin := orgsAdminAs(t, site, account.RoleNationalAdmin)
			pdf := []byte("%PDF-1.7\nA guide to recording.\n")
			fields := url.Values{"title": {"Recording guide"}, "summary": {"How to record an event well."},
				"audience": {"roles"}, "roles": {authz.Reviewer, authz.OrgAdmin}, "label": {"1.0"}}

			t.Run("the library and the form", func(t *testing.T) {
				orgsWant(t, "list", admin.get("/admin/library"), http.StatusOK, "There are no documents in the library yet.",
					`href="/admin/library/new" role="button"`)
				orgsWant(t, "home", admin.get("/"), http.StatusOK, `<a href="/admin/library">Guidance library</a>`,
					`href="/library">Guidance library</a>`)
				orgsWant(t, "form", admin.get("/admin/library/new"), http.StatusOK, `enctype="multipart/form-data"`,
					`name="file" type="file"`, `value="everyone" checked`, "up to 20 MB")
			})

			t.Run("a file whose name does not match its content is refused, keeping what was typed", func(t *testing.T) {
				r := admin.upload("/admin/library/new", "/admin/library/new", fields, &uploadFile{"guide.docx", pdf})
				orgsWant(t, "mismatch", r, http.StatusUnprocessableEntity, "There is a problem",
					`<a href="#file">The file is a PDF, but its name ends in .docx. Rename it to end in .pdf and upload it again. Then choose the file again</a>`,
					`value="Recording guide"`, "How to record an event well.</textarea>", `value="roles" checked`,
					`value="reviewer" checked`, `value="org-admin" checked`, `value="1.0"`)
				if strings.Contains(r.body, `value="reporter" checked`) {
					t.Error("a role that was not chosen is ticked")
				}
			})

			t.Run("other problems ask for the file again", func(t *testing.T) {
				bad := url.Values{"title": {" "}, "summary": {"Kept."}, "audience": {"roles"}}
				r := admin.upload("/admin/library/new", "/admin/library/new", bad, &uploadFile{"guide.pdf", pdf})
				orgsWant(t, "no title", r, http.StatusUnprocessableEntity,
					`<a href="#file">Choose the file again: it is not kept when the form is shown with a problem</a>`,
					`<a href="#title">Enter a title</a>`, `<a href="#audience">Choose who may read the document: everyone, or at least one role</a>`,
					"Kept.</textarea>")
			})

			t.Run("no file, an empty file and a file of another kind are refused", func(t *testing.T) {
				orgsWant(t, "no file", admin.upload("/admin/library/new", "/admin/library/new", fields, nil),
					http.StatusUnprocessableEntity, "Choose a file to upload")
				orgsWant(t, "empty", admin.upload("/admin/library/new", "/admin/library/new", fields, &uploadFile{"guide.pdf", nil}),
					http.StatusUnprocessableEntity, "The file is empty")
				orgsWant(t, "image", admin.upload("/admin/library/new", "/admin/library/new", fields, &uploadFile{"photo.png", []byte("\x89PNG\r\n\x1a\n\x00\x00")}),
					http.StatusUnprocessableEntity, "The file must be a PDF, a Word document")
				macro := docxOf(t, "application/vnd.ms-word.document.macroEnabled.main+xml")
				orgsWant(t, "macros", admin.upload("/admin/library/new", "/admin/library/new", fields, &uploadFile{"guide.docx", macro}),
					http.StatusUnprocessableEntity, "macros")
			})

			t.Run("a form sent without multipart, as one held through signing in is, asks for the file", func(t *testing.T) {
				r := admin.submit("/admin/library/new", "/admin/library/new", url.Values{"title": {"Held"}, "audience": {"everyone"}})
				orgsWant(t, "held", r, http.StatusUnprocessableEntity, "Choose a file to upload", `value="Held"`)
			})

			t.Run("a file over the limit gets a page saying so", func(t *testing.T) {
				big := append([]byte("%PDF-1.7"), make([]byte, library.MaxSize+2<<20)...)
				r := admin.upload("/admin/library/new", "/admin/library/new", fields, &uploadFile{"big.pdf", big})
				orgsWant(t, "too large", r, http.StatusRequestEntityTooLarge, "The file you chose was too large", "up to 20 MB",
					`<a href="/admin/library/new">go back to the form</a>`)
				// Just over 20 MB but within what a post may carry: the form
				// again, saying why.
				over := append([]byte("%PDF-1.7"), make([]byte, library.MaxSize)...)
				orgsWant(t, "just over", admin.upload("/admin/library/new", "/admin/library/new", fields, &uploadFile{"big.pdf", over}),
					http.StatusUnprocessableEntity, "The file must be 20 MB or smaller", `value="Recording guide"`)
			})

			var id int64
			t.Run("a good upload adds the document, audited", func(t *testing.T) {
				id = libraryID(t, admin.upload("/admin/library/new", "/admin/library/new", fields, &uploadFile{"Recording guide.pdf", pdf}), "added")
				orgsWant(t, "document", admin.get(fmt.Sprintf("/library/%d?done=added", id)), http.StatusOK,
					"The document was added to the library.", "<h1 class=\"nhsuk-heading-l\">Recording guide</h1>",
					"How to record an event well.", "Reviewer, Organisation admin", "PDF, 31 bytes",
					fmt.Sprintf(`href="/library/%d/versions/1/file">Recording guide.pdf`, id))
				rows, err := audit.List(ctx, site.App.DB, "library_document", strconv.FormatInt(id, 10), 5)
				if err != nil || len(rows) != 1 || rows[0].Action != "library.add" || rows[0].ActorID == 0 {
					t.Fatalf("audit: %v %+v", err, rows)
				}
				var n int
				if err := site.App.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM library_documents`).Scan(&n); err != nil || n != 1 {
					t.Fatalf("%d documents (%v): a refused upload was stored", n, err)
				}
			})

			t.Run("a new version keeps the old one", func(t *testing.T) {
				form := fmt.Sprintf("/admin/library/%d/versions/new", id)
				orgsWant(t, "form", admin.get(form), http.StatusOK, "Yours will be version 2", "Upload version 2")
				orgsWant(t, "no file", admin.upload(form, form, url.Values{"label": {"2.0"}}, nil), http.StatusUnprocessableEntity,
					"Choose a file to upload", `value="2.0"`)
				libraryID(t, admin.upload(form, form, url.Values{"label": {"2.0"}}, &uploadFile{"guide.md", []byte("# Recording\n")}), "version")
				orgsWant(t, "document", admin.get(fmt.Sprintf("/library/%d", id)), http.StatusOK, "2 (2.0) (newest)", "Markdown text",
					fmt.Sprintf(`href="/library/%d/versions/1/file">Recording guide.pdf`, id))
				if r := admin.get(fmt.Sprintf("/library/%d/file", id)); r.body != "# Recording\n" {
					t.Errorf("newest: %q", r.body)
				}
				if r := admin.get(fmt.Sprintf("/library/%d/versions/1/file", id)); r.body != string(pdf) {
					t.Errorf("version 1: %q", r.body)
				}
				orgsWant(t, "no such document", admin.get("/admin/library/999999/versions/new"), http.StatusNotFound)
			})

			t.Run("details change, keeping what was typed on a problem", func(t *testing.T) {
				form := fmt.Sprintf("/admin/library/%d/edit", id)
				orgsWant(t, "form", admin.get(form), http.StatusOK, `value="Recording guide"`, `value="roles" checked`, `value="reviewer" checked`)
				r := admin.submit(form, form, url.Values{"title": {""}, "summary": {"New summary."}, "audience": {"everyone"}})
				orgsWant(t, "no title", r, http.StatusUnprocessableEntity, `<a href="#title">Enter a title</a>`, "New summary.</textarea>", `value="everyone" checked`)
				if strings.Contains(r.body, "Choose the file again") {
					t.Error("the details form asks for a file")
				}
				libraryID(t, admin.submit(form, form, url.Values{"title": {"Recording well"}, "summary": {"New summary."}, "audience": {"everyone"}}), "updated")
				doc, err := site.App.Library.Get(ctx, id)
				if err != nil || doc.Title != "Recording well" || !doc.Audience.Everyone || doc.Latest.Number != 2 {
					t.Fatalf("after the change: %v %+v", err, doc)
				}
				orgsWant(t, "list", admin.get("/admin/library"), http.StatusOK, ">Recording well</a>", "Everyone", "2 (2.0): Markdown text")
			})
		})
	}
}

// Each file is served with its own type, a Content-Disposition naming it
// (attachment for Word and Excel), nosniff, and for HTML a sandbox that
// runs no script and gives the page an origin of its own.
func TestLibraryFilesAreServedWithSafeHeaders(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			ctx := context.Background()
			reporter := orgsAdminAs(t, site, account.RoleReporter)
			cases := []struct {
				name, file  string
				content     []byte
				contentType string
				disposition string
			}{
				{"PDF", "Guide – 2026 “final”.pdf", []byte("%PDF-1.7 x"), "application/pdf",
					`inline; filename="Guide _ 2026 _final_.pdf"; filename*=UTF-8''Guide%20%E2%80%93%202026%20%E2%80%9Cfinal%E2%80%9D.pdf`},
				{"Word", "form.docx", sampleDocx(t), "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
					`attachment; filename="form.docx"; filename*=UTF-8''form.docx`},
				{"HTML", `page "one".html`, []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"), "text/html; charset=utf-8",
					`inline; filename="page _one_.html"; filename*=UTF-8''page%20%22one%22.html`},
				{"Markdown", "notes.md", []byte("# Notes\n\n<script>alert(1)</script>\n"), "text/markdown; charset=utf-8",
					`inline; filename="notes.md"; filename*=UTF-8''notes.md`},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					doc, err := site.App.Library.Add(ctx, 0, library.Client{}, library.NewDocument{Title: c.name, Audience: authz.Audience{Everyone: true},
						File: library.Upload{FileName: c.file, Content: bytes.NewReader(c.content)}})
					if err != nil {
						t.Fatal(err)
					}
					r := reporter.get(fmt.Sprintf("/library/%d/file", doc.ID))
					if r.status != http.StatusOK || r.body != string(c.content) {
						t.Fatalf("status %d, body %q", r.status, r.body)
					}
					h := r.header
					if got := h.Get("Content-Type"); got != c.contentType {
						t.Errorf("Content-Type %q, want %q", got, c.contentType)
					}
					if got := h.Get("Content-Disposition"); got != c.disposition {
						t.Errorf("Content-Disposition %q, want %q", got, c.disposition)
					}
					if got := h.Values("X-Content-Type-Options"); len(got) != 1 || got[0] != "nosniff" {
						t.Errorf("X-Content-Type-Options %q", got)
					}
					csp := h.Values("Content-Security-Policy")
					if len(csp) != 1 {
						t.Fatalf("Content-Security-Policy %q: want exactly one", csp)
					}
					sandboxed := strings.HasPrefix(csp[0], "sandbox;")
					if sandboxed != (c.name == "HTML") {
						t.Errorf("Content-Security-Policy %q", csp[0])
					}
					if strings.Contains(csp[0], "allow-scripts") || strings.Contains(csp[0], "allow-same-origin") || strings.Contains(csp[0], "script-src 'unsafe") {
						t.Errorf("Content-Security-Policy %q lets the page run scripts or share our origin", csp[0])
					}
					if got := h.Get("Cache-Control"); !strings.Contains(got, "no-store") {
						t.Errorf("Cache-Control %q", got)
					}
				})
			}
		})
	}
}

// Each person sees and opens only the documents for their role; one
// outside their audience is "not found", as a missing one is. The search
// finds words of titles and summaries. P2
func TestTheLibraryShowsEachPersonTheDocumentsForThem(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			ctx := context.Background()
			add := func(title, summary string, a authz.Audience) int64 {
				doc, err := site.App.Library.Add(ctx, 0, library.Client{}, library.NewDocument{Title: title, Summary: summary, Audience: a,
					File: library.Upload{FileName: "g.md", Content: strings.NewReader(title)}})
				if err != nil {
					t.Fatal(err)
				}
				return doc.ID
			}
			all := add("Recording an event", "Everyone records.", authz.Audience{Everyone: true})
			reviewers := add("Reviewing events", "Triage within five working days.", authz.Audience{Roles: []string{authz.Reviewer}})
			reporter := orgsAdminAs(t, site, account.RoleReporter)
			reviewer := orgsAdminAs(t, site, account.RoleReviewer)

			list := reporter.get("/library")
			orgsWant(t, "reporter's list", list, http.StatusOK, ">Recording an event</a>", "Everyone records.", "Markdown text",
				`href="/library" aria-current="page">Guidance library</a>`)
			if strings.Contains(list.body, "Reviewing events") {
				t.Error("a reporter's list shows a document for reviewers")
			}
			for _, path := range []string{"/library/%d", "/library/%d/file", "/library/%d/versions/1/file"} {
				r := reporter.get(fmt.Sprintf(path, reviewers))
				orgsWant(t, "a document for reviewers", r, http.StatusNotFound, "Page not found")
				if strings.Contains(r.body, "Reviewing events") {
					t.Errorf("%s: the refusal names the document", path)
				}
				orgsWant(t, "a document that does not exist", reporter.get(fmt.Sprintf(path, reviewers+100)), http.StatusNotFound)
			}
			for _, path := range []string{fmt.Sprintf("/library/0%d", all), "/library/x", fmt.Sprintf("/library/%d/versions/2/file", all),
				fmt.Sprintf("/library/%d/versions/01/file", all), fmt.Sprintf("/library/%d/versions/99999999999/file", all)} {
				orgsWant(t, path, reporter.get(path), http.StatusNotFound)
			}
			orgsWant(t, "reviewer's list", reviewer.get("/library"), http.StatusOK, ">Recording an event</a>", ">Reviewing events</a>")
			orgsWant(t, "reviewer's document", reviewer.get(fmt.Sprintf("/library/%d", reviewers)), http.StatusOK,
				"Triage within five working days.", fmt.Sprintf(`href="/library/%d/file"`, reviewers))
			if r := reviewer.get(fmt.Sprintf("/library/%d", reviewers)); strings.Contains(r.body, "/admin/library") {
				t.Error("a reviewer is offered to manage the document")
			}

			found := reviewer.get("/library?q=TRIAGE+days")
			orgsWant(t, "search", found, http.StatusOK, ">Reviewing events</a>", `value="TRIAGE days"`, "1 document matches")
			if strings.Contains(found.body, ">Recording an event</a>") {
				t.Error("the search found a document without its words")
			}
			orgsWant(t, "search for nothing", reporter.get("/library?q=triage"), http.StatusOK, "No document matches “triage”")

			anonymous := newBrowser(t, site)
			if r := anonymous.get(fmt.Sprintf("/library/%d/file", all)); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/sign-in?") {
				t.Errorf("signed out: %d %q", r.status, r.location)
			}
		})
	}
}

// Only someone signed in gets an upload's larger limit: a signed-out post
// of several megabytes to an upload route, even with a valid visitor's
// form token and a made-up session cookie, is refused under the ordinary
// limit of every form, never stored.
func TestSignedOutUploadsAreNotRead(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	for _, cookie := range []string{"", "not-a-session"} {
		b := newBrowser(t, site)
		page := b.get("/sign-in")
		m := csrfPattern.FindStringSubmatch(page.body)
		if m == nil {
			t.Fatal("no form token on /sign-in")
		}
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("csrf_token", html.UnescapeString(m[1]))
		mw.WriteField("title", "Big")
		fw, _ := mw.CreateFormFile("file", "big.md")
		fw.Write(bytes.Repeat([]byte("# big\n"), 3<<20/6))
		mw.Close()
		req, _ := http.NewRequest(http.MethodPost, site.URL+"/admin/library/new", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "psims_session", Value: cookie})
		}
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r := read(t, resp)
		if r.status != http.StatusRequestEntityTooLarge && r.status != http.StatusForbidden {
			t.Errorf("cookie %q: a signed-out upload of 3 MB answered %d", cookie, r.status)
		}
	}
}
