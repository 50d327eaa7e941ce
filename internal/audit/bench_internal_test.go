package audit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// benchDirectory is a directory of 5,000 people, 200 of them at RM1.
type benchDirectory struct{}

func (benchDirectory) AuditActors(_ context.Context, ids []int64) (map[int64]Actor, error) {
	out := map[int64]Actor{}
	for _, id := range ids {
		out[id] = Actor{Name: "Person " + strconv.FormatInt(id, 10), Email: "p" + strconv.FormatInt(id, 10) + "@nhs.net"}
	}
	return out, nil
}

func (benchDirectory) AuditActorByEmail(_ context.Context, email string) (int64, bool, error) {
	id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(email, "p"), "@nhs.net"), 10, 64)
	return id, err == nil, nil
}

func (benchDirectory) AuditOrgMembers(context.Context, string) ([]int64, error) {
	var out []int64
	for id := int64(1); id <= 5000; id += 25 {
		out = append(out, id)
	}
	return out, nil
}

// loadSyntheticLog writes n chained rows over the two years before end,
// in batches, as fast as the engine takes them: a log as a large service
// would have after some years. Actions are skewed: a few common ones
// (sign-ins), many rare ones.
func loadSyntheticLog(t testing.TB, d *db.DB, n int, end time.Time) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	common := []string{"account.sign_in", "account.sign_out", "event.submit", "event.view"}
	rare := []string{"users.change_status", "users.change_role", "users.export", "org.import", "documents.publish",
		"library.add", "feedback.reply", "usage.individuals_shown", "account.ig_training", "requests.decide",
		"account.set_role", "events.export", "audit.export", "account.password_reset", "account.email_change"}
	types := []string{"user", "event", "organisation", "document", "library_document", "feedback", "usage_day", "users"}
	start := end.AddDate(-2, 0, 0)
	step := end.Sub(start) / time.Duration(n)
	prev := genesis
	const batch = 400
	for done := 0; done < n; {
		err := d.InTx(ctx, func(tx *db.Tx) error {
			var sb strings.Builder
			sb.WriteString(`INSERT INTO audit_log (at, actor_user_id, action, subject_type, subject_id, details, ip, prev_hash, hash) VALUES `)
			var args []any
			for i := 0; i < batch && done < n; i++ {
				action := common[rng.IntN(len(common))]
				if rng.IntN(10) == 0 {
					action = rare[rng.IntN(len(rare))]
				}
				actor := int64(rng.IntN(5000) + 1)
				r := Row{Entry: Entry{ActorID: actor, Action: action, SubjectType: types[rng.IntN(len(types))],
					SubjectID: strconv.Itoa(rng.IntN(100000)), IP: "192.0.2." + strconv.Itoa(rng.IntN(250))},
					At: start.Add(time.Duration(done) * step).UTC().Truncate(time.Microsecond), PrevHash: prev}
				details := `{"n":"` + strconv.Itoa(done) + `"}`
				r.Hash = r.computeHash(details)
				prev = r.Hash
				if i > 0 {
					sb.WriteString(", ")
				}
				k := len(args)
				fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", k+1, k+2, k+3, k+4, k+5, k+6, k+7, k+8, k+9)
				args = append(args, r.At, actor, r.Action, r.SubjectType, r.SubjectID, details, r.IP, r.PrevHash, r.Hash)
				done++
			}
			_, err := tx.ExecContext(ctx, sb.String(), args...)
			return err
		})
		if err != nil {
			t.Fatalf("load: %v", err)
		}
	}
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// TestAuditViewerOnALargeLog measures the viewer's filtered pages on a
// synthetic log of PSIMS_AUDIT_BENCH_ROWS rows (say 1000000) on each
// engine, with the indexes of migration 0022 and without them, against a
// raw scan of the whole log in the same run, and prints p50 and p99 of
// each and their ratio to the scan. It is skipped unless the variable is
// set: it takes minutes. docs/benchmarks.md records a run.
func TestAuditViewerOnALargeLog(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("PSIMS_AUDIT_BENCH_ROWS"))
	if n <= 0 {
		t.Skip("set PSIMS_AUDIT_BENCH_ROWS to measure the viewer on a synthetic log")
	}
	// One engine after the other, not in parallel, so neither run slows
	// the other.
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) { benchViewer(t, dbtest.Open(t, e), n) })
	}
}

