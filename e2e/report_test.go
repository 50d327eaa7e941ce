package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/psims/psims/internal/db/dbtest"
)

// publicMinFill is the public form's minimum time between first showing
// and sending (internal/web/report.go).
const publicMinFill = 3 * time.Second

// TestThePublicFormRevealsWhatIsAskedAndForgivesAQuickFirstTry: with
// JavaScript, the public form shows the exact date, the month, and the
// details of "none of the above" only under the answer that asks them
// (NHS.UK conditional reveals); a form sent at once is refused with every
// problem and never a success banner; and once the first showing is old
// enough, correcting an identifier and sending again at once records the
// concern. Every page is checked with axe-core. // T8, T12
func TestThePublicFormRevealsWhatIsAskedAndForgivesAQuickFirstTry(t *testing.T) {
	chromium(t)
	site, _ := startSite(t, dbtest.SQLite(t))
	b := newBrowser(t, site.URL, true)
	opened := time.Now()
	b.open("/report", 200)
	shown := time.Now() // the server showed the form before this
	visible := func(sel string) bool {
		t.Helper()
		return run(b, "is "+sel+" visible", chromedp.Evaluate[bool](fmt.Sprintf(
			`(() => { const e = document.querySelector(%q); return e !== null && e.getClientRects().length > 0 })()`, sel)))
	}
	choose := func(name, value string) {
		t.Helper()
		b.step("choose "+name, chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name=%q][value=%q]`, name, value))))
	}
	for _, sel := range []string{"#date-day", "#month-month", "#relationship-other", ".psims-if-no-js"} {
		if visible(sel) {
			t.Errorf("%s shows before its answer is chosen", sel)
		}
	}

	// Sent at once, with nothing typed.
	b.click("submit at once", inMain("button", "Submit"), 422)
	links := wantErrorPage(t, b, "#description", "#date-known", "#harm")
	if !slices.ContainsFunc(links, func(l summaryLink) bool { return l.Text == "Select whether you know the date" }) {
		t.Errorf("the error summary has %v", links)
	}
	if b.exists(".nhsuk-notification-banner--success") {
		t.Error("a refused form is shown under a success banner")
	}
	if time.Since(opened) < publicMinFill && !strings.Contains(b.text(".nhsuk-error-summary"), "sent too quickly") {
		t.Error("the error summary does not say the form was sent too quickly")
	}

	choose("date-known", "exact")
	if !visible("#date-day") || visible("#month-month") {
		t.Error("choosing the exact date does not show only the date")
	}
	choose("date-known", "approximate")
	if visible("#date-day") || !visible("#month-month") {
		t.Error("choosing roughly when does not show only the month")
	}
	b.fill("month-month", "10")
	b.fill("month-year", "2026")
	b.fill("description", "The ward was short of staff. Call me on 07700 900123 about it.")
	b.fill("org_query", "RM1")
	choose("harm", "4")
	choose("relationship", "4")
	if !visible("#relationship-other") {
		t.Fatal("none of the above does not show its details box")
	}
	b.fill("relationship-other", "A volunteer on the ward")
	choose("sharing", "yes")
	if wait := time.Until(shown.Add(publicMinFill + time.Second)); wait > 0 {
		b.step("let the first showing of the form grow old enough", chromedp.Sleep(wait))
	}
	b.click("submit with a phone number", inMain("button", "Submit"), 422)
	links = wantErrorPage(t, b, "#description")
	if want := "Remove the phone number in the 2nd sentence of ‘What happened’, which starts “Call me on”. Nothing that could identify a person can be recorded"; links[0].Text != want {
		t.Errorf("the error says %q, want %q", links[0].Text, want)
	}
	if !visible("#month-month") || visible("#date-day") || !visible("#relationship-other") {
		t.Error("the form sent back does not show the answers chosen")
	}
	b.fill("description", "The ward was short of staff all night.")
	b.click("submit again at once", inMain("button", "Submit"), 200)
	b.wantHeading("Thank you for telling us")
	t.Logf("pages checked with axe-core and the console: %s", strings.Join(b.checked, "; "))
}
