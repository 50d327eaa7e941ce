package web_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/terms"
	"github.com/psims/psims/internal/web"
)

var (
	formPattern   = regexp.MustCompile(`(?s)<form method="post" action="([^"]*)"[^>]*>(.*?)</form>`)
	hiddenPattern = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// postedForm is a form of a page as a browser would send it: its action and
// its hidden inputs.
type postedForm struct {
	action string
	values url.Values
}

// formTo finds the page's form that posts to action ("" for the first).
func formTo(t *testing.T, body, action string) postedForm {
	t.Helper()
	for _, m := range formPattern.FindAllStringSubmatch(body, -1) {
		a := html.UnescapeString(m[1])
		if action != "" && a != action {
			continue
		}
		f := postedForm{action: a, values: url.Values{}}
		for _, h := range hiddenPattern.FindAllStringSubmatch(m[2], -1) {
			f.values.Add(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
		}
		return f
	}
	t.Fatalf("no form posting to %q on the page", action)
	return postedForm{}
}

// toDescription walks a new incident up to its description page.
func toDescription(t *testing.T, b *browser, site *apptest.Site, u account.User) *recording {
	t.Helper()
	rc := start(t, b, site, u, incident.Incident)
	for rc.step().Slug != "description" {
		r := rc.answer(plainAnswer(rc.step()))
		if r.status != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", rc.at, r.status, errorSummary(r.body))
		}
		rc.at = r.location
	}
	return rc
}

// described returns the description saved in the draft.
func described(t *testing.T, site *apptest.Site, rc *recording) string {
	t.Helper()
	d, err := site.App.Incidents.Draft(context.Background(), rc.user.ID, rc.draft)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(d.Answers[form.Description], "")
}

// resumeAndCheck sends the "Continue where you left off" page's form and
// checks the typed description reached the draft.
func resumeAndCheck(t *testing.T, b *browser, site *apptest.Site, rc *recording, page response, typed string) {
	t.Helper()
	if page.status != http.StatusOK || !strings.Contains(page.body, "Continue where you left off") {
		t.Fatalf("got %d, want the page offering to send it again", page.status)
	}
	path, _, _ := strings.Cut(rc.at, "?")
	f := formTo(t, page.body, path)
	if f.values.Get("answer") != typed || f.values.Get("action") != "continue" || f.values.Get("csrf_token") == "" {
		t.Fatalf("the form sends %v", f.values)
	}
	if strings.Contains(page.body, "held_path") {
		t.Error("the continue page still carries the held fields")
	}
	if described(t, site, rc) != "" {
		t.Fatal("the text was saved before the person chose to send it")
	}
	r := b.post(f.action, f.values)
	if r.status != http.StatusSeeOther || strings.HasSuffix(r.location, "/description") {
		t.Fatalf("sending it again: %d %q %s", r.status, r.location, errorSummary(r.body))
	}
	if got := described(t, site, rc); got != typed {
		t.Fatalf("the draft holds %q, want what was typed", got)
	}
}

// postFrom posts form as a browser does from a page, saying where the page
// was (Sec-Fetch-Site).
func postFrom(t *testing.T, b *browser, action string, form url.Values, site string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.site.URL+action, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", site)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return read(t, resp)
}

// Issue 11 item 1: a material version published while someone types does
// not lose their answer; after accepting, they are offered to send it on,
// to the same page.
func TestGateKeepsThePostedAnswerAndReturnsToTheSamePage(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			b, u := staff(t, site, "gale.gated@nhs.net", account.RoleReporter)
			rc := toDescription(t, b, site, u)
			question := b.get(rc.at)
			token := csrfPattern.FindStringSubmatch(question.body)[1]

			cur, err := site.App.Terms.Current(context.Background(), terms.Terms)
			if err != nil {
				t.Fatal(err)
			}
			v2 := publish(t, site, terms.Terms, cur.Body+"\n\nA new duty.", "A new duty.", true)

			typed := "The infusion pump alarmed & stopped; \"occlusion\" <twice>."
			r := b.post(rc.at, url.Values{"csrf_token": {html.UnescapeString(token)}, "answer": {typed}, "action": {"continue"}})
			if r.status != http.StatusOK || !strings.Contains(r.body, "Accept and continue") || !strings.Contains(r.body, "has not been saved yet") {
				t.Fatalf("got %d %q, want the review page saying the answer is kept", r.status, r.location)
			}
			review := formTo(t, r.body, "/review-terms")
			if review.values.Get("held.answer") != typed || review.values.Get("held_path") != rc.at ||
				review.values.Get("held.action") != "continue" || review.values.Get("next") != rc.at {
				t.Fatalf("the review page carries %v", review.values)
			}
			if review.values.Has("held.csrf_token") {
				t.Error("the old form token is carried")
			}
			review.values.Set("action", "accept")
			if got := review.values.Get("version-terms"); got != fmt.Sprint(v2.Version) {
				t.Fatalf("the review page offers version %s", got)
			}
			resumeAndCheck(t, b, site, rc, b.post("/review-terms", review.values), typed)
		})
	}
}

