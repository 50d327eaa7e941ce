package dataexport_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apikey"
	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/dataexport"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/feedback"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/jobs"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/sharing"
	"github.com/psims/psims/internal/stats"
	"github.com/psims/psims/internal/terms"
)

// start is when the tests' clock starts.
var start = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

// person is a user the fixture made, with the values that are theirs
// alone, so a test can look for them in a document.
type person struct {
	id                       int64
	email, name, ip, browser string
	feedback, reference      string
	// secrets are values that must never appear in any export: the
	// password hash, session and link token hashes, the usage session
	// hash, a one-time link, and the free text of their event.
	secrets []string
}

// fixture is the whole system on a fresh database (no background
// workers: tests run jobs by calling them) with two people who have used
// every part of it, and a national admin.
type fixture struct {
	app      *app.App
	svc      *dataexport.Service
	now      time.Time
	ann, bob person
	admin    person
}

func newFixture(t *testing.T, e dbtest.Engine) *fixture {
	t.Helper()
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.DataDir = filepath.Dir(e.SQLitePath)
	cfg.Database = e.Database
	cfg.BaseURL = "https://psims.example"
	cfg.HashMemoryKiB, cfg.HashTime = 1024, 1
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	f := &fixture{app: a, svc: a.DataExport, now: start}
	a.DB.SetClock(func() time.Time { return f.now })
	if _, err := a.Orgs.Import(ctx, strings.NewReader(apptest.Organisations)); err != nil {
		t.Fatal(err)
	}
	f.admin = f.person(t, "Ada Admin", account.RoleNationalAdmin, "192.0.2.50", "AdaBrowser/3.0")
	f.ann = f.person(t, "Ann Reporter", account.RoleReporter, "198.51.100.7", "AnnBrowser/1.0")
	f.bob = f.person(t, "Bob Reporter", account.RoleReporter, "203.0.113.9", "BobBrowser/2.0")
	return f
}

