package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// "Stay signed in" (issue 11 item 4): KeepAlive starts the idle timeout
// again even within the minute Authenticate leaves a session untouched,
// and never revives a session that has ended.
func TestKeepAliveStartsTheIdleTimeoutAgain(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.activeUser(t, "keep@nhs.net")
		res, err := f.svc.SignIn(ctx, "keep@nhs.net", goodPassword, account.Client{IP: "192.0.2.3", UserAgent: "test"})
		if err != nil {
			t.Fatal(err)
		}
		// Seen at 0 and, 30 seconds before the idle end, kept alive.
		f.clock.Advance(f.settings.SessionIdle - 30*time.Second)
		_, sess, err := f.svc.Authenticate(ctx, res.Session.Token)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(10 * time.Second)
		kept, err := f.svc.KeepAlive(ctx, sess)
		if err != nil || !kept.LastSeenAt.Equal(f.clock.Now().Truncate(time.Microsecond)) {
			t.Fatalf("keep alive: %v, last seen %s", err, kept.LastSeenAt)
		}
		f.clock.Advance(f.settings.SessionIdle - time.Second)
		if _, _, err := f.svc.Authenticate(ctx, res.Session.Token); err != nil {
			t.Fatalf("after keeping it alive, the session ended at the old time: %v", err)
		}
		f.clock.Advance(f.settings.SessionIdle + time.Second)
		if _, _, err := f.svc.Authenticate(ctx, res.Session.Token); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("after the idle timeout: %v", err)
		}
		if _, err := f.svc.KeepAlive(ctx, sess); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Authenticate(ctx, res.Session.Token); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("keeping an ended session alive revived it: %v", err)
		}
	})
}