func benchViewer(t *testing.T, d *db.DB, n int) {
	rounds := 15
	{
		ctx := context.Background()
		end := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
		began := time.Now()
		loadSyntheticLog(t, d, n, end)
		t.Logf("%s: loaded %d rows in %s", d.Dialect().Name, n, time.Since(began).Round(time.Second))
		if d.Dialect().Engine == db.PostgreSQL {
			if _, err := d.WritePool().ExecContext(ctx, `ANALYZE audit_log`); err != nil {
				t.Fatal(err)
			}
		} else if _, err := d.WritePool().ExecContext(ctx, `ANALYZE`); err != nil {
			t.Fatal(err)
		}
		l := NewLog(d, benchDirectory{})
		yearAgo := end.AddDate(-1, 0, 0)
		filters := []struct {
			name string
			q    Query
		}{
			{"no filter", Query{}},
			{"actor", Query{Actor: "p1234@nhs.net"}},
			{"rare action", Query{Action: "audit.export"}},
			{"object", Query{SubjectType: "user", SubjectID: "4242"}},
			{"organisation (200 people)", Query{Org: "RM1"}},
			{"one day a year ago", Query{From: yearAgo, To: yearAgo.AddDate(0, 0, 1)}},
			{"common action, a week a year ago", Query{Action: "account.sign_in", From: yearAgo, To: yearAgo.AddDate(0, 0, 7)}},
			{"rare action, second page", Query{Action: "users.change_role", Before: int64(n / 2)}},
		}
		scan := func() time.Duration {
			t0 := time.Now()
			rows, err := d.QueryContext(ctx, `SELECT `+rowColumns+` FROM audit_log ORDER BY id DESC`)
			if err != nil {
				t.Fatal(err)
			}
			k := 0
			for rows.Next() {
				if _, err := scanRow(rows); err != nil {
					t.Fatal(err)
				}
				k++
			}
			rows.Close()
			if k != n {
				t.Fatalf("scan read %d rows", k)
			}
			return time.Since(t0)
		}
		measure := func(label string) {
			var scans []time.Duration
			for range 3 {
				scans = append(scans, scan())
			}
			raw := percentile(scans, 0.5)
			t.Logf("%s, %s: raw scan of %d rows p50 %s", d.Dialect().Name, label, n, raw.Round(time.Millisecond))
			var all []time.Duration
			for _, f := range filters {
				if _, err := l.Search(ctx, f.q); err != nil { // warm up
					t.Fatal(err)
				}
				var ds []time.Duration
				for range rounds {
					t0 := time.Now()
					if _, err := l.Search(ctx, f.q); err != nil {
						t.Fatal(err)
					}
					ds = append(ds, time.Since(t0))
				}
				all = append(all, ds...)
				t.Logf("%s, %s: %-34s p50 %9s p99 %9s  p50/scan %.4f", d.Dialect().Name, label, f.name,
					percentile(ds, 0.5).Round(10*time.Microsecond), percentile(ds, 0.99).Round(10*time.Microsecond),
					float64(percentile(ds, 0.5))/float64(raw))
			}
			t.Logf("%s, %s: all filtered pages p50 %s p99 %s; p50/scan %.4f p99/scan %.4f", d.Dialect().Name, label,
				percentile(all, 0.5).Round(10*time.Microsecond), percentile(all, 0.99).Round(10*time.Microsecond),
				float64(percentile(all, 0.5))/float64(raw), float64(percentile(all, 0.99))/float64(raw))
		}
		measure("with the 0022 indexes")
		for _, ix := range []string{"audit_log_action", "audit_log_actor", "audit_log_subject", "audit_log_at"} {
			if _, err := d.WritePool().ExecContext(ctx, `DROP INDEX `+ix); err != nil {
				t.Fatal(err)
			}
		}
		rounds = 3
		measure("without them")
		t0 := time.Now()
		if k, problem, err := Verify(ctx, d); err != nil || problem != nil || k != n {
			t.Fatalf("verify: %d %+v %v", k, problem, err)
		}
		t.Logf("%s: Verify of %d rows took %s", d.Dialect().Name, n, time.Since(t0).Round(time.Millisecond))
	}
}
