package account_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

func TestAlertChoicesDefaultToEverythingAndAreAudited(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRequestsFixture(t, d)
		ctx := context.Background()
		reviewer := f.user(t, "reviewer@rm1.example", "RM1", account.RoleReviewer)
		if p, err := f.svc.AlertPrefs(ctx, reviewer.ID); err != nil || p != account.DefaultAlertPrefs() {
			t.Fatalf("before choosing: %+v %v, want every alert", p, err)
		}
		only := account.AlertPrefs{PublicReport: true}
		if err := f.svc.SetAlertPrefs(ctx, reviewer, only, "192.0.2.4"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetAlertPrefs(ctx, reviewer, only, "192.0.2.4"); err != nil {
			t.Fatalf("choosing again: %v", err)
		}
		if p, err := f.svc.AlertPrefs(ctx, reviewer.ID); err != nil || p != only {
			t.Fatalf("after choosing: %+v %v", p, err)
		}
		if n := f.auditCount(t, "account.alert_preferences", strconv.FormatInt(reviewer.ID, 10)); n != 2 {
			t.Errorf("%d audit rows, want 2", n)
		}

		// Recipients: the choice holds, and IG training must be current.
		if _, err := d.ExecContext(ctx, `UPDATE users SET ig_training_at = $1`, time.Now().UTC().AddDate(0, -1, 0)); err != nil {
			t.Fatal(err)
		}
		var got []string
		err := d.InTx(ctx, func(tx *db.Tx) error {
			for _, reason := range [][3]bool{{true, false, false}, {false, true, false}, {false, false, true}, {false, false, false}} {
				to, err := f.svc.AlertRecipients(ctx, tx, "RM1", 0, reason[0], reason[1], reason[2])
				if err != nil {
					return err
				}
				got = append(got, strconv.Itoa(len(to)))
			}
			return nil
		})
		if err != nil || got[0] != "0" || got[1] != "0" || got[2] != "1" || got[3] != "0" {
			t.Fatalf("recipients by reason %v, %v; want only the public report", got, err)
		}
		// The reporter of the event is not alerted to it.
		err = d.InTx(ctx, func(tx *db.Tx) error {
			to, err := f.svc.AlertRecipients(ctx, tx, "RM1", reviewer.ID, true, true, true)
			if err == nil && len(to) != 0 {
				t.Errorf("the reporter is alerted to their own event: %v", to)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}

		if _, err := d.ExecContext(ctx, `UPDATE users SET status = 'suspended' WHERE id = $1`, reviewer.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetAlertPrefs(ctx, reviewer, account.DefaultAlertPrefs(), ""); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("a suspended account changing its choices: %v", err)
		}
	})
}
