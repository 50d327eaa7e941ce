package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
)

// profileBrowser registers, confirms and signs in a person at the address
// (nhs.net addresses are approved at once).
func profileBrowser(t *testing.T, site *apptest.Site, email string) *browser {
	t.Helper()
	b := newBrowser(t, site)
	registerAndVerify(t, b, email)
	if r := signIn(t, b, email, passphrase); r.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", r.status)
	}
	return b
}

// profileSQL changes a user directly, for set-ups the pages do not offer.
func profileSQL(t *testing.T, site *apptest.Site, query string, args ...any) {
	t.Helper()
	if _, err := site.App.DB.WritePool().ExecContext(context.Background(), query, args...); err != nil {
		t.Fatal(err)
	}
}

func profileStatus(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d (location %q)", what, r.status, status, r.location)
	}
}

func profileBody(t *testing.T, what string, r response, texts ...string) {
	t.Helper()
	for _, text := range texts {
		if !strings.Contains(r.body, text) {
			t.Fatalf("%s: page does not contain %q", what, text)
		}
	}
}

func TestProfilePagesNeedSignIn(t *testing.T) { // P14
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := newBrowser(t, site)
	for _, path := range []string{"/account/profile", "/account/profile/details", "/account/profile/email", "/account/profile/organisation", "/account/ig-training"} {
		r := b.get(path)
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/sign-in?next=") {
			t.Errorf("%s: %d %s", path, r.status, r.location)
		}
	}
	// A form posted signed out gets the sign-in page, which carries it.
	if r := b.submit("/sign-in", "/account/profile/details", url.Values{"name": {"Someone"}, "job_role": {"Nurse"}}); r.status != http.StatusUnauthorized ||
		!strings.Contains(r.body, `action="/sign-in"`) || !strings.Contains(r.body, `name="held_path" value="/account/profile/details"`) {
		t.Errorf("post details signed out: %d %s", r.status, r.location)
	}
}

func TestProfileDetailsCanBeChanged(t *testing.T) { // P14
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			b := profileBrowser(t, site, "details.page@nhs.net")
			r := b.get("/account/profile")
			profileStatus(t, "profile", r, http.StatusOK)
			profileBody(t, "profile", r, "Alex Morgan", "Staff nurse", "details.page@nhs.net", "NORFOLK AND NORWICH",
				`href="/account/profile/details"`, `href="/account/profile/email"`, `href="/account/profile/organisation"`, `href="/account/ig-training"`)

			r = b.submit("/account/profile/details", "/account/profile/details", url.Values{"name": {" "}, "job_role": {"Ward sister"}})
			profileStatus(t, "empty name", r, http.StatusUnprocessableEntity)
			profileBody(t, "empty name", r, "There is a problem", `href="#name"`, "Enter your full name", `value="Ward sister"`)

			r = b.submit("/account/profile/details", "/account/profile/details", url.Values{"name": {"Alex Morgan-Smith"}, "job_role": {"Ward sister"}})
			profileStatus(t, "save details", r, http.StatusSeeOther)
			if r.location != "/account/profile?done=details" {
				t.Fatalf("redirect to %q", r.location)
			}
			profileBody(t, "after saving", b.get(r.location), "Alex Morgan-Smith", "Ward sister", "Your name and job role have been saved.")
		})
	}
}

