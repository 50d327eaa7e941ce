package stats

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/jobs"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/stats/sdc"
)

// counter stands in for incident.StatCounts with counts the test sets,
// so a revision can be made against changed data. (The web tests count
// real submitted events.)
type counter struct {
	mu     sync.Mutex
	counts incident.StatCounts
	asked  []incident.Basis
}

func (c *counter) StatCounts(_ context.Context, basis incident.Basis, _, _ time.Time) (incident.StatCounts, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, basis)
	return c.counts, nil
}

func (c *counter) set(counts incident.StatCounts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts = counts
}

// testHTML is a stand-in page renderer for this package's tests; the web
// package's tests render the real one.
func testHTML(r *Report) ([]byte, error) {
	var b bytes.Buffer
	for _, f := range r.Figures() {
		b.WriteString(f.Key + "=" + f.Text + "\n")
	}
	return b.Bytes(), nil
}

func newService(t *testing.T, d *db.DB) (*Service, *counter) {
	t.Helper()
	c := &counter{counts: cleanCounts()}
	runner, err := jobs.New(d, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return New(d, c, org.NewStore(d), loadTaxonomy(t), testHTML, sdc.Default(), mail.NewOutbox(d, runner, nil), "https://psims.example"), c
}

func draft() Draft {
	m := testMeta()
	return Draft{Title: m.Title, From: m.From, To: m.To, Basis: m.Basis, Release: m.Release}
}

func audits(t *testing.T, d *db.DB, action string) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = $1`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A draft is checked field by field.
func TestCreateChecksTheDraft(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, _ := newService(t, d)
		bad := Draft{Title: " ", From: testMeta().To, To: testMeta().From, Basis: "whenever"}
		_, err := s.Create(context.Background(), Actor{}, bad)
		var fields apperr.Fields
		if !errors.As(err, &fields) {
			t.Fatalf("got %v, want field errors", err)
		}
		got := map[string]bool{}
		for _, f := range fields {
			got[f.Field] = true
		}
		for _, want := range []string{"title", "to-day", "basis-occurred", "release-day"} {
			if !got[want] {
				t.Errorf("no error for %s in %v", want, fields)
			}
		}
		if audits(t, d, "statistics.create") != 0 {
			t.Error("a refused draft was audited as created")
		}
	})
}

// Publishing stores an immutable snapshot whose bytes are those of a
// fresh build of the same data; the database refuses to change or delete
// it; a revision needs a reason, keeps version 1 and lists what changed;
// everything is audited (T16).
func TestPublishReviseAndImmutability(t *testing.T) { // T16
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s, c := newService(t, d)
		id, err := s.Create(ctx, Actor{}, draft())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Revise(ctx, Actor{}, id, "too early"); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("revising a draft: %v, want a conflict", err)
		}
		if err := s.Publish(ctx, Actor{}, id); err != nil {
			t.Fatal(err)
		}
		if err := s.Publish(ctx, Actor{}, id); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("publishing twice: %v, want a conflict", err)
		}
		p, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != StatusPublished || p.Versions != 1 {
			t.Fatalf("after publishing: %+v", p)
		}
		// Reproducible: the stored files are what building again gives.
		again, err := s.Build(ctx, p.Meta(1, ""), p.Rules)
		if err != nil {
			t.Fatal(err)
		}
		versions, err := s.Versions(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(versions[0].Files) != len(again.Files) || versions[0].Fingerprint != again.Fingerprint {
			t.Fatalf("stored %d files (%s), built %d (%s)", len(versions[0].Files), versions[0].Fingerprint, len(again.Files), again.Fingerprint)
		}
		v1 := map[string][]byte{}
		for i, f := range again.Files {
			stored, err := s.File(ctx, id, 1, f.Name)
			if err != nil {
				t.Fatal(err)
			}
			if versions[0].Files[i].Name != f.Name || !bytes.Equal(stored.Body, f.Body) || stored.SHA256 != f.SHA256 {
				t.Errorf("%s: stored bytes differ from a rebuild", f.Name)
			}
			v1[f.Name] = stored.Body
		}

		// The database itself refuses to change a snapshot.
		for _, q := range []string{
			`UPDATE statistics_versions SET reason = 'x' WHERE publication_id = $1`,
			`DELETE FROM statistics_versions WHERE publication_id = $1`,
			`UPDATE statistics_files SET content = content WHERE publication_id = $1`,
			`UPDATE statistics_files SET sha256 = 'x' WHERE publication_id = $1`,
			`DELETE FROM statistics_files WHERE publication_id = $1`,
		} {
			if _, err := d.WritePool().ExecContext(ctx, q, id); err == nil {
				t.Errorf("%s: allowed", q)
			}
		}

		if _, err := s.Revise(ctx, Actor{}, id, "  "); !isField(err, "reason") {
			t.Errorf("a revision without a reason: %v", err)
		}
		changed := cleanCounts()
		changed.Events[0].N = 22 // RM1 incidents with no harm: 12 → 22
		c.set(changed)
		n, err := s.Revise(ctx, Actor{ID: 0, IP: "192.0.2.9"}, id, "Late records from RM1 corrected")
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Fatalf("revision is version %d", n)
		}
		versions, err = s.Versions(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(versions) != 2 || versions[1].Reason != "Late records from RM1 corrected" {
			t.Fatalf("versions %+v", versions)
		}
		changes := strings.Join(versions[1].Changes, "\n")
		for _, want := range []string{
			"Events by organisation, type and physical harm: RM1, RM1, Incident, No physical harm: 10 → 20",
			"National totals: Incident, Events: 1,287 → 1,297",
			"National totals: All types, Events: 1,295 → 1,305",
		} {
			if !strings.Contains(changes, want) {
				t.Errorf("changes lack %q:\n%s", want, changes)
			}
		}
		if strings.Contains(changes, "RM2") {
			t.Errorf("RM2 did not change:\n%s", changes)
		}
		for name, body := range v1 {
			stored, err := s.File(ctx, id, 1, name)
			if err != nil || !bytes.Equal(stored.Body, body) {
				t.Errorf("version 1 %s changed by the revision (%v)", name, err)
			}
		}
		if audits(t, d, "statistics.create") != 1 || audits(t, d, "statistics.publish") != 1 || audits(t, d, "statistics.revise") != 1 {
			t.Error("create, publish and revise are not each audited once")
		}
	})
}

func isField(err error, field string) bool {
	var fields apperr.Fields
	if !errors.As(err, &fields) {
		return false
	}
	for _, f := range fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// The public list holds only published publications released by then;
// the pre-release list is kept and audited, and each address put on it
// is emailed once with the link and the release time (T16).
func TestReleaseAndPreReleaseList(t *testing.T) { // T16
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s, _ := newService(t, d)
		id, err := s.Create(ctx, Actor{}, draft())
		if err != nil {
			t.Fatal(err)
		}
		release := testMeta().Release
		if list, _ := s.List(ctx, release.Add(time.Hour)); len(list) != 0 {
			t.Errorf("a draft is listed for the public: %+v", list)
		}
		if err := s.Publish(ctx, Actor{}, id); err != nil {
			t.Fatal(err)
		}
		if list, _ := s.List(ctx, release.Add(-time.Minute)); len(list) != 0 {
			t.Errorf("listed before its release: %+v", list)
		}
		if list, _ := s.List(ctx, release); len(list) != 1 || list[0].ID != id {
			t.Errorf("not listed at its release: %+v", list)
		}
		if err := s.AddPreRelease(ctx, Actor{}, id, "not an address"); !isField(err, "email") {
			t.Errorf("a bad address: %v", err)
		}
		for range 2 {
			if err := s.AddPreRelease(ctx, Actor{}, id, " Press.Office@Example.NHS.uk "); err != nil {
				t.Fatal(err)
			}
		}
		list, err := s.PreRelease(ctx, id)
		if err != nil || len(list) != 1 {
			t.Fatalf("list %v (%v)", list, err)
		}
		var to, subject, text string
		var emails int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*), MIN(to_addr), MIN(subject), MIN(body_text) FROM outbox`).Scan(&emails, &to, &subject, &text); err != nil {
			t.Fatal(err)
		}
		wantLink := "https://psims.example/statistics/" + strconv.FormatInt(id, 10)
		if emails != 1 || to != list[0] || subject != "Pre-release access to PSIMS official statistics" || !strings.Contains(text, wantLink) ||
			!strings.Contains(text, draft().Title) || !strings.Contains(text, "(UK time)") {
			t.Errorf("%d emails; the first to %q, %q:\n%s", emails, to, subject, text)
		}
		if ok, _ := s.OnPreRelease(ctx, id, list[0]); !ok {
			t.Error("the listed address is not on the list")
		}
		if ok, _ := s.OnPreRelease(ctx, id, "someone@example.nhs.uk"); ok {
			t.Error("another address is on the list")
		}
		if err := s.RemovePreRelease(ctx, Actor{}, id, list[0]); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.OnPreRelease(ctx, id, list[0]); ok {
			t.Error("still on the list after removal")
		}
		if audits(t, d, "statistics.prerelease_add") != 1 || audits(t, d, "statistics.prerelease_remove") != 1 {
			t.Error("adding (once, though asked twice) and removing are not each audited once")
		}
	})
}

