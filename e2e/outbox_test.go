package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/mail"
)

// TestANationalAdminSendsAFailedMessageAgain is a national admin's journey
// through the outbox (issue 14), with JavaScript on and off: a message the
// relay refused for good shows as failed with its error, the header's
// Outbox link and the status counts lead to it, and Send again delivers it
// through the real SMTP server with the Message-ID it was first given,
// confirmed in a notification banner. Every page is checked with axe-core
// and the console.
func TestANationalAdminSendsAFailedMessageAgain(t *testing.T) {
	chromium(t)
	for _, js := range []bool{true, false} {
		name := "without JavaScript"
		if js {
			name = "with JavaScript"
		}
		t.Run(name, func(t *testing.T) {
			site, srv := startSite(t, dbtest.SQLite(t))
			ctx := context.Background()
			const password = "copper willow harbour drum"
			admin, err := site.App.Accounts.Create(ctx, account.NewUser{Email: "outbox.admin@nhs.net", Name: "Journey outbox",
				JobRole: "Operator", OrgCode: "RM1", Role: account.RoleNationalAdmin, Password: password})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, time.Now().UTC(), admin.ID); err != nil {
				t.Fatal(err)
			}
			site.AcceptTerms(t, admin.Email)

			srv.RefuseNext(1)
			var id int64
			if err := site.App.DB.InTx(ctx, func(tx *db.Tx) error {
				id, err = site.App.Outbox.Enqueue(ctx, tx, mail.AccountLocked("una.refused@example.nhs.uk", "Una"))
				return err
			}); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			var key, status string
			for status != mail.StatusFailed {
				if time.Now().After(deadline) {
					t.Fatalf("message still %q after 20s, want failed", status)
				}
				time.Sleep(50 * time.Millisecond)
				if err := site.App.DB.QueryRowContext(ctx, `SELECT status, message_key FROM outbox WHERE id = $1`, id).Scan(&status, &key); err != nil {
					t.Fatal(err)
				}
			}

			b := newBrowser(t, site.URL, js)
			b.open("/sign-in", 200)
			signIn(b, admin.Email, password, 200)
			b.nav("Outbox", 200)
			b.wantHeading("Outbox")
			b.click("the failed messages", inMain("a", "Show Failed messages"), 200)
			if p := b.path(); p != "/admin/outbox?status=failed" {
				t.Errorf("the failed count leads to %s", p)
			}
			row := b.text("main tbody tr")
			if !strings.Contains(row, "una.refused@example.nhs.uk") || !strings.Contains(row, "550") || !strings.Contains(row, "Failed") {
				t.Errorf("the failed message reads %q", row)
			}
			b.click("send again", inMain("button", "Send again the message to una.refused@example.nhs.uk"), 200)
			if p := b.path(); p != "/admin/outbox?done=resent&status=failed" {
				t.Errorf("after Send again: %s", p)
			}
			if got := b.text(".nhsuk-notification-banner"); !strings.Contains(got, "will be sent again") {
				t.Errorf("the banner reads %q", got)
			}
			got := srv.WaitFor(t, "una.refused@example.nhs.uk", 1)
			if want := "<" + key + "@localhost>"; got.Header("Message-ID") != want {
				t.Errorf("Message-ID %q, want the first one, %q", got.Header("Message-ID"), want)
			}
			if n := len(srv.Messages()); n != 1 {
				t.Errorf("%d messages delivered, want 1", n)
			}
			t.Logf("pages checked with axe-core and the console: %s", strings.Join(b.checked, "; "))
		})
	}
}
