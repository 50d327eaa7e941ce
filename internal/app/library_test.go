package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"testing"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/library"
)

// P2, P4: opening a document of the library is a usage event of its own kind,
// naming the document; the document's page around it is a page view, and
// a document the person may not read is a page view answered with 404.
func TestOpeningALibraryDocumentIsRecordedAsADocumentEvent(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			ctx := context.Background()
			const email = "library.reader@nhs.net"
			u := activeReporter(t, site, email, "Library Reader")
			res, err := site.App.Accounts.SignIn(ctx, email, usagePassword, account.Client{IP: "127.0.0.1"})
			if err != nil || res.Outcome != account.OutcomeSuccess {
				t.Fatalf("sign in: %v %+v", err, res)
			}
			add := func(title string, a authz.Audience) int64 {
				doc, err := site.App.Library.Add(ctx, 0, library.Client{}, library.NewDocument{Title: title, Audience: a,
					File: library.Upload{FileName: "guide.pdf", Content: bytes.NewReader([]byte("%PDF-1.7 " + title))}})
				if err != nil {
					t.Fatal(err)
				}
				return doc.ID
			}
			open := add("For everyone", authz.Audience{Everyone: true})
			closed := add("For reviewers", authz.Audience{Roles: []string{authz.Reviewer}})
			get := func(path string, want int) {
				req, err := http.NewRequest(http.MethodGet, site.URL+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.AddCookie(&http.Cookie{Name: "psims_session", Value: res.Session.Token})
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Fatalf("%s: %d, want %d", path, resp.StatusCode, want)
				}
			}
			id := strconv.FormatInt(open, 10)
			get("/library/"+id, http.StatusOK)
			get("/library/"+id+"/file", http.StatusOK)
			get("/library/"+strconv.FormatInt(closed, 10)+"/file", http.StatusNotFound)

			d := site.App.DB
			waitUntil(t, func() bool {
				var n int
				return d.QueryRowContext(ctx, `SELECT COUNT(*) FROM usage_events`).Scan(&n) == nil && n >= 3
			})
			rows, err := d.QueryContext(ctx, `SELECT kind, route, status, user_id, document_id, ip, session_hash FROM usage_events ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			type event struct {
				kind, route string
				status      int
				user        int64
				document    sql.NullInt64
			}
			var got []event
			for rows.Next() {
				var e event
				var ip, session string
				if err := rows.Scan(&e.kind, &e.route, &e.status, &e.user, &e.document, &ip, &session); err != nil {
					t.Fatal(err)
				}
				// P4: a document opened keeps what a page view does.
				if ip != "127.0.0.1" || len(session) != 32 {
					t.Errorf("%s event: address %q, session %q", e.kind, ip, session)
				}
				got = append(got, e)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			want := []event{
				{"page", "GET /library/{id}", 200, u.ID, sql.NullInt64{}},
				{"document", "GET /library/{id}/file", 200, u.ID, sql.NullInt64{Int64: open, Valid: true}},
				{"page", "GET /library/{id}/file", 404, u.ID, sql.NullInt64{}},
			}
			if len(got) != len(want) {
				t.Fatalf("events %+v, want %+v", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("event %d: %+v, want %+v", i, got[i], want[i])
				}
			}
		})
	}
}
