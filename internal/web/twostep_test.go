package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
)

// TestAnAdminResetsTheTwoStepVerificationOfSomeoneWhoLostTheirPhone: the
// admin sees on the person's page that an app is set up, is asked for a
// reason (what they typed kept), and the reset signs the person out,
// removes the app, is audited with the reason and emails them. // T3, T13
func TestAnAdminResetsTheTwoStepVerificationOfSomeoneWhoLostTheirPhone(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newAdminUsersSite(t, e)
			ctx := context.Background()
			accounts := s.site.App.Accounts
			rita := s.as("rita@nhs.net")
			setup, err := accounts.StartTOTP(ctx, s.rita)
			if err != nil {
				t.Fatal(err)
			}
			code, err := totp.GenerateCode(setup.Secret, s.site.App.DB.Now())
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := accounts.ConfirmTOTP(ctx, s.rita, account.Session{}, code, account.Client{}); err != nil {
				t.Fatal(err)
			}

			olive := s.as("olive@nhs.net")
			page := fmt.Sprintf("/admin/users/%d", s.rita.ID)
			if r := olive.get(page); !strings.Contains(r.body, "Two-step verification") || !strings.Contains(r.body, "with 10 recovery codes left") {
				t.Fatalf("the person's page does not show their two-step verification:\n%s", r.body)
			}
			r := olive.submit(page, page+"/two-step/reset", url.Values{"two_step_reason": {"  "}})
			wantStatus(t, "no reason", r, http.StatusUnprocessableEntity)
			if !strings.Contains(r.body, `href="#two_step_reason"`) {
				t.Fatalf("no reason: no error linked to the box:\n%s", r.body)
			}
			r = olive.submit(page, page+"/two-step/reset", url.Values{"two_step_reason": {strings.Repeat("x", 2000)}})
			wantStatus(t, "a reason too long", r, http.StatusUnprocessableEntity)
			if !strings.Contains(r.body, strings.Repeat("x", 2000)+"</textarea>") {
				t.Fatal("a reason too long was not kept in the box")
			}
			r = olive.submit(page, page+"/two-step/reset", url.Values{"two_step_reason": {"Lost phone; called back on the ward number"}})
			wantStatus(t, "reset", r, http.StatusSeeOther)
			if r = olive.get(r.location); !strings.Contains(r.body, "Two-step verification reset") {
				t.Fatalf("after the reset:\n%s", r.body)
			}
			if r := rita.get("/account"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/sign-in") {
				t.Errorf("the person's session after the reset: %d %s, want signed out", r.status, r.location)
			}
			if st, _ := accounts.TwoStep(ctx, s.rita); st.On {
				t.Error("the app is still set up")
			}
			rows, err := audit.List(ctx, s.site.App.DB, "user", fmt.Sprint(s.rita.ID), 50)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, row := range rows {
				found = found || (row.Action == "account.two_step_reset" && row.Details["reason"] == "Lost phone; called back on the ward number")
			}
			if !found {
				t.Error("no audit entry of the reset with its reason")
			}
			if link := s.site.LatestLink(t, "rita@nhs.net", "two-step verification has been reset"); !strings.HasSuffix(link, "/sign-in") {
				t.Errorf("the reset email links to %q", link)
			}
		})
	}
}

// TestARoleThatNeedsTwoStepIsSentToSetItUpAndCanDoNothingElse: with the
// default policy an org admin without an app gets the set-up page after
// the password, and every other page (a form posted too, which changes
// nothing) sends them back there; signing out still works. // T3
func TestARoleThatNeedsTwoStepIsSentToSetItUpAndCanDoNothingElse(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), func(c *config.Config) { c.TwoStepRoles = account.PrivilegedRoles() })
	ctx := context.Background()
	olive, err := site.App.Accounts.Create(ctx, account.NewUser{Email: "olive@nhs.net", Name: "Olive Orgadmin", JobRole: "Lead",
		OrgCode: "RM1", Role: account.RoleOrgAdmin, Password: passphrase})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, site)
	r := signIn(t, b, "olive@nhs.net", passphrase)
	if r.status != http.StatusSeeOther || r.location != "/account/two-step/set-up?next=%2Faccount" {
		t.Fatalf("after the password: %d %q, want the set-up page", r.status, r.location)
	}
	for _, path := range []string{"/", "/account", "/admin/users", "/events", "/account/two-step"} {
		if r := b.get(path); r.status != http.StatusSeeOther || r.location != "/account/two-step/set-up?next="+url.QueryEscape(path) {
			t.Errorf("GET %s: %d %q, want the set-up page", path, r.status, r.location)
		}
	}
	r = b.submit("/account/two-step/set-up", "/account/profile/details", url.Values{"name": {"Someone Else"}, "job_role": {"Lead"}})
	if r.status != http.StatusSeeOther || r.location != "/account/two-step/set-up" {
		t.Errorf("a form posted: %d %q, want the set-up page", r.status, r.location)
	}
	if u, err := site.App.Accounts.UserWithOrg(ctx, olive.ID); err != nil || u.Name != "Olive Orgadmin" {
		t.Errorf("the form posted changed the name to %q (%v)", u.Name, err)
	}
	if r := b.get("/account/two-step/set-up"); r.status != http.StatusOK || !strings.Contains(r.body, "Your account type needs two-step verification") {
		t.Fatalf("the set-up page: %d\n%s", r.status, r.body)
	}
	if r := b.submit("/account/two-step/set-up", "/sign-out", url.Values{}); r.status != http.StatusOK || !strings.Contains(r.body, "You have signed out") {
		t.Errorf("signing out: %d", r.status)
	}
}

