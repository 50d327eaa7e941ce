package concern_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/concern"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/jobs"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/password"
	"github.com/psims/psims/internal/ratelimit"
)

const goodPassword = "correct horse battery staple 42"

// start is where the tests' clock starts.
var start = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// fixture is the concern service on a fresh database, with the real
// account service, a clock the test moves, an outbox nobody sends, and
// users of two organisations.
type fixture struct {
	d        *db.DB
	svc      *concern.Service
	accounts *account.Service
	outbox   *mail.Outbox
	now      time.Time
	// ann and bob are reporters of RM1; cat a reporter of QMM; ada a
	// national admin.
	ann, bob, cat, ada account.User
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{d: d, now: start}
	d.SetClock(func() time.Time { return f.now })
	if err := jobs.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	runner, err := jobs.New(d, logger, nil)
	if err != nil {
		t.Fatal(err)
	}
	orgs := org.NewStore(d)
	if _, err := orgs.Import(ctx, strings.NewReader("ods_code,name,type,parent\nRM1,TEST TRUST,trust,\nQMM,TEST BOARD,icb,\n")); err != nil {
		t.Fatal(err)
	}
	f.outbox = mail.NewOutbox(d, runner, logger)
	cfg := config.Defaults()
	cfg.BaseURL = "https://psims.example"
	hasher := password.NewHasher(password.Params{MemoryKiB: 1024, Time: 1, Threads: 1}, 4)
	f.accounts = account.NewService(d, hasher, password.NewPolicy(), orgs, f.outbox, runner, cfg.AccountSettings())
	f.svc = concern.NewService(d, ratelimit.New(d), f.outbox, f.accounts)
	for _, u := range []struct {
		to               *account.User
		name, email, ods string
		role             account.Role
	}{{&f.ann, "Ann Lee", "ann@nhs.net", "RM1", account.RoleReporter}, {&f.bob, "Bob Kay", "bob@nhs.net", "RM1", account.RoleReporter},
		{&f.cat, "Cat Roe", "cat@nhs.net", "QMM", account.RoleReporter}, {&f.ada, "Ada Fox", "ada@nhs.net", "RM1", account.RoleNationalAdmin}} {
		*u.to, err = f.accounts.Create(ctx, account.NewUser{Email: u.email, Name: u.name, JobRole: "Nurse", OrgCode: u.ods, Role: u.role, Password: goodPassword})
		if err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) report(t *testing.T, sub concern.Submission) concern.Receipt {
	t.Helper()
	rc, err := f.svc.Report(context.Background(), sub)
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	return rc
}

func (f *fixture) get(t *testing.T, id int64) concern.Report {
	t.Helper()
	r, err := f.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) as(u account.User) concern.Action { return concern.Action{Actor: u, IP: "192.0.2.1"} }

func (f *fixture) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.d.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// audited returns the audit rows of a subject, oldest first.
func (f *fixture) audited(t *testing.T, subjectType string, id int64) []audit.Row {
	t.Helper()
	rows, err := audit.List(context.Background(), f.d, subjectType, strconv.FormatInt(id, 10), 50)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]audit.Row, 0, len(rows))
	for i := len(rows) - 1; i >= 0; i-- {
		out = append(out, rows[i])
	}
	return out
}

func actions(rows []audit.Row) string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Action)
	}
	return strings.Join(out, " ")
}