func TestProfileEmailChangeIsConfirmedFromTheNewAddress(t *testing.T) { // P14
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			b := profileBrowser(t, site, "first.address@nhs.net")

			r := b.submit("/account/profile/email", "/account/profile/email", url.Values{"email": {"second.address@nhs.net"}, "current_password": {"not the password at all"}})
			profileStatus(t, "wrong password", r, http.StatusUnprocessableEntity)
			profileBody(t, "wrong password", r, `href="#current_password"`, `value="second.address@nhs.net"`)
			if strings.Contains(r.body, "not the password at all") {
				t.Fatal("the password was sent back")
			}

			r = b.submit("/account/profile/email", "/account/profile/email", url.Values{"email": {"second.address@nhs.net"}, "current_password": {passphrase}})
			profileStatus(t, "request change", r, http.StatusSeeOther)
			profileBody(t, "after request", b.get(r.location), "Check your inbox at second.address@nhs.net", "Changing to second.address@nhs.net")

			link, err := url.Parse(site.LatestLink(t, "second.address@nhs.net", "Confirm your new email address"))
			if err != nil {
				t.Fatal(err)
			}
			// The link may be opened on another device, signed out; opening
			// it changes nothing until the button is pressed.
			phone := newBrowser(t, site)
			r = phone.get(link.RequestURI())
			profileStatus(t, "open link", r, http.StatusOK)
			profileBody(t, "open link", r, "Confirm my new email address")
			if r := b.get("/account/profile"); r.status != http.StatusOK || !strings.Contains(r.body, "first.address@nhs.net") {
				t.Fatalf("opening the link changed something: %d", r.status)
			}

			r = phone.submit(link.RequestURI(), "/account/profile/email/confirm", url.Values{"token": {link.Query().Get("token")}})
			profileStatus(t, "confirm", r, http.StatusSeeOther)
			if r.location != "/account/profile/email/changed" {
				t.Fatalf("redirect to %q", r.location)
			}
			profileBody(t, "changed", phone.get(r.location), "Your email address has changed")
			if r := b.get("/account/profile"); r.status != http.StatusSeeOther {
				t.Fatalf("the old session still works: %d", r.status)
			}
			r = phone.submit("/sign-in", "/account/profile/email/confirm", url.Values{"token": {link.Query().Get("token")}})
			profileStatus(t, "second use", r, http.StatusUnprocessableEntity)
			profileBody(t, "second use", r, "This link has expired")
			if r := signIn(t, b, "second.address@nhs.net", passphrase); r.status != http.StatusSeeOther || r.location != "/account" {
				t.Fatalf("sign in with the new address: %d %s", r.status, r.location)
			}
		})
	}
}

func TestProfileEmailChangeToATakenAddressLooksLikeAnyOther(t *testing.T) { // P14
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	registerAndVerify(t, newBrowser(t, site), "someone.else@nhs.net")
	b := profileBrowser(t, site, "asker@nhs.net")
	free := b.submit("/account/profile/email", "/account/profile/email", url.Values{"email": {"free.address@nhs.net"}, "current_password": {passphrase}})
	taken := b.submit("/account/profile/email", "/account/profile/email", url.Values{"email": {"someone.else@nhs.net"}, "current_password": {passphrase}})
	if free.status != taken.status || free.location != taken.location {
		t.Fatalf("free: %d %s; taken: %d %s", free.status, free.location, taken.status, taken.location)
	}
	profileBody(t, "after taken", b.get(taken.location), "Check your inbox at someone.else@nhs.net")
}

func TestProfileEmailConfirmLinkThatDoesNotWork(t *testing.T) { // P14
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := newBrowser(t, site)
	r := b.get("/account/profile/email/confirm?token=not-a-token")
	profileStatus(t, "bad link", r, http.StatusUnprocessableEntity)
	profileBody(t, "bad link", r, "This link has expired")
}

func TestProfileOrganisationMoveCanBeAskedForAndWithdrawn(t *testing.T) { // P14, T14
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			b := profileBrowser(t, site, "org.admin@nhs.net")
			profileSQL(t, site, `UPDATE users SET role = 'org-admin', ig_training_at = $1 WHERE email = 'org.admin@nhs.net'`, site.App.DB.Now())
			profileStatus(t, "approvals before", b.get("/admin/approvals"), http.StatusOK)

			r := b.submit("/account/profile/organisation", "/account/profile/organisation", url.Values{"action": {"search"}, "org_query": {"university medical"}})
			profileStatus(t, "search", r, http.StatusOK)
			profileBody(t, "search", r, "UNIVERSITY MEDICAL PARTNERSHIP (D82044)", `value="university medical"`)

			r = b.submit("/account/profile/organisation", "/account/profile/organisation", url.Values{"action": {"move"}, "org_query": {"RM1"}, "justification": {"New job"}})
			profileStatus(t, "same organisation", r, http.StatusUnprocessableEntity)
			profileBody(t, "same organisation", r, `href="#org_query"`, "You are already in this organisation", ">New job</textarea>")

			r = b.submit("/account/profile/organisation", "/account/profile/organisation", url.Values{"action": {"move"}, "org_query": {"university medical"}, "org": {"D82044"}, "justification": {"New job"}})
			profileStatus(t, "ask to move", r, http.StatusSeeOther)
			profileBody(t, "after asking", b.get(r.location), "Moving to UNIVERSITY MEDICAL PARTNERSHIP (D82044)")

			r = b.get("/admin/approvals")
			profileStatus(t, "approvals while moving", r, http.StatusForbidden)
			profileBody(t, "approvals while moving", r, "waiting for approval")
			profileBody(t, "organisation page while moving", b.get("/account/profile/organisation"), "Withdraw this request", "New job")

			r = b.submit("/account/profile/organisation", "/account/profile/organisation/withdraw", url.Values{})
			profileStatus(t, "withdraw", r, http.StatusSeeOther)
			profileBody(t, "after withdrawing", b.get(r.location), "You have withdrawn your request to move organisation.")
			profileStatus(t, "approvals after", b.get("/admin/approvals"), http.StatusOK)
		})
	}
}

