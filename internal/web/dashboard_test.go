package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/web"
)

// dashboardSite is the events site with fourteen months of events loaded
// for RM1 (five or six a month, and forty in one, a special cause), two a
// month for D82044, and one a month for the last three for QMM, whose
// reviewer is Quinn.
type dashboardSite struct {
	*eventsSite
}

// dashboardSpike is how many events RM1 received in its unusual month.
const dashboardSpike = 40

func newDashboardSite(t *testing.T, e dbtest.Engine) *dashboardSite {
	t.Helper()
	s := &dashboardSite{newEventsSite(t, e)}
	ctx := context.Background()
	d := s.site.App.DB
	now := time.Now().UTC()
	thisMonth := time.Date(now.Year(), now.Month(), 1, 12, 0, 0, 0, time.UTC)
	quinn := s.person("Quinn Reviewer", "quinn@nhs.net", "QMM", account.RoleReviewer)
	for back := 14; back >= 1; back-- {
		at := thisMonth.AddDate(0, -back, 14)
		d.SetClock(func() time.Time { return at })
		n := 5 + back%2
		if back == 3 {
			n = dashboardSpike
		}
		var subs []incident.Submission
		for range n {
			subs = append(subs, s.submission(s.rita, at))
		}
		subs = append(subs, s.submission(s.quentin, at), s.submission(s.quentin, at))
		if back <= 3 {
			subs = append(subs, s.submission(quinn, at)) // QMM started recording three months ago
		}
		if err := s.site.App.Incidents.Load(ctx, subs); err != nil {
			t.Fatal(err)
		}
	}
	d.SetClock(time.Now)
	return s
}

func (s *dashboardSite) submission(u account.User, at time.Time) incident.Submission {
	day := at.Truncate(24 * time.Hour)
	return incident.Submission{Type: incident.Incident, OrgCode: u.OrgCode, Source: incident.Staff, ReporterID: u.ID,
		OccurredFrom: day, OccurredTo: day, StatementVersion: 1,
		Answers: incident.Answers{"AdverseEvent.description": {"A fall in the day room."}},
		Index:   incident.Index{PhysicalHarm: "4", ServiceType: "1"}}
}

func wantIn(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s: the page does not say %q", what, w)
		}
	}
}