// mails lists the emails queued to an address.
func (f *fixture) mails(t *testing.T, to string) []mail.Entry {
	t.Helper()
	entries, err := f.outbox.List(context.Background(), to, 50)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func fieldsOf(err error) map[string]string {
	var fields apperr.Fields
	if !errors.As(err, &fields) {
		return nil
	}
	out := map[string]string{}
	for _, f := range fields {
		out[f.Field] = f.Message
	}
	return out
}

// A signed-in user's report is kept with the named account by id, on a
// 48-hour clock, audited, and acknowledged by email with its reference to
// the reporter's own address. T5
func TestASignedInReportIsKeptOnTheClockAuditedAndAcknowledged(t *testing.T) { // T5
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		happened := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
		rc := f.report(t, concern.Submission{ReporterID: f.ann.ID, Kind: concern.UnauthorisedAccess,
			Text: "  Someone used my colleague's session\r\nat the nurses' station.  ", HappenedOn: &happened, NamedEmail: " BOB@nhs.net ", IP: "192.0.2.9"})
		if rc.Reference != concern.Reference(rc.ID) || !strings.HasPrefix(rc.Reference, "CR-") {
			t.Fatalf("receipt %+v", rc)
		}
		r := f.get(t, rc.ID)
		if r.Named.ID != f.bob.ID || r.NamedEmail != "" || r.Reporter.ID != f.ann.ID || r.SignedOut() {
			t.Errorf("named %+v %q, reporter %+v", r.Named, r.NamedEmail, r.Reporter)
		}
		if r.Text != "Someone used my colleague's session\nat the nurses' station." || r.Status != concern.StatusOpen {
			t.Errorf("stored %q %s", r.Text, r.Status)
		}
		if r.HappenedOn == nil || !r.HappenedOn.Equal(happened) {
			t.Errorf("happened on %v", r.HappenedOn)
		}
		if !r.DueAt.Equal(start.Add(48*time.Hour)) || !r.CreatedAt.Equal(start) {
			t.Errorf("created %v due %v", r.CreatedAt, r.DueAt)
		}
		rows := f.audited(t, "concern", rc.ID)
		if actions(rows) != "concern.report" || rows[0].ActorID != f.ann.ID || rows[0].Details["named_user"] != strconv.FormatInt(f.bob.ID, 10) {
			t.Errorf("audit %+v", rows)
		}
		got := f.mails(t, "ann@nhs.net")
		if len(got) != 1 || !strings.Contains(got[0].Subject, rc.Reference) || !strings.Contains(got[0].Text, "within 48 hours") {
			t.Fatalf("receipt emails %+v", got)
		}
		if strings.Contains(got[0].Text, "bob@nhs.net") || strings.Contains(got[0].Text, "nurses' station") {
			t.Error("the receipt repeats the report")
		}
		if len(f.mails(t, "bob@nhs.net")) != 0 {
			t.Error("the named person was emailed")
		}
	})
}

// Someone signed out gives their name and address, which the receipt goes
// to; required and badly typed boxes are refused with a message each,
// and nothing is stored or counted. T5
func TestASignedOutReportNeedsANameAndAddressAndGoesToThatAddress(t *testing.T) { // T5
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		_, err := f.svc.Report(ctx, concern.Submission{Kind: concern.DeactivateUser, Text: "", NamedEmail: "not an address", ReporterEmail: "x@", IP: "192.0.2.9"})
		got := fieldsOf(err)
		for _, field := range []string{"text", "named_email", "reporter_name", "reporter_email"} {
			if got[field] == "" {
				t.Errorf("no error for %s: %v", field, err)
			}
		}
		_, err = f.svc.Report(ctx, concern.Submission{ReporterID: f.ann.ID, Kind: concern.DeactivateUser, Text: "They left last week."})
		if fieldsOf(err)["named_email"] == "" {
			t.Errorf("deactivating nobody: %v", err)
		}
		if _, err = f.svc.Report(ctx, concern.Submission{ReporterID: f.ann.ID, Kind: "other", Text: "x"}); fieldsOf(err)["kind"] == "" {
			t.Errorf("unknown kind: %v", err)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM concern_reports`); n != 0 {
			t.Fatalf("%d reports stored after refusals", n)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM rate_limits`); n != 0 {
			t.Fatalf("refused reports were counted: %d", n)
		}
		rc := f.report(t, concern.Submission{ReporterName: " Dee Ward ", ReporterEmail: "Dee.Ward@Example.org", Kind: concern.DataBreach,
			Text: "A printed list of staff passwords was left in the canteen.", IP: "192.0.2.9"})
		r := f.get(t, rc.ID)
		if !r.SignedOut() || r.ReporterName != "Dee Ward" || r.ReporterEmail != "dee.ward@example.org" || r.Reporter.ID != 0 || r.Named.ID != 0 {
			t.Errorf("stored %+v", r)
		}
		if got := f.mails(t, "dee.ward@example.org"); len(got) != 1 || !strings.Contains(got[0].Subject, rc.Reference) {
			t.Errorf("receipt %+v", got)
		}
	})
}

