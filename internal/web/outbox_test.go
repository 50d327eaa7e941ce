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
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/mail"
)

var outboxRowPattern = regexp.MustCompile(`<tr class="nhsuk-table__row" role="row" id="message-(\d+)">`)

func outboxIDs(body string) []int64 {
	var out []int64
	for _, m := range outboxRowPattern.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		out = append(out, n)
	}
	return out
}

// outboxMessage queues m on the site and sets its status, as the worker
// would have.
func outboxMessage(t *testing.T, site *apptest.Site, m mail.Message, status, lastError string) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := site.App.DB.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if id, err = site.App.Outbox.Enqueue(ctx, tx, m); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET status = $1, last_error = $2, attempts = 1 WHERE id = $3`, status, lastError, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// A national admin sees the queue depth, the counts by status and the
// messages, filtered by status, kind and mailing, with no bodies or links;
// sends a failed message again (audited, confirmed in a banner); and is
// told, not given an error page, when a message cannot be sent again.
func TestNationalAdminsWatchTheOutboxAndSendAgain(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			ctx := context.Background()
			admin := approvalsUser(t, site, "ola.outbox@nhs.net", "QMM", account.RoleNationalAdmin, time.Now())
			failed := outboxMessage(t, site, mail.AccountLocked("pia@example.nhs.uk", "Pia"), mail.StatusFailed, "550 5.1.1 Mailbox unavailable")
			lost := outboxMessage(t, site, mail.ResetPassword("rex@example.nhs.uk", "Rex", "https://psims.example/reset?token=zz9secret"), mail.StatusUncertain, mail.ErrorUncertain)
			if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE outbox SET secret = NULL WHERE id = $1`, lost); err != nil {
				t.Fatal(err)
			}
			news := mail.Message{To: "sam@example.nhs.uk", Subject: "PSIMS news for May", Text: "Hello Sam, the news.", Category: mail.CategoryNewsletter,
				ListUnsubscribe: "https://psims.example/unsubscribe/s1", Batch: "newsletter:7"}
			newsID := outboxMessage(t, site, news, mail.StatusQueued, "")

			b := signedInAs(t, site, admin.Email)
			r := b.get("/admin/outbox")
			if r.status != http.StatusOK {
				t.Fatalf("outbox: %d", r.status)
			}
			if !strings.Contains(r.body, `href="/admin/outbox"`) {
				t.Error("the header does not link to the outbox")
			}
			depth, err := site.App.Outbox.QueueDepth(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := strconv.Itoa(depth) + " messages are waiting"
			if depth == 1 {
				want = "1 message is waiting"
			}
			if !strings.Contains(r.body, want) {
				t.Errorf("the page does not show the queue depth %d", depth)
			}
			for _, id := range []int64{failed, lost, newsID} {
				if !strings.Contains(r.body, `id="message-`+strconv.FormatInt(id, 10)+`"`) {
					t.Errorf("message %d not listed", id)
				}
			}
			if strings.Contains(r.body, "Hello Sam") || strings.Contains(r.body, "zz9secret") || strings.Contains(r.body, "unsubscribe/s1") {
				t.Error("the page shows a body or a link")
			}

			r = b.get("/admin/outbox?status=failed")
			if ids := outboxIDs(r.body); len(ids) != 1 || ids[0] != failed {
				t.Errorf("failed filter lists %v, want [%d]", ids, failed)
			}
			if !strings.Contains(r.body, "550 5.1.1 Mailbox unavailable") || !strings.Contains(r.body, `action="/admin/outbox/`+strconv.FormatInt(failed, 10)+`/resend"`) {
				t.Error("the failed message shows no last error or no Send again")
			}
			r = b.get("/admin/outbox?category=newsletter&batch=newsletter%3A7")
			if ids := outboxIDs(r.body); len(ids) != 1 || ids[0] != newsID || !strings.Contains(r.body, "in mailing newsletter:7") {
				t.Errorf("newsletter batch lists %v, want [%d]", ids, newsID)
			}
			r = b.get("/admin/outbox?status=uncertain")
			if strings.Contains(r.body, "/resend\"") || !strings.Contains(r.body, "no longer stored") {
				t.Error("an uncertain message whose link is gone offers Send again")
			}
			if r := b.get("/admin/outbox?status=nonsense&category=%3Cscript%3E&page=-3"); r.status != http.StatusOK || len(outboxIDs(r.body)) < 3 {
				t.Errorf("bad filters: %d, %d rows; want them ignored", r.status, len(outboxIDs(r.body)))
			}

			// Send again, from the filtered list, which it comes back to.
			page := b.get("/admin/outbox?status=failed")
			token := html.UnescapeString(csrfPattern.FindStringSubmatch(page.body)[1])
			r = b.post("/admin/outbox/"+strconv.FormatInt(failed, 10)+"/resend", url.Values{"csrf_token": {token}, "back": {"status=failed"}})
			if r.status != http.StatusSeeOther || r.location != "/admin/outbox?done=resent&status=failed" {
				t.Fatalf("send again: %d %q", r.status, r.location)
			}
			if r := b.get(r.location); !strings.Contains(r.body, "nhsuk-notification-banner") || !strings.Contains(r.body, "will be sent again") {
				t.Error("no confirmation after Send again")
			}
			var status string
			if err := site.App.DB.QueryRowContext(ctx, `SELECT status FROM outbox WHERE id = $1`, failed).Scan(&status); err != nil || status != mail.StatusQueued {
				t.Errorf("status after Send again %q (%v), want queued", status, err)
			}
			rows, err := audit.List(ctx, site.App.DB, "outbox", strconv.FormatInt(failed, 10), 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 || rows[0].Action != "mail.resend" || rows[0].ActorID != admin.ID || rows[0].Details["previous_status"] != mail.StatusFailed {
				t.Errorf("audit rows %+v", rows)
			}

			// Again: it is queued now, so it cannot be; the page says why.
			r = b.post("/admin/outbox/"+strconv.FormatInt(failed, 10)+"/resend", url.Values{"csrf_token": {token}, "back": {"status=failed"}})
			if r.status != http.StatusConflict || !strings.Contains(r.body, "nhsuk-error-summary") || !strings.Contains(r.body, "can be sent again") {
				t.Errorf("second Send again: %d", r.status)
			}
			r = b.post("/admin/outbox/"+strconv.FormatInt(lost, 10)+"/resend", url.Values{"csrf_token": {token}})
			if r.status != http.StatusConflict || !strings.Contains(r.body, "request a new link") {
				t.Errorf("Send again without the link: %d", r.status)
			}
			if r := b.post("/admin/outbox/999999/resend", url.Values{"csrf_token": {token}}); r.status != http.StatusNotFound {
				t.Errorf("Send again of no message: %d, want 404", r.status)
			}
			if r := b.post("/admin/outbox/"+strconv.FormatInt(newsID, 10)+"/resend", url.Values{}); r.status == http.StatusSeeOther {
				t.Error("Send again without the form token was accepted")
			}
		})
	}
}

