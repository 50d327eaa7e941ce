package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/feedback"
	"github.com/psims/psims/internal/mail/smtptest"
)

// feedbackLabel is what screen readers hear of the "?" link.
const feedbackLabel = `?<span class="nhsuk-u-visually-hidden"> Give feedback or ask a question about this page</span></a>`

// feedbackLink returns the address of the "?" link on a page, unescaped.
var feedbackLinkPattern = regexp.MustCompile(`<a class="psims-feedback-link__link" href="([^"]*)">`)

func feedbackLinkOf(t *testing.T, body string) string {
	t.Helper()
	m := feedbackLinkPattern.FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, feedbackLabel) {
		t.Fatal(`the page has no "?" link with its screen-reader label`)
	}
	return html.UnescapeString(m[1])
}

// The "?" link is on every page, signed in or not, with a label for
// screen readers, and names the page by its path alone: what was typed in
// a search never goes with it. // P3
func TestTheFeedbackLinkIsOnEveryPage(t *testing.T) { // P3
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	approvalsUser(t, site, "reporter@rm1.example", "RM1", account.RoleReporter, time.Time{})
	signedOut := newBrowser(t, site)
	signedIn := signedInAs(t, site, "reporter@rm1.example")
	for _, c := range []struct {
		name string
		b    *browser
		path string
		from string
	}{
		{"signed out, the sign-in page", signedOut, "/sign-in", "/sign-in"},
		{"signed out, the public form", signedOut, "/report", "/report"},
		{"signed out, a page not found", signedOut, "/no/such/page", "/no/such/page"},
		{"signed in, the account page", signedIn, "/account", "/account"},
		{"signed in, a search", signedIn, "/events?q=jo+bloggs+943+476+5919", "/events"},
		{"signed in, the feedback form itself", signedIn, "/help/feedback", "/help/feedback"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := c.b.get(c.path)
			link := feedbackLinkOf(t, r.body)
			u, err := url.Parse(link)
			if err != nil || u.Path != "/help/feedback" || u.Query().Get("from") != c.from || len(u.Query()) != 1 {
				t.Errorf("the link is %q, want /help/feedback?from=%s", link, c.from)
			}
			if strings.Contains(link, "bloggs") || strings.Contains(link, "5919") {
				t.Errorf("the link carries the search: %q", link)
			}
		})
	}
}

// The page named in "from" is shown and linked back to only when it is a
// path on this site; anything that could lead elsewhere, run a script or
// break out of the HTML is dropped or escaped, on the form and on the page
// after sending. // P3
func TestTheFeedbackFormOnlyLinksBackToPagesOfThisSite(t *testing.T) { // P3
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	approvalsUser(t, site, "reporter@rm1.example", "RM1", account.RoleReporter, time.Time{})
	b := signedInAs(t, site, "reporter@rm1.example")
	for i, from := range []string{"//evil.example/x", "/\\evil.example", "/%2F%2Fevil.example", "/%5Cevil.example", "https://evil.example",
		"javascript:alert(1)", "JaVaScRiPt:alert(1)", "%2F%2Fevil.example", " //evil.example", "/\t/evil.example", "/%09/evil.example"} {
		t.Run(from, func(t *testing.T) {
			r := b.get("/help/feedback?from=" + url.QueryEscape(from))
			if r.status != http.StatusOK {
				t.Fatalf("status %d", r.status)
			}
			form := mainContent(r.body)
			if strings.Contains(form, `name="from"`) || strings.Contains(strings.ToLower(form), "evil.example") || strings.Contains(strings.ToLower(form), "javascript:") {
				t.Errorf("the form keeps %q", from)
			}
			// Each sends as someone new, so as not to meet the hourly limit.
			email := "sender" + strconv.Itoa(i) + "@rm1.example"
			approvalsUser(t, site, email, "RM1", account.RoleReporter, time.Time{})
			b := signedInAs(t, site, email)
			sent := b.submit("/help/feedback", "/help/feedback", url.Values{"kind": {"feedback"}, "text": {"Checking the link back."}, "from": {from}})
			if sent.status != http.StatusSeeOther {
				t.Fatalf("send: %d", sent.status)
			}
			page := mainContent(b.get(sent.location).body)
			if strings.Contains(strings.ToLower(page), "evil.example") || strings.Contains(page, "Go back to the page you were on") {
				t.Errorf("the confirmation links back to %q", from)
			}
		})
	}
	// A page of this site is named and linked back to, escaped.
	r := b.get("/help/feedback?from=" + url.QueryEscape(`/events/"><script>alert(1)</script>`))
	if strings.Contains(r.body, "<script>alert") {
		t.Fatal("the page name was written into the page unescaped")
	}
	r = b.get("/help/feedback?from=/events/new?q=secret")
	if !strings.Contains(r.body, `<input type="hidden" name="from" value="/events/new">`) || strings.Contains(mainContent(r.body), "secret") {
		t.Error("the form does not keep the path alone")
	}
}