// The identifier guard refuses anything that could identify a patient or
// member of the public in every box typed here: what happened, notes,
// reasons and outcomes. Nothing is stored. T12
func TestTheGuardRefusesIdentifiersInEveryTextBox(t *testing.T) { // T12
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		const nhs = "The patient with NHS number 943 476 5919 was looked up."
		_, err := f.svc.Report(ctx, concern.Submission{ReporterID: f.ann.ID, Kind: concern.UnauthorisedAccess, Text: nhs, NamedEmail: "bob@nhs.net"})
		if m := fieldsOf(err)["text"]; !strings.Contains(m, "NHS number") {
			t.Fatalf("what happened: %v", err)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM concern_reports`); n != 0 {
			t.Fatalf("%d stored", n)
		}
		rc := f.report(t, concern.Submission{ReporterID: f.ann.ID, Kind: concern.UnauthorisedAccess, Text: "Records were opened without reason.", NamedEmail: "bob@nhs.net"})
		if err := f.svc.AddNote(ctx, f.as(f.ada), rc.ID, nhs); fieldsOf(err)["note"] == "" {
			t.Errorf("note: %v", err)
		}
		if err := f.svc.Act(ctx, f.as(f.ada), rc.ID, f.bob, account.StatusSuspended, nhs); fieldsOf(err)["reason"] == "" {
			t.Errorf("reason: %v", err)
		}
		if err := f.svc.Close(ctx, f.as(f.ada), rc.ID, concern.OutcomeResolved, nhs); fieldsOf(err)["outcome_text"] == "" {
			t.Errorf("outcome: %v", err)
		}
		if err := f.svc.Close(ctx, f.as(f.ada), rc.ID, "shrug", ""); fieldsOf(err)["outcome"] == "" {
			t.Errorf("no outcome: %v", err)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM concern_entries`); n != 0 {
			t.Errorf("%d entries after refusals", n)
		}
		if u, _ := f.accounts.UserByID(ctx, f.bob.ID); u.Status != account.StatusActive {
			t.Errorf("bob is %s after a refused action", u.Status)
		}
		if r := f.get(t, rc.ID); r.Status != concern.StatusOpen {
			t.Error("closed after refusals")
		}
	})
}