// TestRememberingABrowserSkipsTheCodeThereAndOnlyThere: ticking "Remember
// this browser" after the code sets a strictly necessary cookie; the next
// sign-in in that browser needs only the password, another browser still
// needs the code, and forgetting the browser from "Your account" ends it.
// // T3, P5
func TestRememberingABrowserSkipsTheCodeThereAndOnlyThere(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), func(c *config.Config) { c.TwoStepRoles = account.PrivilegedRoles() })
	ctx := context.Background()
	accounts := site.App.Accounts
	olive, err := accounts.Create(ctx, account.NewUser{Email: "olive@nhs.net", Name: "Olive Orgadmin", JobRole: "Lead",
		OrgCode: "RM1", Role: account.RoleOrgAdmin, Password: passphrase})
	if err != nil {
		t.Fatal(err)
	}
	setup, err := accounts.StartTOTP(ctx, olive)
	if err != nil {
		t.Fatal(err)
	}
	now := site.App.DB.Now()
	code, _ := totp.GenerateCode(setup.Secret, now)
	if _, _, err := accounts.ConfirmTOTP(ctx, olive, account.Session{}, code, account.Client{}); err != nil {
		t.Fatal(err)
	}
	next, _ := totp.GenerateCode(setup.Secret, now.Add(30*time.Second)) // one step ahead is forgiven once

	b := newBrowser(t, site)
	rec := recordCookies(b)
	r := signIn(t, b, "olive@nhs.net", passphrase)
	if r.status != http.StatusOK || !strings.Contains(r.body, "Remember this browser for 30 days") {
		t.Fatalf("after the password: %d, want the code page with the choice to remember", r.status)
	}
	token := csrfPattern.FindStringSubmatch(r.body)[1]
	r = b.post("/sign-in/two-step", url.Values{"csrf_token": {html.UnescapeString(token)}, "code": {next}, "remember": {"yes"}, "next": {"/account"}})
	if r.status != http.StatusSeeOther || r.location != "/account" {
		t.Fatalf("the code: %d %q", r.status, r.location)
	}
	var device *http.Cookie
	for _, c := range rec.set {
		if c.Name == "psims_device" {
			device = c
		}
	}
	if device == nil || !device.HttpOnly || device.SameSite != http.SameSiteLaxMode || device.MaxAge < 29*24*3600 {
		t.Fatalf("the remembered browser's cookie: %+v", device)
	}
	if r := b.get("/account"); !strings.Contains(r.body, "Browsers remembered after the second step") {
		t.Fatal("the account page does not list the remembered browser")
	}
	b.submit("/account", "/sign-out", url.Values{})
	if r := signIn(t, b, "olive@nhs.net", passphrase); r.status != http.StatusSeeOther || r.location != "/account" {
		t.Fatalf("signing in again in the remembered browser: %d %q, want straight in", r.status, r.location)
	}
	if r := signIn(t, newBrowser(t, site), "olive@nhs.net", passphrase); r.status != http.StatusOK || !strings.Contains(r.body, "Enter the code from your authenticator app") {
		t.Fatalf("another browser: %d, want the code page", r.status)
	}

	page := b.get("/account")
	forget := regexp.MustCompile(`action="(/account/devices/\d+/forget)"`).FindStringSubmatch(page.body)
	if forget == nil {
		t.Fatal("no way to forget the browser on the account page")
	}
	if r := b.submit("/account", forget[1], url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("forget: %d", r.status)
	}
	b.submit("/account", "/sign-out", url.Values{})
	if r := signIn(t, b, "olive@nhs.net", passphrase); r.status != http.StatusOK || !strings.Contains(r.body, "Enter the code from your authenticator app") {
		t.Fatalf("the forgotten browser: %d %q, want the code page", r.status, r.location)
	}
}
