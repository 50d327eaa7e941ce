package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/mail/smtptest"
	"github.com/psims/psims/internal/newsletter"
	"github.com/psims/psims/internal/terms"
)

// newsletterSite is a running PSIMS that sends email to a test SMTP server.
type newsletterSite struct {
	site *apptest.Site
	smtp *smtptest.Server
}

func startNewsletterSite(t *testing.T, e dbtest.Engine, base string) *newsletterSite {
	t.Helper()
	srv := smtptest.Start(t)
	site := apptest.Start(t, e, func(c *config.Config) {
		c.SMTP = srv.URL()
		if base != "" {
			c.BaseURL = base
		}
	})
	return &newsletterSite{site: site, smtp: srv}
}

// person makes an active user of org with the role, IG training done,
// the terms accepted and the consents given.
func (s *newsletterSite) person(t *testing.T, email, org string, role account.Role, consents ...terms.Purpose) account.User {
	t.Helper()
	ctx := context.Background()
	u, err := s.site.App.Accounts.Create(ctx, account.NewUser{Email: email, Name: "Person " + strings.Split(email, "@")[0],
		JobRole: "Nurse", OrgCode: org, Role: role, Password: passphrase})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, s.site.App.DB.Now(), u.ID); err != nil {
		t.Fatal(err)
	}
	s.site.AcceptTerms(t, email)
	granted := map[terms.Purpose]bool{}
	for _, p := range consents {
		granted[p] = true
	}
	if err := s.site.App.Terms.SetConsents(ctx, u.ID, terms.Client{IP: "192.0.2.1"}, granted); err != nil {
		t.Fatal(err)
	}
	return u
}

// delivered waits a moment for stray messages and returns everyone who
// got a message with the subject.
func (s *newsletterSite) delivered(subject string) []string {
	time.Sleep(500 * time.Millisecond)
	var to []string
	for _, m := range s.smtp.Messages() {
		if m.Subject() == subject {
			to = append(to, m.To...)
		}
	}
	slices.Sort(to)
	return to
}

// oneClick posts to an unsubscribe address as a mail provider does (RFC
// 8058): the body List-Unsubscribe=One-Click, no cookie, no form token,
// sent to the test server with the address's path.
func oneClick(t *testing.T, addr, link string) response {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(addr+u.Path, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	return read(t, resp)
}

var listUnsubscribe = regexp.MustCompile(`^<(https://psims\.test/unsubscribe/[^>]+)>$`)

// A newsletter reaches exactly the people who consented, did not object,
// are not restricted and are in its audience; each message carries both
// one-click headers with an https address; a POST to it unsubscribes at
// once without signing in; an invitation reaches only people who agreed
// to research invitations. // P7
func TestNewslettersReachOnlyThoseWhoWantThemAndOneClickUnsubscribes(t *testing.T) { // P7
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := startNewsletterSite(t, e, "https://psims.test")
			ctx := context.Background()
			admin := s.person(t, "admin@nhs.net", "RM1", account.RoleNationalAdmin)
			reader := s.person(t, "reader@nhs.net", "RM1", account.RoleReporter, terms.Newsletter)
			s.person(t, "reviewer@nhs.net", "D82044", account.RoleReviewer, terms.Newsletter, terms.Research)
			s.person(t, "researcher@nhs.net", "RM1", account.RoleReporter, terms.Research)
			s.person(t, "declined@nhs.net", "RM1", account.RoleReporter)
			objector := s.person(t, "objector@nhs.net", "RM1", account.RoleReporter, terms.Newsletter)
			restricted := s.person(t, "restricted@nhs.net", "RM1", account.RoleReporter, terms.Newsletter)
			w := s.site.App.DB.WritePool()
			if _, err := w.ExecContext(ctx, `UPDATE users SET contact_objected_at = $1 WHERE id = $2`, s.site.App.DB.Now(), objector.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := w.ExecContext(ctx, `UPDATE users SET restricted_at = $1 WHERE id = $2`, s.site.App.DB.Now(), restricted.ID); err != nil {
				t.Fatal(err)
			}
			by := newsletter.Actor{ID: admin.ID, IP: "192.0.2.2"}
			send := func(d newsletter.Draft) {
				t.Helper()
				id, err := s.site.App.Newsletters.Create(ctx, by, d)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.site.App.Newsletters.Send(ctx, by, id); err != nil {
					t.Fatal(err)
				}
			}
			send(newsletter.Draft{Kind: newsletter.KindNewsletter, Subject: "December news", Body: "Thank you for **recording**.",
				Audience: newsletter.Everyone})
			got := s.smtp.WaitFor(t, reader.Email, 1)
			if to := s.delivered("December news"); !slices.Equal(to, []string{"reader@nhs.net", "reviewer@nhs.net"}) {
				t.Fatalf("the newsletter reached %v", to)
			}
			if h := got.Header("List-Unsubscribe-Post"); h != "List-Unsubscribe=One-Click" {
				t.Fatalf("List-Unsubscribe-Post %q", h)
			}
			m := listUnsubscribe.FindStringSubmatch(got.Header("List-Unsubscribe"))
			if m == nil {
				t.Fatalf("List-Unsubscribe %q", got.Header("List-Unsubscribe"))
			}
			if !strings.Contains(got.Text(), m[1]) || !strings.Contains(got.HTML(), m[1]) {
				t.Fatal("the footer does not carry the same unsubscribe link")
			}

			// A changed token does nothing, with a clear page.
			if r := oneClick(t, s.site.Addr, m[1]+"x"); r.status != http.StatusBadRequest || !strings.Contains(r.body, "not valid") {
				t.Fatalf("a changed token: %d", r.status)
			}
			if ok, _ := s.site.App.Terms.HasConsent(ctx, reader.ID, terms.Newsletter); !ok {
				t.Fatal("a changed token unsubscribed")
			}
			// Opening the link shows a confirmation and changes nothing.
			r, err := http.Get(s.site.Addr + strings.TrimPrefix(m[1], "https://psims.test"))
			if err != nil {
				t.Fatal(err)
			}
			if page := read(t, r); page.status != http.StatusOK || !strings.Contains(page.body, "Unsubscribe from the newsletter") {
				t.Fatalf("the confirmation page: %d", page.status)
			}
			if ok, _ := s.site.App.Terms.HasConsent(ctx, reader.ID, terms.Newsletter); !ok {
				t.Fatal("opening the link unsubscribed")
			}
			if r := oneClick(t, s.site.Addr, m[1]); r.status != http.StatusOK || !strings.Contains(r.body, "You have unsubscribed") {
				t.Fatalf("one-click unsubscribe: %d %s", r.status, r.body)
			}
			if ok, _ := s.site.App.Terms.HasConsent(ctx, reader.ID, terms.Newsletter); ok {
				t.Fatal("the one-click POST did not withdraw the consent")
			}

			// The next newsletter goes to the reviewer alone; the invitation
			// only to those who agreed to research invitations.
			send(newsletter.Draft{Kind: newsletter.KindNewsletter, Subject: "January news", Body: "More news.", Audience: newsletter.Everyone})
			send(newsletter.Draft{Kind: newsletter.KindInvitation, Subject: "Take part in our research", Body: "Tell us how PSIMS works for you.",
				Audience: newsletter.Everyone})
			s.smtp.WaitFor(t, "researcher@nhs.net", 1)
			s.smtp.WaitFor(t, "reviewer@nhs.net", 3)
			if to := s.delivered("January news"); !slices.Equal(to, []string{"reviewer@nhs.net"}) {
				t.Fatalf("after unsubscribing the newsletter reached %v", to)
			}
			if to := s.delivered("Take part in our research"); !slices.Equal(to, []string{"researcher@nhs.net", "reviewer@nhs.net"}) {
				t.Fatalf("the invitation reached %v", to)
			}
		})
	}
}