// Whether the named address, or the reporter's own, belongs to an account
// changes nothing a signed-out reporter can see: the same receipt, one
// email queued to the address they typed, one audit row. The address of
// a non-user is kept only until the report is closed. T5
func TestWhetherAnAddressBelongsToAnAccountChangesNothingForTheReporter(t *testing.T) { // T5
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		type seen struct{ refLen, mails, audits int }
		var results []seen
		var ids []int64
		for i, c := range []struct{ reporter, named string }{
			{"ann@nhs.net", "bob@nhs.net"},         // both have accounts
			{"nobody1@example.org", "bob@nhs.net"}, // only the named one
			{"ann@nhs.net", "ghost@example.org"},   // only the reporter
			{"nobody2@example.org", "ghost2@example.org"},
		} {
			before := len(f.mails(t, c.reporter))
			rc := f.report(t, concern.Submission{ReporterName: "Someone", ReporterEmail: c.reporter, Kind: concern.UnauthorisedAccess,
				Text: "Someone else used this account.", NamedEmail: c.named, IP: "192.0.2." + strconv.Itoa(10+i)})
			ids = append(ids, rc.ID)
			results = append(results, seen{len(rc.Reference), len(f.mails(t, c.reporter)) - before, len(f.audited(t, "concern", rc.ID))})
		}
		for i, r := range results {
			if r != results[0] {
				t.Errorf("case %d differs: %+v, want %+v", i, r, results[0])
			}
		}
		if r := f.get(t, ids[1]); r.Named.ID != f.bob.ID || r.NamedEmail != "" {
			t.Errorf("an account's address kept as typed: %+v %q", r.Named, r.NamedEmail)
		}
		r := f.get(t, ids[2])
		if r.Named.ID != 0 || r.NamedEmail != "ghost@example.org" {
			t.Fatalf("a non-user's address: %+v %q", r.Named, r.NamedEmail)
		}
		if err := f.svc.Close(context.Background(), f.as(f.ada), ids[2], concern.OutcomeNotEnough, ""); err != nil {
			t.Fatal(err)
		}
		if r := f.get(t, ids[2]); r.NamedEmail != "" {
			t.Errorf("a non-user's address kept after closing: %q", r.NamedEmail)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM concern_reports WHERE named_email LIKE '%ghost%' OR reporter_email LIKE '%ghost%'`); n != 1 {
			t.Errorf("%d reports still hold a non-user's address, want 1 (the open one)", n)
		}
	})
}

// Reports from someone signed out are limited per network address and per
// reporter's address; signed-in users per account. What was refused is
// not stored. T5
func TestReportsAreLimitedPerNetworkAddressAndPerEmailAddress(t *testing.T) { // T5
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		sub := func(email, ip string) concern.Submission {
			return concern.Submission{ReporterName: "Someone", ReporterEmail: email, Kind: concern.TermsBreach, Text: "Passwords are shared on the ward.", IP: ip}
		}
		for i := range concern.IPRate {
			f.report(t, sub("person"+strconv.Itoa(i)+"@example.org", "192.0.2.50"))
		}
		if _, err := f.svc.Report(ctx, sub("another@example.org", "192.0.2.50")); apperr.CodeOf(err) != apperr.RateLimited {
			t.Fatalf("one network address past its limit: %v", err)
		}
		for i := range concern.AddressRate {
			f.report(t, sub("same@example.org", "198.51.100."+strconv.Itoa(i+1)))
		}
		_, err := f.svc.Report(ctx, sub("same@example.org", "198.51.100.99"))
		if apperr.CodeOf(err) != apperr.RateLimited || !strings.Contains(apperr.MessageOf(err), "minutes") {
			t.Fatalf("one address past its limit: %v", err)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM concern_reports`); n != concern.IPRate+concern.AddressRate {
			t.Errorf("%d stored", n)
		}
		f.now = f.now.Add(time.Hour)
		f.report(t, sub("same@example.org", "198.51.100.99"))
		for range concern.UserRate {
			f.report(t, concern.Submission{ReporterID: f.cat.ID, Kind: concern.TermsBreach, Text: "Shared logins.", IP: "203.0.113.1"})
		}
		if _, err := f.svc.Report(ctx, concern.Submission{ReporterID: f.cat.ID, Kind: concern.TermsBreach, Text: "Shared logins.", IP: "203.0.113.2"}); apperr.CodeOf(err) != apperr.RateLimited {
			t.Fatalf("one user past their limit: %v", err)
		}
		// The addresses of one IPv6 /64 count as one.
		for i := range concern.IPRate {
			f.report(t, sub("v6-"+strconv.Itoa(i)+"@example.org", "2001:db8:1:2::"+strconv.Itoa(i+1)))
		}
		if _, err := f.svc.Report(ctx, sub("v6-last@example.org", "2001:db8:1:2:ffff::1")); apperr.CodeOf(err) != apperr.RateLimited {
			t.Fatalf("another address of the same /64 past its limit: %v", err)
		}
	})
}

