package terms

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/riverqueue/river"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// TestLoadAcceptancesLetsUsersPastTheGateAndFinishNoticesEmailsNobody
// loads more than one statement's worth of acceptances, of every version,
// and checks the gate lets every user by, that the notice of a material
// version finished in the same transaction emails nobody, and that a
// failing load leaves nothing behind.
func TestLoadAcceptancesLetsUsersPastTheGateAndFinishNoticesEmailsNobody(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.publish(t, Terms, "One.", "First.", true)
		f.publish(t, Privacy, "One.", "First.", true)
		terms2 := f.publish(t, Terms, "Two.", "Second.", true)
		f.publish(t, Terms, "Three.", "Typos.", false)
		var users []int64
		for i := range loadAcceptanceBatch/4 + 3 {
			users = append(users, f.user(t, fmt.Sprintf("Active User%d", i), "active"))
		}
		var rows []LoadAcceptance
		for _, id := range users {
			for _, v := range []LoadAcceptance{{Kind: Terms, Version: 1}, {Kind: Terms, Version: 2}, {Kind: Terms, Version: 3}, {Kind: Privacy, Version: 1}} {
				v.UserID = id
				rows = append(rows, v)
			}
		}
		c := Client{IP: "127.0.0.1", UserAgent: "psims bench"}
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if err := f.svc.LoadAcceptances(ctx, tx, c, rows); err != nil {
				return err
			}
			return f.svc.FinishNotices(ctx, tx)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Analyze(ctx); err != nil {
			t.Fatal(err)
		}
		for _, id := range users {
			if st := f.status(t, id); st.Blocked() || len(st.Updated) > 0 {
				t.Fatalf("user %d after the load: %+v", id, st)
			}
		}
		ledger, err := f.svc.Ledger(ctx, users[len(users)-1])
		if err != nil || len(ledger) != 4 || ledger[0].IP != c.IP {
			t.Errorf("ledger %+v, %v", ledger, err)
		}
		w := &noticeWorker{db: d, outbox: f.outbox, reviewURL: "https://psims.example/review-terms", logger: slog.New(slog.DiscardHandler)}
		if err := w.Work(ctx, &river.Job[NoticeArgs]{Args: NoticeArgs{DocumentID: terms2.ID}}); err != nil {
			t.Fatal(err)
		}
		if sent, err := f.outbox.List(ctx, "", 10); err != nil || len(sent) != 0 {
			t.Errorf("a finished notice emailed %d people, %v", len(sent), err)
		}

		// A version never published fails the load, and the caller's
		// transaction with it; other kinds are refused.
		late := f.user(t, "Late Joiner", "active")
		for _, bad := range [][]LoadAcceptance{
			{{UserID: late, Kind: Terms, Version: 3}, {UserID: late, Kind: Privacy, Version: 9}},
			{{UserID: late, Kind: RecordingStatement, Version: 1}},
		} {
			if err := d.InTx(ctx, func(tx *db.Tx) error { return f.svc.LoadAcceptances(ctx, tx, c, bad) }); err == nil {
				t.Errorf("loaded %+v", bad)
			}
		}
		if ledger, err := f.svc.Ledger(ctx, late); err != nil || len(ledger) != 0 {
			t.Errorf("a failed load left %+v, %v", ledger, err)
		}
	})
}