// person makes an active user who signs in, accepts the terms, consents,
// uses pages, sends feedback that is answered, records an event, keeps a
// draft and is emailed a one-time link.
func (f *fixture) person(t *testing.T, name string, role account.Role, ip, browser string) person {
	t.Helper()
	ctx := context.Background()
	a := f.app
	first := strings.ToLower(strings.Fields(name)[0])
	p := person{name: name, email: first + ".data@nhs.net", ip: ip, browser: browser}
	ig := start.AddDate(0, -1, 0)
	u, err := a.Accounts.Create(ctx, account.NewUser{Email: p.email, Name: name, JobRole: "Nurse", OrgCode: "RM1", Role: role,
		Password: "correct horse battery staple " + first, IGTrainingOn: &ig})
	if err != nil {
		t.Fatal(err)
	}
	p.id = u.ID
	res, err := a.Accounts.SignIn(ctx, p.email, "correct horse battery staple "+first, account.Client{IP: ip, UserAgent: browser})
	if err != nil || res.Outcome != account.OutcomeSuccess {
		t.Fatalf("sign in %s: %v %v", name, res.Outcome, err)
	}
	versions := map[terms.Kind]int{}
	for _, k := range terms.AcceptedKinds() {
		d, err := a.Terms.Current(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		versions[k] = d.Version
	}
	if err := a.Terms.Accept(ctx, u.ID, terms.Client{IP: ip, UserAgent: browser}, versions); err != nil {
		t.Fatal(err)
	}
	if err := a.Terms.SetConsents(ctx, u.ID, terms.Client{IP: ip, UserAgent: browser}, map[terms.Purpose]bool{terms.Newsletter: true}); err != nil {
		t.Fatal(err)
	}
	_, err = a.DB.ExecContext(ctx, `INSERT INTO usage_events (at, kind, route, status, user_id, org_ods, session_hash, ip, browser, browser_major)
		VALUES ($1, 'page', $2, 200, $3, 'RM1', $4, $5, $6, 1)`, f.now, "GET /"+first+"-page", u.ID, "usagehash"+first, ip, first+"-family")
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.DB.ExecContext(ctx, `INSERT INTO usage_user_days (org_ods, day, user_id, sign_ins, page_views, documents, mask, last_at)
		VALUES ('RM1', '2026-11-29', $1, 1, 7, 0, 1, $2)`, u.ID, f.now.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	p.feedback = "Feedback from " + first + " about the search page"
	it, err := a.Feedback.Send(ctx, feedback.Submission{UserID: u.ID, Kind: feedback.Question, Text: p.feedback, Page: "/events", MayReply: true})
	if err != nil {
		t.Fatal(err)
	}
	if f.admin.id != 0 {
		if _, err := a.Feedback.Reply(ctx, feedback.Action{ActorID: f.admin.id, IP: f.admin.ip}, it.ID, "Reply to "+first+": use the filters"); err != nil {
			t.Fatal(err)
		}
	}
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	description := "Free text written by " + first + " about a colleague on ward 9"
	ev, err := a.Incidents.Submit(ctx, incident.Submission{Type: incident.Incident, OrgCode: "RM1", Source: incident.Staff, ReporterID: u.ID,
		OccurredFrom: day, OccurredTo: day, Answers: incident.Answers{"AdverseEventDescription.Description": {description}},
		StatementVersion: 1}, incident.Client{IP: ip})
	if err != nil {
		t.Fatal(err)
	}
	p.reference = string(ev.Reference)
	if _, err := a.Incidents.SaveDraft(ctx, u.ID, 0, incident.GoodCare, incident.Answers{"x": {"draft by " + first}}); err != nil {
		t.Fatal(err)
	}
	link := "https://psims.example/password-reset/new?token=SECRET" + first
	err = a.DB.InTx(ctx, func(tx *db.Tx) error {
		_, err := a.Outbox.Enqueue(ctx, tx, mail.ResetPassword(p.email, name, link))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO user_tokens (token_hash, user_id, purpose, created_at, expires_at) VALUES ($1, $2, 'reset', $3, $4)`,
			"tokenhash"+first, u.ID, tx.Now, tx.Now.Add(time.Hour))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var passwordHash, sessionHash string
	if err := a.DB.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&passwordHash); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.QueryRowContext(ctx, `SELECT token_hash FROM sessions WHERE user_id = $1`, u.ID).Scan(&sessionHash); err != nil {
		t.Fatal(err)
	}
	p.secrets = []string{passwordHash, sessionHash, res.Session.Token, "tokenhash" + first, "usagehash" + first, link, "SECRET" + first, description, "draft by " + first}
	return p
}

// mine is what identifies the person in a document.
func (p person) mine() []string {
	return []string{p.email, p.name, p.ip, p.browser, p.feedback, p.reference, "GET /" + strings.ToLower(strings.Fields(p.name)[0]) + "-page"}
}

func (f *fixture) assemble(t *testing.T, id int64) (dataexport.Document, string) {
	t.Helper()
	doc, err := f.svc.Assemble(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return doc, string(b)
}

func each(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Helper()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) { fn(t, newFixture(t, e)) })
	}
}

// P15: the document holds every category of data about the person, and
// nothing of anyone else's and no secret: make two people who used every
// part, and look for each one's values in the other's document.
func TestTheDocumentHoldsEveryCategoryAndNothingOfAnyoneElse(t *testing.T) { // P15
	t.Parallel()
	each(t, func(t *testing.T, f *fixture) {
		doc, text := f.assemble(t, f.ann.id)
		if doc.Format != dataexport.Format || doc.Disclosure != nil {
			t.Errorf("format %q, disclosure %v", doc.Format, doc.Disclosure)
		}
		categories := map[string]int{
			"sessions": len(doc.Account.Sessions), "account history": len(doc.History), "links": len(doc.Account.OpenLinks),
			"acceptances": len(doc.Terms.Acceptances), "consent history": len(doc.Terms.History),
			"usage events": len(doc.Usage.Events), "usage days": len(doc.Usage.Days), "feedback": len(doc.Feedback),
			"events": len(doc.Events), "drafts": len(doc.Drafts), "emails": len(doc.Emails),
		}
		for name, n := range categories {
			if n == 0 {
				t.Errorf("the document has no %s", name)
			}
		}
		if doc.Account.Account.Email != f.ann.email || doc.Account.Account.OrgCode != "RM1" || doc.Account.Account.Role != account.RoleReporter {
			t.Errorf("account: %+v", doc.Account.Account)
		}
		if !doc.Terms.Consents[terms.Newsletter] || doc.Terms.Consents[terms.Research] {
			t.Errorf("consents: %v", doc.Terms.Consents)
		}
		if len(doc.Feedback) != 1 || len(doc.Feedback[0].Replies) != 1 || doc.Feedback[0].Replies[0].Text != "Reply to ann: use the filters" {
			t.Errorf("feedback: %+v", doc.Feedback)
		}
		if !strings.Contains(text, mail.LinkLeftOut) {
			t.Errorf("the one-time link is not marked as left out: %+v", doc.Emails)
		}
		for _, v := range f.ann.mine() {
			if !strings.Contains(text, v) {
				t.Errorf("Ann's document lacks %q", v)
			}
		}
		for _, v := range append(f.bob.mine(), f.admin.mine()...) {
			if strings.Contains(text, v) {
				t.Errorf("Ann's document holds someone else's %q", v)
			}
		}
		for _, v := range append(f.ann.secrets, f.bob.secrets...) {
			if strings.Contains(text, v) {
				t.Errorf("Ann's document holds the secret %q", v)
			}
		}
		if strings.Contains(text, "password") && strings.Contains(text, "hash") {
			t.Errorf("the document names a password hash:\n%s", text)
		}

		_, bobText := f.assemble(t, f.bob.id)
		for _, v := range f.ann.mine() {
			if strings.Contains(bobText, v) {
				t.Errorf("Bob's document holds Ann's %q", v)
			}
		}
		// An admin's change to the account is in its history, without
		// who made it or from where.
		ctx := context.Background()
		u, err := f.app.Accounts.UserByID(ctx, f.ann.id)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.app.Accounts.SetRole(ctx, f.admin.id, u, account.RoleReviewer, f.admin.ip); err != nil {
			t.Fatal(err)
		}
		doc, text = f.assemble(t, f.ann.id)
		last := doc.History[len(doc.History)-1]
		if last.Action != "account.set_role" || last.BySelf || last.IP != "" || last.Details["to"] != "reviewer" || last.Details["from"] != "reporter" {
			t.Errorf("the role change in the history: %+v", last)
		}
		if strings.Contains(text, f.admin.ip) || strings.Contains(text, f.admin.name) || strings.Contains(text, f.admin.email) {
			t.Error("the history names the admin who changed the role")
		}
		if _, err := f.svc.Assemble(context.Background(), 999999); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("no such user: %v, want NotFound", err)
		}
	})
}

// P15: agreements naming the person as a recipient, the extracts they
// made and the pre-release lists holding their address are in their
// document, and in nobody else's.
func TestTheDocumentHoldsAgreementsExtractsAndPreReleaseLists(t *testing.T) { // P15 T15
	t.Parallel()
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		a := f.app
		id, err := a.Sharing.Create(ctx, sharing.Actor{ID: f.admin.id}, sharing.Draft{Recipient: "Regional falls group",
			Purpose: "Learning from falls in the region", LegalBasis: "art6-1e", SpecialBasis: "art9-2i",
			StartsOn: f.now.AddDate(0, 0, -1), EndsOn: f.now.AddDate(0, 1, 0), Fields: []string{"reference"}, Orgs: "RM1",
			ApproverName: "Dr Lee", ApproverRole: "Caldicott Guardian", ApprovedOn: f.now.AddDate(0, 0, -2), Recipients: f.ann.email})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := a.Sharing.Export(ctx, sharing.Extract{AgreementID: id, UserID: f.ann.id, Orgs: []string{"RM1"}},
			func(_ sharing.Agreement, opts incident.ExportOptions) (int, error) {
				return a.Incidents.Export(ctx, a.Taxonomy, incident.Scope{Orgs: []string{"RM1"}}, incident.Filter{}, nil, opts, f.ann.id,
					incident.Client{}, io.Discard)
			})
		if err != nil {
			t.Fatal(err)
		}
		pub, err := a.Statistics.Create(ctx, stats.Actor{ID: f.admin.id}, stats.Draft{Title: "Events: an early look",
			From: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC),
			Basis: incident.BasisOccurred, Release: f.now.AddDate(0, 0, 7)})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Statistics.AddPreRelease(ctx, stats.Actor{ID: f.admin.id}, pub, strings.ToUpper(f.ann.email)); err != nil {
			t.Fatal(err)
		}

		doc, _ := f.assemble(t, f.ann.id)
		if len(doc.Sharing.NamedIn) != 1 || doc.Sharing.NamedIn[0].Reference != "DSA-2026-001" ||
			doc.Sharing.NamedIn[0].Purpose != "Learning from falls in the region" {
			t.Errorf("agreements naming Ann: %+v", doc.Sharing.NamedIn)
		}
		if len(doc.Sharing.Extracts) != 1 || doc.Sharing.Extracts[0].Agreement != "DSA-2026-001" || doc.Sharing.Extracts[0].Rows != rows ||
			!doc.Sharing.Extracts[0].Complete {
			t.Errorf("Ann's extracts (%d rows): %+v", rows, doc.Sharing.Extracts)
		}
		if len(doc.PreRelease) != 1 || doc.PreRelease[0].Publication != "Events: an early look" {
			t.Errorf("Ann's pre-release lists: %+v", doc.PreRelease)
		}
		bob, bobText := f.assemble(t, f.bob.id)
		if len(bob.Sharing.NamedIn)+len(bob.Sharing.Extracts)+len(bob.PreRelease) != 0 || strings.Contains(bobText, "DSA-2026-001") {
			t.Errorf("Bob's document holds Ann's sharing: %+v %+v", bob.Sharing, bob.PreRelease)
		}
		if _, text := f.assemble(t, f.admin.id); strings.Contains(text, "Regional falls group") || strings.Contains(text, "an early look") {
			t.Error("the admin who registered the agreement and the list has them in their document, which holds only what names them")
		}
	})
}

func (f *fixture) auditActions(t *testing.T) []audit.Row {
	t.Helper()
	rows, err := audit.List(context.Background(), f.app.DB, "data_export", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func hasAudit(rows []audit.Row, action string, actor int64, details map[string]string) bool {
	for _, r := range rows {
		if r.Action != action || r.ActorID != actor {
			continue
		}
		ok := true
		for k, v := range details {
			ok = ok && r.Details[k] == v
		}
		if ok {
			return true
		}
	}
	return false
}

// P15: a small account's export is made at once, only its owner opens it,
// and asking, making and downloading are audited.
func TestASmallAccountsExportIsReadyAtOnceForItsOwnerAlone(t *testing.T) { // P15
	t.Parallel()
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		e, err := f.svc.Request(ctx, f.ann.id, f.ann.ip)
		if err != nil {
			t.Fatal(err)
		}
		if e.Status != dataexport.StatusReady || !e.ExpiresAt.Equal(start.Add(7*24*time.Hour)) || e.Kind != dataexport.KindSelf {
			t.Fatalf("export: %+v", e)
		}
		d, err := f.svc.Open(ctx, f.ann.id, e.PublicID, "json", f.ann.ip)
		if err != nil || d.Document == nil {
			t.Fatalf("the owner cannot open it: %v", err)
		}
		if !strings.Contains(string(d.JSON), f.ann.email) || !strings.Contains(string(d.JSON), `"format": "psims-personal-data/1"`) {
			t.Errorf("JSON:\n%.300s", d.JSON)
		}
		for _, other := range []int64{f.bob.id, f.admin.id} {
			if _, err := f.svc.Open(ctx, other, e.PublicID, "html", ""); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("user %d opens Ann's export: %v, want NotFound", other, err)
			}
			if _, err := f.svc.OpenDisclosure(ctx, other, f.ann.id, e.PublicID, "html", ""); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("Ann's own export opened as a disclosure: %v", err)
			}
		}
		rows := f.auditActions(t)
		for _, action := range []string{"data_export.requested", "data_export.ready", "data_export.downloaded"} {
			if !hasAudit(rows, action, f.ann.id, map[string]string{"user": itoa(f.ann.id), "kind": "self"}) {
				t.Errorf("no audit row %s by Ann", action)
			}
		}
		mine, err := f.svc.Mine(ctx, f.ann.id)
		if err != nil || len(mine) != 1 || mine[0].DownloadedAt == nil {
			t.Errorf("Ann's exports: %+v %v", mine, err)
		}
		if theirs, _ := f.svc.Mine(ctx, f.bob.id); len(theirs) != 0 {
			t.Errorf("Bob sees exports: %+v", theirs)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// P15: an account over the threshold is left to the data_export job, one
// at a time per person, which makes it, marks it ready for 7 days from
// then and emails the person a link that needs them signed in.
func TestALargeAccountsExportIsBuiltByTheJobAndEmailed(t *testing.T) { // P15
	t.Parallel()
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		f.svc.WithJobThreshold(0)
		e, err := f.svc.Request(ctx, f.ann.id, f.ann.ip)
		if err != nil {
			t.Fatal(err)
		}
		if e.Status != dataexport.StatusPending {
			t.Fatalf("status %s, want pending", e.Status)
		}
		var jobs int
		if err := f.app.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'data_export'`).Scan(&jobs); err != nil || jobs != 1 {
			t.Fatalf("data_export jobs: %d %v", jobs, err)
		}
		if _, err := f.svc.Request(ctx, f.ann.id, f.ann.ip); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("a second request while one is pending: %v, want Conflict", err)
		}
		d, err := f.svc.Open(ctx, f.ann.id, e.PublicID, "html", "")
		if err != nil || d.Document != nil || d.Status != dataexport.StatusPending {
			t.Errorf("a pending export opened: %+v %v", d.Export, err)
		}
		f.now = f.now.Add(10 * time.Minute)
		if err := f.svc.Build(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Build(ctx, e.ID); err != nil { // a repeated job does nothing
			t.Fatal(err)
		}
		d, err = f.svc.Open(ctx, f.ann.id, e.PublicID, "html", "")
		if err != nil || d.Document == nil || !d.ExpiresAt.Equal(f.now.Add(7*24*time.Hour)) {
			t.Fatalf("after the job: %+v %v", d.Export, err)
		}
		msgs, err := f.app.Outbox.List(ctx, f.ann.email, 10)
		if err != nil {
			t.Fatal(err)
		}
		ready := 0
		for _, m := range msgs {
			if m.Subject == "Your PSIMS data is ready to download" {
				ready++
				if !strings.Contains(m.Text, "https://psims.example/account/data/download/"+e.PublicID) || !strings.Contains(m.Text, "7 December 2026") {
					t.Errorf("the email:\n%s", m.Text)
				}
			}
		}
		if ready != 1 {
			t.Errorf("%d ready emails, want 1", ready)
		}
		if !hasAudit(f.auditActions(t), "data_export.ready", 0, map[string]string{"user": itoa(f.ann.id)}) {
			t.Error("ready is not audited")
		}
	})
}

// P15: a download works for 7 days; after that it is refused, and the
// sweep deletes its content.
func TestDownloadsExpireAfterSevenDaysAndAreDeleted(t *testing.T) { // P15
	t.Parallel()
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		e, err := f.svc.Request(ctx, f.ann.id, f.ann.ip)
		if err != nil {
			t.Fatal(err)
		}
		f.now = start.Add(7*24*time.Hour - time.Second)
		if d, err := f.svc.Open(ctx, f.ann.id, e.PublicID, "json", ""); err != nil || d.Document == nil {
			t.Fatalf("a second before 7 days: %v", err)
		}
		if n, err := f.svc.Sweep(ctx); err != nil || n != 0 {
			t.Fatalf("sweep before expiry: %d %v", n, err)
		}
		f.now = start.Add(7 * 24 * time.Hour)
		d, err := f.svc.Open(ctx, f.ann.id, e.PublicID, "json", "")
		if err != nil || d.Document != nil || !d.Expired(f.now) {
			t.Fatalf("at 7 days: %+v %v", d.Export, err)
		}
		if n, err := f.svc.Sweep(ctx); err != nil || n != 1 {
			t.Fatalf("sweep: %d %v", n, err)
		}
		var left int
		if err := f.app.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM data_exports WHERE content IS NOT NULL OR status <> 'expired'`).Scan(&left); err != nil || left != 0 {
			t.Errorf("%d exports keep content after the sweep (%v)", left, err)
		}
		if n, err := f.svc.Sweep(ctx); err != nil || n != 0 {
			t.Errorf("second sweep: %d %v", n, err)
		}
		if !hasAudit(f.auditActions(t), "data_export.expired", 0, map[string]string{"exports": "1"}) {
			t.Error("the sweep is not audited")
		}
	})
}

// P15: a person may ask PerDay times in 24 hours.
func TestRequestsAreLimitedPerDay(t *testing.T) { // P15
	t.Parallel()
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		for i := 0; i < dataexport.PerDay; i++ {
			if _, err := f.svc.Request(ctx, f.ann.id, ""); err != nil {
				t.Fatal(err)
			}
			f.now = f.now.Add(time.Minute)
		}
		if _, err := f.svc.Request(ctx, f.ann.id, ""); apperr.CodeOf(err) != apperr.RateLimited {
			t.Fatalf("request %d: %v, want RateLimited", dataexport.PerDay+1, err)
		}
		if _, err := f.svc.Request(ctx, f.bob.id, ""); err != nil {
			t.Errorf("Bob is limited by Ann's requests: %v", err)
		}
		f.now = start.Add(24*time.Hour + time.Second)
		if _, err := f.svc.Request(ctx, f.ann.id, ""); err != nil {
			t.Errorf("a day later: %v", err)
		}
	})
}

// P18: a disclosure needs a legal basis and a reference (guarded), holds
// the same categories about the named user only, is labelled with the
// basis, reference, who and when, and is audited with both; the person's
// own download does not reveal it.
func TestADisclosureNeedsABasisAndAReferenceAndIsAuditedAndLabelled(t *testing.T) { // P18
	t.Parallel()
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		by := dataexport.Discloser{ID: f.admin.id, Name: f.admin.name, Email: f.admin.email, IP: f.admin.ip}
		for name, tc := range map[string]struct {
			req    dataexport.DisclosureRequest
			fields []string
		}{
			"nothing":          {dataexport.DisclosureRequest{}, []string{"basis", "reference"}},
			"an unknown basis": {dataexport.DisclosureRequest{Basis: "curiosity", Reference: "REF-1"}, []string{"basis"}},
			"no reference":     {dataexport.DisclosureRequest{Basis: dataexport.BasisCourtOrder, Reference: "   "}, []string{"reference"}},
			"an NHS number":    {dataexport.DisclosureRequest{Basis: dataexport.BasisCourtOrder, Reference: "Order about 943 476 5919"}, []string{"reference"}},
			"too long":         {dataexport.DisclosureRequest{Basis: dataexport.BasisCourtOrder, Reference: strings.Repeat("A", dataexport.MaxReference+1)}, []string{"reference"}},
			"two lines":        {dataexport.DisclosureRequest{Basis: dataexport.BasisCourtOrder, Reference: "A\nB"}, []string{"reference"}},
		} {
			_, err := f.svc.Disclose(ctx, by, f.ann.id, tc.req)
			var fields apperr.Fields
			if !asFields(err, &fields) {
				t.Errorf("%s: %v, want field errors", name, err)
				continue
			}
			var got []string
			for _, fe := range fields {
				got = append(got, fe.Field)
			}
			if strings.Join(dedupe(got), ",") != strings.Join(tc.fields, ",") {
				t.Errorf("%s: errors on %v, want %v", name, got, tc.fields)
			}
		}
		var n int
		if err := f.app.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM data_exports`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("refused disclosures left %d exports (%v)", n, err)
		}

		e, err := f.svc.Disclose(ctx, by, f.ann.id, dataexport.DisclosureRequest{Basis: dataexport.BasisLawEnforcement, Reference: " Police request CR/2026/0417 "})
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind != dataexport.KindDisclosure || e.Reference != "Police request CR/2026/0417" || e.RequestedBy != f.admin.id {
			t.Errorf("export: %+v", e)
		}
		d, err := f.svc.OpenDisclosure(ctx, f.admin.id, f.ann.id, e.PublicID, "json", f.admin.ip)
		if err != nil || d.Document == nil || d.Document.Disclosure == nil {
			t.Fatalf("open: %v", err)
		}
		dis := d.Document.Disclosure
		if dis.Basis != dataexport.BasisLawEnforcement || dis.Reference != e.Reference || dis.ByName != f.admin.name ||
			!dis.At.Equal(start) || !strings.HasPrefix(dis.Statement, "Disclosed under") {
			t.Errorf("label: %+v", dis)
		}
		text := string(d.JSON)
		for _, v := range f.bob.mine() {
			if strings.Contains(text, v) {
				t.Errorf("the disclosure about Ann holds Bob's %q", v)
			}
		}
		if _, err := f.svc.OpenDisclosure(ctx, f.admin.id, f.bob.id, e.PublicID, "json", ""); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("opened as a disclosure about Bob: %v", err)
		}
		if _, err := f.svc.Open(ctx, f.ann.id, e.PublicID, "json", ""); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("Ann opens the disclosure about her: %v", err)
		}
		if !hasAudit(f.auditActions(t), "data_export.disclosed", f.admin.id, map[string]string{
			"user": itoa(f.ann.id), "kind": "disclosure", "basis": "law_enforcement", "reference": "Police request CR/2026/0417"}) {
			t.Error("the disclosure is not audited with its basis and reference")
		}
		if !hasAudit(f.auditActions(t), "data_export.downloaded", f.admin.id, map[string]string{"kind": "disclosure", "format": "json"}) {
			t.Error("downloading the disclosure is not audited")
		}
		if _, own := f.assemble(t, f.ann.id); strings.Contains(own, "CR/2026/0417") || strings.Contains(own, "disclos") {
			t.Error("Ann's own document reveals the disclosure")
		}
		if mine, _ := f.svc.Mine(ctx, f.ann.id); len(mine) != 0 {
			t.Errorf("the disclosure is listed as Ann's own export: %+v", mine)
		}
		if list, _ := f.svc.Disclosures(ctx, f.ann.id); len(list) != 1 || list[0].Basis != dataexport.BasisLawEnforcement {
			t.Errorf("disclosures about Ann: %+v", list)
		}
		if _, err := f.svc.Disclose(ctx, by, 999999, dataexport.DisclosureRequest{Basis: dataexport.BasisCourtOrder, Reference: "X1"}); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("disclosure about nobody: %v", err)
		}
	})
}

