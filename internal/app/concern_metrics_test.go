package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/concern"
	"github.com/psims/psims/internal/db/dbtest"
)

// The metrics count the concern reports open and those open past their
// 48 hours, so an alert can catch a queue nobody is working. // T5
func TestMetricsCountOpenAndOverdueConcernReports(t *testing.T) { // T5
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	ctx := context.Background()
	u, err := site.App.Accounts.Create(ctx, account.NewUser{Email: "ann@nhs.net", Name: "Ann Lee", JobRole: "Nurse", OrgCode: "RM1",
		Role: account.RoleReporter, Password: "correct horse battery staple 42"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for range 3 {
		rc, err := site.App.Concerns.Report(ctx, concern.Submission{ReporterID: u.ID, Kind: concern.TermsBreach, Text: "Shared passwords."})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rc.ID)
	}
	past := time.Now().Add(-49 * time.Hour).UTC()
	if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE concern_reports SET created_at = $1, due_at = $2 WHERE id = $3`,
		past, past.Add(concern.Clock), ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := site.App.Concerns.Close(ctx, concern.Action{Actor: u}, ids[2], concern.OutcomeNoBreach, ""); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(site.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"\npsims_concerns_open 2\n", "\npsims_concerns_overdue 1\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the metrics lack %q", strings.TrimSpace(want))
		}
	}
}
