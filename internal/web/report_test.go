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
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/secret"
	"github.com/psims/psims/internal/terms"
)

// concern is a filled-in public form, opened a while ago.
func concern(t *testing.T, site *apptest.Site) url.Values {
	t.Helper()
	doc, err := site.App.Terms.Current(context.Background(), terms.RecordingStatement)
	if err != nil {
		t.Fatal(err)
	}
	started := strconv.FormatInt(time.Now().Add(-2*time.Minute).Unix(), 10)
	return url.Values{
		"description":       {"My father waited nine hours in the corridor without his heart tablets."},
		"date-known":        {"approximate"},
		"month-month":       {"10"},
		"month-year":        {"2026"},
		"org_query":         {"D82044"},
		"harm":              {"4"},
		"relationship":      {"2"},
		"sharing":           {"yes"},
		"started":           {started},
		"started_mac":       {secret.Sign(site.App.FormKey, "report-started", started)},
		"statement_version": {strconv.Itoa(doc.Version)},
		"action":            {"submit"},
	}
}

// TestThePublicRecordsAConcernWithoutAnAccount: the identifier guard, the
// statement, and a reference at the end; the event goes to the chosen
// organisation, marked as from the public, with no reporter. // T8, T12
func TestThePublicRecordsAConcernWithoutAnAccount(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			b := newBrowser(t, site)
			page := b.get("/report")
			if page.status != http.StatusOK || !strings.Contains(page.body, "How we use what you tell us") {
				t.Fatalf("form: %d", page.status)
			}

			form := concern(t, site)
			form.Set("description", "Mrs Patel on ward 4 was given the wrong tablets.")
			r := b.submit("/report", "/report", form)
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(errorSummary(r.body), "Remove the name") {
				t.Fatalf("a name was accepted: %d %s", r.status, errorSummary(r.body))
			}
			if !strings.Contains(r.body, "Mrs Patel on ward 4 was given the wrong tablets.</textarea>") || !strings.Contains(r.body, `value="D82044"`) {
				t.Error("what was typed was lost")
			}
			if n := countRows(t, site, "events"); n != 0 {
				t.Fatalf("%d events stored", n)
			}

			r = b.submit("/report", "/report", concern(t, site))
			if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/report/recorded/PSE-") {
				t.Fatalf("submit: %d %s %s", r.status, r.location, errorSummary(r.body))
			}
			ref := strings.TrimPrefix(r.location, "/report/recorded/")
			if done := b.get(r.location); !strings.Contains(done.body, ref) {
				t.Error("the reference is not shown")
			}
			ev, err := site.App.Incidents.ByReference(context.Background(), incident.Reference(ref))
			if err != nil {
				t.Fatal(err)
			}
			from := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
			if ev.Source != incident.Public || ev.ReporterID != 0 || ev.OrgCode != "D82044" || !ev.OccurredFrom.Equal(from) || ev.Index.PhysicalHarm != "4" {
				t.Errorf("stored %+v", ev)
			}
		})
	}
}

// TestThePublicRouteTurnsBotsAway: the honeypot, the minimum fill time
// (signed by the server, kept from the first showing of the form, and not
// to be forged), and the limit per address, which every attempt to submit
// counts, refused ones included, so the form is no oracle for tuning text
// past the identifier guard. Nothing a bot sends is stored. // T8, T12
func TestThePublicRouteTurnsBotsAway(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), func(c *config.Config) { c.PublicReportRate = 5 })
	b := newBrowser(t, site)

	honey := concern(t, site)
	honey.Set("website", "http://spam.example")
	if r := b.submit("/report", "/report", honey); r.status != http.StatusUnprocessableEntity {
		t.Errorf("honeypot: %d", r.status)
	}
	quick := concern(t, site)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	quick.Set("started", now)
	quick.Set("started_mac", secret.Sign(site.App.FormKey, "report-started", now))
	if r := b.submit("/report", "/report", quick); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "submit the form again") {
		t.Errorf("too quick: %d", r.status)
	}
	forged := concern(t, site)
	forged.Set("started_mac", secret.Sign(site.App.FormKey, "report-started", now))
	if r := b.submit("/report", "/report", forged); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "submit the form again") {
		t.Errorf("a start time with another time's signature: %d", r.status)
	}
	if n := countRows(t, site, "events"); n != 0 {
		t.Fatalf("%d events stored by bots", n)
	}
	if r := b.submit("/report", "/report", concern(t, site)); r.status != http.StatusSeeOther {
		t.Fatalf("first concern: %d %s", r.status, errorSummary(r.body))
	}
	named := concern(t, site)
	named.Set("description", "Mr Jones fell in the corridor.")
	r := b.submit("/report", "/report", named)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `name="started" value="`+named.Get("started")+`"`) {
		t.Errorf("a refusal must keep when the form was first shown: %d", r.status)
	}
	again := concern(t, site)
	again.Set("description", "The lift broke and the porter had to carry the notes.")
	r = b.submit("/report", "/report", again)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "the porter had to carry the notes.</textarea>") {
		t.Errorf("sixth attempt in the hour: %d, Retry-After %q; what was typed must stay", r.status, r.header.Get("Retry-After"))
	}
	if n := countRows(t, site, "events"); n != 1 {
		t.Fatalf("%d events stored", n)
	}
}

// TestThePublicFormFindsOrganisationsWithoutJavaScript: Search shows the
// matches as radios and keeps everything typed.
func TestThePublicFormFindsOrganisationsWithoutJavaScript(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := newBrowser(t, site)
	form := concern(t, site)
	form.Set("org_query", "norwich")
	form.Set("action", "search")
	r := b.submit("/report", "/report", form)
	if r.status != http.StatusOK || !strings.Contains(r.body, `value="RM1"`) || !strings.Contains(r.body, "heart tablets.</textarea>") {
		t.Fatalf("search: %d", r.status)
	}
	form = concern(t, site)
	form.Set("org_query", "ZZ9")
	if r := b.submit("/report", "/report", form); r.status != http.StatusUnprocessableEntity || !strings.Contains(errorSummary(r.body), "No organisation has the ODS code ZZ9") {
		t.Errorf("unknown organisation: %d %s", r.status, errorSummary(r.body))
	}
}
