package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// requireChromiumEnv, set to 1, turns a missing browser from a skip into a
// failure (CI sets it, so the tests cannot silently stop running).
const requireChromiumEnv = "PSIMS_REQUIRE_CHROMIUM"

// stepTimeout bounds every single browser step, so a page that never loads
// or an element that never appears fails the test rather than hanging it.
const stepTimeout = 15 * time.Second

// axeWorld names the isolated world axe-core runs in.
const axeWorld = "psims-axe"

// axeTags are the axe-core rule tags every page is checked against.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"}

// browser is one headless Chromium tab driving a PSIMS site. Every page it
// loads is checked with axe-core and for console errors (see check).
type browser struct {
	t    *testing.T
	ctx  context.Context // the tab's chromedp context
	base string          // the site's base URL
	js   bool            // whether page scripts run

	mu      sync.Mutex
	console []consoleEntry // messages not yet checked

	checked []string // the pages checked so far, for the log
}

// consoleEntry is one message from the browser console.
type consoleEntry struct {
	Kind   string // "console.<type>", "exception" or "log.<source>"
	Level  string // error, warning, info...
	Text   string
	URL    string
	Status bool // a "the server responded with a status of" network entry
}

func (e consoleEntry) String() string {
	s := fmt.Sprintf("[%s %s] %s", e.Kind, e.Level, e.Text)
	if e.URL != "" {
		s += " (" + e.URL + ")"
	}
	return s
}

// isCSP reports whether the message is a Content-Security-Policy violation.
func (e consoleEntry) isCSP() bool {
	t := strings.ToLower(e.Text)
	return strings.Contains(t, "content security policy") || strings.Contains(t, "content-security-policy")
}

// chromium returns the browser's path, or skips (or, in CI, fails) the test
// when it is not installed.
func chromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("%s not found (%v): install Debian's chromium package (apt-get install -y chromium) to run the browser tests", chromiumPath, err)
		if os.Getenv(requireChromiumEnv) == "1" {
			t.Fatalf("%s=1 but %s", requireChromiumEnv, msg)
		}
		t.Skip(msg)
	}
	return chromiumPath
}

// axeSource reads axe-core as `make assets` leaves it.
func axeSource(t *testing.T) string {
	t.Helper()
	candidates := []string{
		filepath.Join("..", "assets", "node_modules", "axe-core", "axe.min.js"),
		filepath.Join("..", "assets", "dist", "axe.min.js"),
		filepath.Join("..", "internal", "web", "static", "vendor", "axe.min.js"),
	}
	for _, p := range candidates {
		b, err := os.ReadFile(p)
		if err == nil {
			return string(b)
		}
	}
	t.Fatalf("axe-core not found in %s: run `make assets` first", strings.Join(candidates, ", "))
	return ""
}

var (
	axeOnce sync.Once
	axeJS   string
)

// newBrowser starts a fresh headless Chromium with its own profile and opens
// one tab on the site. With js false, the tab runs no page scripts (as for a
// visitor whose JavaScript failed or is turned off). The browser stops when
// the test ends.
func newBrowser(t *testing.T, base string, js bool) *browser {
	t.Helper()
	path := chromium(t)
	axeOnce.Do(func() { axeJS = axeSource(t) })
	if axeJS == "" {
		t.Fatal("axe-core could not be read")
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root, where Chromium's sandbox cannot start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
		// The machine has no internet: stop Chromium trying to reach it.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("no-default-browser-check", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})

	b := &browser{t: t, ctx: ctx, base: base, js: js}
	// Start the browser with a context that has no deadline (the first Run
	// binds the browser's life to its context), then listen before any page
	// loads so no console message is missed.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Listen(ctx, b.onEvent); err != nil {
		t.Fatalf("listen: %v", err)
	}
	// axe-core is loaded into every new document of the tab, in a world of
	// its own that the page's scripts cannot see, rather than sent with
	// every check: sending its half a megabyte for each page took about a
	// quarter of the time of the browser tests.
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: axeJS, WorldName: axeWorld}); err != nil {
		t.Fatalf("load axe-core into new pages: %v", err)
	}
	if !js {
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatalf("disable JavaScript: %v", err)
		}
	}
	// A message that arrives after the last page was checked (say, from a
	// script that runs late) still fails the test.
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		b.checkConsole("after the last page")
	})
	return b
}

