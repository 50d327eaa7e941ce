package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
)

// conditional returns the HTML of the conditional reveal controlled by the
// radio with the id, up to the next option, or "" when there is none.
func conditional(body, id string) string {
	_, after, ok := strings.Cut(body, `" id="conditional-`+id+`">`)
	if !ok {
		return ""
	}
	inside, _, _ := strings.Cut(after, `<div class="nhsuk-radios__item">`)
	return inside
}

// TestThePublicFormRevealsTheDateAskedAndTheDetailsOfNoneOfTheAbove: the
// exact date sits inside "Yes, I know the date", the month inside "No, but
// I know roughly when" and a details box inside "I am none of the above
// (please give details)", as NHS.UK conditional reveals; without
// JavaScript each says which answer it is for. The details are required
// for that answer and stored. // T8
func TestThePublicFormRevealsTheDateAskedAndTheDetailsOfNoneOfTheAbove(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := newBrowser(t, site)
	page := b.get("/report")
	if page.status != http.StatusOK {
		t.Fatalf("form: %d", page.status)
	}
	for _, c := range []struct{ radio, inside, answer string }{
		{"date-known", `id="date-day"`, "Yes, I know the date"},
		{"date-known-2", `id="month-month"`, "No, but I know roughly when"},
		{"relationship-4", `id="relationship-other"`, "I am none of the above (please give details)"},
	} {
		if !strings.Contains(page.body, `id="`+c.radio+`" name=`) || !strings.Contains(page.body, `data-aria-controls="conditional-`+c.radio+`"`) {
			t.Errorf("the radio %s does not control a reveal", c.radio)
		}
		got := conditional(page.body, c.radio)
		if !strings.Contains(got, c.inside) || !strings.Contains(got, "Answer this only if you chose “"+c.answer+"”") {
			t.Errorf("the reveal of %s lacks %s or its label for use without JavaScript: %q", c.radio, c.inside, got)
		}
	}
	if strings.Count(page.body, `nhsuk-radios__conditional nhsuk-radios__conditional--hidden`) != 3 {
		t.Error("a reveal of an option not chosen is not hidden for JavaScript")
	}

	form := concern(t, site)
	form.Set("relationship", "4")
	r := b.submit("/report", "/report", form)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(errorSummary(r.body), `href="#relationship-other">Enter your connection to what happened`) {
		t.Fatalf("none of the above without details: %d %s", r.status, errorSummary(r.body))
	}
	if strings.Contains(r.body, `nhsuk-radios__conditional nhsuk-radios__conditional--hidden" id="conditional-relationship-4"`) {
		t.Error("the reveal of the chosen answer is hidden")
	}
	form = concern(t, site)
	form.Set("relationship", "4")
	form.Set("relationship-other", "A volunteer on the ward")
	r = b.submit("/report", "/report", form)
	if r.status != http.StatusSeeOther {
		t.Fatalf("with details: %d %s", r.status, errorSummary(r.body))
	}
	ev, err := site.App.Incidents.ByReference(context.Background(), incident.Reference(strings.TrimPrefix(r.location, "/report/recorded/")))
	if err != nil {
		t.Fatal(err)
	}
	if got := ev.Answers["PractitionerDetails.ReporterTypeOther"]; len(got) != 1 || got[0] != "A volunteer on the ward" {
		t.Errorf("details stored %q", got)
	}
}
