package main

import (
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/mail"
)

// psims mail list shows the statuses delivery adds: a message left
// uncertain by a cut-off try, and a newsletter cancelled on recheck, each
// with its one-time link, if any, shown as removed.
func TestMailListShowsUncertainAndCancelledMessages(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			env := engineEnv(t, e)
			if _, stderr, code := psims(t, env, "", "migrate"); code != 0 {
				t.Fatalf("migrate: exit %d: %s", code, stderr)
			}
			d := dbtest.Open(t, e)
			now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
			for i, m := range []struct{ to, status, body, category string }{
				{"una@example.nhs.uk", mail.StatusUncertain, "Reset: " + mail.Placeholder, mail.CategoryService},
				{"vic@example.nhs.uk", mail.StatusCancelled, "The news.", mail.CategoryNewsletter},
			} {
				if _, err := d.WritePool().Exec(`INSERT INTO outbox (to_addr, subject, body_text, body_html, status, attempts, last_error, created_at, message_key, category)
					VALUES ($1, 'Hello', $2, '', $3, $4, '', $5, $6, $7)`, m.to, m.body, m.status, 1-i, now.Add(time.Duration(i)*time.Minute), "k"+m.to, m.category); err != nil {
					t.Fatal(err)
				}
			}
			out, stderr, code := psims(t, env, "", "mail", "list")
			if code != 0 {
				t.Fatalf("mail list: exit %d: %s", code, stderr)
			}
			for _, want := range []string{"uncertain (attempts 1)\nTo: una@example.nhs.uk", "cancelled (attempts 0)\nTo: vic@example.nhs.uk",
				"Reset: " + mail.LinkRemovedUnsent} {
				if !strings.Contains(out, want) {
					t.Errorf("mail list lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