// onEvent runs on chromedp's read loop: it must only record the event.
func (b *browser) onEvent(ev any) {
	var e consoleEntry
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range ev.Args {
			switch {
			case len(a.Value) > 0:
				var s string
				if json.Unmarshal(a.Value, &s) == nil {
					parts = append(parts, s)
				} else {
					parts = append(parts, string(a.Value))
				}
			case a.Description != "":
				parts = append(parts, a.Description)
			default:
				parts = append(parts, string(a.Type))
			}
		}
		e = consoleEntry{Kind: "console." + string(ev.Type), Level: string(ev.Type), Text: strings.Join(parts, " ")}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		e = consoleEntry{Kind: "exception", Level: "error", Text: text, URL: d.URL}
	case *log.EventEntryAdded:
		en := ev.Entry
		e = consoleEntry{Kind: "log." + string(en.Source), Level: string(en.Level), Text: en.Text, URL: en.URL,
			Status: en.Source == log.EntrySourceNetwork && strings.Contains(en.Text, "the server responded with a status of")}
	default:
		return
	}
	b.mu.Lock()
	b.console = append(b.console, e)
	b.mu.Unlock()
}

// step runs browser actions with the step deadline.
func (b *browser) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// run runs one action that returns a value, with the step deadline.
func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// load runs the actions, which must make the tab load a page (following a
// link, submitting a form), waits for that page, checks that its document
// was served (after any redirects) with wantStatus, and checks the page.
func (b *browser) load(what string, wantStatus int, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	if resp == nil {
		b.t.Fatalf("%s: no response for the page", what)
	}
	if int(resp.Status) != wantStatus {
		b.t.Errorf("%s: %s answered %d, want %d", what, resp.URL, resp.Status, wantStatus)
	}
	b.check(what, wantStatus)
}

// open navigates to path on the site.
func (b *browser) open(path string, wantStatus int) {
	b.t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = b.base + path
	}
	b.load("open "+path, wantStatus, chromedp.Navigate(u))
}

// click clicks the element, which must load a new page.
func (b *browser) click(what string, sel chromedp.Search, wantStatus int) {
	b.t.Helper()
	b.load(what, wantStatus, chromedp.Click(sel))
}

// nav follows the header's navigation link named text. With page
// scripts on, the header moves the links that do not fit into its "More"
// menu, so when the link is out of sight nav opens that menu first, as a
// person would.
func (b *browser) nav(text string, wantStatus int) {
	b.t.Helper()
	hidden := run(b, "find "+text+" in the header", chromedp.Evaluate[bool](fmt.Sprintf(
		`[...document.querySelectorAll("header .nhsuk-header__navigation-link")].some(a => a.textContent.trim() === %q && a.offsetParent === null)`, text)))
	if hidden {
		b.step("open the header's More menu", chromedp.Click(chromedp.ID("toggle-menu")))
	}
	b.click("the header's "+text, inHeader("a", text), wantStatus)
}

// fill replaces what the text box with the id holds by typing value.
func (b *browser) fill(id, value string) {
	b.t.Helper()
	// Clear the box with the keyboard, as a person would (and as works with
	// page scripts off, unlike setting its value from script).
	b.step("fill #"+id,
		chromedp.Click(chromedp.ID(id)),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent(kb.Backspace),
		chromedp.SendKeys(chromedp.ID(id), value),
	)
	if got := b.value(id); got != value {
		b.t.Fatalf("typed %q into #%s but it holds %q", value, id, got)
	}
}

// path is the path (and query) of the page now in the tab.
func (b *browser) path() string {
	b.t.Helper()
	loc := run(b, "location", chromedp.Location())
	return strings.TrimPrefix(loc, b.base)
}

// text is the visible text of the first element the selector finds.
func (b *browser) text(sel chromedp.CSS) string {
	b.t.Helper()
	return strings.TrimSpace(run(b, "text of "+string(sel), chromedp.Text(sel)))
}

// value is the value of the form control with the id.
func (b *browser) value(id string) string {
	b.t.Helper()
	return run(b, "value of #"+id, chromedp.Value(chromedp.ID(id)))
}

// exists reports whether the page has an element the selector finds, now,
// without waiting.
// shown reports whether the page's main content has a visible element of
// the tag whose text (spaces collapsed) contains text.
func (b *browser) shown(tag, text string) bool {
	b.t.Helper()
	return run(b, "look for "+text, chromedp.Evaluate[bool](fmt.Sprintf(
		`[...document.querySelectorAll('main %s')].some(e => e.textContent.replace(/\s+/g, ' ').includes(%q) && e.checkVisibility())`, tag, text)))
}

