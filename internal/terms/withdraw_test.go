package terms

import (
	"context"
	"testing"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// An unsubscribe link withdraws one consent at once, appends it to the
// history with the privacy version accepted, and audits it; the other
// consents stay, and a second withdrawal records nothing (P7).
func TestWithdrawConsentTakesOneConsentAway(t *testing.T) { // P7
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		uid := f.user(t, "Ann Reporter", "active")
		f.publish(t, Terms, "Terms one.", "First.", true)
		f.publish(t, Privacy, "Privacy one.", "First.", true)
		if err := f.svc.Accept(ctx, uid, browser, map[Kind]int{Terms: 1, Privacy: 1}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetConsents(ctx, uid, browser, map[Purpose]bool{Research: true, Newsletter: true}); err != nil {
			t.Fatal(err)
		}
		before, _ := f.svc.ConsentHistory(ctx, uid)
		changed, err := f.svc.WithdrawConsent(ctx, uid, Newsletter, Client{IP: "192.0.2.5"}, "unsubscribe link")
		if err != nil || !changed {
			t.Fatalf("withdraw: %v, %v", changed, err)
		}
		c, _ := f.svc.Consents(ctx, uid)
		if c.Granted[Newsletter] || !c.Granted[Research] {
			t.Fatalf("after withdrawing the newsletter: %+v", c.Granted)
		}
		after, _ := f.svc.ConsentHistory(ctx, uid)
		if len(after) != len(before)+1 || after[0].Purpose != Newsletter || after[0].Granted || after[0].PrivacyVersion != 1 {
			t.Fatalf("history after: %+v", after)
		}
		var audited int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'consent.change' AND actor_user_id = $1
			AND details LIKE '%unsubscribe link%'`, uid).Scan(&audited); err != nil || audited != 1 {
			t.Fatalf("%d audit rows, %v; want 1", audited, err)
		}
		if changed, err := f.svc.WithdrawConsent(ctx, uid, Newsletter, Client{}, "unsubscribe link"); err != nil || changed {
			t.Fatalf("second withdrawal: %v, %v", changed, err)
		}
		if again, _ := f.svc.ConsentHistory(ctx, uid); len(again) != len(after) {
			t.Fatal("a second withdrawal was recorded")
		}
	})
}