// expireSessions makes every session look idle for longer than the idle
// timeout, as if the person had left the page open.
func expireSessions(t *testing.T, site *apptest.Site) {
	t.Helper()
	setLastSeen(t, site, time.Now().UTC().Add(-24*time.Hour))
}

// setLastSeen makes every session look last used at at.
func setLastSeen(t *testing.T, site *apptest.Site, at time.Time) {
	t.Helper()
	if _, err := site.App.DB.WritePool().ExecContext(context.Background(), `UPDATE sessions SET last_seen_at = $1`, at); err != nil {
		t.Fatal(err)
	}
}

// Issue 11 item 4: an idle session that ends while someone types does not
// lose their answer: the sign-in page carries it, and after signing in
// they are offered to send it on, to their draft's question. That holds
// whether the post still has the ended session's cookie or another tab
// has already cleared it (the form token then no longer matches).
func TestAnEndedSessionKeepsTheAnswerThroughSignIn(t *testing.T) {
	t.Parallel()
	for _, cleared := range []bool{false, true} {
		for _, e := range dbtest.Engines(t) {
			t.Run(fmt.Sprintf("%s/cookie cleared %v", e.Name, cleared), func(t *testing.T) {
				t.Parallel()
				site := apptest.Start(t, e, nil)
				b, u := staff(t, site, "ida.idle@nhs.net", account.RoleReporter)
				rc := toDescription(t, b, site, u)
				question := b.get(rc.at)
				token := html.UnescapeString(csrfPattern.FindStringSubmatch(question.body)[1])
				expireSessions(t, site)
				if cleared {
					if r := b.get("/account"); r.status != http.StatusSeeOther {
						t.Fatalf("another tab: %d", r.status)
					}
				}

				typed := "Second dose given late; the pump was reset twice."
				form := url.Values{"csrf_token": {token}, "answer": {typed}, "action": {"continue"}, "password": {"not carried"}}
				// A browser says the form came from a page of this site.
				r := postFrom(t, b, rc.at, form, "same-origin")
				if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "You were signed out") {
					t.Fatalf("got %d %q, want the sign-in page saying the answer is kept", r.status, r.location)
				}
				signin := formTo(t, r.body, "/sign-in")
				if signin.values.Get("held.answer") != typed || signin.values.Get("held_path") != rc.at || signin.values.Get("next") != rc.at {
					t.Fatalf("the sign-in page carries %v", signin.values)
				}
				for name := range signin.values {
					if strings.Contains(name, "password") || name == "held.csrf_token" {
						t.Errorf("%s is carried", name)
					}
				}
				signin.values.Set("email", u.Email)
				signin.values.Set("password", passphrase)
				resumeAndCheck(t, b, site, rc, b.post("/sign-in", signin.values), typed)
			})
		}
	}
}

