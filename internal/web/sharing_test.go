package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/sharing"
)

// agreementForm is the registration form for an agreement in force from
// 30 days ago to 30 days on, of D82044, permitting two columns, naming
// recipients.
func agreementForm(now time.Time, recipients string) url.Values {
	start, end, approved := now.AddDate(0, 0, -30), now.AddDate(0, 0, 30), now.AddDate(0, 0, -40)
	day := func(prefix string, t time.Time) url.Values {
		return url.Values{prefix + "-day": {strconv.Itoa(t.Day())}, prefix + "-month": {strconv.Itoa(int(t.Month()))}, prefix + "-year": {strconv.Itoa(t.Year())}}
	}
	f := url.Values{"recipient": {"Regional Patient Safety Team"}, "purpose": {"Learning about falls across the region"},
		"legal_basis": {"art6-1e"}, "special_basis": {"art9-2i"}, "fields": {"reference", "physical_harm"}, "coverage": {"list"},
		"orgs": {"d82044"}, "approver_name": {"Dr Asha Patel"}, "approver_role": {"Caldicott Guardian"}, "recipients": {recipients}}
	for _, d := range []url.Values{day("starts_on", start), day("ends_on", end), day("approved_on", approved)} {
		for k, v := range d {
			f[k] = v
		}
	}
	return f
}

// csvRecords reads an export, whose label lines have one cell each.
func csvRecords(t *testing.T, body string) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(body))
	r.FieldsPerRecord = -1
	records, err := r.ReadAll()
	if err != nil {
		t.Fatalf("export: %v\n%s", err, body)
	}
	return records
}

// choiceURL is the first "Export under" link of a page choosing an
// agreement.
func choiceURL(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, `<ul class="nhsuk-list" id="agreements">`)
	if i < 0 {
		t.Fatalf("no agreements offered:\n%s", body)
	}
	rest := body[i:]
	j := strings.Index(rest, `<a href="`)
	k := strings.Index(rest[j+9:], `"`)
	u, err := url.Parse(strings.ReplaceAll(rest[j+9:j+9+k], "&amp;", "&"))
	if err != nil {
		t.Fatal(err)
	}
	return u.String()
}

