package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/audit"
	concernreport "github.com/psims/psims/internal/concern"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/mail/smtptest"
)

// sentPattern is where a report's form sends the reporter.
var sentPattern = regexp.MustCompile(`^/concerns/sent/(CR-\d{5,})$`)

// The sign-in page links to the concern form, which works for someone
// signed out with plain form posts (no JavaScript): the reference comes
// back on the page and by email. Text that could identify a patient, a bad
// date or a missing box is refused with the NHS.UK error summary, keeping
// everything typed. A post without the form token is refused. // T5, T12
func TestSomeoneSignedOutReportsAConcernFromTheSignInPage(t *testing.T) { // T5, T12
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t)
			site := apptest.Start(t, e, func(c *config.Config) { c.SMTP = srv.URL() })
			b := newBrowser(t, site)
			if r := b.get("/sign-in"); !strings.Contains(r.body, `href="/concerns/new"`) {
				t.Fatal("the sign-in page does not link to the concern form")
			}
			form := b.get("/concerns/new")
			if form.status != http.StatusOK || !strings.Contains(form.body, `name="reporter_email"`) || !strings.Contains(form.body, `action="/concerns"`) {
				t.Fatalf("form: %d", form.status)
			}
			if r := b.post("/concerns", url.Values{"kind": {"data-breach"}, "text": {"x"}}); r.status != http.StatusForbidden {
				t.Fatalf("a post without the form token: %d", r.status)
			}
			bad := "I saw the record of Mrs Jane Smith, NHS number 943 476 5919, on a screen."
			r := b.submit("/concerns/new", "/concerns", url.Values{"kind": {"data-breach"}, "text": {bad}, "reporter_name": {"Dee Ward"},
				"reporter_email": {"dee@example.org"}, "when-day": {"31"}, "when-month": {"2"}, "when-year": {"2026"}, "named_email": {"not-an-address"}})
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("refused report: %d", r.status)
			}
			for _, want := range []string{html.EscapeString(bad) + "</textarea>", `href="#text"`, `href="#when"`, `href="#named_email"`,
				`value="Dee Ward"`, `value="dee@example.org"`, `value="31"`, `value="not-an-address"`, "must be a real date", "nhsuk-error-summary",
				`value="data-breach" aria-describedby="kind-data-breach-hint" checked`} {
				if !strings.Contains(r.body, want) {
					t.Errorf("the refused form lacks %q", want)
				}
			}
			// The summary lists the problems in the order of the boxes.
			if i, j, k := strings.Index(r.body, `href="#text"`), strings.Index(r.body, `href="#when"`), strings.Index(r.body, `href="#named_email"`); !(i < j && j < k) {
				t.Errorf("the error summary is out of order: %d %d %d", i, j, k)
			}
			if r := b.submit("/concerns/new", "/concerns", url.Values{"kind": {"data-breach"}, "text": {"A list."}}); r.status != http.StatusUnprocessableEntity ||
				!strings.Contains(r.body, `href="#reporter_name"`) || !strings.Contains(r.body, `href="#reporter_email"`) {
				t.Fatalf("without name and address: %d", r.status)
			}
			r = b.submit("/concerns/new", "/concerns", url.Values{"kind": {"data-breach"}, "text": {"A printed list of staff logins was left in the canteen."},
				"reporter_name": {"Dee Ward"}, "reporter_email": {"dee@example.org"}, "when-day": {"1"}, "when-month": {"12"}, "when-year": {"2026"}})
			m := sentPattern.FindStringSubmatch(r.location)
			if r.status != http.StatusSeeOther || m == nil {
				t.Fatalf("report: %d %q", r.status, r.location)
			}
			if sent := b.get(r.location); sent.status != http.StatusOK || !strings.Contains(sent.body, m[1]) || !strings.Contains(sent.body, "within 48 hours") {
				t.Fatalf("sent page: %d", sent.status)
			}
			msg := srv.WaitFor(t, "dee@example.org", 1)
			if !strings.Contains(string(msg.Data), m[1]) || strings.Contains(string(msg.Data), "canteen") {
				t.Errorf("receipt: %s", msg.Data)
			}
			if r := b.get("/concerns/sent/CR-12"); r.status != http.StatusNotFound {
				t.Errorf("a reference that is not one: %d", r.status)
			}
		})
	}
}