// A held post only ever goes back to a form of this site that may be sent
// again, and another site cannot start the chain.
func TestHeldPostsGoOnlyWhereTheyMay(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	u, err := site.App.Accounts.Create(context.Background(), account.NewUser{Email: "hal.held@nhs.net", Name: "Hal Held",
		JobRole: "Staff nurse", OrgCode: "RM1", Role: account.RoleReporter, Password: passphrase})
	if err != nil {
		t.Fatal(err)
	}
	site.AcceptTerms(t, u.Email)
	for _, path := range []string{"https://evil.example/drafts/1/description", "//evil.example/x", "/sign-out",
		"/account/sign-out-everywhere", "/drafts/1/description?x=1", "/no-such-form", "/drafts/../events/new", "/events/new/", "/report"} {
		t.Run(path, func(t *testing.T) {
			b := newBrowser(t, site)
			r := b.submit("/sign-in", "/sign-in", url.Values{"email": {u.Email}, "password": {passphrase},
				"next": {"/account"}, "held_path": {path}, "held.answer": {"x"}})
			if r.status != http.StatusSeeOther || r.location != "/account" {
				t.Fatalf("got %d %q, want the usual sign-in", r.status, r.location)
			}
		})
	}
	t.Run("a stale token from a page that may not be ours is not held", func(t *testing.T) {
		b := newBrowser(t, site)
		b.get("/sign-in")
		form := url.Values{"csrf_token": {"a-token-of-an-ended-session"}, "type": {"risk"}}
		for _, from := range []string{"", "none", "same-site"} {
			var r response
			if from == "" {
				r = b.post("/events/new", form)
			} else {
				r = postFrom(t, b, "/events/new", form, from)
			}
			if r.status != http.StatusForbidden || strings.Contains(r.body, "held_path") {
				t.Errorf("from %q: %d", from, r.status)
			}
		}
		if r := postFrom(t, b, "/events/new", form, "same-origin"); r.status != http.StatusUnauthorized || !strings.Contains(r.body, `name="held.type" value="risk"`) {
			t.Errorf("from this site: %d", r.status)
		}
	})
	t.Run("a post from another site is refused before anything is held", func(t *testing.T) {
		b := newBrowser(t, site)
		page := b.get("/sign-in")
		token := html.UnescapeString(csrfPattern.FindStringSubmatch(page.body)[1])
		form := url.Values{"csrf_token": {token}, "email": {u.Email}, "password": {passphrase},
			"held_path": {"/events/new"}, "held.type": {"incident"}}
		req, _ := http.NewRequest(http.MethodPost, site.URL+"/sign-in", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r := read(t, resp)
		if r.status != http.StatusForbidden || strings.Contains(r.body, "Continue where you left off") {
			t.Fatalf("got %d", r.status)
		}
	})
}

// Issue 11 item 4: a form over the size limit says which box was too long.
func TestATooLargeFormNamesTheBox(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b, u := staff(t, site, "len.long@nhs.net", account.RoleReporter)
	rc := toDescription(t, b, site, u)
	r := rc.answer(url.Values{"action": {"continue"}, "answer": {strings.Repeat("The pump alarmed. ", 70000)}})
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "The text in your answer was too long") ||
		!strings.Contains(r.body, "more than 1,04") {
		t.Fatalf("got %d %s", r.status, r.body[strings.Index(r.body, "<main"):])
	}

	pub := newBrowser(t, site)
	r = pub.submit("/report", "/report", url.Values{"description": {strings.Repeat("The pump alarmed. ", 70000)}})
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "The text in your answer to “") {
		t.Fatalf("public form: %d", r.status)
	}
}

// Issue 11 item 8: after a material change, the pages a user can still
// open say they must accept before going on and link to the review page,
// whose what-changed view shows the words as read, not Markdown.
func TestAMaterialChangeSaysToAcceptAndShowsTextNotMarkdown(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b, u := newcomer(t, site, "mo.material@nhs.net")
	site.AcceptTerms(t, u.Email)
	cur, err := site.App.Terms.Current(context.Background(), terms.Terms)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, site, terms.Terms, cur.Body+"\n\n## Reporting breaches\n\nTell us about a **breach** within 24 hours.", "Breaches within 24 hours.", true)

	page := b.get("/accessibility")
	for _, want := range []string{"We have updated the terms of use.", "You must accept the new terms of use before you can go on using PSIMS.",
		`<a class="nhsuk-notification-banner__link" href="/review-terms?next=%2Faccessibility">Review and accept the changes</a>`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	review := b.get("/review-terms?next=%2Faccessibility")
	diff := review.body[strings.Index(review.body, `<ol class="psims-diff">`):]
	diff = diff[:strings.Index(diff, "</ol>")]
	for _, want := range []string{"Added heading", "Reporting breaches", "Tell us about a breach within 24 hours."} {
		if !strings.Contains(diff, want) {
			t.Errorf("what changed lacks %q", want)
		}
	}
	for _, markdown := range []string{"## ", "**"} {
		if strings.Contains(diff, markdown) {
			t.Errorf("what changed shows the Markdown %q", markdown)
		}
	}
}

