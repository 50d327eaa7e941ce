package terms

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/jobs"
	"github.com/psims/psims/internal/mail"
)

// fixture is a migrated database with a service and some users.
type fixture struct {
	db     *db.DB
	svc    *Service
	outbox *mail.Outbox
}

func newFixture(t *testing.T, d *db.DB) fixture {
	t.Helper()
	ctx := context.Background()
	if err := jobs.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	runner, err := jobs.New(d, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	_, err = d.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ('RM1', 'Test trust', $1, $1)`, now)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{db: d, svc: NewService(d, runner), outbox: mail.NewOutbox(d, runner, nil)}
}

// user adds a user with the given status and returns its id.
func (f fixture) user(t *testing.T, name, status string) int64 {
	t.Helper()
	now := time.Now().UTC()
	var id int64
	err := f.db.WriteRowContext(context.Background(), `INSERT INTO users (email, name, job_role, org_ods, status, password_hash, created_at, updated_at)
		VALUES ($1, $2, 'Nurse', 'RM1', $3, 'x', $4, $4) RETURNING id`,
		strings.ToLower(strings.ReplaceAll(name, " ", "."))+"@nhs.net", name, status, now).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f fixture) publish(t *testing.T, kind Kind, body, summary string, material bool) Document {
	t.Helper()
	d, err := f.svc.Publish(context.Background(), 0, Client{IP: "192.0.2.1"}, Draft{Kind: kind, Body: body, Summary: summary, Material: material})
	if err != nil {
		t.Fatalf("publish %s: %v", kind, err)
	}
	return d
}

func (f fixture) status(t *testing.T, userID int64) Status {
	t.Helper()
	st, err := f.svc.Status(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

var browser = Client{IP: "192.0.2.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"}

// T2, T7: versions are numbered per kind, the first is always material,
// and published text cannot be changed or removed, even by SQL.
func TestPublishedVersionsAreNumberedAndImmutable(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		v1 := f.publish(t, Terms, "## Use\n\nBe kind.", "First.", false)
		v2 := f.publish(t, Terms, "## Use\n\nBe very kind.", "Wording.", false)
		s1 := f.publish(t, RecordingStatement, "By submitting you agree.", "First.", false)
		if v1.Version != 1 || !v1.Material || v2.Version != 2 || v2.Material || s1.Version != 1 {
			t.Fatalf("got terms v%d material=%v, v%d material=%v, statement v%d", v1.Version, v1.Material, v2.Version, v2.Material, s1.Version)
		}
		cur, err := f.svc.Current(ctx, Terms)
		if err != nil || cur.Version != 2 || cur.Body != "## Use\n\nBe very kind." || cur.Summary != "Wording." {
			t.Fatalf("current = %+v, %v", cur, err)
		}
		if _, err := f.svc.Current(ctx, Privacy); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("current privacy before any: %v, want NotFound", err)
		}
		list, err := f.svc.Versions(ctx, Terms)
		if err != nil || len(list) != 2 || list[0].Version != 2 || list[1].Version != 1 {
			t.Fatalf("versions = %+v, %v", list, err)
		}
		if _, err := d.ExecContext(ctx, `UPDATE documents SET body = 'changed' WHERE id = $1`, v1.ID); err == nil {
			t.Fatal("a published document was changed")
		}
		if _, err := d.ExecContext(ctx, `DELETE FROM documents WHERE id = $1`, v1.ID); err == nil {
			t.Fatal("a published document was deleted")
		}
		got, err := f.svc.Version(ctx, Terms, 1)
		if err != nil || got.Body != "## Use\n\nBe kind." {
			t.Fatalf("version 1 after tampering = %q, %v", got.Body, err)
		}
		rows, err := audit.List(ctx, d, "document", fmt.Sprint(v2.ID), 10)
		if err != nil || len(rows) != 1 || rows[0].Action != "document.publish" || rows[0].Details["version"] != "2" {
			t.Fatalf("audit of publication = %+v, %v", rows, err)
		}
	})
}

// T2: a version written from an older one is not published over a newer
// one the author has not seen.
func TestPublishRefusesADraftOfAnOutdatedVersion(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.publish(t, Terms, "One.", "First.", true)
		f.publish(t, Terms, "Two.", "Second.", false)
		_, err := f.svc.Publish(ctx, 0, Client{}, Draft{Kind: Terms, Body: "Based on one.", Summary: "x", Replaces: 1})
		if apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("publish over an unseen version: %v, want Conflict", err)
		}
		doc, err := f.svc.Publish(ctx, 0, Client{}, Draft{Kind: Terms, Body: "Based on two.", Summary: "x", Replaces: 2})
		if err != nil || doc.Version != 3 {
			t.Fatalf("publish from the latest: v%d, %v", doc.Version, err)
		}
	})
}

func TestPublishRefusesEmptyAndOversizedText(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		for name, draft := range map[string]Draft{
			"an empty body":            {Kind: Terms, Body: "  \n", Summary: "x"},
			"a missing summary":        {Kind: Terms, Body: "text", Summary: " "},
			"an oversized body":        {Kind: Terms, Body: strings.Repeat("a", MaxBytes+1), Summary: "x"},
			"invalid characters":       {Kind: Terms, Body: "bad \xff byte", Summary: "x"},
			"a NUL in the body":        {Kind: Terms, Body: "bad \x00 byte", Summary: "x"},
			"an escape in the summary": {Kind: Terms, Body: "text", Summary: "x\x1b[2J"},
		} {
			_, err := f.svc.Publish(context.Background(), 0, Client{}, draft)
			if apperr.CodeOf(err) != apperr.Invalid {
				t.Errorf("%s: err = %v, want Invalid", name, err)
			}
		}
		if _, err := f.svc.Current(context.Background(), Terms); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("something was published: %v", err)
		}
	})
}

// T1, T2, P16: a new user must accept both documents; a material version
// makes them accept again, a version that is not material does not.
func TestAcceptanceGateStatus(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		uid := f.user(t, "Ann Reporter", "active")
		if st := f.status(t, uid); st.Blocked() {
			t.Fatalf("nothing published, yet blocked: %+v", st)
		}
		f.publish(t, Terms, "Terms one.", "First.", true)
		f.publish(t, Privacy, "Privacy one.", "First.", true)
		f.publish(t, RecordingStatement, "Statement one.", "First.", true)
		if st := f.status(t, uid); !slices.Equal(st.MustAccept, []Kind{Terms, Privacy}) {
			t.Fatalf("new user must accept %v, want terms and privacy", st.MustAccept)
		}
		if err := f.svc.Accept(ctx, uid, browser, map[Kind]int{Terms: 1, Privacy: 1}); err != nil {
			t.Fatal(err)
		}
		if st := f.status(t, uid); st.Blocked() || len(st.Updated) != 0 {
			t.Fatalf("after accepting: %+v", st)
		}

		f.publish(t, Terms, "Terms one, tidied.", "Typos.", false)
		st := f.status(t, uid)
		if st.Blocked() || !slices.Equal(st.Updated, []Kind{Terms}) {
			t.Fatalf("after a version that is not material: %+v, want not blocked and terms updated", st)
		}

		f.publish(t, Privacy, "Privacy two.", "New use of data.", true)
		if st := f.status(t, uid); !slices.Equal(st.MustAccept, []Kind{Privacy}) {
			t.Fatalf("after a material privacy version: %+v, want privacy to accept", st)
		}
		if err := f.svc.Accept(ctx, uid, browser, map[Kind]int{Privacy: 1}); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("accepting an old version: %v, want Conflict", err)
		}
		if err := f.svc.Accept(ctx, uid, browser, map[Kind]int{RecordingStatement: 1}); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("accepting the recording statement: %v, want Invalid", err)
		}
		if err := f.svc.Accept(ctx, uid, browser, map[Kind]int{Privacy: 2}); err != nil {
			t.Fatal(err)
		}
		if st := f.status(t, uid); st.Blocked() || !slices.Equal(st.Updated, []Kind{Terms}) {
			t.Fatalf("after accepting privacy 2: %+v", st)
		}
	})
}

// T2, P16: the review shows every summary since the version last accepted
// and the changes between the two texts.
func TestReviewShowsWhatChangedSinceLastAcceptance(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		uid := f.user(t, "Ann Reporter", "active")
		f.publish(t, Terms, "Keep your password secret.\n\nReport breaches within 48 hours.", "First.", true)
		r, err := f.svc.Review(ctx, uid, Terms)
		if err != nil || r.Previous.Version != 0 || len(r.Changes) != 0 || len(r.Since) != 1 {
			t.Fatalf("first review = %+v, %v", r, err)
		}
		if err := f.svc.Accept(ctx, uid, browser, map[Kind]int{Terms: 1}); err != nil {
			t.Fatal(err)
		}
		f.publish(t, Terms, "Keep your password secret.\n\nReport breaches within 24 hours.", "Shorter deadline.", false)
		f.publish(t, Terms, "Keep your password secret.\n\nReport breaches within 24 hours.\n\nYou must complete training.", "Training.", true)
		r, err = f.svc.Review(ctx, uid, Terms)
		if err != nil {
			t.Fatal(err)
		}
		if r.Previous.Version != 1 || r.Current.Version != 3 {
			t.Fatalf("review from v%d to v%d, want 1 to 3", r.Previous.Version, r.Current.Version)
		}
		var summaries []string
		for _, v := range r.Since {
			summaries = append(summaries, v.Summary)
		}
		if !slices.Equal(summaries, []string{"Shorter deadline.", "Training."}) {
			t.Fatalf("summaries = %q", summaries)
		}
		var ops []BlockOp
		for _, b := range r.Changes {
			ops = append(ops, b.Op)
		}
		if !slices.Equal(ops, []BlockOp{BlockSame, BlockChanged, BlockAdded}) {
			t.Fatalf("changes = %v, want same, changed, added", ops)
		}
	})
}

// The ledger keeps who accepted what, when, from where and with which
// browser, and cannot be rewritten; every acceptance and decline is audited.
func TestLedgerIsAppendOnlyAndAudited(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		uid := f.user(t, "Ann Reporter", "active")
		f.publish(t, Terms, "Terms one.", "First.", true)
		f.publish(t, Privacy, "Privacy one.", "First.", true)
		if err := f.svc.Decline(ctx, uid, browser, map[Kind]int{Terms: 1, Privacy: 1}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Accept(ctx, uid, browser, map[Kind]int{Terms: 1, Privacy: 1}); err != nil {
			t.Fatal(err)
		}
		ledger, err := f.svc.Ledger(ctx, uid)
		if err != nil || len(ledger) != 2 {
			t.Fatalf("ledger = %+v, %v", ledger, err)
		}
		for _, a := range ledger {
			if a.IP != browser.IP || a.UserAgent != browser.UserAgent || a.Version != 1 || time.Since(a.AcceptedAt) > time.Minute {
				t.Errorf("ledger row = %+v", a)
			}
		}
		if _, err := d.ExecContext(ctx, `UPDATE acceptances SET version = 2`); err == nil {
			t.Fatal("the ledger was rewritten")
		}
		for _, subject := range []string{"terms/1", "privacy/1"} {
			rows, err := audit.List(ctx, d, "document", subject, 10)
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, r := range rows {
				actions = append(actions, r.Action)
			}
			slices.Sort(actions)
			if !slices.Equal(actions, []string{"document.accept", "document.decline"}) {
				t.Errorf("audit of %s = %v", subject, actions)
			}
		}
		if _, problem, err := audit.Verify(ctx, d); err != nil || problem != nil {
			t.Fatalf("audit chain: %+v, %v", problem, err)
		}
	})
}

// P9, P15, P19: consent is separate from acceptance, starts with nothing
// given, changes take effect at once, and every change is kept with the
// privacy version it was given under.
func TestConsentPreferencesAndHistory(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		uid := f.user(t, "Ann Reporter", "active")
		f.publish(t, Terms, "Terms one.", "First.", true)
		f.publish(t, Privacy, "Privacy one.", "First.", true)
		if err := f.svc.SetConsents(ctx, uid, browser, map[Purpose]bool{Newsletter: true}); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("consent before accepting privacy: %v, want Conflict", err)
		}
		c, err := f.svc.Consents(ctx, uid)
		if err != nil || c.Offered || len(c.Granted) != 0 {
			t.Fatalf("consents before any choice = %+v, %v", c, err)
		}
		if err := f.svc.Accept(ctx, uid, browser, map[Kind]int{Terms: 1, Privacy: 1}); err != nil {
			t.Fatal(err)
		}
		// Continue without consenting: the offer is recorded, nothing given.
		if err := f.svc.SetConsents(ctx, uid, browser, nil); err != nil {
			t.Fatal(err)
		}
		c, _ = f.svc.Consents(ctx, uid)
		if !c.Offered || c.Granted[UsageAnalysis] || c.Granted[Research] || c.Granted[Newsletter] {
			t.Fatalf("after declining all: %+v", c)
		}
		f.publish(t, Privacy, "Privacy two.", "Clarified.", true)
		if err := f.svc.Accept(ctx, uid, browser, map[Kind]int{Privacy: 2}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetConsents(ctx, uid, browser, map[Purpose]bool{UsageAnalysis: true, Newsletter: true}); err != nil {
			t.Fatal(err)
		}
		if ok, err := f.svc.HasConsent(ctx, uid, UsageAnalysis); err != nil || !ok {
			t.Fatalf("HasConsent after giving it = %v, %v", ok, err)
		}
		if err := f.svc.SetConsents(ctx, uid, browser, map[Purpose]bool{Newsletter: true}); err != nil {
			t.Fatal(err)
		}
		if ok, _ := f.svc.HasConsent(ctx, uid, UsageAnalysis); ok {
			t.Fatal("withdrawn consent still reported as given")
		}
		// Saving the same choices again changes nothing.
		if err := f.svc.SetConsents(ctx, uid, browser, map[Purpose]bool{Newsletter: true}); err != nil {
			t.Fatal(err)
		}
		history, err := f.svc.ConsentHistory(ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range history {
			got = append(got, fmt.Sprintf("%s=%v@%d", h.Purpose, h.Granted, h.PrivacyVersion))
		}
		want := []string{
			"usage-analysis=false@2",
			"newsletter=true@2", "usage-analysis=true@2",
			"newsletter=false@1", "research=false@1", "usage-analysis=false@1",
		}
		if !slices.Equal(got, want) {
			t.Fatalf("history, newest first =\n%q\nwant\n%q", got, want)
		}
		if _, err := d.ExecContext(ctx, `UPDATE consent_history SET granted = TRUE`); err == nil {
			t.Fatal("the consent history was rewritten")
		}
		rows, err := audit.List(ctx, d, "user", fmt.Sprint(uid), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 || rows[0].Action != "consent.change" || rows[0].Details["usage-analysis"] != "not given" {
			t.Fatalf("consent audit = %+v", rows)
		}
	})
}

func TestVersionStatsCountAcceptancesAndListWhoHasNot(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		ann := f.user(t, "Ann Able", "active")
		f.user(t, "Bob Baker", "active")
		cat := f.user(t, "Cat Cole", "active")
		f.user(t, "Dan Dormant", "suspended")
		f.publish(t, Terms, "One.", "First.", true)
		if err := f.svc.Accept(ctx, ann, browser, map[Kind]int{Terms: 1}); err != nil {
			t.Fatal(err)
		}
		f.publish(t, Terms, "Two.", "Second.", false)
		if err := f.svc.Accept(ctx, cat, browser, map[Kind]int{Terms: 2}); err != nil {
			t.Fatal(err)
		}
		st, err := f.svc.VersionStats(ctx, Terms, 1, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		if st.Accepted != 1 || st.Active != 3 || st.Outstanding != 1 || len(st.Page) != 1 || st.Page[0].Name != "Bob Baker" {
			t.Fatalf("version 1 stats = %+v", st)
		}
		st, _ = f.svc.VersionStats(ctx, Terms, 2, 1, 1)
		if st.Accepted != 1 || st.Outstanding != 2 || len(st.Page) != 1 || st.Page[0].Name != "Bob Baker" {
			t.Fatalf("version 2 stats, second page = %+v", st)
		}
	})
}

// T19: a material version of the terms or privacy policy emails every
// active user once, through the outbox; other versions email nobody.
func TestMaterialVersionEmailsEveryActiveUserOnce(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		for i := range 7 {
			f.user(t, fmt.Sprintf("Active User%d", i), "active")
		}
		f.user(t, "Sue Suspended", "suspended")
		f.publish(t, Terms, "One.", "First.", true)
		f.publish(t, Terms, "Two.", "Typos.", false)
		f.publish(t, RecordingStatement, "One.", "First.", true)
		f.publish(t, RecordingStatement, "Two.", "Second.", true)
		v3 := f.publish(t, Terms, "Three.", "You must now report breaches within 24 hours.", true)
		var notices int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM document_notices`).Scan(&notices); err != nil || notices != 1 {
			t.Fatalf("notices = %d, %v; want only the material terms version", notices, err)
		}
		w := &noticeWorker{db: d, outbox: f.outbox, reviewURL: "https://psims.example/review-terms", logger: slog.New(slog.DiscardHandler)}
		job := &river.Job[NoticeArgs]{Args: NoticeArgs{DocumentID: v3.ID}}
		// Work twice, as a retried job would: nobody gets two emails.
		for range 2 {
			if err := w.Work(ctx, job); err != nil {
				t.Fatal(err)
			}
		}
		sent, err := f.outbox.List(ctx, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		to := map[string]int{}
		for _, m := range sent {
			to[m.To]++
			if !strings.Contains(m.Subject, "terms of use") {
				t.Errorf("subject = %q", m.Subject)
			}
		}
		if len(sent) != 7 || len(to) != 7 || to["sue.suspended@nhs.net"] != 0 {
			t.Fatalf("emails to %v, want one to each of the 7 active users", to)
		}
	})
}

func TestPublishDefaultsPublishesEachKindOnce(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		for range 3 {
			wg.Go(func() { errs <- f.svc.PublishDefaults(ctx) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, k := range Kinds() {
			list, err := f.svc.Versions(ctx, k)
			if err != nil || len(list) != 1 || !list[0].Material {
				t.Fatalf("%s versions = %+v, %v", k, list, err)
			}
			doc, _ := f.svc.Current(ctx, k)
			if _, err := Render(doc.Body); err != nil || len(doc.Body) < 200 {
				t.Fatalf("default %s: %d bytes, render error %v", k, len(doc.Body), err)
			}
		}
	})
}
