package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
)

var (
	startedPattern    = regexp.MustCompile(`name="started" value="([^"]*)"`)
	startedMACPattern = regexp.MustCompile(`name="started_mac" value="([^"]*)"`)
)

// shownStart is the signed time a page of the public form carries.
func shownStart(t *testing.T, body string) (started, mac string) {
	t.Helper()
	s, m := startedPattern.FindStringSubmatch(body), startedMACPattern.FindStringSubmatch(body)
	if s == nil || m == nil {
		t.Fatal("the public form carries no start time")
	}
	return html.UnescapeString(s[1]), html.UnescapeString(m[1])
}

// TestAQuickPublicSubmissionIsRefusedAsAProblemWithEveryError: a form sent
// within the minimum fill time is refused under an error summary, never a
// "Success" banner; every problem with the answers is shown at once; and
// the time keeps counting from the first showing of the form, through
// every page sent back, so the person's next try is not refused again for
// being quick. // T8
func TestAQuickPublicSubmissionIsRefusedAsAProblemWithEveryError(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := newBrowser(t, site)
	first := b.get("/report")
	started, mac := shownStart(t, first.body)

	// Nothing typed, sent at once.
	empty := url.Values{"started": {started}, "started_mac": {mac}, "action": {"submit"}}
	r := b.submit("/report", "/report", empty)
	summary := errorSummary(r.body)
	if r.status != http.StatusUnprocessableEntity || strings.Contains(r.body, "notification-banner--success") || strings.Contains(r.body, ">Success<") {
		t.Fatalf("a quick empty form: %d, shown as a success", r.status)
	}
	for _, want := range []string{"submit the form again", "Enter what happened", "Select whether you know the date"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the error summary lacks %q: %s", want, summary)
		}
	}
	if !strings.HasPrefix(strings.TrimSpace(between(r.body, "<title>", "</title>")), "Error:") {
		t.Error("the page title does not start with Error:")
	}
	if s, m := shownStart(t, r.body); s != started || m != mac {
		t.Error("the form sent back restarted its timer")
	}

	// A filled-in form sent quickly keeps what was typed and the first
	// start time; once the first showing is old enough, sending the same
	// page again records it at once.
	form := concern(t, site)
	form.Set("started", started)
	form.Set("started_mac", mac)
	r = b.submit("/report", "/report", form)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "heart tablets.</textarea>") || strings.Contains(r.body, ">Success<") {
		t.Fatalf("a quick filled-in form: %d", r.status)
	}
	if n := countRows(t, site, "events"); n != 0 {
		t.Fatalf("%d events stored from a quick form", n)
	}
	old := concern(t, site) // first shown two minutes ago
	old.Set("description", "Mr Jones fell in the corridor.")
	r = b.submit("/report", "/report", old)
	if r.status != http.StatusUnprocessableEntity || strings.Contains(r.body, ">Success<") {
		t.Fatalf("a named person: %d", r.status)
	}
	s, m := shownStart(t, r.body)
	if s != old.Get("started") || m != old.Get("started_mac") {
		t.Fatal("correcting an identifier restarts the timer")
	}
	fixed := concern(t, site)
	fixed.Set("started", s)
	fixed.Set("started_mac", m)
	if r := b.submit("/report", "/report", fixed); r.status != http.StatusSeeOther {
		t.Fatalf("the corrected form, sent at once: %d %s", r.status, errorSummary(r.body))
	}
}