// A held form is carried on through the one-time offer of consent that
// follows a first acceptance of the privacy policy.
func TestAHeldFormGoesThroughTheConsentOffer(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b, _ := newcomer(t, site, "cy.consent@nhs.net")
	r := postWithToken(b, "/review-terms", "/events/new", url.Values{"type": {"risk"}})
	review := formTo(t, r.body, "/review-terms")
	if review.values.Get("held.type") != "risk" || review.values.Get("held_path") != "/events/new" {
		t.Fatalf("the review page carries %v", review.values)
	}
	review.values.Set("action", "accept")
	r = b.post("/review-terms", review.values)
	if r.status != http.StatusOK || !strings.Contains(r.body, "Continue without giving consent") {
		t.Fatalf("accept: %d %q, want the consent offer", r.status, r.location)
	}
	consent := formTo(t, r.body, "/consent")
	if consent.values.Get("held.type") != "risk" {
		t.Fatalf("the consent offer carries %v", consent.values)
	}
	consent.values.Set("action", "none")
	r = b.post("/consent", consent.values)
	resume := formTo(t, r.body, "/events/new")
	if r.status != http.StatusOK || resume.values.Get("type") != "risk" {
		t.Fatalf("after the offer: %d, the form sends %v", r.status, resume.values)
	}
	r = b.post(resume.action, resume.values)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/drafts/") {
		t.Fatalf("sending it on: %d %q", r.status, r.location)
	}
}

// lockedBuffer is a log destination the server writes to while the test
// reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// What a held form carries goes between the person's browser and our pages
// only: none of it reaches the logs, even with every level logged.
func TestHeldAnswersAreNotLogged(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	var logs lockedBuffer
	deps := site.App.WebDeps(web.NewMetrics(prometheus.NewRegistry(), nil))
	deps.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := web.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	logged := &apptest.Site{App: site.App, URL: ts.URL}

	b, u := staff(t, logged, "lou.logs@nhs.net", account.RoleReporter)
	rc := toDescription(t, b, logged, u)
	question := b.get(rc.at)
	token := html.UnescapeString(csrfPattern.FindStringSubmatch(question.body)[1])
	expireSessions(t, site)
	const typed = "Quiet words about a pump that must stay out of the logs."
	r := b.post(rc.at, url.Values{"csrf_token": {token}, "answer": {typed}, "action": {"continue"}})
	signin := formTo(t, r.body, "/sign-in")
	signin.values.Set("email", u.Email)
	signin.values.Set("password", passphrase)
	resumeAndCheck(t, b, logged, rc, b.post("/sign-in", signin.values), typed)
	if !strings.Contains(logs.String(), `"route":"POST /sign-in"`) {
		t.Fatal("the requests were not logged at all")
	}
	for _, secret := range []string{"Quiet words", "Quiet+words", passphrase, token} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the logs hold %q", secret)
		}
	}
}

// A form too large to carry through the sign-in page within the size
// limit is not carried; the sign-in page still comes back to it.
func TestAFormTooLargeToCarryIsNotHeld(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := newBrowser(t, site)
	r := b.submit("/sign-in", "/events/new", url.Values{"type": {"risk"}})
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, `name="held.type" value="risk"`) {
		t.Fatalf("a small form: %d, not carried", r.status)
	}
	r = b.submit("/sign-in", "/events/new", url.Values{"type": {"risk"}, "notes": {strings.Repeat("a&b ", 173_000)}})
	if r.status != http.StatusUnauthorized || strings.Contains(r.body, "held_path") || !strings.Contains(r.body, "You need to sign in to do that") ||
		!strings.Contains(r.body, `name="next" value="/events/new"`) {
		t.Fatalf("a form too large to carry: %d", r.status)
	}
}
