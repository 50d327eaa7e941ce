package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/rights"
)

// TestEveryRoleWalksItsPages signs in as each role in turn, with
// JavaScript on, and opens the pages a person of that role reaches from
// the home page and the header: the home, the event lists (their own and
// the organisation's), an event, its history, drafts, their account and
// alert choices, and the administration pages. Each page must answer the
// status the role should get (a refusal is a page that says why, not a
// blank), and axe-core and the console check run on every one.
//
// A reviewer whose IG training has lapsed is walked too: asking for the
// organisation's events shows the IG training page, not their own list.
//
// With PSIMS_SCREENSHOTS set to a directory, each page is saved there as
// ROLE-N.png, for a person to look at.
func TestEveryRoleWalksItsPages(t *testing.T) {
	chromium(t)
	site, _ := startSite(t, dbtest.SQLite(t))
	ctx := context.Background()
	const password = "copper lantern orchard mist"
	now := time.Now().UTC()

	type person struct {
		slug string
		role account.Role
		ig   bool // IG training recorded this year
	}
	people := []person{
		{"reporter", account.RoleReporter, true},
		{"reviewer", account.RoleReviewer, true},
		{"lapsed-reviewer", account.RoleReviewer, false},
		{"org-admin", account.RoleOrgAdmin, true},
		{"read-only", account.RoleReadOnly, true},
		{"national-admin", account.RoleNationalAdmin, true},
	}
	users := map[string]account.User{}
	for _, p := range people {
		u, err := site.App.Accounts.Create(ctx, account.NewUser{Email: p.slug + "@nhs.net", Name: "Walker " + p.slug,
			JobRole: "Patient safety lead", OrgCode: "RM1", Role: p.role, Password: password})
		if err != nil {
			t.Fatal(err)
		}
		if p.ig {
			if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, now, u.ID); err != nil {
				t.Fatal(err)
			}
		}
		site.AcceptTerms(t, u.Email)
		users[p.slug] = u
	}
	admin := users["national-admin"]
	if err := site.App.Accounts.SetReadGrants(ctx, admin.ID, users["read-only"], []string{"RM1"}, ""); err != nil {
		t.Fatal(err)
	}

	day := now.AddDate(0, 0, -2).Truncate(24 * time.Hour)
	ev, err := site.App.Incidents.Submit(ctx, incident.Submission{Type: incident.Incident, OrgCode: "RM1", Source: incident.Staff,
		ReporterID: users["reporter"].ID, OccurredFrom: day, OccurredTo: day, StatementVersion: 1,
		Answers: incident.Answers{"AdverseEvent.description": {"A medicine round was delayed when the trolley key went missing."}}},
		incident.Client{})
	if err != nil {
		t.Fatal(err)
	}
	event := "/events/" + string(ev.Reference)
	// A request for restriction waits in the national admins' queue (P15).
	rr, err := site.App.Rights.Ask(ctx, rights.Actor{ID: users["reporter"].ID}, rights.Restriction, "")
	if err != nil {
		t.Fatal(err)
	}
	rightsRequest := fmt.Sprintf("/admin/rights/%d", rr.ID)

	// Every signed-in person may open these.
	common := []string{"/", "/events", "/account", "/account/profile", "/account/alerts", "/account/data", "/drafts", "/events/new",
		"/library", "/account/queries", "/help/feedback?from=/events", "/account/data/download", "/account/data/rights", "/concerns/new"}
	// What else each role may open (200), and what it is refused (403).
	type walk struct {
		ok, refused []string
	}
	walks := map[string]walk{
		"reporter": {ok: []string{event, event + "/history"},
			refused: []string{"/events?view=org", "/admin/users", "/admin/approvals", "/admin/usage", "/admin/feedback", "/admin/library", "/admin/rights",
				"/admin/concerns", "/admin/audit"}},
		"reviewer": {ok: []string{"/events?view=org", event, event + "/history", "/events?state=new"},
			refused: []string{"/admin/users", "/admin/approvals", "/admin/audit"}},
		"lapsed-reviewer": {ok: nil,
			refused: []string{"/admin/users", "/admin/usage"}},
		"org-admin": {ok: []string{"/events?view=org", event, event + "/history", "/admin/users", "/admin/approvals",
			fmt.Sprintf("/admin/users/%d", users["reporter"].ID), "/admin/usage", "/admin/usage?by=month", "/admin/concerns"},
			refused: []string{fmt.Sprintf("/admin/users/%d/disclosure", users["reporter"].ID), "/admin/rights", rightsRequest, "/admin/audit"}},
		"read-only": {ok: []string{event, event + "/history"},
			refused: []string{"/admin/users", "/admin/approvals", "/events/new", "/admin/audit"}},
		"national-admin": {ok: []string{event, event + "/history", "/admin/users", "/admin/approvals", "/admin/organisations",
			"/admin/documents", "/admin/usage", "/admin/usage?org=RM1", "/admin/library", "/admin/library/new", "/admin/feedback",
			fmt.Sprintf("/admin/users/%d/disclosure", users["reporter"].ID), "/admin/rights", "/admin/rights?status=any", rightsRequest, "/admin/concerns", "/admin/concerns?status=any",
			"/admin/audit", "/admin/audit?org=RM1&action=account.sign_in"}},
	}
	// Dormant accounts (issue 14): an organisation's admins, and national
	// admins, see who is about to be deactivated; nobody else does.
	for slug, add := range map[string]walk{
		"reporter":       {refused: []string{"/admin/users/dormant"}},
		"reviewer":       {refused: []string{"/admin/users/dormant"}},
		"read-only":      {refused: []string{"/admin/users/dormant"}},
		"org-admin":      {ok: []string{"/admin/users/dormant"}},
		"national-admin": {ok: []string{"/admin/users/dormant?org=RM1"}},
	} {
		w := walks[slug]
		w.ok, w.refused = append(w.ok, add.ok...), append(w.refused, add.refused...)
		walks[slug] = w
	}

	// The outbox (issue 14) names every recipient: national admins only.
	for role, w := range walks {
		if role == "national-admin" {
			w.ok = append(w.ok, "/admin/outbox", "/admin/outbox?status=failed")
		} else if role != "lapsed-reviewer" {
			w.refused = append(w.refused, "/admin/outbox")
		}
		walks[role] = w
	}

	// Newsletters and invitations (issue 14, P7): national admins only.
	for _, slug := range []string{"reporter", "reviewer", "org-admin", "read-only"} {
		w := walks[slug]
		w.refused = append(w.refused, "/admin/newsletters")
		walks[slug] = w
	}
	national := walks["national-admin"]
	national.ok = append(national.ok, "/admin/newsletters", "/admin/newsletters/new")
	walks["national-admin"] = national

	// The dashboard (issue 15, T14): everyone who reads others' events
	// but reporters; national admins any organisation's too.
	for slug, add := range map[string]walk{
		"reporter":        {refused: []string{"/dashboard"}},
		"reviewer":        {ok: []string{"/dashboard", "/dashboard?grain=week&by=harm"}},
		"lapsed-reviewer": {refused: []string{"/dashboard"}},
		"org-admin":       {ok: []string{"/dashboard?by=type"}},
		"read-only":       {ok: []string{"/dashboard"}},
		"national-admin":  {ok: []string{"/dashboard", "/dashboard?org=RM1&grain=week"}},
	} {
		w := walks[slug]
		w.ok, w.refused = append(w.ok, add.ok...), append(w.refused, add.refused...)
		walks[slug] = w
	}

	shots := os.Getenv("PSIMS_SCREENSHOTS")
	for _, p := range people {
		t.Run(p.slug, func(t *testing.T) {
			w := walks[p.slug]
			b := newBrowser(t, site.URL, true)
			b.open("/sign-in", 200)
			signIn(b, users[p.slug].Email, password, 200)
			n := 0
			visit := func(path string, status int) {
				b.open(path, status)
				if shots != "" {
					n++
					b.screenshot(filepath.Join(shots, fmt.Sprintf("%s-%02d.png", p.slug, n)))
				}
			}
			for _, path := range common {
				if p.role == account.RoleReadOnly && (path == "/drafts" || path == "/events/new") {
					continue // read-only users do not record
				}
				visit(path, 200)
			}
			for _, path := range w.ok {
				visit(path, 200)
			}
			for _, path := range w.refused {
				visit(path, 403)
				if got := b.text("main"); strings.TrimSpace(got) == "" {
					t.Errorf("%s: the refusal page says nothing", path)
				}
			}
			if p.slug == "lapsed-reviewer" {
				visit("/events?view=org", 403)
				if got := b.text("main"); !strings.Contains(got, "information governance") {
					t.Errorf("a reviewer without IG training asking for the organisation's events sees %q, not the IG training page", got)
				}
			}
		})
	}
}