// The queue puts open reports past their 48 hours first, then the rest by
// time left, then closed ones; it counts the open and overdue ones, and
// filters by status and kind. An organisation's queue holds only the
// reports naming its own users. T5
func TestTheQueueShowsOverdueReportsFirstThenByTimeLeft(t *testing.T) { // T5
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		at := func(h int, kind concern.Kind, named string) int64 {
			f.now = start.Add(time.Duration(h) * time.Hour)
			return f.report(t, concern.Submission{ReporterID: f.ann.ID, Kind: kind, Text: "Something happened.", NamedEmail: named}).ID
		}
		older := at(-10, concern.TermsBreach, "cat@nhs.net")       // due at 38, overdue
		old := at(0, concern.UnauthorisedAccess, "bob@nhs.net")    // due at 48, overdue at 60
		closed := at(1, concern.UnauthorisedAccess, "bob@nhs.net") // closed below
		recent := at(20, concern.DeactivateUser, "bob@nhs.net")    // due at 68
		newest := at(30, concern.DataBreach, "")                   // due at 78
		f.now = start.Add(60 * time.Hour)
		if err := f.svc.Close(ctx, f.as(f.ada), closed, concern.OutcomeNoBreach, ""); err != nil {
			t.Fatal(err)
		}
		ids := func(p concern.QueuePage) []int64 {
			var out []int64
			for _, r := range p.Reports {
				out = append(out, r.ID)
			}
			return out
		}
		same := slices.Equal[[]int64]
		p, err := f.svc.Queue(ctx, concern.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if want := []int64{older, old, recent, newest}; !same(ids(p), want) {
			t.Errorf("open queue %v, want %v", ids(p), want)
		}
		if p.Open != 4 || p.Overdue != 2 || p.Total != 4 {
			t.Errorf("open %d overdue %d total %d", p.Open, p.Overdue, p.Total)
		}
		if !p.Reports[0].Overdue(p.Now) || p.Reports[2].Overdue(p.Now) {
			t.Error("overdue flags wrong")
		}
		p, _ = f.svc.Queue(ctx, concern.Filter{Status: concern.StatusAny})
		if want := []int64{older, old, recent, newest, closed}; !same(ids(p), want) {
			t.Errorf("whole queue %v, want %v", ids(p), want)
		}
		p, _ = f.svc.Queue(ctx, concern.Filter{Status: concern.StatusClosed})
		if !same(ids(p), []int64{closed}) {
			t.Errorf("closed %v", ids(p))
		}
		p, _ = f.svc.Queue(ctx, concern.Filter{Status: concern.StatusAny, Kind: concern.UnauthorisedAccess})
		if !same(ids(p), []int64{old, closed}) {
			t.Errorf("unauthorised access %v", ids(p))
		}
		p, _ = f.svc.Queue(ctx, concern.Filter{Org: "RM1", Status: concern.StatusAny})
		if !same(ids(p), []int64{old, recent, closed}) || p.Open != 2 || p.Overdue != 1 {
			t.Errorf("RM1's queue %v open %d overdue %d", ids(p), p.Open, p.Overdue)
		}
		p, _ = f.svc.Queue(ctx, concern.Filter{Org: "QMM"})
		if !same(ids(p), []int64{older}) {
			t.Errorf("QMM's queue %v", ids(p))
		}
		if open, overdue, err := f.svc.Counts(ctx, f.now); err != nil || open != 4 || overdue != 2 {
			t.Errorf("counts %d %d %v", open, overdue, err)
		}
	})
}

// Suspending the named account from a report ends its sessions at once;
// the account's audit row names the report, and the report records and
// audits the step. Only the account the report names can be acted on, and
// only while it is open. T5, T6
func TestSuspendingFromAReportEndsTheSessionsAndTheAuditRowNamesTheReport(t *testing.T) { // T5, T6
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		res, err := f.accounts.SignIn(ctx, "bob@nhs.net", goodPassword, account.Client{IP: "192.0.2.20"})
		if err != nil || res.Outcome != account.OutcomeSuccess {
			t.Fatalf("sign in: %v %s", err, res.Outcome)
		}
		rc := f.report(t, concern.Submission{ReporterID: f.ann.ID, Kind: concern.UnauthorisedAccess, Text: "Bob's login was used by a visitor.", NamedEmail: "bob@nhs.net"})
		if err := f.svc.Act(ctx, f.as(f.ada), rc.ID, f.cat, account.StatusSuspended, "Not named"); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("acting on an account the report does not name: %v", err)
		}
		if err := f.svc.Act(ctx, f.as(f.ada), rc.ID, f.bob, account.StatusSuspended, ""); fieldsOf(err)["reason"] == "" {
			t.Errorf("no reason: %v", err)
		}
		if err := f.svc.Act(ctx, f.as(f.ada), rc.ID, f.bob, account.StatusActive, "x"); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("reinstating from a report: %v", err)
		}
		if err := f.svc.Act(ctx, f.as(f.ada), rc.ID, f.bob, account.StatusSuspended, "Login used by someone else"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.accounts.Authenticate(ctx, res.Session.Token); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("the named user's session still works: %v", err)
		}
		if u, _ := f.accounts.UserByID(ctx, f.bob.ID); u.Status != account.StatusSuspended {
			t.Fatalf("bob is %s", u.Status)
		}
		var suspend *audit.Row
		for _, r := range f.audited(t, "user", f.bob.ID) {
			if r.Action == "account.suspend" {
				suspend = &r
			}
		}
		if suspend == nil || suspend.Details["concern"] != strconv.FormatInt(rc.ID, 10) || suspend.Details["reason"] != "Login used by someone else" || suspend.ActorID != f.ada.ID {
			t.Fatalf("the suspension's audit row: %+v", suspend)
		}
		if got := actions(f.audited(t, "concern", rc.ID)); got != "concern.report concern.action" {
			t.Errorf("report audited as %q", got)
		}
		entries, err := f.svc.Entries(ctx, rc.ID)
		if err != nil || len(entries) != 1 || entries[0].Kind != "suspended" || entries[0].AuthorName != "Ada Fox" {
			t.Errorf("entries %+v %v", entries, err)
		}
		// The account changed, so acting on it as it was seen is refused.
		bob, _ := f.accounts.UserByID(ctx, f.bob.ID)
		if err := f.svc.Act(ctx, f.as(f.ada), rc.ID, bob, account.StatusSuspended, "again"); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("suspending twice: %v", err)
		}
		if err := f.svc.Close(ctx, f.as(f.ada), rc.ID, concern.OutcomeAccountActioned, ""); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Act(ctx, f.as(f.ada), rc.ID, bob, account.StatusDeactivated, "After closing"); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("acting on a closed report: %v", err)
		}
		if err := f.svc.AddNote(ctx, f.as(f.ada), rc.ID, "Late note"); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("a note on a closed report: %v", err)
		}
	})
}

