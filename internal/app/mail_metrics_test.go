package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/mail"
)

// The metrics count failed and uncertain messages beside the queue depth,
// so an alert can find mail that did not go.
func TestMetricsCountFailedAndUncertainMail(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	ctx := context.Background()
	for i, status := range []string{mail.StatusFailed, mail.StatusFailed, mail.StatusUncertain, mail.StatusSent} {
		err := site.App.DB.InTx(ctx, func(tx *db.Tx) error {
			id, err := site.App.Outbox.Enqueue(ctx, tx, mail.AccountLocked("m"+string(rune('a'+i))+"@example.nhs.uk", "M"))
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE outbox SET status = $1 WHERE id = $2`, status, id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Get(site.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"\npsims_mail_failed 2\n", "\npsims_mail_uncertain 1\n", "\npsims_mail_queue_depth "} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the metrics lack %q", strings.TrimSpace(want))
		}
	}
}
