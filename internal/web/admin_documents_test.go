package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/terms"
)

// currentVersion returns the current version of kind.
func currentVersion(t *testing.T, site *apptest.Site, kind terms.Kind) terms.Document {
	t.Helper()
	d, err := site.App.Terms.Current(context.Background(), kind)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// National admins preview and publish new versions: the preview publishes
// nothing, mistakes keep what was typed, a version published meanwhile is
// never overwritten, and a material version is audited, emailed to
// everyone and must be accepted again, the publisher included.
func TestNationalAdminsPublishNewVersionsOfDocuments(t *testing.T) { // T2, T7, T19
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			ctx := context.Background()
			admin := orgsAdminAs(t, site, account.RoleNationalAdmin)
			orgsAdminAs(t, site, account.RoleReporter) // someone else who uses PSIMS
			adminUser, err := site.App.Accounts.UserByEmail(ctx, "orgs.nationaladmin@example.invalid")
			if err != nil {
				t.Fatal(err)
			}
			reporter, err := site.App.Accounts.UserByEmail(ctx, "orgs.reporter@example.invalid")
			if err != nil {
				t.Fatal(err)
			}
			first := currentVersion(t, site, terms.Terms)
			edited := strings.Replace(first.Body, "Never share it.", "Never share it with anyone.", 1) +
				"\n\n## Records kept for longer\n\nWe now keep records for eight years.\n"

			t.Run("the documents page lists each kind with its current version", func(t *testing.T) {
				orgsWant(t, "documents", admin.get("/admin/documents"), http.StatusOK,
					`href="/admin/documents" aria-current="page">Documents</a>`, ">Terms of use</a>", ">Privacy policy</a>", ">Recording statement</a>",
					`href="/admin/documents/terms/1">Version 1</a>`, `href="/admin/documents/recording-statement/new"`)
				orgsWant(t, "kind", admin.get("/admin/documents/terms"), http.StatusOK,
					`href="/admin/documents/terms/new" role="button" draggable="false">Publish a new version</a>`,
					`href="/admin/documents/terms/1">Version 1</a> (current)`, "The first version, provided with PSIMS.")
			})

			t.Run("the form holds the current text to edit", func(t *testing.T) {
				orgsWant(t, "form", admin.get("/admin/documents/terms/new"), http.StatusOK,
					`name="base" value="1"`, "## Who we are", "Summary of changes",
					"People must accept this version again before they go on using PSIMS", "Everyone with an active account will be emailed",
					`value="preview">Preview</button>`, `value="publish">Publish version 2</button>`)
				orgsWant(t, "recording statement form", admin.get("/admin/documents/recording-statement/new"), http.StatusOK,
					"Nobody is emailed", "shown with each submission")
			})

			t.Run("preview shows the text as it will appear and what changed, and publishes nothing", func(t *testing.T) {
				form := url.Values{"action": {"preview"}, "base": {"1"}, "body": {edited}, "summary": {"Records are kept for longer."}, "material": {"yes"}}
				r := admin.submit("/admin/documents/terms/new", "/admin/documents/terms/new", form)
				orgsWant(t, "preview", r, http.StatusOK, "Preview of version 2",
					`<h2 class="nhsuk-heading-m">Records kept for longer</h2>`, "<p>We now keep records for eight years.</p>",
					"Changes from version 1", "Changed paragraph", "Added paragraph",
					`<ins><span class="nhsuk-u-visually-hidden">Added: </span>`, "paragraphs have not changed and are not shown",
					"## Records kept for longer", ">\nRecords are kept for longer.</textarea>", `value="yes" checked`)
				if v := currentVersion(t, site, terms.Terms).Version; v != 1 {
					t.Fatalf("the preview published version %d", v)
				}
			})

			t.Run("a preview of the same text says it has not changed", func(t *testing.T) {
				form := url.Values{"action": {"preview"}, "base": {"1"}, "body": {first.Body}, "summary": {"Nothing."}}
				orgsWant(t, "preview", admin.submit("/admin/documents/terms/new", "/admin/documents/terms/new", form),
					http.StatusOK, "The text has not changed.")
			})

			t.Run("publishing without a summary shows the problem and keeps what was typed", func(t *testing.T) {
				form := url.Values{"action": {"publish"}, "base": {"1"}, "body": {edited}, "summary": {"  "}, "material": {"yes"}}
				r := admin.submit("/admin/documents/terms/new", "/admin/documents/terms/new", form)
				orgsWant(t, "no summary", r, http.StatusUnprocessableEntity, "There is a problem",
					`<a href="#summary">Enter a summary of what changed</a>`, "## Records kept for longer", `value="yes" checked`)
				if v := currentVersion(t, site, terms.Terms).Version; v != 1 {
					t.Fatalf("version %d was published without a summary", v)
				}
			})

			t.Run("a version published meanwhile is not overwritten", func(t *testing.T) {
				publish(t, site, terms.Terms, first.Body+"\n\nSomeone else's paragraph.\n", "Someone else's change.", false)
				form := url.Values{"action": {"publish"}, "base": {"1"}, "body": {edited}, "summary": {"Records are kept for longer."}, "material": {"yes"}}
				r := admin.submit("/admin/documents/terms/new", "/admin/documents/terms/new", form)
				orgsWant(t, "stale form", r, http.StatusConflict,
					"Version 2 of the terms of use was published while you were editing", "Changes from version 2",
					"Removed paragraph", `<del><span class="nhsuk-u-visually-hidden">Removed: </span>Someone else&#39;s paragraph.</del>`,
					`name="base" value="2"`, `value="publish">Publish version 3</button>`, "## Records kept for longer")
				if v := currentVersion(t, site, terms.Terms).Version; v != 2 {
					t.Fatalf("current version %d, want 2", v)
				}
			})

			var published terms.Document
			t.Run("publishing a material version makes it current and is audited", func(t *testing.T) {
				form := url.Values{"action": {"publish"}, "base": {"2"}, "body": {edited}, "summary": {"Records are kept for longer."}, "material": {"yes"}}
				r := admin.submit("/admin/documents/terms/new", "/admin/documents/terms/new", form)
				if r.status != http.StatusSeeOther || r.location != "/admin/documents/terms/3?done=published" {
					t.Fatalf("publish: %d %s", r.status, r.location)
				}
				published = currentVersion(t, site, terms.Terms)
				if published.Version != 3 || !published.Material || published.PublishedBy != adminUser.ID ||
					published.Summary != "Records are kept for longer." || published.Body != edited {
					t.Fatalf("current version: %+v", published)
				}
				rows, err := audit.List(ctx, site.App.DB, "document", strconv.FormatInt(published.ID, 10), 10)
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) != 1 || rows[0].Action != "document.publish" || rows[0].ActorID != adminUser.ID ||
					rows[0].Details["version"] != "3" || rows[0].Details["material"] != "true" {
					t.Fatalf("audit rows: %+v", rows)
				}
			})

			t.Run("everyone must accept the material version, the publisher included", func(t *testing.T) {
				if link := site.LatestLink(t, reporter.Email, "needs your acceptance"); !strings.HasSuffix(link, "/review-terms") {
					t.Errorf("the notice links to %s", link)
				}
				r := admin.get("/admin/documents/terms/3?done=published")
				if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/review-terms?") {
					t.Fatalf("the publisher was not asked to accept: %d %s", r.status, r.location)
				}
				site.AcceptTerms(t, adminUser.Email)
				orgsWant(t, "after accepting", admin.get("/admin/documents/terms/3?done=published"), http.StatusOK,
					"Version 3 of the terms of use was published. Everyone with an active account will be emailed about it.")
			})

			t.Run("the version page shows who has accepted it and who has not", func(t *testing.T) {
				r := admin.get("/admin/documents/terms/3")
				orgsWant(t, "version", r, http.StatusOK, `<h1 class="nhsuk-heading-l">Version 3</h1>`, "(current version)",
					"Records are kept for longer.", `href="/admin/users/`+strconv.FormatInt(adminUser.ID, 10)+`">Orgs National admin</a>`,
					"Accepted this version</dt><dd class=\"nhsuk-summary-list__value\">1</dd>",
					"Active users</dt><dd class=\"nhsuk-summary-list__value\">2</dd>",
					"Outstanding</dt><dd class=\"nhsuk-summary-list__value\">1<br>",
					`href="/admin/users/`+strconv.FormatInt(reporter.ID, 10)+`">`+reporter.Name+`</a>`, reporter.Email,
					`<h2 class="nhsuk-heading-m">Records kept for longer</h2>`)
				if r := admin.get("/admin/documents/terms/1"); !strings.Contains(r.body, `Replaced by <a href="/admin/documents/terms/3">version 3</a>`) {
					t.Errorf("version 1 does not say it was replaced: %d", r.status)
				}
				if strings.Contains(r.body, "was published.") {
					t.Error("the notice shows without the redirect that asks for it")
				}
			})

			t.Run("the people outstanding are listed a page at a time", func(t *testing.T) {
				for i := range 25 {
					_, err := site.App.Accounts.Create(ctx, account.NewUser{Email: fmt.Sprintf("outstanding%02d@nhs.net", i),
						Name: fmt.Sprintf("Pending Reader %02d", i), JobRole: "Tester", OrgCode: "D82044", Role: account.RoleReporter, Password: passphrase})
					if err != nil {
						t.Fatal(err)
					}
				}
				orgsWant(t, "page 1", admin.get("/admin/documents/terms/3"), http.StatusOK,
					"Outstanding</dt><dd class=\"nhsuk-summary-list__value\">26<br>", "Showing 1 to 25 of 26.",
					`href="/admin/documents/terms/3?page=2"`, `href="/admin/organisations/D82044">D82044</a>`)
				orgsWant(t, "page 2", admin.get("/admin/documents/terms/3?page=2"), http.StatusOK, "Showing 26 to 26 of 26.",
					`href="/admin/documents/terms/3"`)
			})

			t.Run("raw HTML in the text is shown as text and never runs", func(t *testing.T) {
				form := url.Values{"action": {"publish"}, "body": {"Read this first.\n\n<script>alert(1)</script>\n\nAnd <b>this</b>, [here](javascript:alert(2)).\n"},
					"summary": {"Testing <i>markup</i>."}}
				r := admin.submit("/admin/documents/recording-statement/new", "/admin/documents/recording-statement/new", form)
				if r.status != http.StatusSeeOther || r.location != "/admin/documents/recording-statement/2?done=published" {
					t.Fatalf("publish: %d %s", r.status, r.location)
				}
				for _, path := range []string{"/documents/recording-statement/2", "/admin/documents/recording-statement/2"} {
					r := admin.get(path)
					orgsWant(t, path, r, http.StatusOK, "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;b&gt;this&lt;/b&gt;")
					if strings.Contains(r.body, "<script>alert") || strings.Contains(r.body, "<b>this") || strings.Contains(r.body, "javascript:") {
						t.Errorf("%s: markup from the text reached the page", path)
					}
				}
				orgsWant(t, "list", newBrowser(t, site).get("/documents/recording-statement"), http.StatusOK, "Testing &lt;i&gt;markup&lt;/i&gt;.")
			})

			t.Run("the recording statement has no acceptance figures and emails nobody", func(t *testing.T) { // T7
				r := admin.get("/admin/documents/recording-statement/2?done=published")
				orgsWant(t, "version", r, http.StatusOK, "Version 2 of the recording statement was published.", "Minor")
				if strings.Contains(r.body, "Acceptance") || strings.Contains(r.body, "emailed") {
					t.Error("the recording statement shows acceptance figures or says people are emailed")
				}
				if st, err := site.App.Terms.Status(ctx, reporter.ID); err != nil || len(st.MustAccept) != 1 || st.MustAccept[0] != terms.Terms {
					t.Errorf("the reporter must accept %v (%v), want only the terms of use", st.MustAccept, err)
				}
			})
		})
	}
}