// mainContent is the page's own content, inside <main> (the cookie banner
// and the "?" link carry the address the page was shown on).
func mainContent(body string) string {
	_, after, _ := strings.Cut(body, `id="maincontent"`)
	before, _, _ := strings.Cut(after, `</main>`)
	return before
}

// Bad input gets 422 with the error summary and everything typed kept:
// the kind, the text, the page and the email choice; text that could
// identify someone is refused (T12) and nothing is stored. // P3, T12
func TestTheFeedbackFormKeepsWhatWasTypedOnError(t *testing.T) { // P3, T12
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	u := approvalsUser(t, site, "reporter@rm1.example", "RM1", account.RoleReporter, time.Time{})
	b := signedInAs(t, site, "reporter@rm1.example")
	const text = "Line one <b>here</b>.\nThe record for NHS number 943 476 5919 would not save."
	r := b.submit("/help/feedback?from=/events/new", "/help/feedback", url.Values{"text": {text}, "from": {"/events/new"}, "may_reply": {"yes"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", r.status)
	}
	for _, want := range []string{"There is a problem", `href="#kind"`, `href="#text"`, "Remove the NHS number",
		html.EscapeString(text) + "</textarea>", `name="from" value="/events/new"`, `id="may_reply" name="may_reply" type="checkbox" value="yes" checked`,
		"You have used " + strconv.Itoa(len(text)) + " of 2000 characters"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(r.body, "<b>here</b>") {
		t.Error("the text is not escaped")
	}
	long := strings.Repeat("x", feedback.MaxLength+5)
	r = b.submit("/help/feedback", "/help/feedback", url.Values{"kind": {"question"}, "text": {long}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "shorten it by 5") || !strings.Contains(r.body, long+"</textarea>") ||
		!strings.Contains(r.body, `value="question" aria-describedby="kind-question-hint" checked`) {
		t.Errorf("too long: %d", r.status)
	}
	if items, err := site.App.Feedback.Mine(context.Background(), u.ID); err != nil || len(items) != 0 {
		t.Errorf("stored %d items from refused posts (%v)", len(items), err)
	}
}

// Sending more than the hourly limit gets 429 with the text kept and a
// clear message; the ones within it were sent. // P3
func TestTheFeedbackFormIsLimitedPerUser(t *testing.T) { // P3
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	u := approvalsUser(t, site, "reporter@rm1.example", "RM1", account.RoleReporter, time.Time{})
	approvalsUser(t, site, "other@rm1.example", "RM1", account.RoleReporter, time.Time{})
	b := signedInAs(t, site, "reporter@rm1.example")
	for i := range feedback.DefaultRate {
		if r := b.submit("/help/feedback", "/help/feedback", url.Values{"kind": {"feedback"}, "text": {"Idea " + strconv.Itoa(i)}}); r.status != http.StatusSeeOther {
			t.Fatalf("item %d: %d", i+1, r.status)
		}
	}
	r := b.submit("/help/feedback", "/help/feedback", url.Values{"kind": {"question"}, "text": {"One more question, kept."}})
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "One more question, kept.</textarea>") ||
		!strings.Contains(r.body, "You can send up to 10 messages an hour") {
		t.Fatalf("over the limit: %d", r.status)
	}
	// Someone else, from the same address, is not held back.
	other := signedInAs(t, site, "other@rm1.example")
	if r := other.submit("/help/feedback", "/help/feedback", url.Values{"kind": {"feedback"}, "text": {"Mine"}}); r.status != http.StatusSeeOther {
		t.Errorf("another user: %d", r.status)
	}
	if items, _ := site.App.Feedback.Mine(context.Background(), u.ID); len(items) != feedback.DefaultRate {
		t.Errorf("%d items stored, want %d", len(items), feedback.DefaultRate)
	}
}

// A visitor who is signed out is asked to sign in, and comes back to the
// form for the same page; a post without a session is held through
// sign-in like any other form. // P3
func TestSignedOutVisitorsAreAskedToSignInToSendFeedback(t *testing.T) { // P3
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b := newBrowser(t, site)
	r := b.get("/help/feedback?from=/register")
	want := `href="/sign-in?next=` + html.EscapeString(url.QueryEscape("/help/feedback?from="+url.QueryEscape("/register"))) + `"`
	if r.status != http.StatusOK || !strings.Contains(r.body, "Sign in to give feedback") || !strings.Contains(r.body, want) ||
		!strings.Contains(r.body, `href="/report"`) {
		t.Fatalf("signed out: %d, want the sign-in page with %s", r.status, want)
	}
	if r := b.submit("/help/feedback", "/help/feedback", url.Values{"kind": {"feedback"}, "text": {"Hello"}}); r.status != http.StatusUnauthorized {
		t.Errorf("a post signed out: %d, want 401", r.status)
	}
}

// Someone's feedback and its replies are theirs: listed under their
// account, and "not found" to anyone else, a national admin included on
// these pages (the operator uses the inbox). // P8
func TestPeopleSeeOnlyTheirOwnQueries(t *testing.T) { // P8
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	ann := approvalsUser(t, site, "ann@rm1.example", "RM1", account.RoleReporter, time.Time{})
	approvalsUser(t, site, "bob@rm1.example", "RM1", account.RoleReporter, time.Time{})
	approvalsUser(t, site, "national@nhs.example", "RM1", account.RoleNationalAdmin, time.Now())
	it, err := site.App.Feedback.Send(context.Background(), feedback.Submission{UserID: ann.ID, Kind: feedback.Question,
		Text: "Ann's own question about the sparrow", MayReply: false})
	if err != nil {
		t.Fatal(err)
	}
	a := signedInAs(t, site, "ann@rm1.example")
	list := a.get("/account/queries")
	if !strings.Contains(list.body, it.Reference()) || !strings.Contains(list.body, "/account/queries/"+strconv.FormatInt(it.ID, 10)) {
		t.Fatal("Ann's list lacks her question")
	}
	if r := a.get("/account/queries/" + strconv.FormatInt(it.ID, 10)); r.status != http.StatusOK || !strings.Contains(r.body, "Ann&#39;s own question about the sparrow") {
		t.Fatalf("Ann's thread: %d", r.status)
	}
	for _, email := range []string{"bob@rm1.example", "national@nhs.example"} {
		b := signedInAs(t, site, email)
		if l := b.get("/account/queries"); strings.Contains(l.body, it.Reference()) {
			t.Errorf("%s's list shows Ann's question", email)
		}
		for _, path := range []string{"/account/queries/", "/help/feedback/sent/"} {
			if r := b.get(path + strconv.FormatInt(it.ID, 10)); r.status != http.StatusNotFound || strings.Contains(r.body, "sparrow") {
				t.Errorf("%s opening %s of Ann's question: %d, want 404", email, path, r.status)
			}
		}
	}
	if r := a.get("/account/queries/999999"); r.status != http.StatusNotFound {
		t.Errorf("a missing question: %d", r.status)
	}
	if r := a.get("/account/queries/x"); r.status != http.StatusNotFound {
		t.Errorf("a bad id: %d", r.status)
	}
}

// The whole round: a reporter sends a question from a page and agrees to
// email; a national admin finds it in the inbox, assigns it to themselves,
// is refused a reply holding an identifier (kept, 422), replies; the reply
// arrives by real SMTP with its text and a link to the thread, and the
// reporter reads it there with its line breaks. A reply to feedback sent
// without that permission is kept in the thread only, and the admin is
// told so. // P3, P8, T12
func TestAnAdminsReplyIsEmailedAndShownInTheThread(t *testing.T) { // P3, P8, T12
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t)
			site := apptest.Start(t, e, func(c *config.Config) { c.SMTP = srv.URL() })
			reporter := approvalsUser(t, site, "reporter@rm1.example", "RM1", account.RoleReporter, time.Time{})
			admin := approvalsUser(t, site, "national@nhs.example", "RM1", account.RoleNationalAdmin, time.Now())
			approvalsUser(t, site, "untrained@nhs.example", "RM1", account.RoleNationalAdmin, time.Time{})

			rb := signedInAs(t, site, reporter.Email)
			sent := rb.submit("/help/feedback?from=/drafts", "/help/feedback", url.Values{"kind": {"question"},
				"text": {"How long are drafts kept?\r\nI could not find it."}, "from": {"/drafts"}, "may_reply": {"yes"}})
			if sent.status != http.StatusSeeOther || !strings.HasPrefix(sent.location, "/help/feedback/sent/") {
				t.Fatalf("send: %d %s", sent.status, sent.location)
			}
			id := strings.TrimPrefix(sent.location, "/help/feedback/sent/")
			ref := "FB-" + strings.Repeat("0", 5-len(id)) + id
			confirm := rb.get(sent.location)
			if !strings.Contains(confirm.body, ref) || !strings.Contains(confirm.body, `href="/account/queries"`) || !strings.Contains(confirm.body, `href="/drafts"`) {
				t.Fatalf("confirmation: %d", confirm.status)
			}
			quiet := rb.submit("/help/feedback", "/help/feedback", url.Values{"kind": {"feedback"}, "text": {"Nice new form."}})
			quietID := strings.TrimPrefix(quiet.location, "/help/feedback/sent/")

			ab := signedInAs(t, site, admin.Email)
			inbox := ab.get("/admin/feedback?kind=question&status=new&assigned=none")
			if inbox.status != http.StatusOK || !strings.Contains(inbox.body, ref) || strings.Contains(inbox.body, "FB-0000"+quietID+"<") {
				t.Fatalf("inbox: %d", inbox.status)
			}
			if !strings.Contains(inbox.body, "No message has waited more than 5 working days") {
				t.Error("the inbox does not show the overdue count")
			}
			item := "/admin/feedback/" + id
			if r := ab.submit(item, item+"/assign", url.Values{"assignee": {strconv.FormatInt(admin.ID, 10)}}); r.status != http.StatusSeeOther {
				t.Fatalf("assign: %d", r.status)
			}
			if r := ab.get("/admin/feedback?assigned=me"); !strings.Contains(r.body, ref) {
				t.Error("the question is not in the admin's own list after assigning it to themselves")
			}
			bad := "Your colleague Mrs Jane Smith said so."
			r := ab.submit(item, item+"/reply", url.Values{"reply": {bad}})
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, html.EscapeString(bad)+"</textarea>") || !strings.Contains(r.body, `href="#reply"`) {
				t.Fatalf("a reply with a name: %d", r.status)
			}
			r = ab.submit(item, item+"/reply", url.Values{"reply": {"Drafts are kept for 30 days.\r\nYou get a reminder first."}})
			if r.status != http.StatusSeeOther {
				t.Fatalf("reply: %d", r.status)
			}
			if page := ab.get(r.location); !strings.Contains(page.body, "emailed to them") || !strings.Contains(page.body, "Answered") {
				t.Error("the admin is not told the reply was emailed")
			}

			m := srv.WaitFor(t, reporter.Email, 1)
			threadURL := site.URL + "/account/queries/" + id
			if !strings.Contains(m.Subject(), ref) || !strings.Contains(m.Text(), "Drafts are kept for 30 days.") ||
				!strings.Contains(m.Text(), "You get a reminder first.") || !strings.Contains(m.Text(), threadURL) {
				t.Fatalf("the email:\n%s\n%s", m.Subject(), m.Text())
			}
			if strings.Contains(m.Text(), "could not find it") {
				t.Error("the email repeats the question")
			}
			thread := rb.get("/account/queries/" + id)
			if !strings.Contains(thread.body, "Drafts are kept for 30 days.\nYou get a reminder first.") ||
				!strings.Contains(thread.body, `class="nhsuk-card__description psims-message"`) || !strings.Contains(thread.body, "Answered") {
				t.Errorf("the reporter's thread: %d", thread.status)
			}

			qItem := "/admin/feedback/" + quietID
			r = ab.submit(qItem, qItem+"/reply", url.Values{"reply": {"Thank you."}})
			if page := ab.get(r.location); !strings.Contains(page.body, "shown only under their account") {
				t.Error("the admin is not told the reply was not emailed")
			}
			if r := ab.submit(qItem, qItem+"/status", url.Values{"status": {"closed"}}); r.status != http.StatusSeeOther {
				t.Errorf("close: %d", r.status)
			}
			if r := ab.submit(qItem, qItem+"/reply", url.Values{"reply": {"Another thought."}}); r.status != http.StatusConflict ||
				!strings.Contains(r.body, "Another thought.") {
				t.Errorf("a reply to a closed item: %d", r.status)
			}
			if r := ab.submit(qItem, qItem+"/status", url.Values{"status": {"answered"}}); r.status != http.StatusUnprocessableEntity {
				t.Errorf("answered by hand: %d", r.status)
			}
			mails, err := site.App.Outbox.List(context.Background(), reporter.Email, 10)
			if err != nil || len(mails) != 1 {
				t.Errorf("%d emails to the reporter, want 1 (%v)", len(mails), err)
			}
			// A national admin without IG training is sent to record it.
			if r := signedInAs(t, site, "untrained@nhs.example").get("/admin/feedback"); r.status != http.StatusForbidden {
				t.Errorf("an untrained admin: %d", r.status)
			}
		})
	}
}
