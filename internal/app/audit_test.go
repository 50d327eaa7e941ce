package app_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/mail/smtptest"
)

// metric reads one figure from /metrics.
func metric(t *testing.T, site *apptest.Site, name string) string {
	t.Helper()
	resp, err := http.Get(site.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no %s in /metrics", name)
	}
	return string(m[1])
}

// The running service checks the audit log on start and then daily, once
// across processes (a River periodic job): it anchors the head to the
// --audit-anchor file and reports the result as metrics. When a row has
// been changed, the next check makes psims_audit_chain_ok drop to 0 and
// emails every active national admin, through real SMTP (issue 13, T5).
func TestTheDailyAuditCheckAnchorsAndAlertsNationalAdmins(t *testing.T) { // T5
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			smtp := smtptest.Start(t)
			anchors := filepath.Join(t.TempDir(), "anchors.txt")
			site := apptest.Start(t, e, func(c *config.Config) { c.SMTP = smtp.URL(); c.AuditAnchor = anchors })
			ctx := context.Background()
			d := site.App.DB
			waitUntil(t, func() bool { st, err := audit.LastCheck(ctx, d); return err == nil && st.Checked })
			if got := metric(t, site, "psims_audit_chain_ok"); got != "1" {
				t.Fatalf("psims_audit_chain_ok = %s after the first check, want 1", got)
			}
			if got := metric(t, site, "psims_audit_rows_verified"); got == "0" {
				t.Fatal("psims_audit_rows_verified = 0")
			}
			first, err := audit.ReadAnchorFile(anchors)
			if err != nil || len(first) != 1 {
				t.Fatalf("anchor file after the first check: %+v %v", first, err)
			}
			if _, problem, err := audit.CheckAnchors(ctx, d, first); err != nil || problem != nil {
				t.Fatalf("the job's anchor does not match the log: %+v %v", problem, err)
			}

			for _, u := range []struct {
				email string
				role  account.Role
			}{{"ada.check@nhs.net", account.RoleNationalAdmin}, {"bo.check@nhs.net", account.RoleNationalAdmin},
				{"cy.suspended@nhs.net", account.RoleNationalAdmin}, {"di.orgadmin@nhs.net", account.RoleOrgAdmin}} {
				if _, err := site.App.Accounts.Create(ctx, account.NewUser{Email: u.email, Name: "Person " + u.email, JobRole: "Lead",
					OrgCode: "RM1", Role: u.role, Password: usagePassword}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := d.WritePool().ExecContext(ctx, `UPDATE users SET status = 'suspended' WHERE email = 'cy.suspended@nhs.net'`); err != nil {
				t.Fatal(err)
			}
			if _, err := d.WritePool().ExecContext(ctx, `UPDATE audit_log SET ip = '203.0.113.9' WHERE id = 1`); err != nil {
				t.Fatal(err)
			}
			// The check at start may still be running (River marks it done
			// after its transaction commits), and a check is unique while
			// one runs: insert until one is really queued.
			waitUntil(t, func() bool {
				res, err := site.App.Jobs.Client().Insert(ctx, audit.CheckArgs{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				return !res.UniqueSkippedAsDuplicate
			})
			for _, to := range []string{"ada.check@nhs.net", "bo.check@nhs.net"} {
				m := smtp.WaitFor(t, to, 1)
				if !strings.Contains(m.Subject(), "audit log has been changed") || !strings.Contains(m.Text(), "row 1") {
					t.Fatalf("alert to %s: %q %q", to, m.Subject(), m.Text())
				}
			}
			waitUntil(t, func() bool { st, err := audit.LastCheck(ctx, d); return err == nil && st.Checked && !st.OK })
			if got := metric(t, site, "psims_audit_chain_ok"); got != "0" {
				t.Fatalf("psims_audit_chain_ok = %s after tampering, want 0", got)
			}
			time.Sleep(200 * time.Millisecond) // any other message would have gone by now
			for _, m := range smtp.Messages() {
				for _, to := range m.To {
					if strings.Contains(to, "cy.suspended") || strings.Contains(to, "di.orgadmin") {
						t.Errorf("alert sent to %s", to)
					}
				}
			}
			if all, err := audit.ReadAnchorFile(anchors); err != nil || len(all) != 2 {
				t.Fatalf("anchor file after the second check: %+v %v", all, err)
			}
		})
	}
}