// Denominators: a bad file loads nothing and names each bad line; a good
// one loads, replaces on reloading, and gives the period's rates.
func TestDenominators(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s, _ := newService(t, d)
		bad := "ods_code,period_start,period_end,measure,value\nRM1,2026-04-01,2026-09-30,admissions,50000\nRM2,2026-04-31,2026-09-30,admissions,1\nRM3,2026-04-01,2026-09-30,beds,1\n"
		_, err := s.LoadDenominators(ctx, Actor{}, strings.NewReader(bad))
		var rowErrs RowErrors
		if apperr.CodeOf(err) != apperr.Invalid || !errors.As(err, &rowErrs) || len(rowErrs) != 2 || rowErrs[0].Line != 3 || rowErrs[1].Line != 4 {
			t.Fatalf("bad file: %v", err)
		}
		if rows, _ := s.Denominators(ctx); len(rows) != 0 {
			t.Fatalf("a bad file loaded %d rows", len(rows))
		}
		good := "ods_code,period_start,period_end,measure,value\nrm1,2026-04-01,2026-09-30,admissions,\"40,000\"\nRM1,2026-04-01,2026-09-30,bed-days,9000\n"
		if n, err := s.LoadDenominators(ctx, Actor{}, strings.NewReader(good)); err != nil || n != 2 {
			t.Fatalf("good file: %d, %v", n, err)
		}
		again := "ods_code,period_start,period_end,measure,value\nRM1,2026-04-01,2026-09-30,admissions,50000\n"
		if _, err := s.LoadDenominators(ctx, Actor{}, strings.NewReader(again)); err != nil {
			t.Fatal(err)
		}
		out, err := s.Build(ctx, testMeta(), sdc.Default())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.BuildPeriod(ctx, testMeta().From, testMeta().To, incident.BasisSubmitted); err != nil {
			t.Fatal(err)
		}
		rates := table(t, out.Report, "reporting-rates")
		if len(rates.Rows) != 2 || rates.Rows[0].Cells[0].Text != "50,000" || rates.Rows[0].Cells[2].Text != "24.9" || rates.Rows[1].Heads[2] != "bed days" {
			t.Errorf("rates %+v", rates.Rows)
		}
		if audits(t, d, "statistics.denominators_load") != 2 {
			t.Error("loads not audited")
		}
	})
}