// The dashboard per role: a reviewer sees their own organisation's, as an
// XmR chart whose unusual month is marked in words and by shape; another
// organisation's is not found; a reporter may not; a read-only user sees
// the organisation granted; a national admin every organisation's and
// any one's; without IG training, the page says why. // T14, T18
func TestDashboardPerRole(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newDashboardSite(t, e)
			victor := s.as("victor@nhs.net")

			r := victor.get("/dashboard")
			wantStatus(t, "a reviewer's dashboard", r, http.StatusOK)
			wantIn(t, "a reviewer's dashboard", r.body, "Dashboard: ", "(RM1)", "All events by month", `role="img"`,
				"<desc id=\"total-desc\">", "Beyond a process limit (higher)", "<td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">40</td>",
				"How to read these charts", "(not over yet)", "Not assessed: the period is not over", `<path d="M`,
				"neither improvement nor concern", `id="total-icon-title"`)
			if strings.Contains(r.body, "(D82044)") {
				t.Error("a reviewer's dashboard names another organisation")
			}

			for _, q := range []string{"?by=type", "?by=harm", "?grain=week", "?grain=week&by=harm", "?grain=year&by=colour", "?org=RM1"} {
				r := victor.get("/dashboard" + q)
				wantStatus(t, q, r, http.StatusOK)
			}
			wantIn(t, "by type", victor.get("/dashboard?by=type").body, "Incident by month", "Good care by month")
			wantIn(t, "by week", victor.get("/dashboard?grain=week").body, "All events by week", "Week from ")
			wantIn(t, "by harm", victor.get("/dashboard?by=harm").body, "Physical harm: not recorded by month")

			wantStatus(t, "another organisation's", victor.get("/dashboard?org=D82044"), http.StatusNotFound)
			wantStatus(t, "a bad code", victor.get("/dashboard?org=%3Cscript%3E"), http.StatusNotFound)
			rita := s.as("rita@nhs.net")
			wantStatus(t, "a reporter", rita.get("/dashboard"), http.StatusForbidden)
			// The home and the header link to it for those who may see it.
			const link = `href="/dashboard">See how the number of events changes over time (dashboard)</a>`
			wantIn(t, "a reviewer's home", victor.get("/").body, link, `href="/dashboard">Dashboard</a>`)
			if home := rita.get("/").body; strings.Contains(home, link) || strings.Contains(home, `href="/dashboard"`) {
				t.Error("a reporter's home links to the dashboard")
			}

			rose := s.as("rose@nhs.net")
			r = rose.get("/dashboard")
			wantStatus(t, "a read-only user's", r, http.StatusOK)
			wantIn(t, "a read-only user's", r.body, "(D82044)")
			if strings.Contains(r.body, "nhsuk-table__cell--numeric\">40</td>") {
				t.Error("the granted organisation's dashboard shows RM1's month")
			}
			wantStatus(t, "a read-only user's own organisation, not granted", rose.get("/dashboard?org=QMM"), http.StatusForbidden)
			wantStatus(t, "a read-only user, not granted", rose.get("/dashboard?org=RM1"), http.StatusNotFound)

			// A read-only user granted nothing is told so.
			s.person("Rex Readonly", "rex@nhs.net", "QMM", account.RoleReadOnly)
			r = s.as("rex@nhs.net").get("/dashboard")
			wantStatus(t, "a read-only user granted nothing", r, http.StatusOK)
			wantIn(t, "a read-only user granted nothing", r.body, "You have not been given access to any organisation")
			if strings.Contains(r.body, "<svg class=\"app-chart\"") {
				t.Error("a read-only user granted nothing sees a chart")
			}

			// An organisation that started recording three months ago:
			// its chart starts then, and its limits are not yet reliable.
			// (newDashboardSite loaded them.)
			r = s.as("quinn@nhs.net").get("/dashboard")
			wantStatus(t, "a new organisation's", r, http.StatusOK)
			wantIn(t, "a new organisation's", r.body, "The limits come from 3 periods, fewer than 12, so they are not yet reliable.")
			if got := strings.Count(r.body, "<tr class=\"nhsuk-table__row\">") - 1; got != 4 {
				t.Errorf("a new organisation's table has %d periods, want 4 (three months and this one)", got)
			}

			nina := s.as("nina@nhs.net")
			r = nina.get("/dashboard")
			wantStatus(t, "national", r, http.StatusOK)
			wantIn(t, "national", r.body, "Dashboard: every organisation", "Organisation (optional)")
			r = nina.get("/dashboard?org=RM1")
			wantStatus(t, "a national admin on RM1", r, http.StatusOK)
			wantIn(t, "a national admin on RM1", r.body, "(RM1)", "Beyond a process limit (higher)")
			r = nina.get("/dashboard?org=nowhere+at+all")
			wantStatus(t, "an organisation that does not exist", r, http.StatusUnprocessableEntity)
			wantIn(t, "an organisation that does not exist", r.body, "No organisation matches", "nowhere at all", "nhsuk-error-summary")

			// Without current IG training, the page explains why.
			if _, err := s.site.App.DB.WritePool().ExecContext(context.Background(), `UPDATE users SET ig_training_at = NULL WHERE email = 'victor@nhs.net'`); err != nil {
				t.Fatal(err)
			}
			r = s.as("victor@nhs.net").get("/dashboard")
			wantStatus(t, "without IG training", r, http.StatusForbidden)
			wantIn(t, "without IG training", r.body, "information governance training")
		})
	}
}

// FuzzDashboardQuery asks for the dashboard with any query string, as a
// national admin (who may name any organisation) and as a reviewer:
// nothing may give a 500. // T14
func FuzzDashboardQuery(f *testing.F) {
	site := apptest.Start(f, dbtest.SQLite(f), nil)
	srv, err := web.New(fuzzDeps(site))
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	var clients []*fuzzClient
	for _, p := range []struct {
		email string
		role  account.Role
	}{{"fuzz.national@nhs.net", account.RoleNationalAdmin}, {"fuzz.reviewer@nhs.net", account.RoleReviewer}} {
		u, err := site.App.Accounts.Create(ctx, account.NewUser{Email: p.email, Name: "Fuzz", JobRole: "Lead", OrgCode: "RM1", Role: p.role, Password: passphrase})
		if err != nil {
			f.Fatal(err)
		}
		if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, site.App.DB.Now(), u.ID); err != nil {
			f.Fatal(err)
		}
		site.AcceptTerms(f, p.email)
		clients = append(clients, client(f, srv, p.email))
	}
	f.Add(uint8(0), "org=RM1&grain=week&by=harm")
	f.Add(uint8(0), "org=%25%5F%27&grain=%00&by=%ff")
	f.Add(uint8(1), "org=D82044&org=RM1&grain=month&grain=week")
	f.Add(uint8(1), "org="+strings.Repeat("A", 5000))
	f.Add(uint8(0), "org=;;;&by=type&%zz")
	f.Fuzz(func(t *testing.T, who uint8, query string) {
		c := clients[int(who)%len(clients)]
		req := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
		req.URL.RawQuery = query
		for _, ck := range c.cookies {
			req.AddCookie(ck)
		}
		w := httptest.NewRecorder()
		c.srv.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("GET /dashboard?%s: status %d", query, w.Code)
		}
	})
}