// Exports outside the recording organisation run only under an agreement
// in force that covers them (and names a read-only user), hold only its
// fields, leave out opted-out events, are labelled and listed on the
// agreement; reviewers' own exports are as before. // T4 T15 T17
func TestExportsOutsideTheRecordingOrganisationNeedAnAgreement(t *testing.T) { // T4 T15 T17
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newEventsSite(t, e)
			ctx := context.Background()
			shared := s.event(s.quentin, nil)
			optedOut := s.event(s.quentin, func(sub *incident.Submission) { sub.SharingOptOut = true })
			rm1 := s.event(s.rita, nil)
			all := []incident.Event{shared, optedOut, rm1}
			ruth := s.person("Ruth Readonly", "ruth@nhs.net", "QMM", account.RoleReadOnly)
			if _, err := s.site.App.DB.WritePool().ExecContext(ctx, `INSERT INTO read_grants (user_id, org_ods, granted_at) VALUES ($1, 'D82044', $2)`,
				ruth.ID, time.Now().UTC()); err != nil {
				t.Fatal(err)
			}
			nina, rose := s.as("nina@nhs.net"), s.as("rose@nhs.net")

			// No agreement: a page saying why, nothing exported or audited.
			for who, b := range map[string]*browser{"national admin": nina, "read-only user": rose} {
				r := b.get("/events/export")
				wantStatus(t, who+"'s export without an agreement", r, http.StatusOK)
				if !strings.Contains(r.body, "You cannot export these events yet") || strings.Contains(r.header.Get("Content-Type"), "csv") {
					t.Fatalf("%s's export without an agreement:\n%s", who, r.body)
				}
				wantRefs(t, who+"'s refusal", r.body, all)
			}
			if s.audited("event.export", s.nina)+s.audited("event.export", s.rose) != 0 {
				t.Fatal("a refused export was audited")
			}

			// Registering: the guard and the checks keep the form as typed.
			bad := agreementForm(s.site.App.DB.Now(), "rose@nhs.net")
			bad.Set("purpose", "Falls of the patient with NHS number 943 476 5919")
			bad.Set("starts_on-month", "13")
			r := nina.submit("/admin/sharing/new", "/admin/sharing/new", bad)
			wantStatus(t, "a bad registration", r, http.StatusUnprocessableEntity)
			for _, want := range []string{"Regional Patient Safety Team", "NHS number", "starts_on-month", `value="13"`} {
				if !strings.Contains(r.body, want) {
					t.Fatalf("the form shown again lacks %q:\n%s", want, r.body)
				}
			}
			if list, _ := s.site.App.Sharing.List(ctx); len(list) != 0 {
				t.Fatal("a bad registration was stored")
			}
			r = nina.submit("/admin/sharing/new", "/admin/sharing/new", agreementForm(s.site.App.DB.Now(), "rose@nhs.net"))
			wantStatus(t, "registration", r, http.StatusSeeOther)
			page := r.location
			list, err := s.site.App.Sharing.List(ctx)
			if err != nil || len(list) != 1 {
				t.Fatalf("registry %v, %v", list, err)
			}
			a := list[0]
			ref := a.Reference
			id := strconv.FormatInt(a.ID, 10)

			// Every organisation is more than it covers; D82044 is covered.
			if r := nina.get("/events/export"); !strings.Contains(r.body, "You cannot export these events yet") {
				t.Fatalf("an export of every organisation under an agreement of one:\n%s", r.body)
			}
			r = nina.get("/events/export?org=D82044")
			if !strings.Contains(r.body, ref) || !strings.Contains(r.body, "Regional Patient Safety Team") {
				t.Fatalf("the agreement is not offered:\n%s", r.body)
			}
			r = nina.get(choiceURL(t, r.body))
			wantStatus(t, "the national export under the agreement", r, http.StatusOK)
			if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, "psims-events-"+ref+"-") {
				t.Fatalf("file name %q", cd)
			}
			records := csvRecords(t, r.body)
			if records[0][0] != "Data sharing agreement "+ref || !slices.ContainsFunc(records, func(l []string) bool { return l[0] == sharing.TermsLine }) {
				t.Fatalf("label lines:\n%q", records)
			}
			header := records[len(records)-2]
			if !slices.Equal(header, []string{"Reference", "Physical harm"}) || records[len(records)-1][0] != string(shared.Reference) {
				t.Fatalf("export:\n%q", records)
			}
			wantRefs(t, "the national export", r.body, all, shared)

			// The read-only user named, but not the one who is not.
			r = rose.get("/events/export")
			r = rose.get(choiceURL(t, r.body))
			wantStatus(t, "the recipient's export", r, http.StatusOK)
			wantRefs(t, "the recipient's export", r.body, all, shared)
			ruthB := s.as("ruth@nhs.net")
			if r := ruthB.get("/events/export"); !strings.Contains(r.body, "You cannot export these events yet") {
				t.Fatalf("a read-only user not named is offered the agreement:\n%s", r.body)
			}
			r = ruthB.get("/events/export?agreement=" + id)
			wantStatus(t, "an export under an agreement not naming the user", r, http.StatusForbidden)
			if !strings.Contains(r.body, "not a named recipient") {
				t.Fatalf("the refusal does not say why:\n%s", r.body)
			}
			wantStatus(t, "the extract page for someone not named", ruthB.get("/admin/sharing/"+id+"/extract"), http.StatusNotFound)

			// The extract page: the named recipient downloads a period.
			r = rose.submit("/admin/sharing/"+id+"/extract", "/admin/sharing/"+id+"/extract", url.Values{"orgs": {"D82044"}})
			wantStatus(t, "an extract", r, http.StatusOK)
			wantRefs(t, "an extract", r.body, all, shared)
			r = rose.submit("/admin/sharing/"+id+"/extract", "/admin/sharing/"+id+"/extract", url.Values{"orgs": {"RM1"}})
			wantStatus(t, "an extract of an organisation not covered", r, http.StatusUnprocessableEntity)
			r = rose.submit("/admin/sharing/"+id+"/extract", "/admin/sharing/"+id+"/extract", url.Values{"from-day": {"31"}, "from-month": {"2"}, "from-year": {"2026"}})
			wantStatus(t, "an extract from a day that does not exist", r, http.StatusUnprocessableEntity)
			if !strings.Contains(r.body, `value="31"`) {
				t.Fatal("the extract form lost what was typed")
			}

			// A reviewer's own export is as it was: no label, every column.
			r = s.as("victor@nhs.net").get("/events/export")
			if records := csvRecords(t, r.body); records[0][0] != "Reference" || len(records[0]) < 14 {
				t.Fatalf("a reviewer's export changed:\n%q", records[0])
			}

			// Each export is audited with its count and listed on the
			// agreement's page.
			var details string
			if err := s.site.App.DB.QueryRowContext(ctx, `SELECT details FROM audit_log WHERE action = 'event.export' AND actor_user_id = $1`,
				s.nina.ID).Scan(&details); err != nil || !strings.Contains(details, `"agreement":"`+ref+`"`) || !strings.Contains(details, `"rows":"1"`) ||
				!strings.Contains(details, `"fields":"reference,physical_harm"`) {
				t.Fatalf("audit %s, %v", details, err)
			}
			r = nina.get(page)
			wantStatus(t, "the agreement's page", r, http.StatusOK)
			if strings.Count(r.body, "nina@nhs.net") != 1 || strings.Count(r.body, "rose@nhs.net") < 3 || strings.Contains(r.body, "Change the agreement") {
				t.Fatalf("the agreement's page does not list the exports:\n%s", r.body)
			}

			// The signed agreement: a PDF only, kept and downloaded as is.
			r = nina.upload(page, "/admin/sharing/"+id+"/document", nil, &uploadFile{Name: "signed.pdf", Content: []byte("<html>not a pdf</html>")})
			wantStatus(t, "a non-PDF", r, http.StatusUnprocessableEntity)
			if !strings.Contains(r.body, "The file must be a PDF") {
				t.Fatalf("the refusal:\n%s", r.body)
			}
			pdf := []byte("%PDF-1.4\n%signed\n%%EOF\n")
			r = nina.upload(page, "/admin/sharing/"+id+"/document", nil, &uploadFile{Name: "signed.pdf", Content: pdf})
			wantStatus(t, "a PDF", r, http.StatusSeeOther)
			r = nina.get("/admin/sharing/" + id + "/document")
			if r.status != http.StatusOK || r.body != string(pdf) || r.header.Get("Content-Type") != "application/pdf" {
				t.Fatalf("download %d %q", r.status, r.header.Get("Content-Type"))
			}
			wantStatus(t, "the document for a recipient", rose.get("/admin/sharing/"+id+"/document"), http.StatusForbidden)

			// Revoked: no more exports, on any route.
			r = nina.submit(page, "/admin/sharing/"+id+"/revoke", url.Values{"reason": {""}})
			wantStatus(t, "a revocation without a reason", r, http.StatusUnprocessableEntity)
			r = nina.submit(page, "/admin/sharing/"+id+"/revoke", url.Values{"reason": {"The regional team was disbanded"}})
			wantStatus(t, "revocation", r, http.StatusSeeOther)
			wantStatus(t, "an export under a revoked agreement", rose.get("/events/export?org=D82044&agreement="+id), http.StatusForbidden)
			r = rose.submit("/admin/sharing/"+id+"/extract", "/admin/sharing/"+id+"/extract", url.Values{})
			if r.status != http.StatusForbidden {
				t.Fatalf("an extract under a revoked agreement: %d", r.status)
			}

			// Expired and not yet in force, by the database clock.
			now := s.site.App.DB.Now()
			for name, dates := range map[string][2]time.Time{"expired": {now.AddDate(0, 0, -30), now.AddDate(0, 0, -1)},
				"not yet in force": {now.AddDate(0, 0, 1), now.AddDate(0, 0, 30)}} {
				id, err := s.site.App.Sharing.Create(ctx, sharing.Actor{ID: s.nina.ID}, sharing.Draft{Recipient: "Another body", Purpose: "Learning",
					LegalBasis: "art6-1e", SpecialBasis: "art9-2h", StartsOn: dates[0], EndsOn: dates[1], Fields: []string{"reference"},
					AllOrgs: true, ApproverName: "A N Other", ApproverRole: "SIRO", ApprovedOn: now.AddDate(0, 0, -60)})
				if err != nil {
					t.Fatal(err)
				}
				wantStatus(t, "a national export under an agreement "+name, nina.get("/events/export?agreement="+strconv.FormatInt(id, 10)),
					http.StatusForbidden)
			}
			if n := s.audited("event.export", s.nina); n != 1 {
				t.Fatalf("national exports audited: %d, want 1", n)
			}
		})
	}
}

