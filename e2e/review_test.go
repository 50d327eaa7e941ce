package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
)

// TestAReviewerAssignsNotesAndClosesAnEvent: an organisation's reviewer
// opens an event from their list, puts it in review assigned to
// themselves with a due date (after a date that does not exist is named
// in the error summary, with the note typed kept), then closes it with a
// note, and finds it among the closed events. JavaScript is on; every page
// is checked with axe-core and the console.
func TestAReviewerAssignsNotesAndClosesAnEvent(t *testing.T) {
	chromium(t)
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			site, _ := startSite(t, e)
			ctx := context.Background()
			const password = "quartz meadow lantern ferry"
			people := map[string]account.User{}
			for _, p := range []struct {
				email, name string
				role        account.Role
			}{{"rhea.reviewer@nhs.net", "Rhea Reviewer", account.RoleReviewer}, {"ravi.reporter@nhs.net", "Ravi Reporter", account.RoleReporter}} {
				u, err := site.App.Accounts.Create(ctx, account.NewUser{Email: p.email, Name: p.name, JobRole: "Nurse",
					OrgCode: "RM1", Role: p.role, Password: password})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, time.Now().UTC(), u.ID); err != nil {
					t.Fatal(err)
				}
				site.AcceptTerms(t, p.email)
				people[p.email] = u
			}
			day := time.Now().UTC().AddDate(0, 0, -3).Truncate(24 * time.Hour)
			ev, err := site.App.Incidents.Submit(ctx, incident.Submission{Type: incident.Incident, OrgCode: "RM1", Source: incident.Staff,
				ReporterID: people["ravi.reporter@nhs.net"].ID, OccurredFrom: day, OccurredTo: day, StatementVersion: 1,
				Answers: incident.Answers{"AdverseEvent.description": {"A patient fell in the day room after the call bell went unanswered."}}},
				incident.Client{})
			if err != nil {
				t.Fatal(err)
			}
			ref := string(ev.Reference)
			reviewer := strconv.FormatInt(people["rhea.reviewer@nhs.net"].ID, 10)

			b := newBrowser(t, site.URL, true)
			b.open("/sign-in", 200)
			signIn(b, "rhea.reviewer@nhs.net", password, 200)
			b.open("/events", 200)
			b.click("open the event", inMain("a", ref), 200)
			b.wantHeading("Event " + ref)
			if got := b.text("#review"); !strings.Contains(got, "New") || !strings.Contains(got, "No review notes yet.") {
				t.Fatalf("the review panel shows %q", got)
			}

			b.step("put it in review, assigned to me",
				chromedp.Click(chromedp.CSS(`input[name="state"][value="in-review"]`)),
				chromedp.SetValue(chromedp.ID("assignee"), reviewer))
			future := time.Now().UTC().AddDate(0, 1, 0)
			b.fill("due-day", "32")
			b.fill("due-month", strconv.Itoa(int(future.Month())))
			b.fill("due-year", strconv.Itoa(future.Year()))
			b.fill("note", "Asked the ward manager for the staffing rota.")
			b.click("save the review", inMain("button", "Save the review"), 422)
			links := b.errorSummary()
			if len(links) != 1 || !strings.Contains(links[0].Text, "Due date must be a real date") || !links[0].Target {
				t.Fatalf("error summary %+v", links)
			}
			if got := b.value("note"); got != "Asked the ward manager for the staffing rota." {
				t.Fatalf("the note typed became %q", got)
			}
			b.fill("due-day", "12")
			b.click("save the review again", inMain("button", "Save the review"), 200)
			got := b.text("#review")
			for _, want := range []string{"In review", "Rhea Reviewer", "Asked the ward manager for the staffing rota."} {
				if !strings.Contains(got, want) {
					t.Fatalf("the review panel lacks %q: %q", want, got)
				}
			}

			b.step("close it", chromedp.Click(chromedp.CSS(`input[name="state"][value="closed"]`)))
			// A note of two lines keeps its line break on the page.
			b.fill("note", "The rota was short on nights.\nA second nurse now covers the day room.")
			b.click("close the review", inMain("button", "Save the review"), 200)
			if got := b.text("#review"); !strings.Contains(got, "Closed") || !strings.Contains(got, "short on nights.\nA second nurse now covers") {
				t.Fatalf("after closing, the review panel shows %q", got)
			}

			b.open("/events?state=closed&assignee=me", 200)
			if got := b.text("main table"); !strings.Contains(got, ref) || !strings.Contains(got, "Closed, Rhea Reviewer") {
				t.Fatalf("the closed events list shows %q", got)
			}
		})
	}
}
