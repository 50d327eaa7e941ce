package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
)

var nextPageLink = regexp.MustCompile(`href="([^"]+)" class="nhsuk-pagination__next"`)
var prevPageLink = regexp.MustCompile(`href="([^"]+)" class="nhsuk-pagination__previous"`)

// A queue of thousands is shown a page at a time, searchable like the user
// list (issue 11 item 14).
func TestTheApprovalQueueShowsAPageAtATimeAndSearches(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			approvalsUser(t, site, "national@nhs.example", "RM1", account.RoleNationalAdmin, time.Now())
			ctx := context.Background()
			at := time.Now().UTC().Add(-time.Hour)
			for i := range account.QueuePerPage + 12 {
				if _, err := site.App.DB.WritePool().ExecContext(ctx, `INSERT INTO users (email, name, job_role, org_ods, role, status, password_hash, email_verified_at, created_at, updated_at)
					VALUES ($1, $2, 'Nurse', 'RM1', 'reporter', 'pending', 'x', $3, $3, $3)`,
					fmt.Sprintf("waiting%03d@example.org", i), fmt.Sprintf("Waiting %03d", i), at.Add(time.Duration(i)*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			b := signedInAs(t, site, "national@nhs.example")
			first := b.get("/admin/approvals")
			if first.status != http.StatusOK {
				t.Fatalf("queue: %d", first.status)
			}
			if n := len(queueLink.FindAllString(first.body, -1)); n != account.QueuePerPage {
				t.Fatalf("first page lists %d, want %d", n, account.QueuePerPage)
			}
			if !strings.Contains(first.body, "Waiting 000") || strings.Contains(first.body, "Waiting 050") {
				t.Fatal("the first page is not the oldest")
			}
			next := nextPageLink.FindStringSubmatch(first.body)
			if next == nil || prevPageLink.MatchString(first.body) {
				t.Fatal("the first page has no Next link, or has a Previous one")
			}
			second := b.get(html.UnescapeString(next[1]))
			if n := len(queueLink.FindAllString(second.body, -1)); second.status != http.StatusOK || n != 12 {
				t.Fatalf("second page: %d with %d rows, want 12", second.status, n)
			}
			if !strings.Contains(second.body, "Waiting 050") || strings.Contains(second.body, "Waiting 049") || nextPageLink.MatchString(second.body) {
				t.Fatal("the second page does not carry on from the first, or offers a third")
			}
			prev := prevPageLink.FindStringSubmatch(second.body)
			if prev == nil {
				t.Fatal("the second page has no Previous link")
			}
			if back := b.get(html.UnescapeString(prev[1])); !strings.Contains(back.body, "Waiting 000") || len(queueLink.FindAllString(back.body, -1)) != account.QueuePerPage {
				t.Fatal("Previous does not go back to the first page")
			}

			found := b.get("/admin/approvals?q=waiting%20061")
			if n := len(queueLink.FindAllString(found.body, -1)); n != 1 || !strings.Contains(found.body, "Waiting 061") {
				t.Fatalf("search found %d rows", n)
			}
			if none := b.get("/admin/approvals?org=D82044"); none.status != http.StatusOK || len(queueLink.FindAllString(none.body, -1)) != 0 {
				t.Fatalf("another organisation's queue: %d", none.status)
			}
			// Showing one list: the other is not there.
			if only := b.get("/admin/approvals?show=role"); only.status != http.StatusOK || strings.Contains(only.body, "Waiting 000") ||
				!strings.Contains(only.body, "no requests waiting") {
				t.Fatalf("requests only: %d", only.status)
			}
			if only := b.get("/admin/approvals?show=registrations"); !strings.Contains(only.body, "Waiting 000") || strings.Contains(only.body, "Requests for a new account type or") {
				t.Fatal("registrations only shows the requests' list")
			}
			bad := b.get("/admin/approvals?org=not+a+code")
			if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, "nhsuk-error-summary") || !strings.Contains(bad.body, `value="not a code"`) {
				t.Fatalf("a bad organisation code: %d", bad.status)
			}
		})
	}
}
