package audit_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/mail"
)

const zeros = "0000000000000000000000000000000000000000000000000000000000000000"

func TestAnchorLinesRoundTrip(t *testing.T) {
	a := audit.Anchor{At: time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC), ID: 1234, Hash: strings.Repeat("ab", 32)}
	line := a.String()
	if line != "psims-audit-anchor v1 2026-12-06T03:00:00Z 1234 "+strings.Repeat("ab", 32) {
		t.Fatalf("line %q", line)
	}
	got, err := audit.ParseAnchor(line)
	if err != nil || got != a {
		t.Fatalf("ParseAnchor(%q) = %+v, %v", line, got, err)
	}
}

// A damaged anchor file is an error naming the line, never a shorter list
// of anchors that would let a truncation pass.
func TestParseAnchorsRefusesDamagedLines(t *testing.T) {
	good := "psims-audit-anchor v1 2026-12-06T03:00:00Z 7 " + strings.Repeat("0f", 32)
	for _, c := range []struct{ name, text, want string }{
		{"other text", good + "\nhello\n", "line 2"},
		{"short hash", "psims-audit-anchor v1 2026-12-06T03:00:00Z 7 abc\n", "hash"},
		{"upper-case hash", "psims-audit-anchor v1 2026-12-06T03:00:00Z 7 " + strings.Repeat("0F", 32), "hash"},
		{"negative id", "psims-audit-anchor v1 2026-12-06T03:00:00Z -7 " + strings.Repeat("0f", 32), "row ID"},
		{"id with a sign", "psims-audit-anchor v1 2026-12-06T03:00:00Z +7 " + strings.Repeat("0f", 32), "row ID"},
		{"bad time", "psims-audit-anchor v1 yesterday 7 " + strings.Repeat("0f", 32), "time"},
		{"extra field", good + " more", "single spaces"},
		{"two spaces", strings.Replace(good, " 7 ", "  7 ", 1), "single spaces"},
		{"empty log with a hash", "psims-audit-anchor v1 2026-12-06T03:00:00Z 0 " + strings.Repeat("0f", 32), "row 0"},
		{"version 2", strings.Replace(good, "v1", "v2", 1), "does not start"},
		{"too long", good + strings.Repeat(" ", 600), "longer than"},
	} {
		_, err := audit.ParseAnchors(strings.NewReader(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	got, err := audit.ParseAnchors(strings.NewReader("# anchors\n\n" + good + "\r\n" + good + "\n"))
	if err != nil || len(got) != 2 || got[1].ID != 7 {
		t.Fatalf("good file: %+v, %v", got, err)
	}
	got, err = audit.ParseAnchors(strings.NewReader("psims-audit-anchor v1 2026-12-06T03:00:00Z 0 " + zeros))
	if err != nil || len(got) != 1 || got[0].ID != 0 {
		t.Fatalf("empty-log anchor: %+v, %v", got, err)
	}
}

// FuzzParseAnchors: whatever the file holds, the parser returns anchors or
// an error, never panics, and every anchor it returns prints back as the
// line it read.
func FuzzParseAnchors(f *testing.F) {
	f.Add("psims-audit-anchor v1 2026-12-06T03:00:00Z 7 " + strings.Repeat("0f", 32) + "\n")
	f.Add("# comment\n\npsims-audit-anchor v1 2026-12-06T03:00:00+01:00 0 " + zeros)
	f.Add("psims-audit-anchor v1 \x00 1 2")
	f.Fuzz(func(t *testing.T, text string) {
		anchors, err := audit.ParseAnchors(strings.NewReader(text))
		if err != nil {
			return
		}
		for _, a := range anchors {
			if a.ID < 0 || len(a.Hash) != 64 {
				t.Fatalf("accepted %+v", a)
			}
			again, err := audit.ParseAnchor(a.String())
			if err != nil || again != a {
				t.Fatalf("%+v printed as %q reads back as %+v, %v", a, a.String(), again, err)
			}
		}
	})
}

// Anchors catch what the chain cannot: rows cut off the end of the log
// leave a shorter chain that still verifies, but the anchored row is gone.
func TestCheckAnchorsCatchesRowsCutOffTheEnd(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		record(t, d, 5)
		head, err := audit.Head(ctx, d)
		if err != nil || head.ID != 5 {
			t.Fatalf("head %+v %v", head, err)
		}
		empty := audit.Anchor{At: head.At, Hash: zeros}
		checked, problem, err := audit.CheckAnchors(ctx, d, []audit.Anchor{empty, head})
		if err != nil || problem != nil || checked != 2 {
			t.Fatalf("intact: %d %+v %v", checked, problem, err)
		}
		if _, err := d.WritePool().ExecContext(ctx, `DELETE FROM audit_log WHERE id >= 4`); err != nil {
			t.Fatal(err)
		}
		if n, problem, err := audit.Verify(ctx, d); err != nil || problem != nil || n != 3 {
			t.Fatalf("the cut log should still verify on its own: %d %+v %v", n, problem, err)
		}
		_, problem, err = audit.CheckAnchors(ctx, d, []audit.Anchor{head})
		if err != nil || problem == nil || problem.RowID != 5 || !strings.Contains(problem.Reason, "missing") {
			t.Fatalf("cut log: %+v %v", problem, err)
		}
		wrong := audit.Anchor{At: head.At, ID: 3, Hash: strings.Repeat("1", 64)}
		_, problem, err = audit.CheckAnchors(ctx, d, []audit.Anchor{wrong})
		if err != nil || problem == nil || problem.RowID != 3 || !strings.Contains(problem.Reason, "differs") {
			t.Fatalf("changed hash: %+v %v", problem, err)
		}
	})
}

// The anchorer appends one line a time to a file, and POSTs the same line
// to an http(s) URL, failing on an answer that is not 2xx.
func TestAnchorerWritesToAFileOrAURL(t *testing.T) {
	ctx := context.Background()
	a := audit.Anchor{At: time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC), ID: 9, Hash: strings.Repeat("cd", 32)}
	path := filepath.Join(t.TempDir(), "anchors.txt")
	w := audit.NewAnchorer(path, nil)
	for range 2 {
		if err := w.Write(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	got, err := audit.ReadAnchorFile(path)
	if err != nil || len(got) != 2 || got[1] != a {
		t.Fatalf("file: %+v %v", got, err)
	}

	var mu sync.Mutex
	var bodies []string
	status := http.StatusNoContent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		bodies = append(bodies, string(b))
		w.WriteHeader(status)
	}))
	defer srv.Close()
	u := audit.NewAnchorer(srv.URL+"/anchors?token=secret", srv.Client())
	if err := u.Write(ctx, a); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(bodies) != 1 || bodies[0] != a.String()+"\n" {
		t.Fatalf("posted %q", bodies)
	}
	status = http.StatusServiceUnavailable
	mu.Unlock()
	err = u.Write(ctx, a)
	if err == nil || !strings.Contains(err.Error(), "503") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("a refused post: %v", err)
	}
	if audit.IsURL(path) || !audit.IsURL(srv.URL) {
		t.Fatal("IsURL")
	}
}

