package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/terms"
)

// publishedOn is the line under a document's heading.
func publishedOn(t *testing.T, site *apptest.Site, kind terms.Kind) string {
	t.Helper()
	d, err := site.App.Terms.Current(context.Background(), kind)
	if err != nil {
		t.Fatal(err)
	}
	return "Version " + strconv.Itoa(d.Version) + ", published " + d.PublishedAt.Format("2 January 2006") + "."
}

// Every version of every document is public, has a number and a date, and
// stays readable after a new one is published; the recording statement is
// published the same way.
func TestDocumentsArePublicAndEveryVersionStaysReadable(t *testing.T) { // T2, T7
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			anon := newBrowser(t, site)

			t.Run("the terms and the privacy policy show their current version to anyone", func(t *testing.T) {
				for path, kind := range map[string]terms.Kind{"/terms": terms.Terms, "/privacy": terms.Privacy} {
					r := anon.get(path)
					orgsWant(t, path, r, http.StatusOK, `<h1 class="nhsuk-heading-l">`+kind.Title()+`</h1>`,
						publishedOn(t, site, kind), `<h2 class="nhsuk-heading-m">Who we are</h2>`)
					if strings.Contains(r.body, "Earlier versions") || strings.Contains(r.body, "not the current version") {
						t.Errorf("%s: the first version offers earlier versions or calls itself old", path)
					}
				}
			})

			t.Run("people who have not accepted them yet can still read them", func(t *testing.T) { // T1
				b, _ := newcomer(t, site, "reading.first@nhs.net")
				if r := b.get("/account"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/review-terms") {
					t.Fatalf("the gate let them through: %d %s", r.status, r.location)
				}
				for _, path := range []string{"/terms", "/privacy", "/documents/terms", "/documents/privacy/1", "/documents/recording-statement/1"} {
					orgsWant(t, path, b.get(path), http.StatusOK)
				}
			})

			t.Run("the recording statement is public too", func(t *testing.T) {
				orgsWant(t, "list", anon.get("/documents/recording-statement"), http.StatusOK,
					"Versions of the recording statement", `href="/documents/recording-statement/1">Version 1</a> (current)`)
				orgsWant(t, "version", anon.get("/documents/recording-statement/1"), http.StatusOK,
					`<h1 class="nhsuk-heading-l">Recording statement</h1>`, publishedOn(t, site, terms.RecordingStatement),
					"Please read this before you submit.")
			})

			t.Run("a new version becomes current and the earlier one stays readable", func(t *testing.T) {
				first, err := site.App.Terms.Current(context.Background(), terms.Terms)
				if err != nil {
					t.Fatal(err)
				}
				publish(t, site, terms.Terms, first.Body+"\n\nA closing paragraph added in version 2.\n", "A closing paragraph.", false)

				orgsWant(t, "current", anon.get("/terms"), http.StatusOK, publishedOn(t, site, terms.Terms),
					`<a href="/documents/terms">Earlier versions</a>`, "A closing paragraph added in version 2.")
				orgsWant(t, "list", anon.get("/documents/terms"), http.StatusOK,
					`href="/documents/terms/2">Version 2</a> (current)`, `href="/documents/terms/1">Version 1</a>`,
					"A closing paragraph.", "The first version, provided with PSIMS.", "Minor", "Material")
				r := anon.get("/documents/terms/1")
				orgsWant(t, "old version", r, http.StatusOK, "Version 1, published", "This is not the current version. Version 2 replaced it.",
					`<a href="/terms">Read the current terms of use</a>`)
				if strings.Contains(r.body, "A closing paragraph added in version 2.") {
					t.Error("version 1 shows the text of version 2")
				}
				if r := anon.get("/documents/terms/2"); strings.Contains(r.body, "not the current version") {
					t.Error("the current version calls itself old")
				}
			})

			t.Run("unknown kinds and versions are not found", func(t *testing.T) {
				for _, path := range []string{"/documents/contract", "/documents/contract/1", "/documents/terms/99",
					"/documents/terms/0", "/documents/terms/-1", "/documents/terms/01", "/documents/terms/one", "/documents/Terms"} {
					orgsWant(t, path, anon.get(path), http.StatusNotFound, "Page not found")
				}
			})
		})
	}
}
