package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/terms"
	"github.com/psims/psims/internal/usage"
	"github.com/psims/psims/internal/web"
)

// usageSite is a site where six reporters of RM1 and one of QMM have used
// the service today, through real requests recorded by the usage writer.
type usageSite struct {
	*adminUsersSite
	reporters []account.User // of RM1
}

func newUsageSite(t *testing.T, e dbtest.Engine) *usageSite {
	t.Helper()
	s := &usageSite{adminUsersSite: newAdminUsersSite(t, e)}
	for i := range 5 {
		s.reporters = append(s.reporters, s.person(fmt.Sprintf("Usage Reporter %d", i), fmt.Sprintf("usage.reporter%d@nhs.net", i), "RM1", account.RoleReporter))
	}
	s.reporters = append(s.reporters, s.rita)
	ctx := context.Background()
	for _, u := range append(s.reporters, s.quentin) {
		s.site.AcceptTerms(t, u.Email)
		b := s.as(u.Email)
		b.get("/")
		b.get("/account")
	}
	// Every reporter signed in and saw two pages: 7 sign-ins and 14 page
	// views, written in the background.
	waitFor(t, func() bool {
		var n int
		return s.site.App.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM usage_events WHERE user_id IN
			(SELECT id FROM users WHERE email LIKE 'usage.reporter%' OR email IN ('rita@nhs.net', 'quentin@nhs.net'))`).Scan(&n) == nil && n >= 21
	})
	return s
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out waiting")
}

// P6, P19, T9: an organisation admin's usage report counts everyone of
// their organisation and names only those who consent to analysis of
// their own use; showing it is audited. Asked for another organisation,
// it is still their own.
func TestAnOrgAdminsUsageReportIsTheirOwnOrganisations(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newUsageSite(t, e)
			ctx := context.Background()
			olive := s.as("olive@nhs.net")

			r := olive.get("/admin/usage?org=QMM")
			wantStatus(t, "the report", r, http.StatusOK)
			for _, want := range []string{"Usage report: ", "Active users", "Sign-ins", `role="img"`, "<desc id=\"active-desc\">",
				"Nobody at this organisation has agreed"} {
				if !strings.Contains(r.body, want) {
					t.Errorf("the report lacks %q", want)
				}
			}
			if strings.Contains(r.body, "Quentin") || strings.Contains(r.body, "Usage Reporter") {
				t.Errorf("the report names someone who has not consented")
			}

			// Rita consents; she alone is named, with her figures.
			if err := s.site.App.Terms.SetConsents(ctx, s.rita.ID, terms.Client{IP: "127.0.0.1"}, map[terms.Purpose]bool{terms.UsageAnalysis: true}); err != nil {
				t.Fatal(err)
			}
			r = olive.get("/admin/usage")
			if !strings.Contains(r.body, "Rita Reporter") || !strings.Contains(r.body, "rita@nhs.net") || strings.Contains(r.body, "Usage Reporter") {
				t.Fatalf("after Rita consents, the people table is %q", between(r.body, "people-heading", "</table>"))
			}
			var audited int
			if err := s.site.App.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'usage.individuals_shown'
				AND subject_id = 'RM1'`).Scan(&audited); err != nil || audited == 0 {
				t.Errorf("showing people is not audited (%v, %d)", err, audited)
			}

			// The download has the same figures, and Rita's row.
			d := olive.get("/admin/usage/download")
			if d.status != http.StatusOK || !strings.HasPrefix(d.header.Get("Content-Type"), "text/csv") ||
				!strings.Contains(d.header.Get("Content-Disposition"), "psims-usage-rm1-") {
				t.Fatalf("download: %d %v", d.status, d.header)
			}
			if !strings.Contains(d.body, "period,from,to,active_users") || !strings.Contains(d.body, "rita@nhs.net") || strings.Contains(d.body, "Quentin") {
				t.Errorf("download:\n%s", d.body)
			}

			// She withdraws; she is gone at once.
			if err := s.site.App.Terms.SetConsents(ctx, s.rita.ID, terms.Client{IP: "127.0.0.1"}, map[terms.Purpose]bool{terms.UsageAnalysis: false}); err != nil {
				t.Fatal(err)
			}
			if r = olive.get("/admin/usage"); strings.Contains(r.body, "Rita Reporter") {
				t.Error("Rita is still named after withdrawing her consent")
			}
		})
	}
}

// P10: the national report counts everyone and names nobody, even people
// who consent; figures over fewer than 5 people are withheld.
func TestTheNationalUsageReportNamesNobody(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newUsageSite(t, e)
			ctx := context.Background()
			if err := s.site.App.Terms.SetConsents(ctx, s.rita.ID, terms.Client{IP: "127.0.0.1"}, map[terms.Purpose]bool{terms.UsageAnalysis: true}); err != nil {
				t.Fatal(err)
			}
			nina := s.as("nina@nhs.net")
			r := nina.get("/admin/usage")
			wantStatus(t, "the national report", r, http.StatusOK)
			if !strings.Contains(r.body, "National usage report") || strings.Contains(r.body, "Rita") || strings.Contains(r.body, "people-heading") {
				t.Errorf("the national report names someone or lists people")
			}
			// QMM has one active person: every figure is withheld.
			r = nina.get("/admin/usage?org=QMM")
			if !strings.Contains(r.body, "fewer than 5 people, not shown") || strings.Contains(r.body, "Quentin") {
				t.Errorf("QMM's report of one person shows figures:\n%s", between(r.body, "<dl", "</dl>"))
			}
			// Bad dates are named, with what was typed kept.
			r = nina.get("/admin/usage?from-day=31&from-month=2&from-year=2026&to-day=1&to-month=1&to-year=2026")
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "nhsuk-error-summary") || !strings.Contains(r.body, `value="31"`) {
				t.Errorf("bad dates: %d", r.status)
			}
			r = nina.get("/admin/usage?from-day=1&from-month=1&from-year=2020&to-day=1&to-month=1&to-year=2026")
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "2 years or less") {
				t.Errorf("a period of six years: %d", r.status)
			}
		})
	}
}

// T9, P2: every page a signed-in person can be served counts in an area
// of the usage reports, so no route is lost in "other" as the service
// grows. Health, metrics and static files are never anyone's use.
func TestEveryRouteHasAUsageArea(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	srv, err := web.New(site.App.WebDeps(web.NewMetrics(prometheus.NewRegistry(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, route := range srv.Routes() {
		switch route {
		case "GET /static/", "GET /healthz", "GET /readyz", "GET /metrics":
			continue
		}
		if area := usage.Area(route); area == usage.AreaOther {
			t.Errorf("%s is in no area of the usage reports", route)
		}
	}
}
