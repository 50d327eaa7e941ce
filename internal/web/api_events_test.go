package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apikey"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
)

// apiCall sends one request to the FHIR API with the key.
func apiCall(t *testing.T, site *apptest.Site, method, path, key string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, site.Addr+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Ocp-Apim-Subscription-Key", key)
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// TestAnEventIsOneRecordOnThePagesAndThroughTheAPI records an incident on
// the pages, changes it through the API with the organisation's key, then
// on the pages again: each side shows every version, and says which came
// from the local risk management system. An event the system creates is
// on the reviewer's pages too (issue 16).
func TestAnEventIsOneRecordOnThePagesAndThroughTheAPI(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			ctx := context.Background()
			_, key, err := site.App.APIKeys.Create(ctx, apikey.NewKey{Org: "RM1", Name: "Datix at RM1"}, apikey.Client{})
			if err != nil {
				t.Fatal(err)
			}
			b, u := staff(t, site, "cora.changer@nhs.net", account.RoleReporter)
			rc := start(t, b, site, u, incident.Incident)
			rc.through(nil)
			statement := "/drafts/" + strconv.FormatInt(rc.draft, 10) + "/statement"
			r := b.submit(statement, statement, url.Values{"statement_version": {"1"}})
			ref := strings.TrimSuffix(strings.TrimPrefix(r.location, "/events/"), "/submitted")

			// The system reads the event recorded on the pages, and sends it
			// back changed.
			status, body := apiCall(t, site, http.MethodGet, "/adverse-event/fhir/AdverseEvent/"+ref, key, nil)
			if status != http.StatusOK {
				t.Fatalf("API read of a page's event: %d %s", status, body)
			}
			changed := bytes.Replace(body, []byte(`"text":"Given 5 mg`), []byte(`"text":"Updated from Datix: given 5 mg`), 1)
			if status, body := apiCall(t, site, http.MethodPut, "/adverse-event/fhir/AdverseEvent/"+ref, key, changed); status != http.StatusOK {
				t.Fatalf("API update: %d %s", status, body)
			}

			// A reviewer sees the system's version, and changes the event
			// on the pages.
			setIG(t, site, "vera.reviewer@nhs.net", account.RoleReviewer)
			rb := newBrowser(t, site)
			signIn(t, rb, "vera.reviewer@nhs.net", passphrase)
			history := rb.get("/events/" + ref + "/history")
			for _, want := range []string{"Version 2 (current)", "Local risk management system, with API key “Datix at RM1”", "Updated from Datix"} {
				if !strings.Contains(history.body, want) {
					t.Fatalf("history lacks %q:\n%s", want, history.body)
				}
			}
			change := "/events/" + ref + "/change/description"
			r = rb.submit(change, change, url.Values{"answer": {"Corrected by the reviewer after the huddle."}, "reason": {"Checked with the ward"}})
			if r.status != http.StatusSeeOther {
				t.Fatalf("change on the pages: %d %s", r.status, errorSummary(r.body))
			}
			status, body = apiCall(t, site, http.MethodGet, "/adverse-event/fhir/AdverseEvent/"+ref, key, nil)
			var ae struct {
				Meta  struct{ VersionID string }
				Event struct{ Text string }
			}
			if err := json.Unmarshal(body, &ae); err != nil || status != http.StatusOK || ae.Meta.VersionID != "3" ||
				ae.Event.Text != "Corrected by the reviewer after the huddle." {
				t.Fatalf("API read after the page's change: %d %+v %v", status, ae, err)
			}

			// An event the system creates is on the reviewer's list and page.
			var created map[string]any
			json.Unmarshal(body, &created)
			delete(created, "id")
			post, _ := json.Marshal(created)
			status, body = apiCall(t, site, http.MethodPost, "/adverse-event/fhir/AdverseEvent", key, post)
			if status != http.StatusCreated {
				t.Fatalf("API create: %d %s", status, body)
			}
			json.Unmarshal(body, &created)
			newRef := created["id"].(string)
			if list := rb.get("/events"); !strings.Contains(list.body, newRef) {
				t.Fatalf("the reviewer's list lacks %s", newRef)
			}
			page := rb.get("/events/" + newRef)
			if page.status != http.StatusOK || !strings.Contains(page.body, "Local risk management system, through the API") {
				t.Fatalf("the event's page: %d\n%s", page.status, page.body)
			}
		})
	}
}
