package db_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/psims/psims/internal/db"
)

// Migration 0010 rebuilds the SQLite drafts table so IDs are never reused;
// the drafts saved before it must survive with their IDs (issue 11 item 12).
func TestDraftsKeepTheirRowsAndIDsThroughTheRebuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := db.Open(ctx, "", filepath.Join(t.TempDir(), "psims.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ms, err := d.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	w := d.WritePool()
	if _, err := w.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, m := range ms[:9] {
		if _, err := w.ExecContext(ctx, m.SQL); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if _, err := w.ExecContext(ctx, `INSERT INTO schema_migrations VALUES ($1, $2, $3)`, m.Version, m.Name, now); err != nil {
			t.Fatal(err)
		}
	}
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := w.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ('RM1', 'Test trust', $1, $1)`, now)
	mustExec(`INSERT INTO users (id, email, name, job_role, org_ods, status, password_hash, created_at, updated_at)
		VALUES (7, 'ann@nhs.net', 'Ann', 'Nurse', 'RM1', 'active', 'x', $1, $1)`, now)
	for _, id := range []int{4, 9} {
		mustExec(`INSERT INTO drafts (id, user_id, event_type, answers, created_at, updated_at, reminded_at)
			VALUES ($1, 7, 'incident', '{"q":["kept"]}', $2, $2, $2)`, id, now)
	}
	if err := d.Migrate(ctx); err != nil {
		t.Fatalf("migrate from 0009: %v", err)
	}
	var n int
	if err := w.QueryRowContext(ctx, `SELECT COUNT(*) FROM drafts WHERE id IN (4, 9) AND user_id = 7 AND answers = '{"q":["kept"]}' AND reminded_at IS NOT NULL`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("drafts kept through the rebuild: %d, %v", n, err)
	}
	mustExec(`DELETE FROM drafts WHERE id = 9`)
	var next int64
	if err := w.QueryRowContext(ctx, `INSERT INTO drafts (user_id, event_type, answers, created_at, updated_at) VALUES (7, 'incident', '{}', $1, $1) RETURNING id`, now).Scan(&next); err != nil {
		t.Fatal(err)
	}
	if next <= 9 {
		t.Fatalf("new draft after deleting 9 got id %d", next)
	}
	// The cascade from users still holds on the rebuilt table.
	mustExec(`DELETE FROM users WHERE id = 7`)
	if err := w.QueryRowContext(ctx, `SELECT COUNT(*) FROM drafts`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("drafts left after their user was deleted: %d, %v", n, err)
	}
}
