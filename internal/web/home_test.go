package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
)

// Item 16 of issue 11: the home is each role's own once signed in, and the
// public page for everyone else.
func TestSignedInHomeForEachRole(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newEventsSite(t, e)
			ctx := context.Background()
			s.person("Olive Orgadmin", "olive@nhs.net", "RM1", account.RoleOrgAdmin)
			rita := s.event(s.rita, nil)
			severe := s.event(s.reuben, func(sub *incident.Submission) { sub.Index.PhysicalHarm = "2" })
			quentin := s.event(s.quentin, nil)
			all := []incident.Event{rita, severe, quentin}
			if _, err := s.site.App.Incidents.SaveDraft(ctx, s.rita.ID, 0, incident.Risk,
				incident.Answers{"AdverseEvent.description": {"Frayed cable by the sink"}}); err != nil {
				t.Fatal(err)
			}

			r := newBrowser(t, s.site).get("/")
			wantStatus(t, "the public home", r, http.StatusOK)
			if !strings.Contains(r.body, "Create an account") || strings.Contains(r.body, "Your drafts") {
				t.Fatalf("the public home:\n%s", r.body)
			}

			r = s.as("rita@nhs.net").get("/")
			wantStatus(t, "a reporter's home", r, http.StatusOK)
			wantRefs(t, "a reporter's home", r.body, all, rita)
			for _, want := range []string{"Your drafts", "Risk: Frayed cable by the sink", "Your recent records", `href="/events?view=mine"`} {
				if !strings.Contains(r.body, want) {
					t.Fatalf("a reporter's home lacks %q:\n%s", want, r.body)
				}
			}
			if strings.Contains(r.body, "Create an account") || strings.Contains(r.body, "This week by event type") {
				t.Fatalf("a reporter's home shows the public page or the organisation's counts:\n%s", r.body)
			}

			// One of the two is in review, assigned to Victor.
			if _, err := s.site.App.DB.WritePool().ExecContext(ctx, `UPDATE events SET review_state = 'in-review', assignee_id = $1 WHERE id = $2`,
				s.victor.ID, severe.ID); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ email, mine string }{{"victor@nhs.net", "1 event"}, {"olive@nhs.net", "0 events"}} {
				r = s.as(c.email).get("/")
				for _, want := range []string{`Waiting for review: <a href="/events?state=new&amp;view=org">1 event</a>`,
					`In review and assigned to you: <a href="/events?assignee=me&amp;state=in-review&amp;view=org">` + c.mine + `</a>`} {
					if !strings.Contains(r.body, want) {
						t.Fatalf("%s's home lacks %q:\n%s", c.email, want, r.body)
					}
				}
			}
			for _, email := range []string{"victor@nhs.net", "olive@nhs.net"} {
				r = s.as(email).get("/")
				wantStatus(t, email+"'s home", r, http.StatusOK)
				wantRefs(t, email+"'s home", r.body, all, rita, severe)
				for _, want := range []string{"Your organisation&#39;s events", "This week by event type", "This week by physical harm",
					"2 events</a>", "type=incident", "physical=2", "view=org", "New this week"} {
					if !strings.Contains(r.body, want) {
						t.Fatalf("%s's home lacks %q:\n%s", email, want, r.body)
					}
				}
			}

			r = s.as("rose@nhs.net").get("/")
			wantStatus(t, "a read-only user's home", r, http.StatusOK)
			wantRefs(t, "a read-only user's home", r.body, all, quentin)
			if !strings.Contains(r.body, "Events of the organisations you can see") || strings.Contains(r.body, "Your drafts") ||
				strings.Contains(r.body, "Record an event") {
				t.Fatalf("a read-only user's home:\n%s", r.body)
			}

			r = s.as("nina@nhs.net").get("/")
			wantStatus(t, "a national admin's home", r, http.StatusOK)
			for _, want := range []string{"Events at every organisation", "3 events</a>", `href="/admin/users"`, `href="/admin/approvals"`,
				`Waiting for review: <a href="/events?state=new">2 events</a>`} {
				if !strings.Contains(r.body, want) {
					t.Fatalf("a national admin's home lacks %q:\n%s", want, r.body)
				}
			}

			if _, err := s.site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = NULL WHERE id = $1`, s.victor.ID); err != nil {
				t.Fatal(err)
			}
			r = s.as("victor@nhs.net").get("/")
			wantStatus(t, "an untrained reviewer's home", r, http.StatusOK)
			wantRefs(t, "an untrained reviewer's home", r.body, all)
			if !strings.Contains(r.body, "Record your information governance training") || strings.Contains(r.body, "This week by event type") {
				t.Fatalf("an untrained reviewer's home:\n%s", r.body)
			}
		})
	}
}

// Someone signed in who has not accepted the terms is sent from the home
// to the review page, which comes back to it, as from any other page: the
// home shows what they recorded.
func TestHomeBeforeAcceptingSendsToTheReview(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b, u := newcomer(t, site, "nia.newcomer@nhs.net")
	if _, err := site.App.Incidents.SaveDraft(context.Background(), u.ID, 0, incident.Risk,
		incident.Answers{"AdverseEvent.description": {"Frayed cable by the sink"}}); err != nil {
		t.Fatal(err)
	}
	r := b.get("/")
	if r.status != http.StatusSeeOther || r.location != "/review-terms?next=%2F" {
		t.Fatalf("the home before accepting: status %d to %q, want 303 to the review page\n%s", r.status, r.location, r.body)
	}
}
