package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/stats"
)

// statsSite is a running site with a national admin, staff in three
// organisations and enough events in each that nothing needs suppressing.
type statsSite struct {
	*eventsSite
	day time.Time
}

func newStatsSite(t *testing.T, e dbtest.Engine) *statsSite {
	t.Helper()
	s := &statsSite{eventsSite: newEventsSite(t, e), day: time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC)}
	for _, u := range []account.User{s.rita, s.quentin, s.nina} {
		for i := range 19 {
			harm := "5"
			if i%2 == 1 {
				harm = "4"
			}
			s.statsEvent(u, harm)
		}
	}
	return s
}

// statsEvent submits an incident by u with the physical harm, on the
// site's day.
func (s *statsSite) statsEvent(u account.User, harm string) incident.Event {
	s.t.Helper()
	return s.event(u, func(sub *incident.Submission) {
		sub.OccurredFrom, sub.OccurredTo = s.day, s.day
		sub.Answers["PatientInformation.PhysicalHarm"] = []string{harm}
		sub.Index.PhysicalHarm = harm
	})
}

var publicationID = regexp.MustCompile(`^/admin/statistics/(\d+)\?done=created$`)

// create makes a publication for April to September 2026 through the
// form, released at release (UK time), and returns its id.
func (s *statsSite) create(admin *browser, release time.Time) int64 {
	s.t.Helper()
	r := admin.submit("/admin/statistics/new", "/admin/statistics/new", url.Values{"title": {"Patient safety events: April to September 2026"},
		"period": {"custom"}, "basis": {"occurred"},
		"from-day": {"1"}, "from-month": {"4"}, "from-year": {"2026"}, "to-day": {"30"}, "to-month": {"9"}, "to-year": {"2026"},
		"release-day": {strconv.Itoa(release.Day())}, "release-month": {strconv.Itoa(int(release.Month()))}, "release-year": {strconv.Itoa(release.Year())},
		"release-time": {release.Format("15:04")}})
	m := publicationID.FindStringSubmatch(r.location)
	if r.status != http.StatusSeeOther || m == nil {
		s.t.Fatalf("create: %d %s\n%s", r.status, r.location, r.body)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// The whole life of a publication through the pages: preview, publish
// with confirmation, pre-release access, public release with downloads
// that are byte-identical to a rebuild, revision with a reason and the
// figures that changed, and the old version kept (T16, T17).
func TestPublicationThroughThePages(t *testing.T) { // T16, T17
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newStatsSite(t, e)
			admin := s.as("nina@nhs.net")
			id := s.create(admin, time.Now().AddDate(0, 0, 7))
			path := "/statistics/" + strconv.FormatInt(id, 10)
			adminPath := "/admin/statistics/" + strconv.FormatInt(id, 10)

			preview := admin.get(adminPath + "/preview")
			if preview.status != http.StatusOK || !strings.Contains(preview.body, "Events by organisation, type and physical harm") ||
				!strings.Contains(preview.body, stats.TermsLabel) || !strings.Contains(preview.body, "<svg") {
				t.Fatalf("preview: %d\n%s", preview.status, preview.body)
			}
			if r := admin.submit(adminPath, adminPath+"/publish", url.Values{}); r.status != http.StatusUnprocessableEntity ||
				!strings.Contains(r.body, "Confirm that you have previewed") {
				t.Fatalf("publish without confirming: %d", r.status)
			}
			if r := admin.submit(adminPath, adminPath+"/publish", url.Values{"confirm": {"yes"}}); r.status != http.StatusSeeOther {
				t.Fatalf("publish: %d\n%s", r.status, r.body)
			}

			// Before release: not found for the public and for anyone not
			// on the pre-release list; shown with a banner to someone on it.
			public := newBrowser(t, s.site)
			victor, rita := s.as("victor@nhs.net"), s.as("rita@nhs.net")
			for name, b := range map[string]*browser{"signed out": public, "not listed": rita} {
				if r := b.get(path); r.status != http.StatusNotFound {
					t.Errorf("%s before release: %d", name, r.status)
				}
				if r := b.get(path + "/v/1/national-totals.csv"); r.status != http.StatusNotFound {
					t.Errorf("%s, a file before release: %d", name, r.status)
				}
			}
			if r := public.get("/statistics"); strings.Contains(r.body, "April to September 2026") {
				t.Error("the public list shows an unreleased publication")
			}
			if r := admin.submit(adminPath, adminPath+"/prerelease", url.Values{"email": {"not an address"}}); r.status != http.StatusUnprocessableEntity ||
				!strings.Contains(r.body, `value="not an address"`) {
				t.Errorf("a bad address: %d", r.status)
			}
			if r := admin.submit(adminPath, adminPath+"/prerelease", url.Values{"email": {"Victor@NHS.net"}}); r.status != http.StatusSeeOther {
				t.Fatalf("add to the list: %d", r.status)
			}
			if r := victor.get(path); r.status != http.StatusOK || !strings.Contains(r.body, `id="prerelease"`) {
				t.Errorf("listed, before release: %d", r.status)
			}
			if r := rita.get(path); r.status != http.StatusNotFound {
				t.Errorf("not listed, after someone else was: %d", r.status)
			}
			if n := s.audited("statistics.prerelease_view", s.victor); n != 1 {
				t.Errorf("%d audit entries of the pre-release view, want 1", n)
			}

			// What building the same data with the same metadata again
			// gives, before the release time is moved below.
			p, err := s.site.App.Statistics.Get(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			rebuilt, err := s.site.App.Statistics.Build(context.Background(), p.Meta(1, ""), p.Rules)
			if err != nil {
				t.Fatal(err)
			}

			// Released: everyone sees it and its files.
			if _, err := s.site.App.DB.WritePool().ExecContext(context.Background(),
				`UPDATE statistics_publications SET release_at = $1 WHERE id = $2`, time.Now().UTC().Add(-time.Minute), id); err != nil {
				t.Fatal(err)
			}
			page := public.get(path)
			if page.status != http.StatusOK || strings.Contains(page.body, `id="prerelease"`) || !strings.Contains(page.body, stats.TermsLabel) {
				t.Fatalf("released: %d\n%s", page.status, page.body)
			}
			if r := public.get("/statistics"); !strings.Contains(r.body, "April to September 2026") {
				t.Error("the public list lacks the released publication")
			}
			for _, f := range rebuilt.Files {
				if f.Name == stats.HTMLName {
					if !strings.Contains(page.body, string(f.Body)) {
						t.Error("the page does not show the HTML a rebuild gives")
					}
					continue
				}
				r := public.get(path + "/v/1/" + f.Name)
				if r.status != http.StatusOK || r.body != string(f.Body) || r.header.Get("Content-Type") != f.ContentType {
					t.Errorf("%s: %d %s, or not the bytes a rebuild gives", f.Name, r.status, r.header.Get("Content-Type"))
				}
				if !strings.Contains(page.body, f.Name) {
					t.Errorf("the page has no download of %s", f.Name)
				}
			}
			csv := public.get(path + "/v/1/organisation-type-harm.csv").body
			if !strings.Contains(csv, "RM1,") || !strings.Contains(csv, ",Incident,10,10,0,0,0,0,20") {
				t.Errorf("organisation figures (10 no harm, 9 low harm → 10): \n%s", csv)
			}
			x := public.get(path + "/v/1/publication.xlsx")
			book, err := excelize.OpenReader(bytes.NewReader([]byte(x.body)))
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := book.GetCellValue("national-totals", "B5"); v != "57" {
				t.Errorf("national incidents in the workbook %q, want 57", v)
			}
			book.Close()
			if r := public.get(path + "/v/1/publication.html"); r.status != http.StatusNotFound {
				t.Errorf("the HTML file is served bare: %d", r.status)
			}
			if r := public.get(path + "/v/2"); r.status != http.StatusNotFound {
				t.Errorf("a version that does not exist: %d", r.status)
			}

			// A revision: a reason is needed; the new figures are listed;
			// version 1 stays, marked as superseded.
			if r := admin.submit(adminPath, adminPath+"/revise", url.Values{"reason": {" "}}); r.status != http.StatusUnprocessableEntity ||
				!strings.Contains(r.body, "Enter the reason for the revision") {
				t.Errorf("a revision without a reason: %d", r.status)
			}
			for range 5 {
				s.statsEvent(s.rita, "5")
			}
			if r := admin.submit(adminPath, adminPath+"/revise", url.Values{"reason": {"Five late records from RM1"}}); r.status != http.StatusSeeOther {
				t.Fatalf("revise: %d\n%s", r.status, r.body)
			}
			v2 := public.get(path)
			for _, want := range []string{"What changed in version 2", "Five late records from RM1", "No physical harm: 10 → 15", "Incident, Events: 57 → 62"} {
				if !strings.Contains(v2.body, want) {
					t.Errorf("version 2 lacks %q", want)
				}
			}
			v1 := public.get(path + "/v/1")
			if v1.status != http.StatusOK || !strings.Contains(v1.body, `id="superseded"`) || !strings.Contains(v1.body, `href="`+path+`"`) {
				t.Errorf("version 1 after the revision: %d", v1.status)
			}
			if r := public.get(path + "/v/1/organisation-type-harm.csv"); r.body != csv {
				t.Error("version 1's file changed with the revision")
			}
			if n := s.audited("statistics.publish", s.nina) + s.audited("statistics.revise", s.nina) + s.audited("statistics.prerelease_add", s.nina); n != 3 {
				t.Errorf("%d audit entries for publishing, revising and listing, want 3", n)
			}
		})
	}
}