func profileIGForm(day, month, year string) url.Values {
	return url.Values{"ig_date-day": {day}, "ig_date-month": {month}, "ig_date-year": {year}}
}

func TestIGTrainingDateFormFollowsTheDateInputPattern(t *testing.T) { // T18
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := profileBrowser(t, site, "ig.form@nhs.net")
	profileStatus(t, "form", b.get("/account/ig-training"), http.StatusOK)
	tomorrow := time.Now().UTC().AddDate(0, 0, 2)
	for _, tc := range []struct {
		form    url.Values
		link    string
		message string
	}{
		{profileIGForm("", "", ""), "ig_date-day", "Enter the date you completed the training"},
		{profileIGForm("12", "", "2026"), "ig_date-month", "Date you completed the training must include a month"},
		{profileIGForm("", "", "2026"), "ig_date-day", "Date you completed the training must include a day and month"},
		{profileIGForm("31", "2", "2026"), "ig_date-day", "Date you completed the training must be a real date"},
		{profileIGForm("3", "13", "2026"), "ig_date-day", "Date you completed the training must be a real date"},
		{profileIGForm("3", "4", "26"), "ig_date-year", "Year must include 4 numbers"},
		{profileIGForm("1", "6", "1999"), "ig_date-day", "Date you completed the training must be the same as or after 1 January 2000"},
		{profileIGForm(strconv.Itoa(tomorrow.Day()), strconv.Itoa(int(tomorrow.Month())), strconv.Itoa(tomorrow.Year())), "ig_date-day", "Date you completed the training must be today or in the past"},
	} {
		r := b.submit("/account/ig-training", "/account/ig-training", tc.form)
		profileStatus(t, tc.message, r, http.StatusUnprocessableEntity)
		profileBody(t, tc.message, r, `href="#`+tc.link+`"`, tc.message)
		if y := tc.form.Get("ig_date-year"); y != "" {
			profileBody(t, tc.message, r, `name="ig_date-year" type="text" inputmode="numeric" value="`+y+`"`)
		}
	}
	// Only the missing part is marked.
	r := b.submit("/account/ig-training", "/account/ig-training", profileIGForm("12", "", "2026"))
	if strings.Count(r.body, "nhsuk-input--error") != 1 || !strings.Contains(r.body, `nhsuk-input--error" id="ig_date-month"`) {
		t.Fatal("the month alone should be marked")
	}
}

func TestIGTrainingOutOfDateHidesOrganisationDataUntilUpdated(t *testing.T) { // T18
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			b := profileBrowser(t, site, "ig.admin@nhs.net")
			profileSQL(t, site, `UPDATE users SET role = 'org-admin', ig_training_at = $1 WHERE email = 'ig.admin@nhs.net'`,
				site.App.DB.Now().AddDate(0, -13, 0))
			r := b.get("/admin/approvals")
			profileStatus(t, "approvals with old training", r, http.StatusForbidden)
			profileBody(t, "approvals with old training", r, `href="/account/ig-training"`)
			profileBody(t, "profile with old training", b.get("/account/profile"), "Update needed")

			recent := time.Now().UTC().AddDate(0, 0, -3)
			r = b.submit("/account/ig-training", "/account/ig-training", profileIGForm(strconv.Itoa(recent.Day()), strconv.Itoa(int(recent.Month())), strconv.Itoa(recent.Year())))
			profileStatus(t, "record date", r, http.StatusSeeOther)
			if r.location != "/account/ig-training?done=ig-training" {
				t.Fatalf("redirect to %q", r.location)
			}
			profileBody(t, "after saving", b.get(r.location), "Your information governance training date has been saved.",
				"It counts until", recent.AddDate(1, 0, 0).Format("2 January 2006"))
			profileStatus(t, "approvals after", b.get("/admin/approvals"), http.StatusOK)
		})
	}
}
