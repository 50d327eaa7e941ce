package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
)

// TestAPersonIsErasedAndTheirEventsStayWithoutThem: a reporter asks for
// erasure from "Your data" (after a form sent without a choice is
// explained in the error summary, with their reason kept); a national
// admin finds the request in the queue and completes it; the reporter is
// emailed, signed out, and can no longer sign in; the reviewer of their
// organisation still sees the event they recorded, with the reporter
// shown as an erased user. JavaScript is on; every page is checked with
// axe-core and the console. // P15
//
// With PSIMS_SCREENSHOTS set to a directory, the pages this journey adds
// are saved there as erasure-N.png.
func TestAPersonIsErasedAndTheirEventsStayWithoutThem(t *testing.T) {
	chromium(t)
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			site, mail := startSite(t, e)
			ctx := context.Background()
			const password = "harbour violet compass drum"
			people := map[string]account.User{}
			for _, p := range []struct {
				email, name string
				role        account.Role
			}{{"ravi.reporter@nhs.net", "Ravi Reporter", account.RoleReporter},
				{"rhea.reviewer@nhs.net", "Rhea Reviewer", account.RoleReviewer},
				{"nia.national@nhs.net", "Nia National", account.RoleNationalAdmin}} {
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
				Answers: incident.Answers{"AdverseEvent.description": {"A syringe driver alarmed for an hour before anyone came."}}},
				incident.Client{})
			if err != nil {
				t.Fatal(err)
			}
			ref := string(ev.Reference)
			shots := os.Getenv("PSIMS_SCREENSHOTS")
			n := 0
			shot := func(b *browser) {
				if shots != "" && e.Name == "sqlite" {
					n++
					b.screenshot(filepath.Join(shots, fmt.Sprintf("erasure-%02d.png", n)))
				}
			}

			rb := newBrowser(t, site.URL, true)
			rb.open("/sign-in", 200)
			signIn(rb, "ravi.reporter@nhs.net", password, 200)
			rb.open("/account/data", 200)
			rb.click("ask about my data", inMain("a", "Ask to erase or restrict your data, or stop contacting you"), 200)
			rb.wantHeading("Erase or restrict your data, or stop contacting you")
			shot(rb)
			rb.fill("reason", "I am leaving the health service.")
			rb.click("send without a choice", inMain("button", "Send request"), 422)
			wantErrorPage(t, rb, "#kind")
			if got := rb.value("reason"); got != "I am leaving the health service." {
				t.Fatalf("the reason typed became %q", got)
			}
			shot(rb)
			rb.step("choose erasure", chromedp.Click(chromedp.ID("kind")))
			rb.click("send the request", inMain("button", "Send request"), 200)
			rb.wantPath("/account/data?done=erasure")
			if got := rb.text("main"); !strings.Contains(got, "We have your request to erase your data") || !strings.Contains(got, "Erasure RR-") {
				t.Fatalf("your data shows %q", got)
			}
			shot(rb)
			waitForMail(t, mail, "ravi.reporter@nhs.net", "we have your request")

			ab := newBrowser(t, site.URL, true)
			ab.open("/sign-in", 200)
			signIn(ab, "nia.national@nhs.net", password, 200)
			ab.open("/admin/rights", 200)
			ab.wantHeading("Data rights requests")
			shot(ab)
			ab.click("open the request", inMain("a", "RR-00001"), 200)
			if got := ab.text("main"); !strings.Contains(got, "ravi.reporter@nhs.net") || !strings.Contains(got, "I am leaving the health service.") {
				t.Fatalf("the request page shows %q", got)
			}
			shot(ab)
			ab.click("erase the person", inMain("button", "Erase this person"), 200)
			if got := ab.text("main"); !strings.Contains(got, "completed and the person emailed") || !strings.Contains(got, "The person has been erased") {
				t.Fatalf("after erasing, the page shows %q", got)
			}
			shot(ab)
			if m := waitForMail(t, mail, "ravi.reporter@nhs.net", "erased"); !strings.Contains(m.Text(), "can no longer sign in") {
				t.Fatalf("the outcome email:\n%s", m.Text())
			}

			rb.open("/account", 200)
			if !strings.HasPrefix(rb.path(), "/sign-in") {
				t.Fatalf("the erased person's session goes on at %s", rb.path())
			}
			signIn(rb, "ravi.reporter@nhs.net", password, 401)

			vb := newBrowser(t, site.URL, true)
			vb.open("/sign-in", 200)
			signIn(vb, "rhea.reviewer@nhs.net", password, 200)
			vb.open("/events/"+ref, 200)
			got := vb.text("main")
			if !strings.Contains(got, "Erased user") || !strings.Contains(got, "A syringe driver alarmed") || strings.Contains(got, "Ravi") {
				t.Fatalf("the reviewer sees %q", got)
			}
			shot(vb)
		})
	}
}