// Closing a report records the outcome, audits it and emails the reporter
// the outcome and the explanation; a report closes once. Notes are kept
// and audited. T5
func TestClosingEmailsTheReporterTheOutcome(t *testing.T) { // T5
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		mine := f.report(t, concern.Submission{ReporterID: f.ann.ID, Kind: concern.TermsBreach, Text: "Passwords are written on the monitor."})
		theirs := f.report(t, concern.Submission{ReporterName: "Dee Ward", ReporterEmail: "dee@example.org", Kind: concern.DataBreach, Text: "A list was left out."})
		if err := f.svc.AddNote(ctx, f.as(f.ada), mine.ID, "Called the ward manager."); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Close(ctx, f.as(f.ada), mine.ID, concern.OutcomeResolved, "The ward has been reminded of the rules.\nThank you."); err != nil {
			t.Fatal(err)
		}
		r := f.get(t, mine.ID)
		if r.Status != concern.StatusClosed || r.Outcome != concern.OutcomeResolved || r.ClosedAt == nil {
			t.Errorf("closed %+v", r)
		}
		var closing *mail.Entry
		for _, m := range f.mails(t, "ann@nhs.net") {
			if strings.Contains(m.Subject, "is closed") {
				closing = &m
			}
		}
		if closing == nil || !strings.Contains(closing.Subject, mine.Reference) || !strings.Contains(closing.Text, concern.OutcomeResolved.Label()) ||
			!strings.Contains(closing.Text, "reminded of the rules") {
			t.Fatalf("closing email %+v", closing)
		}
		if got := actions(f.audited(t, "concern", mine.ID)); got != "concern.report concern.note concern.close" {
			t.Errorf("audited %q", got)
		}
		if err := f.svc.Close(ctx, f.as(f.ada), mine.ID, concern.OutcomeResolved, ""); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("closing twice: %v", err)
		}
		if err := f.svc.Close(ctx, f.as(f.ada), theirs.ID, concern.OutcomeNoBreach, ""); err != nil {
			t.Fatal(err)
		}
		if got := f.mails(t, "dee@example.org"); len(got) != 2 || !strings.Contains(got[0].Subject+got[1].Subject, "is closed") {
			t.Errorf("signed-out reporter's emails %+v", got)
		}
		if _, err := f.svc.Get(ctx, 999999); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("missing report: %v", err)
		}
	})
}

func TestReferencesReadBack(t *testing.T) {
	for _, id := range []int64{1, 42, 99999, 100000, 123456789} {
		if got, ok := concern.ParseReference(strings.ToLower(concern.Reference(id))); !ok || got != id {
			t.Errorf("%d: %d %v", id, got, ok)
		}
	}
	for _, s := range []string{"", "CR-", "CR-1", "CR-0000", "CR-00000", "FB-00001", "CR-000001", "CR-0001a", "CR--0001", "CR-99999999999999999999"} {
		if _, ok := concern.ParseReference(s); ok {
			t.Errorf("%q read as a reference", s)
		}
	}
}

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"CR-00001", "cr-00042", " CR-123456 ", "CR-", "CR-00000", "CR-9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := concern.ParseReference(s)
		if !ok {
			return
		}
		if id <= 0 || concern.Reference(id) != strings.ToUpper(strings.TrimSpace(s)) {
			t.Fatalf("%q read as %d", s, id)
		}
	})
}
