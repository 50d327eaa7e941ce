package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/apikey"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/db/dbtest"
)

var apiKeyPattern = regexp.MustCompile(`psims_[A-Za-z0-9_-]{43}`)

// countAPIKeys is how many keys the site's database holds.
func countAPIKeys(t *testing.T, site *apptest.Site) int {
	t.Helper()
	var n int
	if err := site.App.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM api_keys`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// T3: an organisation admin makes a key and sees it once, in the answer
// to the form, on a page no cache keeps; the list shows its prefix and
// never the key; the database holds its SHA-256 only. Revoking it stops it
// at once.
func TestAnOrganisationAdminMakesAKeyAndSeesItOnce(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			f := &matrixFixture{t: t, site: site}
			admin := f.actor(authz.OrgAdmin)
			if r := admin.get("/"); !strings.Contains(r.body, `href="/admin/api-keys"`) {
				t.Fatal("an organisation admin's pages do not link to the API keys")
			}
			expires := time.Now().AddDate(1, 0, 0)
			r := admin.submit("/admin/api-keys", "/admin/api-keys", url.Values{"name": {"Datix"}, "expires-day": {strconv.Itoa(expires.Day())},
				"expires-month": {strconv.Itoa(int(expires.Month()))}, "expires-year": {strconv.Itoa(expires.Year())}})
			wantStatus(t, "make a key", r, http.StatusOK)
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
			secret := apiKeyPattern.FindString(r.body)
			if secret == "" || !strings.Contains(r.body, "<code>"+secret+"</code>") || !strings.Contains(r.body, "will not be shown again") {
				t.Fatalf("the page does not show the key once:\n%s", r.body)
			}
			if strings.Contains(r.header.Get("Set-Cookie"), secret[12:]) {
				t.Fatal("the key is in a cookie")
			}
			k, err := site.App.APIKeys.Authenticate(context.Background(), secret)
			if err != nil || k.Org != ownOrg || k.Name != "Datix" || k.ExpiresAt.IsZero() {
				t.Fatalf("the key shown: %+v, %v", k, err)
			}

			list := admin.get("/admin/api-keys")
			wantStatus(t, "list", list, http.StatusOK)
			if !strings.Contains(list.body, "Datix") || !strings.Contains(list.body, "<code>"+secret[:12]+"</code>") || !strings.Contains(list.body, "Active") {
				t.Fatalf("the list does not show the key's name, prefix and status:\n%s", list.body)
			}
			if strings.Contains(list.body, secret[12:]) {
				t.Fatal("the list shows the key")
			}
			var hash string
			if err := site.App.DB.QueryRowContext(context.Background(), `SELECT key_hash FROM api_keys WHERE id = $1`, k.ID).Scan(&hash); err != nil {
				t.Fatal(err)
			}
			if sum := sha256.Sum256([]byte(secret)); hash != hex.EncodeToString(sum[:]) {
				t.Fatalf("stored %q, want the key's SHA-256", hash)
			}

			revokePage := fmt.Sprintf("/admin/api-keys/%d/revoke", k.ID)
			if !strings.Contains(list.body, `href="`+revokePage+`"`) {
				t.Fatal("the list has no way to revoke the key")
			}
			r = admin.submit(revokePage, revokePage, url.Values{"reason": {"Leaked in a note about 943 476 5919"}})
			wantStatus(t, "a reason with an identifier", r, http.StatusUnprocessableEntity)
			if !strings.Contains(errorSummary(r.body), `href="#reason"`) || !strings.Contains(r.body, "Leaked in a note about 943 476 5919</textarea>") {
				t.Fatalf("the reason is not shown again with its error:\n%s", r.body)
			}
			if _, err := site.App.APIKeys.Authenticate(context.Background(), secret); err != nil {
				t.Fatalf("a refused revocation stopped the key: %v", err)
			}
			r = admin.submit(revokePage, revokePage, url.Values{"reason": {"Datix replaced"}})
			if r.status != http.StatusSeeOther || r.location != "/admin/api-keys?done=revoked" {
				t.Fatalf("revoke: %d %q", r.status, r.location)
			}
			if _, err := site.App.APIKeys.Authenticate(context.Background(), secret); apperr.CodeOf(err) != apperr.Unauthorized {
				t.Fatalf("a revoked key: %v", err)
			}
			if after := admin.get(r.location); !strings.Contains(after.body, "The API key was revoked") || !strings.Contains(after.body, "Revoked") {
				t.Fatalf("after revoking:\n%s", after.body)
			}
		})
	}
}

// T3, T13: API keys are for admins; reviewers and reporters are refused
// the pages and the forms, and make nothing.
func TestOnlyAdminsManageAPIKeys(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	f := &matrixFixture{t: t, site: site}
	key, _, err := site.App.APIKeys.Create(context.Background(), apikey.NewKey{Org: ownOrg, Name: "Datix"}, apikey.Client{})
	if err != nil {
		t.Fatal(err)
	}
	revoke := fmt.Sprintf("/admin/api-keys/%d/revoke", key.ID)
	for _, role := range []string{authz.Reporter, authz.Reviewer, authz.ReadOnly} {
		b := f.actor(role)
		wantStatus(t, role+" lists keys", b.get("/admin/api-keys"), http.StatusForbidden)
		wantStatus(t, role+" opens the revoke page", b.get(revoke), http.StatusForbidden)
		wantStatus(t, role+" makes a key", b.submit("/account", "/admin/api-keys", url.Values{"name": {"Mine"}}), http.StatusForbidden)
		wantStatus(t, role+" revokes a key", b.submit("/account", revoke, url.Values{}), http.StatusForbidden)
		if r := b.get("/"); strings.Contains(r.body, `href="/admin/api-keys"`) {
			t.Errorf("%s is shown a link to API keys", role)
		}
	}
	if n := countAPIKeys(t, site); n != 1 {
		t.Fatalf("%d keys, want 1", n)
	}
	if got, _ := site.App.APIKeys.Get(context.Background(), key.ID); !got.RevokedAt.IsZero() {
		t.Fatal("the key was revoked")
	}
}

// T3, T14: an organisation admin neither sees nor revokes another
// organisation's keys (not found, so nothing says they exist); a national
// admin manages any organisation's.
func TestOrganisationAdminsManageOnlyTheirOwnKeysAndNationalAdminsAny(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	f := &matrixFixture{t: t, site: site}
	theirs, secret, err := site.App.APIKeys.Create(context.Background(), apikey.NewKey{Org: otherOrg, Name: "Their system"}, apikey.Client{})
	if err != nil {
		t.Fatal(err)
	}
	revoke := fmt.Sprintf("/admin/api-keys/%d/revoke", theirs.ID)
	admin := f.actor(authz.OrgAdmin)
	if r := admin.get("/admin/api-keys?org=" + otherOrg); r.status != http.StatusNotFound || strings.Contains(r.body, "Their system") {
		t.Fatalf("another organisation's list: %d", r.status)
	}
	if r := admin.get(revoke); r.status != http.StatusNotFound || strings.Contains(r.body, "Their system") {
		t.Fatalf("another organisation's key: %d", r.status)
	}
	wantStatus(t, "revoke another organisation's key", admin.submit("/admin/api-keys", revoke, url.Values{}), http.StatusNotFound)
	wantStatus(t, "make a key for another organisation", admin.submit("/admin/api-keys", "/admin/api-keys?org="+otherOrg, url.Values{"name": {"Sneaky"}}), http.StatusNotFound)
	if own := admin.get("/admin/api-keys"); strings.Contains(own.body, "Their system") {
		t.Fatal("an organisation admin's list shows another organisation's key")
	}
	if _, err := site.App.APIKeys.Authenticate(context.Background(), secret); err != nil {
		t.Fatalf("their key stopped working: %v", err)
	}

	national := f.actor(authz.NationalAdmin)
	list := national.get("/admin/api-keys?org=" + otherOrg)
	wantStatus(t, "a national admin lists another organisation's keys", list, http.StatusOK)
	if !strings.Contains(list.body, "Their system") || !strings.Contains(list.body, `action="/admin/api-keys?org=`+otherOrg+`"`) {
		t.Fatalf("a national admin's list of %s:\n%s", otherOrg, list.body)
	}
	r := national.submit("/admin/api-keys?org="+otherOrg, "/admin/api-keys?org="+otherOrg, url.Values{"name": {"Made by the operator"}})
	wantStatus(t, "a national admin makes a key", r, http.StatusOK)
	made, err := site.App.APIKeys.Authenticate(context.Background(), apiKeyPattern.FindString(r.body))
	if err != nil || made.Org != otherOrg {
		t.Fatalf("the national admin's key: %+v, %v", made, err)
	}
	r = national.submit(revoke, revoke, url.Values{"reason": {""}})
	if r.status != http.StatusSeeOther || r.location != "/admin/api-keys?org="+otherOrg+"&done=revoked" {
		t.Fatalf("a national admin revokes: %d %q", r.status, r.location)
	}
	if _, err := site.App.APIKeys.Authenticate(context.Background(), secret); apperr.CodeOf(err) != apperr.Unauthorized {
		t.Fatalf("the revoked key: %v", err)
	}
	wantStatus(t, "an unknown organisation", national.get("/admin/api-keys?org=ZZZ99"), http.StatusNotFound)
}

// Bad input shows the form again with 422, an error summary linking to
// each field, the field's own message, and what was typed; nothing is
// made.
func TestAPIKeyFormKeepsBadInputWithItsErrors(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	f := &matrixFixture{t: t, site: site}
	admin := f.actor(authz.OrgAdmin)
	past := time.Now().AddDate(-1, 0, 0)
	for _, c := range []struct {
		name  string
		form  url.Values
		links []string // the fields the error summary links to
		kept  []string // what the page must show again
	}{
		{"no name and a date that does not exist", url.Values{"name": {""}, "expires-day": {"31"}, "expires-month": {"2"}, "expires-year": {"2027"}},
			[]string{"#name", "#expires-day"}, []string{`value="31"`, `value="2027"`}},
		{"an identifier in the name", url.Values{"name": {"Key for 943 476 5919"}}, []string{"#name"}, []string{`value="Key for 943 476 5919"`}},
		{"an expiry in the past", url.Values{"name": {"Datix"}, "expires-day": {strconv.Itoa(past.Day())}, "expires-month": {strconv.Itoa(int(past.Month()))},
			"expires-year": {strconv.Itoa(past.Year())}}, []string{"#expires"}, []string{`value="Datix"`, `value="` + strconv.Itoa(past.Year()) + `"`}},
		{"an expiry over 2 years ahead", url.Values{"name": {"Datix"}, "expires-day": {"1"}, "expires-month": {"1"}, "expires-year": {strconv.Itoa(time.Now().Year() + 3)}},
			[]string{"#expires"}, []string{"within 2 years"}},
		{"a name too long", url.Values{"name": {strings.Repeat("a", 101)}}, []string{"#name"}, []string{"100 characters or fewer"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := admin.submit("/admin/api-keys", "/admin/api-keys", c.form)
			wantStatus(t, "submit", r, http.StatusUnprocessableEntity)
			summary := errorSummary(r.body)
			if summary == "" {
				t.Fatalf("no error summary:\n%s", r.body)
			}
			for _, l := range c.links {
				if !strings.Contains(summary, `href="`+l+`"`) {
					t.Errorf("the summary does not link to %s: %s", l, summary)
				}
			}
			for _, k := range c.kept {
				if !strings.Contains(r.body, k) {
					t.Errorf("the page does not show %s", k)
				}
			}
			if apiKeyPattern.MatchString(r.body) {
				t.Error("a refused form shows a key")
			}
		})
	}
	if n := countAPIKeys(t, site); n != 0 {
		t.Fatalf("%d keys made from bad input", n)
	}
}

// T6, issue 16: keys are the organisation's and outlive a suspension, so
// the page of a person who made working keys lists them for the admins
// who manage keys, with where to revoke them; a revoked key is not
// listed.
func TestAPersonsPageListsTheWorkingKeysTheyMade(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	f := &matrixFixture{t: t, site: site}
	ctx := context.Background()
	maker := f.newUser(authz.OrgAdmin, ownOrg, false)
	working, _, err := site.App.APIKeys.Create(ctx, apikey.NewKey{Org: ownOrg, Name: "Datix", CreatedBy: maker.ID}, apikey.Client{})
	if err != nil {
		t.Fatal(err)
	}
	revoked, _, err := site.App.APIKeys.Create(ctx, apikey.NewKey{Org: ownOrg, Name: "Old Radar", CreatedBy: maker.ID}, apikey.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if err := site.App.APIKeys.Revoke(ctx, revoked.ID, "", 0, "", apikey.Client{}); err != nil {
		t.Fatal(err)
	}
	page := "/admin/users/" + strconv.FormatInt(maker.ID, 10)
	national := f.actor(authz.NationalAdmin).get(page)
	wantStatus(t, "a national admin", national, http.StatusOK)
	if !strings.Contains(national.body, "API keys this person made") || !strings.Contains(national.body, "<code>"+working.Prefix+"</code>") ||
		!strings.Contains(national.body, `href="/admin/api-keys?org=RM1"`) || strings.Contains(national.body, "Old Radar") {
		t.Fatalf("the national admin's page of the key's maker:\n%s", national.body)
	}
	colleague := f.actor(authz.OrgAdmin).get(page)
	if !strings.Contains(colleague.body, "Datix") || !strings.Contains(colleague.body, `href="/admin/api-keys"`) {
		t.Fatalf("another admin of the organisation does not see the key:\n%s", colleague.body)
	}
}