// A national admin composes, previews and sends a newsletter through the
// pages; the guard's findings name the field without repeating what was
// found and nothing typed is lost; the status page counts the messages;
// "Your data preferences" shows an unsubscribe at once and says what is
// always sent. // P7, T12
func TestComposingPreviewingAndSendingANewsletter(t *testing.T) { // P7, T12
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := startNewsletterSite(t, e, "")
			s.person(t, "admin@nhs.net", "RM1", account.RoleNationalAdmin)
			reader := s.person(t, "reader@nhs.net", "RM1", account.RoleReporter, terms.Newsletter)
			s.person(t, "reviewer@nhs.net", "RM1", account.RoleReviewer, terms.Newsletter)
			b := newBrowser(t, s.site)
			if r := signIn(t, b, "admin@nhs.net", passphrase); r.status != http.StatusSeeOther {
				t.Fatalf("sign in: %d", r.status)
			}
			if r := b.get("/account"); !strings.Contains(r.body, `href="/admin/newsletters"`) {
				t.Fatal("no link to the newsletters in the header")
			}
			form := url.Values{"kind": {"newsletter"}, "subject": {"News for ward staff"},
				"body":     {"## Learning\n\nThe patient with NHS number 943 476 5919 recovered.\n\n<b>bold</b>"},
				"audience": {"roles"}, "roles": {"reporter"}, "when": {"later"}, "send_at-day": {"31"}, "send_at-month": {"2"}, "send_at-year": {"2030"}, "send_at-time": {"25:00"}}
			if r := b.get("/admin/newsletters/new"); !strings.Contains(r.body, `>Organisation admin</label>`) {
				t.Error("the account types are not named as people name them")
			}
			r := b.submit("/admin/newsletters/new", "/admin/newsletters/new", form)
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("a body with an NHS number: %d", r.status)
			}
			for _, want := range []string{`href="#body"`, `href="#send_at-day"`, "There is a problem", "News for ward staff", "&lt;b&gt;bold&lt;/b&gt;"} {
				if !strings.Contains(r.body, want) {
					t.Errorf("the form shown again lacks %q", want)
				}
			}
			if strings.Contains(strings.ReplaceAll(r.body, "943 476 5919 recovered", ""), "943 476 5919") {
				t.Error("an error message repeats the NHS number")
			}
			form.Set("body", "## Learning\n\nThank you for recording.\n\n<b>bold</b>")
			form.Set("when", "now")
			r = b.submit("/admin/newsletters/new", "/admin/newsletters/new", form)
			if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/admin/newsletters/") {
				t.Fatalf("save: %d %s", r.status, r.location)
			}
			page := strings.TrimSuffix(strings.SplitN(r.location, "?", 2)[0], "/")
			r = b.get(r.location)
			for _, want := range []string{"1 person", "Send now to 1 person", `<h2 class="nhsuk-heading-m">Learning</h2>`, "&lt;b&gt;bold&lt;/b&gt;", "/unsubscribe/",
				"with these account types: Reporter"} {
				if !strings.Contains(r.body, want) {
					t.Errorf("the preview lacks %q", want)
				}
			}
			if strings.Contains(r.body, "<b>bold</b>") {
				t.Error("raw HTML in the Markdown was rendered")
			}
			if r := b.submit(page, page+"/send", url.Values{}); r.status != http.StatusSeeOther {
				t.Fatalf("send: %d", r.status)
			}
			msg := s.smtp.WaitFor(t, reader.Email, 1)
			if to := s.delivered("News for ward staff"); !slices.Equal(to, []string{reader.Email}) {
				t.Fatalf("the newsletter for reporters reached %v", to)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				r = b.get(page)
				if strings.Contains(r.body, "Sent</strong>") && strings.Contains(r.body, "reader@nhs.net") &&
					regexp.MustCompile(`Sent</dt>\s*<dd class="nhsuk-summary-list__value">1</dd>`).MatchString(r.body) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the status page never showed the message sent:\n%s", r.body)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if r := b.get(page + "/edit"); r.status != http.StatusConflict {
				t.Fatalf("editing a sent newsletter: %d", r.status)
			}

			// The reader unsubscribes with the link, signed in elsewhere:
			// their data preferences show it at once.
			rb := newBrowser(t, s.site)
			if r := signIn(t, rb, reader.Email, passphrase); r.status != http.StatusSeeOther {
				t.Fatalf("reader sign in: %d", r.status)
			}
			before := rb.get("/account/data-preferences")
			if !strings.Contains(before.body, `value="newsletter" checked`) || !strings.Contains(before.body, "Service notices are always sent") ||
				!strings.Contains(before.body, "You have not objected to being contacted") {
				t.Fatal("the preferences page before unsubscribing")
			}
			link := regexp.MustCompile(`<(http[^>]+)>`).FindStringSubmatch(msg.Header("List-Unsubscribe"))
			if link == nil {
				t.Fatal("no List-Unsubscribe")
			}
			// This provider posts the one-click body as multipart/form-data,
			// which RFC 8058 allows too.
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			if err := mw.WriteField("List-Unsubscribe", "One-Click"); err != nil {
				t.Fatal(err)
			}
			mw.Close()
			lu, err := url.Parse(link[1])
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.Post(s.site.Addr+lu.Path, mw.FormDataContentType(), &body)
			if err != nil {
				t.Fatal(err)
			}
			if r := read(t, resp); r.status != http.StatusOK || !strings.Contains(r.body, "You have unsubscribed") {
				t.Fatalf("unsubscribe: %d", r.status)
			}
			if after := rb.get("/account/data-preferences"); strings.Contains(after.body, `value="newsletter" checked`) {
				t.Fatal("the preferences page still shows the newsletter ticked")
			}
			if n := countAudit(t, s.site, "consent.change", reader.ID); n < 2 {
				t.Fatalf("%d consent changes audited for the reader, want the first choice and the unsubscribe", n)
			}
		})
	}
}

func countAudit(t *testing.T, site *apptest.Site, action string, actor int64) int {
	t.Helper()
	var n int
	err := site.App.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = $1 AND actor_user_id = $2`,
		action, actor).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Anything but a signed token of ours is a clear 400 page, never a 500
// and never a change, whatever its shape.
func TestBadUnsubscribeLinks(t *testing.T) { // P7
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	for _, token := range []string{"x", "1.newsletter.AAAA", "0.research.", "9999999999999999999999.newsletter.x",
		strings.Repeat("a", 5000), "1.usage-analysis.abc", "%00", "1.newsletter.abc%2Fdef", "..%2Fadmin%2Fnewsletters%2Fnew", "%2E%2E%2Fadmin%2Fnewsletters%2Fnew"} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			req, err := http.NewRequest(method, site.URL+"/unsubscribe/"+token, strings.NewReader("List-Unsubscribe=One-Click"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r := read(t, resp)
			if r.status != http.StatusBadRequest && r.status != http.StatusNotFound {
				t.Errorf("%s %q: %d", method, token, r.status)
			}
			if r.status == http.StatusBadRequest && !strings.Contains(r.body, "This unsubscribe link is not valid") {
				t.Errorf("%s %q: no clear page", method, token)
			}
		}
	}
}