// tokenPattern finds values that differ from one page to the next: form
// tokens and references.
var varyingPattern = regexp.MustCompile(`name="csrf_token" value="[^"]*"|CR-\d+`)

// Whether the named address, or the reporter's own, belongs to an account
// changes nothing in the answer: the same redirect and the same page, for
// all four combinations. // T5
func TestTheAnswerDoesNotSayWhetherAnAddressHasAnAccount(t *testing.T) { // T5
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	approvalsUser(t, site, "known@rm1.example", "RM1", account.RoleReporter, time.Time{})
	approvalsUser(t, site, "named@rm1.example", "RM1", account.RoleReporter, time.Time{})
	var pages []string
	for _, c := range []struct{ reporter, named string }{
		{"known@rm1.example", "named@rm1.example"}, {"stranger@example.org", "named@rm1.example"},
		{"known@rm1.example", "ghost@example.org"}, {"stranger2@example.org", "ghost2@example.org"},
	} {
		b := newBrowser(t, site)
		r := b.submit("/concerns/new", "/concerns", url.Values{"kind": {"unauthorised-access"}, "text": {"Someone else signed in as this person."},
			"reporter_name": {"A Person"}, "reporter_email": {c.reporter}, "named_email": {c.named}})
		if r.status != http.StatusSeeOther || !sentPattern.MatchString(r.location) {
			t.Fatalf("%+v: %d %q", c, r.status, r.location)
		}
		pages = append(pages, varyingPattern.ReplaceAllString(r.body+b.get(r.location).body, ""))
	}
	for i, p := range pages {
		if p != pages[0] {
			t.Errorf("case %d answers differently", i)
		}
	}
}

// Someone signed out who sends too many reports from one address is told
// to wait (429), with what they typed kept. // T5
func TestTooManyReportsFromOneAddressAreRefusedKeepingTheText(t *testing.T) { // T5
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := newBrowser(t, site)
	send := func(i int) response {
		return b.submit("/concerns/new", "/concerns", url.Values{"kind": {"terms-breach"}, "text": {"Passwords shared, report " + strconv.Itoa(i) + "."},
			"reporter_name": {"A Person"}, "reporter_email": {"person" + strconv.Itoa(i) + "@example.org"}})
	}
	for i := range concernreport.IPRate {
		if r := send(i); r.status != http.StatusSeeOther {
			t.Fatalf("report %d: %d", i, r.status)
		}
	}
	r := send(99)
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "Passwords shared, report 99.</textarea>") || !strings.Contains(r.body, "minutes") {
		t.Fatalf("past the limit: %d", r.status)
	}
}

