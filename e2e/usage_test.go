package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
)

// TestGuidanceQueriesAndUsageReports walks issue 12 in Chromium, with
// JavaScript on, checking every page with axe-core and the console:
//   - a national admin adds a document to the guidance library by
//     uploading it through the form (T9);
//   - a reporter finds it in the library and opens it, then asks a
//     question from the "?" link of the page they are on (P3);
//   - the national admin finds the question in the inbox and replies; the
//     reply arrives at a real SMTP server, and the reporter reads it under
//     "Your account" (P8);
//   - the reporter's organisation admin sees the reporter's use counted in
//     the usage report but not under their name, until the reporter
//     consents to analysis of their own use; then the report names them,
//     with the document they opened (P6, P19).
func TestGuidanceQueriesAndUsageReports(t *testing.T) {
	chromium(t)
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			site, mail := startSite(t, e)
			ctx := context.Background()
			const password = "harbour violet engine saddle"
			for _, p := range []struct {
				email, name, org string
				role             account.Role
			}{
				{"rosa.reporter@nhs.net", "Rosa Reporter", "RM1", account.RoleReporter},
				{"omar.orgadmin@nhs.net", "Omar Orgadmin", "RM1", account.RoleOrgAdmin},
				{"nadia.national@nhs.net", "Nadia National", "QMM", account.RoleNationalAdmin},
			} {
				u, err := site.App.Accounts.Create(ctx, account.NewUser{Email: p.email, Name: p.name, JobRole: "Nurse",
					OrgCode: p.org, Role: p.role, Password: password})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, time.Now().UTC(), u.ID); err != nil {
					t.Fatal(err)
				}
				site.AcceptTerms(t, p.email)
			}
			file := filepath.Join(t.TempDir(), "falls-toolkit.md")
			if err := os.WriteFile(file, []byte("# Falls prevention toolkit\n\nCheck the call bell is in reach.\n"), 0o600); err != nil {
				t.Fatal(err)
			}

			// The national admin adds the document.
			nadia := newBrowser(t, site.URL, true)
			nadia.open("/sign-in", 200)
			signIn(nadia, "nadia.national@nhs.net", password, 200)
			nadia.open("/admin/library", 200)
			nadia.click("add a document", inMain("a", "Add a document"), 200)
			nadia.fill("title", "Falls prevention toolkit")
			nadia.fill("summary", "What wards check to prevent falls.")
			nadia.step("choose the file and the audience",
				chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}),
				chromedp.Click(chromedp.ID("audience")))
			nadia.click("upload it", inMain("button", "Add the document"), 200)
			nadia.wantHeading("Falls prevention toolkit")
			docPath := nadia.path()
			if i := strings.Index(docPath, "?"); i >= 0 {
				docPath = docPath[:i]
			}

			// The reporter opens it from the library.
			rosa := newBrowser(t, site.URL, true)
			rosa.open("/sign-in", 200)
			signIn(rosa, "rosa.reporter@nhs.net", password, 200)
			rosa.click("the library", inHeader("a", "Guidance library"), 200)
			rosa.click("the document", inMain("a", "Falls prevention toolkit"), 200)
			rosa.wantPath(docPath)
			// The file is Markdown, served as text: fetched as the browser
			// opens it, with the session's cookie, so it is a document open.
			opened := run(rosa, "open the file", chromedp.Evaluate[string](`fetch(document.querySelector('main a.nhsuk-button').href)
				.then(r => r.status + ' ' + r.headers.get('Content-Type') + ' ' + r.headers.get('X-Content-Type-Options'))`,
				chromedp.EvalAwaitPromise))
			if !strings.HasPrefix(opened, "200 text/markdown") || !strings.HasSuffix(opened, "nosniff") {
				t.Fatalf("opening the file: %q", opened)
			}

			// ...and asks a question about the page.
			rosa.click("the ? link", byText("footer", "a", "? Give feedback or ask a question about this page"), 200)
			rosa.wantHeading("Give feedback or ask a question")
			rosa.click("send without choosing", inMain("button", "Send"), 422)
			wantErrorPage(t, rosa, "#kind")
			rosa.step("a question, and a reply by email", chromedp.Click(chromedp.ID("kind-question")),
				chromedp.Click(chromedp.ID("may_reply")))
			rosa.fill("text", "Is there a version of the toolkit for community hospitals?\nWe have no call bells.")
			rosa.click("send the question", inMain("button", "Send"), 200)
			rosa.click("your questions", inMain("a", "Your feedback and questions"), 200)
			if got := rosa.text("main"); !strings.Contains(got, "New") {
				t.Fatalf("the list of questions shows %q", got)
			}

			// The national admin replies from the inbox.
			nadia.nav("Feedback", 200)
			nadia.click("the question", chromedp.Search(`//main//a[starts-with(normalize-space(), "FB-")]`), 200)
			if got := nadia.text("main"); !strings.Contains(got, "community hospitals?\nWe have no call bells.") || !strings.Contains(got, docPath) {
				t.Fatalf("the question shows %q", got)
			}
			nadia.fill("reply", "Yes: the community version is coming next month.\nWe will add it to the library.")
			nadia.click("send the reply", inMain("button", "Send reply"), 200)
			m := waitForMail(t, mail, "rosa.reporter@nhs.net", "a reply to your question")
			if !strings.Contains(m.Text(), "the community version is coming next month.") {
				t.Fatalf("the reply email says:\n%s", m.Text())
			}
			rosa.open("/account/queries", 200)
			rosa.click("the thread", chromedp.Search(`//main//a[starts-with(normalize-space(), "FB-")]`), 200)
			if got := rosa.text("main"); !strings.Contains(got, "coming next month.\nWe will add it to the library.") {
				t.Fatalf("the thread shows %q", got)
			}

			// The organisation admin sees Rosa counted, not named...
			omar := newBrowser(t, site.URL, true)
			omar.open("/sign-in", 200)
			signIn(omar, "omar.orgadmin@nhs.net", password, 200)
			omar.click("the usage report", inHeader("a", "Usage"), 200)
			if got := omar.text("main"); strings.Contains(got, "Rosa") || !strings.Contains(got, "Nobody at this organisation has agreed") {
				t.Fatalf("before consent the report shows %q", got)
			}
			omar.step("by month", chromedp.Click(chromedp.ID("by-month")))
			omar.click("show it", inMain("button", "Show report"), 200)
			if got := omar.text("main"); !strings.Contains(got, "Active users by month") {
				t.Fatalf("by month, the report shows %q", got)
			}

			// ...until she consents.
			rosa.open("/account/data-preferences", 200)
			rosa.step("consent to usage analysis", chromedp.Click(chromedp.ID("consent-usage-analysis")))
			rosa.click("save", inMain("button", "Save my choices"), 200)
			deadline := time.Now().Add(10 * time.Second)
			for {
				omar.open("/admin/usage", 200)
				got := omar.text("#people-heading + p + table")
				if strings.Contains(got, "Rosa Reporter") && strings.Contains(got, "rosa.reporter@nhs.net") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after consent the people table shows %q", got)
				}
				time.Sleep(300 * time.Millisecond)
			}
			t.Logf("pages checked with axe-core and the console: %s", strings.Join(append(append(nadia.checked, rosa.checked...), omar.checked...), "; "))
		})
	}
}