func TestParseDenominatorsMessages(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"", "line 1: the first line must be the header"},
		{"ods,from,to\n", "line 1: the first line must be the header"},
		{"ods_code,period_start,period_end,measure,value\n", "line 1: the file has no rows"},
		{"ods_code,period_start,period_end,measure,value\nRM1,2026-04-01\n", "line 2: expected 5 values, found 2"},
		{"ods_code,period_start,period_end,measure,value\n!!,2026-04-01,2026-09-30,admissions,1\n", `line 2: "!!" is not an ODS code`},
		{"ods_code,period_start,period_end,measure,value\nRM1,2026-10-01,2026-09-30,admissions,1\n", "line 2: period_end is before period_start"},
		{"ods_code,period_start,period_end,measure,value\nRM1,2026-04-01,2026-09-30,admissions,0\n", `line 2: value "0" must be a whole number above 0`},
		{"ods_code,period_start,period_end,measure,value\nRM1,2026-04-01,2026-09-30,admissions,1\nRM1,2026-04-01,2026-09-30,admissions,2\n", "line 3: the same organisation, period and measure as line 2"},
		{"ods_code,period_start,period_end,measure,value\n\"RM1,2026\n", "line 2: this line is not valid CSV"},
	} {
		_, err := ParseDenominators(strings.NewReader(c.file))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.file, err, c.want)
		}
	}
}

// FuzzParseDenominators: any file gives rows or row errors, never a
// panic, and every row it accepts is valid.
func FuzzParseDenominators(f *testing.F) {
	f.Add("ods_code,period_start,period_end,measure,value\nRM1,2026-04-01,2026-09-30,admissions,50000\n")
	f.Add("\ufeffods_code,period_start,period_end,measure,value\nRM1,2026-04-01,2026-09-30,bed-days,\"1,000\"\n\n")
	f.Add("ods_code,period_start,period_end,measure,value\n\"x")
	f.Fuzz(func(t *testing.T, file string) {
		rows, err := ParseDenominators(strings.NewReader(file))
		if err != nil {
			var re RowErrors
			if !errors.As(err, &re) || len(re) == 0 || rows != nil {
				t.Fatalf("error %v of type %T with %d rows", err, err, len(rows))
			}
			return
		}
		for _, r := range rows {
			if r.Value <= 0 || !r.Measure.Valid() || r.To.Before(r.From) || r.Org == "" {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}