// admins and mailer stand in for the account service and the outbox; the
// email itself is tested through real SMTP in package app.
type admins []mail.Addressee

func (a admins) ActiveNationalAdmins(context.Context, *db.Tx) ([]mail.Addressee, error) {
	return a, nil
}

type mailer struct {
	mu   sync.Mutex
	sent []mail.Message
}

func (m *mailer) Enqueue(_ context.Context, _ *db.Tx, msg mail.Message) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, msg)
	return int64(len(m.sent)), nil
}

// The daily check verifies the chain, anchors the head it read, records
// the result as a row (what the metrics read) and, only when the chain is
// broken, emails every national admin; the anchor file it writes is what
// CheckAnchors reads (issue 13).
func TestCheckVerifiesAnchorsRecordsAndAlerts(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if st, err := audit.LastCheck(ctx, d); err != nil || st.Checked {
			t.Fatalf("before any check: %+v %v", st, err)
		}
		record(t, d, 4)
		path := filepath.Join(t.TempDir(), "anchors")
		m := &mailer{}
		c := audit.NewChecker(d, admins{{Email: "ada@nhs.net", Name: "Ada"}, {Email: "bo@nhs.net", Name: "Bo"}}, m,
			audit.NewAnchorer(path, nil), nil)
		res, err := c.Check(ctx)
		if err != nil || res.Problem != nil || res.Rows != 4 || res.Head.ID != 4 || res.AnchorErr != nil {
			t.Fatalf("first check: %+v %v", res, err)
		}
		st, err := audit.LastCheck(ctx, d)
		if err != nil || !st.Checked || !st.OK || st.Rows != 4 {
			t.Fatalf("last check: %+v %v", st, err)
		}
		if len(m.sent) != 0 {
			t.Fatalf("mail about an intact chain: %d", len(m.sent))
		}
		// The second check verifies the first one's row too.
		if res, err = c.Check(ctx); err != nil || res.Rows != 5 || res.Head.ID != 5 {
			t.Fatalf("second check: %+v %v", res, err)
		}
		anchors, err := audit.ReadAnchorFile(path)
		if err != nil || len(anchors) != 2 || anchors[0].ID != 4 || anchors[1].ID != 5 {
			t.Fatalf("anchor file: %+v %v", anchors, err)
		}
		if _, problem, err := audit.CheckAnchors(ctx, d, anchors); err != nil || problem != nil {
			t.Fatalf("anchors of an intact log: %+v %v", problem, err)
		}

		if _, err := d.WritePool().ExecContext(ctx, `UPDATE audit_log SET ip = '203.0.113.66' WHERE id = 2`); err != nil {
			t.Fatal(err)
		}
		res, err = c.Check(ctx)
		if err != nil || res.Problem == nil || res.Problem.RowID != 2 {
			t.Fatalf("check of a tampered log: %+v %v", res, err)
		}
		if st, err = audit.LastCheck(ctx, d); err != nil || !st.Checked || st.OK {
			t.Fatalf("last check after tampering: %+v %v", st, err)
		}
		if len(m.sent) != 2 || m.sent[0].To != "ada@nhs.net" || m.sent[1].To != "bo@nhs.net" ||
			!strings.Contains(m.sent[0].Text, "row 2") {
			t.Fatalf("alerts: %+v", m.sent)
		}
		// Cutting rows off the end is seen through the anchors.
		if _, err := d.WritePool().ExecContext(ctx, `DELETE FROM audit_log WHERE id >= 5`); err != nil {
			t.Fatal(err)
		}
		anchors, _ = audit.ReadAnchorFile(path)
		if _, problem, err := audit.CheckAnchors(ctx, d, anchors); err != nil || problem == nil || problem.RowID != 5 {
			t.Fatalf("anchors of a cut log: %+v %v", problem, err)
		}
	})
}

// A target that cannot be written does not stop the check: the head goes
// to the log output, the row says the anchor failed.
func TestCheckWithAnUnwritableAnchorStillRecords(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		record(t, d, 1)
		bad := filepath.Join(t.TempDir(), "no-such-dir", "anchors")
		c := audit.NewChecker(d, admins{}, &mailer{}, audit.NewAnchorer(bad, nil), nil)
		res, err := c.Check(ctx)
		if err != nil || res.AnchorErr == nil || res.Problem != nil {
			t.Fatalf("%+v %v", res, err)
		}
		if _, err := os.Stat(bad); err == nil {
			t.Fatal("wrote the unwritable file")
		}
		rows, err := audit.List(ctx, d, "audit_log", "1", 1)
		if err != nil || len(rows) != 1 || !strings.Contains(rows[0].Details["anchor"], "failed") {
			t.Fatalf("row: %+v %v", rows, err)
		}
	})
}