// The new publication form: problems are shown with NHS.UK error
// messages and what was typed is kept.
func TestPublicationFormErrors(t *testing.T) {
	t.Parallel()
	s := newEventsSite(t, dbtest.SQLite(t))
	admin := s.as("nina@nhs.net")
	r := admin.submit("/admin/statistics/new", "/admin/statistics/new", url.Values{"title": {"My stats"}, "period": {"custom"},
		"from-day": {"31"}, "from-month": {"2"}, "from-year": {"2026"}, "to-day": {"1"}, "to-month": {"1"}, "to-year": {"2026"},
		"release-day": {"1"}, "release-month": {"1"}, "release-year": {"2027"}, "release-time": {"25:00"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", r.status)
	}
	for _, want := range []string{"There is a problem", `href="#from-day"`, "Select whether to count events", "Enter the release time in 24-hour format",
		`value="My stats"`, `value="31"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("form lacks %q", want)
		}
	}
	r = admin.submit("/admin/statistics/new", "/admin/statistics/new", url.Values{"title": {"My stats"}, "period": {"custom"}, "basis": {"occurred"},
		"from-day": {"1"}, "from-month": {"10"}, "from-year": {"2026"}, "to-day": {"1"}, "to-month": {"4"}, "to-year": {"2026"},
		"release-day": {"1"}, "release-month": {"1"}, "release-year": {"2027"}, "release-time": {"09:30"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "The last day of the period must be the same as or after the first day") {
		t.Errorf("a period that ends before it starts: %d", r.status)
	}
	r = admin.submit("/admin/statistics/new", "/admin/statistics/new", url.Values{"title": {"My stats"}, "period": {"1999-01-01/2000-01-01"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Select the period the publication covers") {
		t.Errorf("a period not offered: %d", r.status)
	}
}

// Denominators: a bad file is refused line by line and loads nothing; a
// good one loads and gives the reporting rates in a preview.
func TestDenominatorUpload(t *testing.T) {
	t.Parallel()
	s := newStatsSite(t, dbtest.SQLite(t))
	admin := s.as("nina@nhs.net")
	const page = "/admin/statistics/denominators"
	r := admin.upload(page, page, nil, nil)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Choose a CSV file of denominators") {
		t.Errorf("no file: %d", r.status)
	}
	bad := "ods_code,period_start,period_end,measure,value\nRM1,2026-04-01,2026-09-30,admissions,lots\n"
	r = admin.upload(page, page, nil, &uploadFile{Name: "d.csv", Content: []byte(bad)})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Line 2: value &#34;lots&#34; must be a whole number above 0") {
		t.Errorf("bad file: %d\n%s", r.status, r.body)
	}
	good := "ods_code,period_start,period_end,measure,value\nRM1,2026-04-01,2026-09-30,admissions,4000\n"
	r = admin.upload(page, page, nil, &uploadFile{Name: "d.csv", Content: []byte(good)})
	if r.status != http.StatusSeeOther {
		t.Fatalf("good file: %d\n%s", r.status, r.body)
	}
	if r := admin.get(r.location); !strings.Contains(r.body, "Loaded 1 rows") || !strings.Contains(r.body, "4000") {
		t.Error("the loaded denominator is not listed")
	}
	id := s.create(admin, time.Now().AddDate(0, 0, 1))
	preview := admin.get("/admin/statistics/" + strconv.FormatInt(id, 10) + "/preview")
	if !strings.Contains(preview.body, "Reporting rates by organisation") || !strings.Contains(preview.body, ">5.0<") {
		t.Errorf("no rate of 20 events per 4,000 admissions in the preview")
	}
}

// NewStatisticsHTML draws the same bytes for the same report.
func TestStatisticsHTMLIsDeterministic(t *testing.T) { // T16
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	meta := stats.Meta{Title: "T", From: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC),
		Basis: incident.BasisSubmitted, Version: 1}
	a, err := site.App.Statistics.Build(context.Background(), meta, site.App.Statistics.Rules())
	if err != nil {
		t.Fatal(err)
	}
	b, err := site.App.Statistics.Build(context.Background(), meta, site.App.Statistics.Rules())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Files[0].Body, b.Files[0].Body) || a.Files[0].Name != stats.HTMLName {
		t.Error("two renderings differ")
	}
	if !strings.Contains(string(a.Files[0].Body), "submitted between 1 April 2026 and 30 September 2026") {
		t.Errorf("html:\n%s", a.Files[0].Body)
	}
}

// Tables that disclosure control cannot make safe are refused with the
// reason, at the preview and at publishing, and nothing is stored (T16).
func TestAnUnsafePublicationIsRefused(t *testing.T) { // T16
	t.Parallel()
	s := &statsSite{eventsSite: newEventsSite(t, dbtest.SQLite(t)), day: time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC)}
	for range 3 {
		s.statsEvent(s.rita, "5") // one organisation: its 3 are the national 3
	}
	admin := s.as("nina@nhs.net")
	id := s.create(admin, time.Now().AddDate(0, 0, 1))
	adminPath := "/admin/statistics/" + strconv.FormatInt(id, 10)
	for name, r := range map[string]response{
		"preview": admin.get(adminPath + "/preview"),
		"publish": admin.submit(adminPath, adminPath+"/publish", url.Values{"confirm": {"yes"}}),
	} {
		if r.status != http.StatusConflict || !strings.Contains(r.body, "cannot be published safely") || !strings.Contains(r.body, "There is a problem") {
			t.Errorf("%s: %d\n%s", name, r.status, r.body)
		}
	}
	if p, err := s.site.App.Statistics.Get(context.Background(), id); err != nil || p.Status != stats.StatusDraft || p.Versions != 0 {
		t.Errorf("after the refusal: %+v %v", p, err)
	}
}
