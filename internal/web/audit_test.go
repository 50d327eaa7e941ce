package web_test

import (
	"context"
	"encoding/csv"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

var (
	auditRowPattern   = regexp.MustCompile(`<span class="nhsuk-table__heading" aria-hidden="true">Entry </span>(\d+)</td>`)
	auditOlderPattern = regexp.MustCompile(`<a href="([^"]+)" class="nhsuk-pagination__next"`)
	auditNewerPattern = regexp.MustCompile(`<a href="([^"]+)" class="nhsuk-pagination__previous"`)
)

func auditIDs(body string) []int64 {
	var out []int64
	for _, m := range auditRowPattern.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		out = append(out, n)
	}
	return out
}

// A national admin filters the audit log by who acted, pages through it
// older and newer with the filters kept, and downloads every matching
// entry as CSV, which is itself audited with the filters and row count
// (issue 13, T5).
func TestNationalAdminsFilterPageAndDownloadTheAuditLog(t *testing.T) { // T5
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			ctx := context.Background()
			admin := approvalsUser(t, site, "ada.audit@nhs.net", "QMM", account.RoleNationalAdmin, time.Now())
			ben := approvalsUser(t, site, "ben.audit@nhs.net", "RM1", account.RoleReporter, time.Time{})
			for i := range 60 {
				if err := site.App.DB.InTx(ctx, func(tx *db.Tx) error {
					return audit.Record(ctx, tx, audit.Entry{ActorID: ben.ID, Action: "matrix.thing", SubjectType: "thing",
						SubjectID: strconv.Itoa(i), IP: "192.0.2.7", Details: map[string]string{"n": "=1+" + strconv.Itoa(i)}})
				}); err != nil {
					t.Fatal(err)
				}
			}
			b := signedInAs(t, site, admin.Email)
			r := b.get("/admin/audit?actor=BEN.AUDIT%40nhs.net&action=matrix.thing")
			if r.status != http.StatusOK {
				t.Fatalf("viewer: %d", r.status)
			}
			first := auditIDs(r.body)
			if len(first) != audit.DefaultPageSize || !strings.Contains(r.body, "Person ben.audit (ben.audit@nhs.net)") {
				t.Fatalf("first page: %d rows", len(first))
			}
			if auditNewerPattern.MatchString(r.body) {
				t.Error("the first page links to newer entries")
			}
			m := auditOlderPattern.FindStringSubmatch(r.body)
			if m == nil {
				t.Fatal("no link to older entries")
			}
			older := html.UnescapeString(m[1])
			if !strings.Contains(older, "actor=BEN.AUDIT%40nhs.net") || !strings.Contains(older, "action=matrix.thing") {
				t.Fatalf("the older link drops the filters: %s", older)
			}
			r = b.get(older)
			second := auditIDs(r.body)
			if len(second) != 10 || second[0] >= first[len(first)-1] || auditOlderPattern.MatchString(r.body) {
				t.Fatalf("second page: %v", second)
			}
			m = auditNewerPattern.FindStringSubmatch(r.body)
			if m == nil {
				t.Fatal("no link to newer entries")
			}
			if back := auditIDs(b.get(html.UnescapeString(m[1])).body); len(back) != len(first) || back[0] != first[0] {
				t.Fatalf("newer from the second page: %v", back)
			}

			// The download is every page, safe for spreadsheets, and audited.
			resp, err := b.c.Get(site.URL + "/admin/audit/download?actor=ben.audit%40nhs.net&action=matrix.thing")
			if err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(resp.Body).ReadAll()
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("download: %d %s %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
			}
			if len(recs) != 61 || recs[1][7] != "n: =1+59" || recs[1][2] != strconv.FormatInt(ben.ID, 10) {
				t.Fatalf("download: %d lines, first %q", len(recs), recs[1])
			}
			rows, err := audit.List(ctx, site.App.DB, "audit_log", "", 5)
			if err != nil {
				t.Fatal(err)
			}
			var exported *audit.Row
			for i := range rows {
				if rows[i].Action == "audit.export" {
					exported = &rows[i]
					break
				}
			}
			if exported == nil || exported.ActorID != admin.ID || exported.Details["rows"] != "60" ||
				exported.Details["actor"] != "ben.audit@nhs.net" || exported.Details["action"] != "matrix.thing" {
				t.Fatalf("the download was not audited as it should be: %+v", exported)
			}
			// The export shows in the viewer, by the admin.
			if ids := auditIDs(b.get("/admin/audit?action=audit.export&actor=" + strconv.FormatInt(admin.ID, 10)).body); len(ids) != 1 {
				t.Fatalf("the export's row in the viewer: %v", ids)
			}
		})
	}
}

// Bad filters get the NHS.UK error summary and inline errors, 422, and
// keep everything typed; the download refuses them the same way.
func TestTheAuditLogExplainsBadFiltersAndKeepsThem(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	admin := approvalsUser(t, site, "ada.filters@nhs.net", "QMM", account.RoleNationalAdmin, time.Now())
	b := signedInAs(t, site, admin.Email)
	r := b.get("/admin/audit?actor=not+a+person&object=42&from-day=31&from-month=2&from-year=2026&to-day=1&to-month=1&to-year=2026&org=zzzzzz+nowhere")
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", r.status)
	}
	for _, want := range []string{
		`nhsuk-error-summary`,
		`Enter the actor’s email address, their user number, or “system”`,
		`Choose the type of the object you entered`,
		`From must be a real date`,
		`No organisation matches`,
		`value="not a person"`, `value="42"`, `value="31"`, `value="zzzzzz nowhere"`,
		`href="#actor"`, `href="#type"`,
	} {
		if !strings.Contains(html.UnescapeString(r.body), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if len(auditIDs(r.body)) != 0 {
		t.Error("rows shown with bad filters")
	}
	r = b.get("/admin/audit?from-day=2&from-month=3&from-year=2026&to-day=1&to-month=3&to-year=2026")
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "To must be the same as or after from") {
		t.Fatalf("reversed range: %d", r.status)
	}
	if r := b.get("/admin/audit?action=no.such.action"); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Choose an action from the list") {
		t.Fatalf("unknown action: %d", r.status)
	}
	if r := b.get("/admin/audit/download?actor=not+a+person"); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("download with a bad filter: %d", r.status)
	}
	// A cursor that is not a number is ignored: the newest page.
	if r := b.get("/admin/audit?before=abc&after=-3"); r.status != http.StatusOK {
		t.Fatalf("bad cursor: %d", r.status)
	}
}