func asFields(err error, out *apperr.Fields) bool { return errors.As(err, out) }

func dedupe(s []string) []string {
	var out []string
	for _, v := range s {
		if len(out) == 0 || out[len(out)-1] != v {
			out = append(out, v)
		}
	}
	return out
}

// P15: the data_export job, run by River as psims serve runs it, builds a
// large account's export in the background.
func TestTheJobBuildsALargeExportInTheBackground(t *testing.T) { // P15
	t.Parallel()
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		f.svc.WithJobThreshold(0)
		runner, err := jobs.New(f.app.DB, nil, func(w *river.Workers, r *jobs.Runner) {
			dataexport.AddWorkers(w, r, func() *dataexport.Service { return f.svc }, nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		jobCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		if err := runner.Start(jobCtx); err != nil {
			t.Fatal(err)
		}
		defer runner.Stop(ctx)
		e, err := f.svc.Request(ctx, f.ann.id, f.ann.ip)
		if err != nil || e.Status != dataexport.StatusPending {
			t.Fatalf("request: %+v %v", e, err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			mine, err := f.svc.Mine(ctx, f.ann.id)
			if err != nil {
				t.Fatal(err)
			}
			if len(mine) == 1 && mine[0].Status == dataexport.StatusReady {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the job did not build the export: %+v", mine)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if d, err := f.svc.Open(ctx, f.ann.id, e.PublicID, "json", ""); err != nil || d.Document == nil || d.Document.Account.Account.Email != f.ann.email {
			t.Fatalf("open: %v", err)
		}
	})
}

// TestTheDocumentHoldsTheAPIKeysThePersonMadeOrRevoked: an admin's
// document lists the organisation API keys they made and revoked (issue
// 16), never the keys; another person's holds none of them.
func TestTheDocumentHoldsTheAPIKeysThePersonMadeOrRevoked(t *testing.T) { // P15
	t.Parallel()
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		keys := f.app.APIKeys
		made, secret, err := keys.Create(ctx, apikey.NewKey{Org: "RM1", Name: "Datix at RM1", CreatedBy: f.admin.id}, apikey.Client{})
		if err != nil {
			t.Fatal(err)
		}
		other, _, err := keys.Create(ctx, apikey.NewKey{Org: "RM1", Name: "Radar at RM1"}, apikey.Client{})
		if err != nil {
			t.Fatal(err)
		}
		if err := keys.Revoke(ctx, other.ID, "", f.admin.id, "Replaced", apikey.Client{}); err != nil {
			t.Fatal(err)
		}
		doc, text := f.assemble(t, f.admin.id)
		if len(doc.APIKeys) != 2 || doc.APIKeys[0].Name != "Datix at RM1" || !doc.APIKeys[0].Made || doc.APIKeys[0].RevokedIt ||
			doc.APIKeys[0].Prefix != made.Prefix || doc.APIKeys[1].Made || !doc.APIKeys[1].RevokedIt || doc.APIKeys[1].RevokedAt == nil {
			t.Fatalf("the admin's keys: %+v", doc.APIKeys)
		}
		if strings.Contains(text, secret) {
			t.Fatal("the document holds a key")
		}
		if ann, _ := f.assemble(t, f.ann.id); len(ann.APIKeys) != 0 {
			t.Fatalf("Ann's document holds keys: %+v", ann.APIKeys)
		}
	})
}
