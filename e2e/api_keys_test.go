package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
)

// goodCare is an AdverseEvent of the national profile as a local risk
// management system sends it: good care at RM1.
const goodCare = `{
  "resourceType": "AdverseEvent",
  "contained": [
    {"resourceType": "Location", "id": "location", "extension": [
      {"url": "https://psims-uat.azure-api.net/taxonomy/fhir/StructureDefinition/location-details-5", "extension": [
        {"url": "Organisation", "valueCoding": {"system": "https://psims-uat.azure-api.net/taxonomy/fhir/CodeSystem/ods-codes-5", "code": "RM1"}},
        {"url": "ServiceArea", "valueCoding": {"system": "https://psims-uat.azure-api.net/taxonomy/fhir/CodeSystem/service-type-5", "code": "1"}}]}]},
    {"resourceType": "Practitioner", "id": "practitioner", "extension": [
      {"url": "https://psims-uat.azure-api.net/taxonomy/fhir/StructureDefinition/practitioner-details-5", "extension": [
        {"url": "ReporterRole", "valueCoding": {"system": "https://psims-uat.azure-api.net/taxonomy/fhir/CodeSystem/staff-type-5", "code": "1"}}]}]}
  ],
  "extension": [
    {"url": "https://psims-uat.azure-api.net/taxonomy/fhir/StructureDefinition/adverse-event-went-well-5", "extension": [
      {"url": "HowFutureOccurrence", "valueString": "Share the handover checklist with the other wards."}]},
    {"url": "https://psims-uat.azure-api.net/taxonomy/fhir/StructureDefinition/adverse-event-reference-metadata-5", "extension": [
      {"url": "DataSharingOptOut", "valueBoolean": false}]}
  ],
  "event": {"coding": [{"system": "https://psims-uat.azure-api.net/taxonomy/fhir/CodeSystem/event-type", "code": "4"}],
            "text": "The night team spotted a falling oxygen level early and called the outreach team at once."},
  "date": "2026-11-30"
}`

var keyPattern = regexp.MustCompile(`psims_[A-Za-z0-9_-]{43}`)

// TestAnOrgAdminConnectsTheirLocalRiskSystem walks issue 16 as people
// meet it, in Chromium with JavaScript off, every page checked with
// axe-core: an org admin finds "API keys" in the header, makes a key and
// sees it once; the local system records an event with it; a reviewer
// finds that event in their list, saying where it came from; the admin
// revokes the key and the system is refused on its next request. A
// reviewer is offered no key pages, and told why at the address.
//
// With PSIMS_SCREENSHOTS set to a directory, the pages are saved there as
// api-NAME.png.
func TestAnOrgAdminConnectsTheirLocalRiskSystem(t *testing.T) { // T3 T14
	chromium(t)
	site, _ := startSite(t, dbtest.SQLite(t))
	const password = "orchard velvet compass ember"
	readyUser(t, site, account.NewUser{Email: "ola.orgadmin@nhs.net", Name: "Ola Orgadmin", JobRole: "Patient safety lead",
		OrgCode: "RM1", Role: account.RoleOrgAdmin, Password: password})
	readyUser(t, site, account.NewUser{Email: "vic.reviewer@nhs.net", Name: "Vic Reviewer", JobRole: "Risk manager",
		OrgCode: "RM1", Role: account.RoleReviewer, Password: password})
	shots := os.Getenv("PSIMS_SCREENSHOTS")
	shot := func(b *browser, name string) {
		if shots != "" {
			b.screenshot(filepath.Join(shots, "api-"+name+".png"))
		}
	}
	signedIn := func(email string) *browser {
		b := newBrowser(t, site.URL, false)
		b.open("/sign-in", 200)
		signIn(b, email, password, 200)
		return b
	}
	post := func(key string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, site.URL+"/adverse-event/fhir/AdverseEvent", strings.NewReader(goodCare))
		req.Header.Set("Content-Type", "application/fhir+json")
		req.Header.Set("Ocp-Apim-Subscription-Key", key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		var v map[string]any
		json.NewDecoder(bytes.NewReader(body)).Decode(&v)
		return res.StatusCode, v
	}

	ola := signedIn("ola.orgadmin@nhs.net")
	ola.nav("API keys", 200)
	ola.wantHeading("API keys")
	shot(ola, "none")
	ola.fill("name", "Datix at the Norfolk and Norwich")
	ola.click("Make key", inMain("button", "Make key"), 200)
	page := ola.text("main")
	key := keyPattern.FindString(page)
	if key == "" {
		t.Fatalf("the new key is not on the page: %q", page)
	}
	shot(ola, "created")
	ola.nav("API keys", 200)
	if list := ola.text("main"); strings.Contains(list, key) || !strings.Contains(list, key[:12]) {
		t.Fatalf("the list shows the key, or not its start: %q", list)
	}

	status, ae := post(key)
	if status != http.StatusCreated {
		t.Fatalf("the system's create: %d %v", status, ae)
	}
	ref, _ := ae["id"].(string)

	vic := signedIn("vic.reviewer@nhs.net")
	if vic.exists(`header a[href="/admin/api-keys"]`) {
		t.Error("a reviewer's header offers API keys")
	}
	vic.nav("Events", 200)
	vic.click("the system's event", inMain("a", ref), 200)
	if got := vic.text("main"); !strings.Contains(got, "Local risk management system, through the API") ||
		!strings.Contains(got, "Version 1 was in force (sent through the API)") ||
		!strings.Contains(got, "The night team spotted a falling oxygen level early") {
		t.Fatalf("the event's page: %q", got)
	}
	shot(vic, "event")
	vic.open("/admin/api-keys", 403)
	if got := vic.text("main"); !strings.Contains(got, "Your account type does not include this") {
		t.Errorf("a reviewer at the key pages is not told why: %q", got)
	}

	ola.nav("API keys", 200)
	ola.click("Revoke", inMain("a", "Revoke Datix at the Norfolk and Norwich"), 200)
	shot(ola, "revoke")
	ola.fill("reason", "The Datix server is being replaced")
	ola.click("Revoke key", inMain("button", "Revoke key"), 200)
	if list := ola.text("main"); !strings.Contains(list, "Revoked") {
		t.Fatalf("the list after revoking: %q", list)
	}
	shot(ola, "revoked")
	if status, _ := post(key); status != http.StatusUnauthorized {
		t.Fatalf("the revoked key's next request: %d", status)
	}
}