// wantNotice checks the page's success banner says want.
func (b *browser) wantNotice(want string) {
	b.t.Helper()
	if !b.exists("main .nhsuk-notification-banner--success") {
		b.t.Errorf("on %s there is no success banner, want %q", b.path(), want)
		return
	}
	if got := b.text("main .nhsuk-notification-banner--success"); !strings.Contains(got, want) {
		b.t.Errorf("on %s the success banner says %q, want %q", b.path(), got, want)
	}
}

func (b *browser) exists(sel string) bool {
	b.t.Helper()
	return run(b, "find "+sel, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", sel)))
}

// wantHeading checks the page's h1.
func (b *browser) wantHeading(want string) {
	b.t.Helper()
	if got := b.text("main h1"); got != want {
		b.t.Fatalf("on %s the heading is %q, want %q", b.path(), got, want)
	}
}

// wantPath checks the page's path.
func (b *browser) wantPath(want string) {
	b.t.Helper()
	if got := b.path(); got != want {
		b.t.Fatalf("on %s, want to be on %s", got, want)
	}
}

// summaryLink is one link of an NHS.UK error summary.
type summaryLink struct {
	Text, Href string
	Target     bool // the page has the element the link points to
}

// errorSummary returns the links of the page's error summary, failing the
// test when there is none.
func (b *browser) errorSummary() []summaryLink {
	b.t.Helper()
	b.step("error summary", chromedp.WaitVisible(chromedp.CSS(".nhsuk-error-summary")))
	return run(b, "error summary links", chromedp.Evaluate[[]summaryLink](`
		Array.from(document.querySelectorAll('.nhsuk-error-summary__list a')).map(a => ({
			Text: a.textContent.trim(),
			Href: a.getAttribute('href'),
			Target: a.getAttribute('href').startsWith('#') && document.getElementById(a.getAttribute('href').slice(1)) !== null,
		}))`))
}

// check runs axe-core on the page now in the tab and fails the test for
// every violation, then fails it for every console error since the last
// check. status is the HTTP status the page was served with: a page served
// with an error status (422 for a form with mistakes) makes Chromium log a
// network error about itself, which is expected and not a fault.
func (b *browser) check(page string, status int) {
	b.t.Helper()
	b.checked = append(b.checked, page)
	// app.js marks the body when it runs, which it must with JavaScript on
	// (its module loads within the CSP) and must not without.
	if ran := b.exists("body.nhsuk-frontend-supported"); ran != b.js {
		b.t.Errorf("%s: page scripts ran: %v, want %v", page, ran, b.js)
	}
	b.checkAxe(page)
	b.checkConsole(page, statusNoise(status)...)
}

// statusNoise is the console text Chromium logs for a document served with
// the status, which check accepts.
func statusNoise(status int) []string {
	if status < 400 {
		return nil
	}
	return []string{fmt.Sprintf("the server responded with a status of %d", status)}
}

// axeResult is the part of axe-core's results the tests report.
type axeResult struct {
	Violations []axeRule
	Incomplete []axeRule
	Passes     int
}

type axeRule struct {
	ID, Impact, Help, HelpURL string
	Nodes                     []struct {
		Target  []any
		HTML    string
		Summary string
	}
}

// checkAxe runs axe-core on the page now in the tab and fails the test for
// each violation, printing its rule id, impact, help and target selectors.
// Rules axe-core cannot decide ("needs review") are logged with -v.
func (b *browser) checkAxe(page string) {
	b.t.Helper()
	res := b.runAxe(page)
	if res.Passes == 0 {
		b.t.Errorf("%s: axe-core passed no rules at all; it probably did not run", page)
	}
	for _, v := range res.Violations {
		var sb strings.Builder
		fmt.Fprintf(&sb, "%s (%s): axe violation %s, impact %s: %s\n  %s", page, b.path(), v.ID, v.Impact, v.Help, v.HelpURL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&sb, "\n  - target %v\n    %s\n    %s", n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", "\n    "))
		}
		b.t.Error(sb.String())
	}
	if testing.Verbose() {
		for _, v := range res.Incomplete {
			targets := make([]string, 0, len(v.Nodes))
			for _, n := range v.Nodes {
				targets = append(targets, fmt.Sprint(n.Target))
			}
			b.t.Logf("%s: axe needs review (not a failure) %s: %s at %s", page, v.ID, v.Help, strings.Join(targets, ", "))
		}
	}
}

// runAxe runs axe-core on the page now in the tab, in axe-core's own
// isolated world of the page (see newBrowser): it sees the same document as
// the page's scripts, which cannot see it. Scripts put there through the
// DevTools protocol are not subject to the page's Content-Security-Policy
// (script-src 'self'), so the site's real CSP stays on: bypassing it
// (page.SetBypassCSP) would also hide the site's own CSP violations from
// checkConsole.
func (b *browser) runAxe(page string) axeResult {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if !b.js {
		// With page scripts off, axe-core's own promises and timers never
		// run. Turning scripts back on only for the audit runs nothing of
		// the page's (its scripts were skipped as it loaded), so axe still
		// sees the page as a visitor without JavaScript does.
		b.setScripts(ctx, page, true)
		defer b.setScripts(ctx, page, false)
	}
	// The world of the document now in the tab, which axe-core was loaded
	// into when the document was made; it is sent now only if not.
	tree, err := chromedp.Call(ctx, cdppage.GetFrameTree, cdp.Empty{})
	if err != nil {
		b.t.Fatalf("%s: frame tree: %v", page, err)
	}
	world, err := chromedp.Call(ctx, cdppage.CreateIsolatedWorld, cdppage.CreateIsolatedWorldParams{FrameID: tree.FrameTree.Frame.ID, WorldName: axeWorld})
	if err != nil {
		b.t.Fatalf("%s: axe-core's world: %v", page, err)
	}
	inWorld := func(p *runtime.EvaluateParams) { p.ContextID = world.ExecutionContextID }
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe !== 'undefined'`, inWorld))
	if err != nil {
		b.t.Fatalf("%s: look for axe-core: %v", page, err)
	}
	if !loaded {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axeJS, inWorld)); err != nil {
			b.t.Fatalf("%s: inject axe-core: %v", page, err)
		}
	}
	tags, _ := json.Marshal(axeTags)
	expr := `axe.run(document, {runOnly: {type: 'tag', values: ` + string(tags) + `}}).then(r => ({
		Passes: r.passes.length,
		Violations: r.violations.map(v => ({ID: v.id, Impact: v.impact || '', Help: v.help, HelpURL: v.helpUrl,
			Nodes: v.nodes.map(n => ({Target: n.target, HTML: n.html, Summary: n.failureSummary || ''}))})),
		Incomplete: r.incomplete.map(v => ({ID: v.id, Impact: v.impact || '', Help: v.help, HelpURL: v.helpUrl,
			Nodes: v.nodes.map(n => ({Target: n.target, HTML: n.html, Summary: n.failureSummary || ''}))})),
	}))`
	res, err := chromedp.Run(ctx, chromedp.Evaluate[axeResult](expr, chromedp.EvalAwaitPromise, inWorld))
	if err != nil {
		b.t.Fatalf("%s: run axe-core: %v", page, err)
	}
	return res
}

// setScripts turns page scripts on or off.
func (b *browser) setScripts(ctx context.Context, page string, on bool) {
	b.t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on}); err != nil {
		b.t.Fatalf("%s: turn scripts on=%v: %v", page, on, err)
	}
}

// checkConsole fails the test for every console message since the last
// check that is an error, an exception or a CSP violation, except those
// containing one of allowed. It needs no wait: chromedp hands events to
// onEvent before the replies to the commands sent after them, and check
// runs after the page loaded and axe-core ran.
func (b *browser) checkConsole(page string, allowed ...string) {
	b.t.Helper()
	b.mu.Lock()
	msgs := b.console
	b.console = nil
	b.mu.Unlock()
next:
	for _, m := range msgs {
		switch {
		case m.isCSP():
			b.t.Errorf("%s: Content-Security-Policy violation in the console: %s", page, m)
		case m.Level == "error" || m.Kind == "exception":
			for _, a := range allowed {
				if m.Status && strings.Contains(m.Text, a) {
					continue next
				}
			}
			b.t.Errorf("%s: error in the console: %s", page, m)
		case m.Level == "warning":
			b.t.Logf("%s: warning in the console (not a failure): %s", page, m)
		}
	}
}

// screenshot saves a full-page PNG of the tab.
func (b *browser) screenshot(path string) {
	b.t.Helper()
	png := run(b, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Errorf("save screenshot: %v", err)
		return
	}
	b.t.Logf("screenshot saved to %s", path)
}

// inMain selects an element of the page's main content by its exact visible
// text, as a person finds it: tag is "a" or "button". Elements hidden from
// assistive technology (aria-hidden, such as the registration form's
// off-screen default button for the Enter key) are not what a person clicks,
// so they are left out.
func inMain(tag, text string) chromedp.Search {
	return byText("main", tag, text)
}

// inHeader is inMain for the page header.
func inHeader(tag, text string) chromedp.Search {
	return byText("header", tag, text)
}

func byText(region, tag, text string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(`//%s//%s[normalize-space()=%q][not(ancestor-or-self::*[@aria-hidden="true"])]`, region, tag, text))
}