// The national admins' queue puts a report past its 48 hours first with
// an "Overdue" tag and how long it is overdue in words; a national admin
// suspends the named account from the report, which signs that person
// out at once, with the report named in the audit row; closing emails the
// reporter the outcome. An organisation's admin sees only reports about
// its own users, and not who reported them. // T5, T6
func TestTheQueueAndActingFromAReport(t *testing.T) { // T5, T6
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t)
			site := apptest.Start(t, e, func(c *config.Config) { c.SMTP = srv.URL() })
			ctx := context.Background()
			reporter := approvalsUser(t, site, "reporter@rm1.example", "RM1", account.RoleReporter, time.Time{})
			named := approvalsUser(t, site, "named@rm1.example", "RM1", account.RoleReporter, time.Time{})
			other := approvalsUser(t, site, "other@qmm.example", "QMM", account.RoleReporter, time.Time{})
			admin := approvalsUser(t, site, "national@nhs.example", "RM1", account.RoleNationalAdmin, time.Now())
			approvalsUser(t, site, "orgadmin@rm1.example", "RM1", account.RoleOrgAdmin, time.Now())

			rb := signedInAs(t, site, reporter.Email)
			if r := rb.get("/account"); !strings.Contains(r.body, `href="/concerns/new"`) {
				t.Error("no link to report a concern in the footer")
			}
			r := rb.submit("/concerns/new", "/concerns", url.Values{"kind": {"unauthorised-access"}, "text": {"My colleague's login was used by a visitor."},
				"named_email": {named.Email}})
			m := sentPattern.FindStringSubmatch(r.location)
			if m == nil {
				t.Fatalf("report: %d %q", r.status, r.location)
			}
			id, _ := concernreport.ParseReference(m[1])
			srv.WaitFor(t, reporter.Email, 1)
			late, err := site.App.Concerns.Report(ctx, concernreport.Submission{ReporterID: reporter.ID, Kind: concernreport.TermsBreach,
				Text: "Shared passwords.", NamedEmail: other.Email})
			if err != nil {
				t.Fatal(err)
			}
			past := time.Now().Add(-50 * time.Hour).UTC()
			if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE concern_reports SET created_at = $1, due_at = $2 WHERE id = $3`,
				past, past.Add(concernreport.Clock), late.ID); err != nil {
				t.Fatal(err)
			}

			ab := signedInAs(t, site, admin.Email)
			queue := ab.get("/admin/concerns")
			if queue.status != http.StatusOK {
				t.Fatalf("queue: %d", queue.status)
			}
			first, second := strings.Index(queue.body, late.Reference), strings.Index(queue.body, m[1])
			if first < 0 || second < 0 || first > second {
				t.Fatalf("the overdue report is not first: %d %d", first, second)
			}
			for _, want := range []string{`nhsuk-tag--red">Overdue</strong> Overdue by 2 hours`, "<strong>1</strong> of the 2 open reports is past the 48 hours", "47 hours", `href="/admin/concerns"`} {
				if !strings.Contains(queue.body, want) {
					t.Errorf("the queue lacks %q", want)
				}
			}

			nb := signedInAs(t, site, named.Email)
			page := "/admin/concerns/" + strconv.FormatInt(id, 10)
			rp := ab.get(page)
			if !strings.Contains(rp.body, reporter.Email) || !strings.Contains(rp.body, `href="/admin/users/`+strconv.FormatInt(named.ID, 10)+`"`) {
				t.Error("the report page does not show the reporter and link the named account")
			}
			bad := "She looked up Mr John Smith."
			if r := ab.submit(page, page+"/account", url.Values{"status": {"suspended"}, "reason": {bad}}); r.status != http.StatusUnprocessableEntity ||
				!strings.Contains(r.body, html.EscapeString(bad)+"</textarea>") {
				t.Fatalf("a reason with a name: %d", r.status)
			}
			if r := ab.submit(page, page+"/account", url.Values{"status": {"suspended"}, "reason": {"Login used by a visitor"}}); r.status != http.StatusSeeOther {
				t.Fatalf("suspend: %d", r.status)
			}
			if r := nb.get("/account"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/sign-in") {
				t.Fatalf("the suspended person's session still works: %d %q", r.status, r.location)
			}
			rows, err := audit.List(ctx, site.App.DB, "user", strconv.FormatInt(named.ID, 10), 20)
			if err != nil {
				t.Fatal(err)
			}
			linked := false
			for _, row := range rows {
				linked = linked || (row.Action == "account.suspend" && row.Details["concern"] == strconv.FormatInt(id, 10))
			}
			if !linked {
				t.Error("the suspension's audit row does not name the report")
			}

			ob := signedInAs(t, site, "orgadmin@rm1.example")
			oq := ob.get("/admin/concerns?status=any")
			if !strings.Contains(oq.body, m[1]) || strings.Contains(oq.body, late.Reference) {
				t.Error("the organisation admin's queue is not their own organisation's")
			}
			if op := ob.get(page); op.status != http.StatusOK || strings.Contains(op.body, reporter.Email) || strings.Contains(op.body, "Close the report") {
				t.Errorf("the organisation admin's report page: %d", op.status)
			}
			if r := ob.get("/admin/concerns/" + strconv.FormatInt(late.ID, 10)); r.status != http.StatusNotFound {
				t.Errorf("another organisation's report: %d", r.status)
			}

			if r := ab.submit(page, page+"/close", url.Values{"outcome": {"account-actioned"}, "outcome_text": {"We have suspended the account."}}); r.status != http.StatusSeeOther {
				t.Fatalf("close: %d", r.status)
			}
			srv.WaitFor(t, reporter.Email, 3)
			closing := false
			for _, msg := range srv.Messages() {
				// Quoted-printable lines are joined again before reading.
				body := strings.NewReplacer("=\r\n", "", "=\n", "").Replace(string(msg.Data))
				closing = closing || (strings.Contains(body, "is closed") && strings.Contains(body, m[1]) && strings.Contains(body, "suspended or deactivated") &&
					strings.Contains(body, "We have suspended the account."))
			}
			if !closing {
				t.Error("no closing email with the outcome")
			}
		})
	}
}