// Only national admins reach the document pages; nothing is published for
// anyone else, and only they see the Documents link.
func TestOnlyNationalAdminsManageDocuments(t *testing.T) { // T2
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	for _, role := range []account.Role{account.RoleReporter, account.RoleReviewer, account.RoleOrgAdmin, account.RoleReadOnly} {
		b := orgsAdminAs(t, site, role)
		if r := b.get("/account"); strings.Contains(r.body, `href="/admin/documents"`) {
			t.Errorf("%s: the Documents link is shown", role)
		}
		for _, path := range []string{"/admin/documents", "/admin/documents/terms", "/admin/documents/terms/new", "/admin/documents/terms/1", "/admin/documents/nonsense"} {
			if r := b.get(path); r.status != http.StatusForbidden {
				t.Errorf("%s: %s got %d", role, path, r.status)
			}
		}
		form := url.Values{"action": {"publish"}, "body": {"Not allowed."}, "summary": {"Not allowed."}}
		if r := b.submit("/account", "/admin/documents/recording-statement/new", form); r.status != http.StatusForbidden {
			t.Errorf("%s: publish got %d", role, r.status)
		}
	}
	if v := currentVersion(t, site, terms.RecordingStatement).Version; v != 1 {
		t.Errorf("version %d of the recording statement was published", v)
	}
	if r := newBrowser(t, site).get("/admin/documents/terms/new"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/sign-in?") {
		t.Errorf("signed out: %d %s", r.status, r.location)
	}
}
