package e2e

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/terms"
)

// TestANationalAdminSendsANewsletter is a national admin's journey through
// a newsletter (issue 14, P7) in Chromium with JavaScript on: from the
// header to the compose form, a message holding an NHS number refused in
// NHS.UK style with what was typed kept, the corrected one saved and
// previewed with its audience size, sent, and delivered by SMTP with
// List-Unsubscribe; the recipient's link opens the confirmation page, and
// its button unsubscribes. Every page is checked with axe-core and the
// console.
func TestANationalAdminSendsANewsletter(t *testing.T) { // P7
	chromium(t)
	site, mail := startSite(t, dbtest.SQLite(t))
	ctx := context.Background()
	const password = "copper lantern orchard seven"
	users := map[string]account.User{}
	for _, p := range []struct {
		email string
		role  account.Role
		wants []terms.Purpose
	}{{"news.admin@nhs.net", account.RoleNationalAdmin, nil}, {"news.reader@nhs.net", account.RoleReporter, []terms.Purpose{terms.Newsletter}},
		{"news.declined@nhs.net", account.RoleReporter, nil}} {
		u, err := site.App.Accounts.Create(ctx, account.NewUser{Email: p.email, Name: "Journey " + string(p.role),
			JobRole: "Patient safety lead", OrgCode: "RM1", Role: p.role, Password: password})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, time.Now().UTC(), u.ID); err != nil {
			t.Fatal(err)
		}
		site.AcceptTerms(t, p.email)
		granted := map[terms.Purpose]bool{}
		for _, w := range p.wants {
			granted[w] = true
		}
		if err := site.App.Terms.SetConsents(ctx, u.ID, terms.Client{IP: "192.0.2.1"}, granted); err != nil {
			t.Fatal(err)
		}
		users[p.email] = u
	}

	b := newBrowser(t, site.URL, true)
	b.open("/sign-in", 200)
	signIn(b, "news.admin@nhs.net", password, 200)
	b.nav("Newsletters", 200)
	b.wantHeading("Newsletters and invitations")
	b.click("write one", inMain("a", "Write a newsletter or invitation"), 200)
	b.wantHeading("New newsletter or invitation")
	b.fill("subject", "Learning from events in December")
	b.fill("body", "Thank you to the patient with NHS number 943 476 5919 for their story.")
	b.click("save with an NHS number", inMain("button", "Save and preview"), 422)
	wantErrorPage(t, b, "#body")
	if msg := b.text("#body-error"); strings.Contains(msg, "943") {
		t.Errorf("the error repeats the NHS number: %q", msg)
	}
	if b.value("subject") != "Learning from events in December" {
		t.Errorf("the subject typed was lost: %q", b.value("subject"))
	}
	b.fill("body", "Thank you for recording what happened on your wards this month.")
	b.click("save and preview", inMain("button", "Save and preview"), 200)
	b.wantHeading("Learning from events in December")
	if got := b.text("#audience-size"); got != "1 person" {
		t.Errorf("audience size %q, want 1 person", got)
	}
	if got := b.text("#preview-text"); !strings.Contains(got, "Thank you for recording") || !strings.Contains(got, "/unsubscribe/") {
		t.Errorf("the plain-text preview reads %q", got)
	}
	b.click("send it", inMain("button", "Send now to 1 person"), 200)
	if got := b.text(".nhsuk-notification-banner"); !strings.Contains(got, "Sending has started") {
		t.Errorf("after sending the banner reads %q", got)
	}

	m := mail.WaitFor(t, "news.reader@nhs.net", 1)
	if m.Header("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post %q", m.Header("List-Unsubscribe-Post"))
	}
	link := regexp.MustCompile(`^<([^>]+)>$`).FindStringSubmatch(m.Header("List-Unsubscribe"))
	if link == nil {
		t.Fatalf("List-Unsubscribe %q", m.Header("List-Unsubscribe"))
	}
	u, err := url.Parse(link[1])
	if err != nil {
		t.Fatal(err)
	}
	b.open(u.Path, 200)
	b.wantHeading("Unsubscribe from the newsletter")
	if ok, _ := site.App.Terms.HasConsent(ctx, users["news.reader@nhs.net"].ID, terms.Newsletter); !ok {
		t.Fatal("opening the link unsubscribed")
	}
	b.click("unsubscribe", inMain("button", "Unsubscribe"), 200)
	if got := b.text("#unsubscribed h1"); got != "You have unsubscribed" {
		t.Errorf("the confirmation reads %q", got)
	}
	if ok, _ := site.App.Terms.HasConsent(ctx, users["news.reader@nhs.net"].ID, terms.Newsletter); ok {
		t.Fatal("the button did not unsubscribe")
	}
	for _, got := range mail.Messages() {
		for _, to := range got.To {
			if to == "news.declined@nhs.net" && got.Subject() == "Learning from events in December" {
				t.Fatal("someone who declined got the newsletter")
			}
		}
	}
	t.Logf("pages checked with axe-core and the console: %s", strings.Join(b.checked, "; "))
}