func TestOnlyNationalAdminsSeeTheOutbox(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	id := outboxMessage(t, site, mail.AccountLocked("tia@example.nhs.uk", "Tia"), mail.StatusFailed, "550")
	for i, role := range []account.Role{account.RoleReporter, account.RoleReviewer, account.RoleOrgAdmin} {
		u := approvalsUser(t, site, "outbox"+strconv.Itoa(i)+"@nhs.net", "RM1", role, time.Now())
		b := signedInAs(t, site, u.Email)
		r := b.get("/admin/outbox")
		if r.status != http.StatusForbidden || strings.Contains(r.body, "tia@example.nhs.uk") {
			t.Errorf("%s: %d", role, r.status)
		}
		if strings.Contains(b.get("/").body, `href="/admin/outbox"`) {
			t.Errorf("%s is shown a link to the outbox", role)
		}
		page := b.get("/account")
		m := csrfPattern.FindStringSubmatch(page.body)
		if m == nil {
			t.Fatal("no form token")
		}
		r = b.post("/admin/outbox/"+strconv.FormatInt(id, 10)+"/resend", url.Values{"csrf_token": {html.UnescapeString(m[1])}})
		if r.status != http.StatusForbidden {
			t.Errorf("%s sends again: %d", role, r.status)
		}
	}
}