// An agreement of every organisation serves a national export of every
// organisation; it can be changed, from its page, until the first export
// under it, and never after. // T15
func TestAnAgreementOfEveryOrganisationChangesUntilUsed(t *testing.T) { // T15
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newEventsSite(t, e)
			ctx := context.Background()
			rm1, d82 := s.event(s.rita, nil), s.event(s.quentin, nil)
			optedOut := s.event(s.rita, func(sub *incident.Submission) { sub.SharingOptOut = true })
			nina := s.as("nina@nhs.net")
			form := agreementForm(s.site.App.DB.Now(), "")
			form.Set("coverage", "all")
			form.Del("orgs")
			r := nina.submit("/admin/sharing/new", "/admin/sharing/new", form)
			wantStatus(t, "registration", r, http.StatusSeeOther)
			page := strings.TrimSuffix(r.location, "?done=saved")

			r = nina.get(page + "/edit")
			wantStatus(t, "the change form", r, http.StatusOK)
			if !strings.Contains(r.body, `value="Regional Patient Safety Team"`) || !strings.Contains(r.body, `id="coverage-all" name="coverage" type="radio" value="all" checked`) {
				t.Fatalf("the change form is not filled in:\n%s", r.body)
			}
			form.Set("recipient", "Regional Patient Safety Team (North)")
			wantStatus(t, "a change", nina.submit(page+"/edit", page+"/edit", form), http.StatusSeeOther)
			if r := nina.get(page); !strings.Contains(r.body, "Regional Patient Safety Team (North)") || !strings.Contains(r.body, "Change the agreement") {
				t.Fatalf("the changed agreement:\n%s", r.body)
			}

			r = nina.get("/events/export")
			r = nina.get(choiceURL(t, r.body))
			wantStatus(t, "an export of every organisation", r, http.StatusOK)
			wantRefs(t, "an export of every organisation", r.body, []incident.Event{rm1, d82, optedOut}, rm1, d82)
			if !strings.Contains(r.body, "Scope: all organisations") {
				t.Fatalf("the scope is not labelled:\n%s", r.body)
			}

			wantStatus(t, "the change form after an export", nina.get(page+"/edit"), http.StatusConflict)
			wantStatus(t, "a change after an export", nina.submit(page, page+"/edit", form), http.StatusConflict)
			list, err := s.site.App.Sharing.List(ctx)
			if err != nil || len(list) != 1 || list[0].Recipient != "Regional Patient Safety Team (North)" || list[0].Exports != 1 {
				t.Fatalf("registry %+v, %v", list, err)
			}
		})
	}
}
