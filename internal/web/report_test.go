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
	"github.com/psims/psims/internal/terms"
)

// concern is a filled-in public form, opened a while ago.
func concern(t *testing.T, site *apptest.Site) url.Values {
	t.Helper()
	doc, err := site.App.Terms.Current(context.Background(), terms.RecordingStatement)
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{
		"description":       {"My father waited nine hours in the corridor without his heart tablets."},
		"date-known":        {"approximate"},
		"month-month":       {"10"},
		"month-year":        {"2026"},
		"org_query":         {"D82044"},
		"harm":              {"4"},
		"relationship":      {"2"},
		"sharing":           {"yes"},
		"started":           {strconv.FormatInt(time.Now().Add(-2*time.Minute).Unix(), 10)},
		"statement_version": {strconv.Itoa(doc.Version)},
		"action":            {"submit"},
	}
}

// TestThePublicRecordsAConcernWithoutAnAccount: the identifier guard, the
// statement, and a reference at the end; the event goes to the chosen
// organisation, marked as from the public, with no reporter. // T8, T12
func TestThePublicRecordsAConcernWithoutAnAccount(t *testing.T) {
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			site := apptest.Start(t, e, nil)
			b := newBrowser(t, site)
			page := b.get("/report")
			if page.status != http.StatusOK || !strings.Contains(page.body, "How we use what you tell us") {
				t.Fatalf("form: %d", page.status)
			}

			form := concern(t, site)
			form.Set("description", "Mrs Patel on ward 4 was given the wrong tablets.")
			r := b.submit("/report", "/report", form)
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(errorSummary(r.body), "Remove a name") {
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

// TestThePublicRouteTurnsBotsAway: the honeypot, the minimum fill time and
// the limit per IP address, with nothing stored. // T8
func TestThePublicRouteTurnsBotsAway(t *testing.T) {
	site := apptest.Start(t, dbtest.Engines(t)[0], func(c *config.Config) { c.PublicReportRate = 1 })
	b := newBrowser(t, site)

	honey := concern(t, site)
	honey.Set("website", "http://spam.example")
	if r := b.submit("/report", "/report", honey); r.status != http.StatusUnprocessableEntity {
		t.Errorf("honeypot: %d", r.status)
	}
	quick := concern(t, site)
	quick.Set("started", strconv.FormatInt(time.Now().Unix(), 10))
	if r := b.submit("/report", "/report", quick); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "submit the form again") {
		t.Errorf("too quick: %d", r.status)
	}
	if n := countRows(t, site, "events"); n != 0 {
		t.Fatalf("%d events stored by bots", n)
	}
	if r := b.submit("/report", "/report", concern(t, site)); r.status != http.StatusSeeOther {
		t.Fatalf("first concern: %d %s", r.status, errorSummary(r.body))
	}
	if r := b.submit("/report", "/report", concern(t, site)); r.status != http.StatusTooManyRequests {
		t.Errorf("second concern in the hour: %d", r.status)
	}
}

// TestThePublicFormFindsOrganisationsWithoutJavaScript: Search shows the
// matches as radios and keeps everything typed.
func TestThePublicFormFindsOrganisationsWithoutJavaScript(t *testing.T) {
	site := apptest.Start(t, dbtest.Engines(t)[0], nil)
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
