package rights_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apikey"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/concern"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/dataexport"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/feedback"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/jobs"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/password"
	"github.com/psims/psims/internal/ratelimit"
	"github.com/psims/psims/internal/rights"
	"github.com/psims/psims/internal/sharing"
	"github.com/psims/psims/internal/stats"
	"github.com/psims/psims/internal/terms"
	"github.com/psims/psims/internal/usage"
)

// P15: one calendar month from receipt, the last day of a shorter month
// when the day does not exist in it, and up to two months more.
func TestDueDateIsOneCalendarMonthFromReceipt(t *testing.T) {
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 30, 0, 0, time.UTC) }
	for _, c := range []struct {
		name     string
		received time.Time
		extended int
		want     time.Time
	}{
		{"a mid-month request is due on the same day next month", at(2026, 12, 6), 0, at(2027, 1, 6)},
		{"31 January is due on 28 February in a common year", at(2027, 1, 31), 0, at(2027, 2, 28)},
		{"31 January is due on 29 February in a leap year", at(2028, 1, 31), 0, at(2028, 2, 29)},
		{"31 March is due on 30 April", at(2027, 3, 31), 0, at(2027, 4, 30)},
		{"December rolls into January", at(2026, 12, 31), 0, at(2027, 1, 31)},
		{"extended by two months, 30 November is due on 28 February", at(2026, 11, 30), 2, at(2027, 2, 28)},
		{"extended by one month, 31 January is due on 31 March", at(2027, 1, 31), 1, at(2027, 3, 31)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := rights.DueDate(c.received, c.extended); !got.Equal(c.want) {
				t.Errorf("DueDate(%s, %d) = %s, want %s", c.received, c.extended, got, c.want)
			}
		})
	}
}

type fixture struct {
	d        *db.DB
	now      time.Time
	accounts *account.Service
	svc      *rights.Service
	outbox   *mail.Outbox
	terms    *terms.Service
	ann      account.User // the person who asks
	admin    account.User // a national admin
	other    account.User // a reviewer of ann's organisation
}

const goodPassword = "correct horse battery staple 42"

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{d: d, now: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)}
	d.SetClock(func() time.Time { return f.now })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	runner, err := jobs.New(d, logger, nil)
	if err != nil {
		t.Fatal(err)
	}
	orgs := org.NewStore(d)
	if _, err := orgs.Import(ctx, strings.NewReader("ods_code,name,type,parent\nRM1,TEST TRUST,trust,\n")); err != nil {
		t.Fatal(err)
	}
	f.outbox = mail.NewOutbox(d, runner, logger)
	cfg := config.Defaults()
	cfg.BaseURL = "https://psims.example"
	hasher := password.NewHasher(password.Params{MemoryKiB: 1024, Time: 1, Threads: 1}, 2)
	f.accounts = account.NewService(d, hasher, password.NewPolicy(), orgs, f.outbox, runner, cfg.AccountSettings())
	termsSvc := terms.NewService(d, runner)
	f.terms = termsSvc
	f.svc = rights.NewService(d, f.accounts, f.outbox, "https://psims.example/account/data",
		incident.NewService(d), feedback.NewService(d, ratelimit.New(d), f.outbox, "https://psims.example/account/queries", 0),
		termsSvc, rights.EraserFunc(usage.ErasePerson), rights.EraserFunc(dataexport.ErasePerson), rights.EraserFunc(sharing.ErasePerson),
		rights.EraserFunc(apikey.ErasePerson)).
		EraseAddressesWith("jobs", jobs.AddressEraser(account.ResetArgs{}.Kind())).EraseAddressesWith("concern_reporters", concern.EraseReporterAddress).
		EraseAddressesWith("statistics_prerelease", stats.ErasePreReleaseAddress)
	day := f.now
	make := func(email, name string, role account.Role) account.User {
		u, err := f.accounts.Create(ctx, account.NewUser{Email: email, Name: name, JobRole: "Nurse", OrgCode: "RM1", Role: role,
			Password: goodPassword, IGTrainingOn: &day})
		if err != nil {
			t.Fatalf("create %s: %v", email, err)
		}
		return u
	}
	f.ann = make("ann.quill@nhs.net", "Ann Quill", account.RoleReporter)
	f.admin = make("ada.admin@nhs.net", "Ada Admin", account.RoleNationalAdmin)
	f.other = make("rex.reviewer@nhs.net", "Rex Reviewer", account.RoleReviewer)
	return f
}

func (f *fixture) as(u account.User) rights.Actor { return rights.Actor{ID: u.ID, IP: "192.0.2.1"} }

func (f *fixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := f.d.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// lastAudit returns the newest audit row's action and details.
func (f *fixture) lastAudit(t *testing.T) (string, string) {
	t.Helper()
	var action, details string
	if err := f.d.QueryRowContext(context.Background(), `SELECT action, details FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&action, &details); err != nil {
		t.Fatal(err)
	}
	return action, details
}

// lastMail returns the subject of the newest email to addr.
func (f *fixture) lastMail(t *testing.T, addr string) string {
	t.Helper()
	var subject string
	if err := f.d.QueryRowContext(context.Background(), `SELECT subject FROM outbox WHERE to_addr = $1 ORDER BY id DESC LIMIT 1`, addr).Scan(&subject); err != nil {
		t.Fatalf("no email to %s: %v", addr, err)
	}
	return subject
}

// P15: every step is audited in its transaction and emailed to the person.
func TestEachStepIsAuditedAndEmailed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		f.exec(t, `INSERT INTO consents (user_id, purpose, granted, updated_at) VALUES ($1, $2, TRUE, $3)`, f.ann.ID, terms.UsageAnalysis, f.now)
		analysed := func() bool {
			ids, err := f.terms.ConsentingMembers(ctx, "RM1", terms.UsageAnalysis)
			if err != nil {
				t.Fatal(err)
			}
			return slices.Contains(ids, f.ann.ID)
		}
		if !analysed() {
			t.Fatal("the person is not in per-person usage analysis before restriction")
		}
		req, err := f.svc.Ask(ctx, f.as(f.ann), rights.Restriction, "I am disputing my records")
		if err != nil {
			t.Fatal(err)
		}
		if want := rights.DueDate(f.now, 0); !req.DueAt.Equal(want) || req.Status != rights.Received {
			t.Fatalf("asked: %+v, want received and due %s", req, want)
		}
		if a, _ := f.lastAudit(t); a != "rights.requested" {
			t.Errorf("audit %q", a)
		}
		if s := f.lastMail(t, f.ann.Email); !strings.Contains(s, req.Reference()) {
			t.Errorf("receipt email %q", s)
		}
		if _, err := f.svc.Ask(ctx, f.as(f.ann), rights.Restriction, ""); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("second open restriction: %v, want Conflict", err)
		}
		if err := f.svc.AddNote(ctx, f.as(f.admin), req.ID, "Checked the account"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Extend(ctx, f.as(f.admin), req.ID, 1, ""); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("extension without a reason: %v, want Invalid", err)
		}
		if err := f.svc.Extend(ctx, f.as(f.admin), req.ID, 2, "We are waiting for the organisation to reply"); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Get(ctx, req.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != rights.Extended || !got.DueAt.Equal(rights.DueDate(req.ReceivedAt, 2)) || len(got.Notes) != 1 {
			t.Errorf("after note and extension: %+v", got)
		}
		if s := f.lastMail(t, f.ann.Email); !strings.Contains(s, "more time") {
			t.Errorf("extension email %q", s)
		}
		if err := f.svc.Complete(ctx, f.as(f.admin), req.ID); err != nil {
			t.Fatal(err)
		}
		u, _ := f.accounts.UserByID(ctx, f.ann.ID)
		sub, _ := f.accounts.Subject(ctx, u)
		if !sub.Restricted {
			t.Error("restriction completed but the subject is not restricted")
		}
		if analysed() {
			t.Error("a restricted person is still in per-person usage analysis")
		}
		if s := f.lastMail(t, f.ann.Email); !strings.Contains(s, "restricted") {
			t.Errorf("restriction email %q", s)
		}
		if err := f.svc.Lift(ctx, f.as(f.admin), req.ID); err != nil {
			t.Fatal(err)
		}
		if a, _ := f.lastAudit(t); a != "rights.restriction_lifted" {
			t.Errorf("audit %q", a)
		}
		u, _ = f.accounts.UserByID(ctx, f.ann.ID)
		if u.RestrictedAt != nil || !analysed() {
			t.Error("the restriction was lifted but is still in force")
		}
		if s := f.lastMail(t, f.ann.Email); !strings.Contains(s, "lifted") {
			t.Errorf("lift email %q", s)
		}

		er, err := f.svc.Ask(ctx, f.as(f.ann), rights.Erasure, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Refuse(ctx, f.as(f.admin), er.ID, "Call 01632 960123 to discuss"); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("a refusal holding a phone number: %v, want Invalid (T12)", err)
		}
		if err := f.svc.Refuse(ctx, f.as(f.admin), er.ID, "We must keep the records for an open investigation"); err != nil {
			t.Fatal(err)
		}
		if s := f.lastMail(t, f.ann.Email); !strings.Contains(s, "refused") {
			t.Errorf("refusal email %q", s)
		}
		if err := f.svc.Complete(ctx, f.as(f.admin), er.ID); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("completing a refused request: %v, want Conflict", err)
		}
		w, err := f.svc.Ask(ctx, f.as(f.ann), rights.Erasure, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Withdraw(ctx, f.as(f.ann), w.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.Get(ctx, w.ID); got.Status != rights.Withdrawn {
			t.Errorf("withdrawn request is %s", got.Status)
		}
		if _, p, err := audit.Verify(ctx, d); err != nil || p != nil {
			t.Errorf("audit chain: %v %+v", err, p)
		}
	})
}

// P7, P15: an objection to contact takes effect at once: the person is no
// longer among those alerted about their organisation's events.
func TestObjectionStopsNotificationsAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		alerted := func() bool {
			var found bool
			err := d.InTx(ctx, func(tx *db.Tx) error {
				to, err := f.accounts.AlertRecipients(ctx, tx, "RM1", 0, true, false, false)
				for _, a := range to {
					found = found || a.Email == f.other.Email
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return found
		}
		if !alerted() {
			t.Fatal("the reviewer is not alerted before objecting")
		}
		req, err := f.svc.Ask(ctx, f.as(f.other), rights.Objection, "")
		if err != nil {
			t.Fatal(err)
		}
		if req.Status != rights.Completed {
			t.Errorf("objection status %s, want completed at once", req.Status)
		}
		if alerted() {
			t.Error("the reviewer is still alerted after objecting")
		}
		if a, _ := f.lastAudit(t); a != "rights.objected" {
			t.Errorf("audit %q", a)
		}
		if s := f.lastMail(t, f.other.Email); !strings.Contains(s, "not be contacted") {
			t.Errorf("confirmation %q", s)
		}
		if err := f.svc.Withdraw(ctx, f.as(f.other), req.ID); err != nil {
			t.Fatal(err)
		}
		if !alerted() {
			t.Error("the reviewer is not alerted after withdrawing the objection")
		}
	})
}

// kept are the user-referencing columns that may still hold an erased
// person's id after erasure: records that stay, pointing at the tombstone,
// which names nobody. Every other user-referencing column must hold it
// nowhere.
var kept = map[string]bool{
	"audit_log.actor_user_id": true, "events.reporter_id": true, "event_versions.author_id": true,
	"review_notes.author_id": true, "review_note_versions.author_id": true, "feedback_replies.author_id": true,
	"library_documents.created_by": true, "library_versions.uploaded_by": true, "documents.published_by": true,
	"rights_requests.user_id": true, "rights_requests.closed_by": true, "rights_requests.lifted_by": true,
	"rights_request_notes.author_id": true,
	// Concern reports are the operator's record of a breach or of
	// unauthorised access (T5): the reporter signed in, the account named
	// and whoever worked the report stay as the tombstone; an address typed
	// signed out is blanked (concern.EraseReporterAddress).
	"concern_reports.reporter_id": true, "concern_reports.named_user_id": true, "concern_reports.closed_by": true,
	"concern_entries.author_id": true,
	// A disclosure a national admin made about someone else.
	"data_exports.requested_by": true,
	// A cursor of the terms-change notices, not about anyone.
	"document_notices.last_user_id": true,
	// A newsletter's author stays as the tombstone, like a document's
	// publisher; its cursor is a position in the list of users, not
	// about anyone (issue 14, P7).
	"newsletters.author_id": true, "newsletters.cursor_user_id": true,
	// Who registered or revoked a data sharing agreement, and who exported
	// under one, is the operator's record of what was shared (T4, T15).
	"sharing_agreements.created_by": true, "sharing_agreements.revoked_by": true, "sharing_exports.user_id": true,
	// Who created a publication or put a name on its pre-release list is
	// the operator's record of the statistics (T16); the list itself is
	// kept by address and erased by it (stats.ErasePreReleaseAddress).
	"statistics_publications.created_by": true, "statistics_prerelease.added_by": true,
}

// erased are the user-referencing columns erasure clears of the person.
var erased = map[string]bool{
	"user_tokens.user_id": true, "sessions.user_id": true, "read_grants.user_id": true, "read_grants.granted_by": true,
	"access_requests.user_id": true, "access_requests.decided_by": true, "acceptances.user_id": true,
	"consents.user_id": true, "consent_history.user_id": true, "drafts.user_id": true,
	"notification_preferences.user_id": true, "usage_events.user_id": true, "usage_user_days.user_id": true,
	"usage_user_periods.user_id": true, "feedback_items.user_id": true, "feedback_items.assignee_id": true,
	"events.assignee_id": true, "data_exports.user_id": true,
	// Their authenticator app and recovery codes go.
	"totp_factors.user_id": true, "recovery_codes.user_id": true, "passkeys.user_id": true, "webauthn_ceremonies.user_id": true,
	"remembered_devices.user_id": true,
	// Their provider sign-ins, and any sign-in started to link one.
	"oidc_identities.user_id": true, "oidc_logins.link_user_id": true,
	// An erased person extracts nothing more under any agreement.
	"sharing_agreement_recipients.user_id": true,
	// Dormancy exemptions they granted stay, granted by nobody in particular.
	"users.exemption_by": true,
	// API keys they created or revoked stay the organisation's, made and
	// revoked by nobody in particular; the audit log keeps who.
	"api_keys.created_by": true, "api_keys.revoked_by": true,
}

type column struct{ table, name, kind string }

// columns lists every column of our tables (not River's) on the engine.
func columns(t *testing.T, d *db.DB) []column {
	t.Helper()
	ctx := context.Background()
	var out []column
	if d.Dialect().Engine == db.PostgreSQL {
		rows, err := d.QueryContext(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name NOT LIKE 'river%' ORDER BY table_name, ordinal_position`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var c column
			if err := rows.Scan(&c.table, &c.name, &c.kind); err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		return out
	}
	rows, err := d.QueryContext(ctx, `SELECT m.name, p.name, p.type FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'river%' AND m.name NOT LIKE 'sqlite%' AND m.name NOT LIKE '%fts%'
		ORDER BY m.name, p.cid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.table, &c.name, &c.kind); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// refersToUser reports whether a column, by its name, holds a user's id.
func refersToUser(c column) bool {
	n := c.name
	return n == "user_id" || strings.HasSuffix(n, "_user_id") || strings.HasSuffix(n, "_by") ||
		n == "reporter_id" || n == "author_id" || n == "assignee_id"
}

// P15: erasure leaves no trace of the person in any table: every column
// that refers to a user is either cleared of them or points at the
// tombstone; neither their email nor their name is in any text column but
// the one outcome email; events they recorded stay and show the reporter
// as an erased user; the audit chain still verifies; they cannot sign in
// and their address can register afresh. A new table with a user column
// fails this test until erasure covers it.
func TestErasureLeavesNoTraceOfThePerson(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		for _, c := range columns(t, d) {
			if refersToUser(c) && !kept[c.table+"."+c.name] && !erased[c.table+"."+c.name] {
				t.Errorf("%s.%s refers to a user but erasure does not say what becomes of it: handle it in the owner's erase.go and list it here", c.table, c.name)
			}
		}
		ann := f.ann.ID
		// Something of the person in every table that can hold it.
		if _, err := f.accounts.SignIn(ctx, f.ann.Email, goodPassword, account.Client{IP: "192.0.2.7", UserAgent: "Firefox"}); err != nil {
			t.Fatal(err)
		}
		f.exec(t, `INSERT INTO user_tokens (token_hash, user_id, purpose, created_at, expires_at) VALUES ('h1', $1, 'reset', $2, $2)`, ann, f.now)
		f.exec(t, `INSERT INTO read_grants (user_id, org_ods, granted_by, granted_at) VALUES ($1, 'RM1', $2, $3)`, f.other.ID, ann, f.now)
		f.exec(t, `INSERT INTO totp_factors (user_id, sealed, created_at, confirmed_at) VALUES ($1, $2, $3, $3)`, ann, []byte("sealed"), f.now)
		f.exec(t, `INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, 'h2')`, ann)
		f.exec(t, `INSERT INTO passkeys (user_id, credential_id, credential, name, created_at) VALUES ($1, $2, '{}', 'Ann Quill phone', $3)`, ann, []byte("cred"), f.now)
		f.exec(t, `INSERT INTO remembered_devices (user_id, token_hash, created_at, expires_at, ip, user_agent) VALUES ($1, 'h4', $2, $2, '192.0.2.7', 'Firefox')`, ann, f.now)
		f.exec(t, `INSERT INTO webauthn_ceremonies (token_hash, user_id, purpose, data, expires_at) VALUES ('h3', $1, 'register', '{}', $2)`, ann, f.now)
		f.exec(t, `INSERT INTO oidc_identities (user_id, provider, issuer, subject, created_at) VALUES ($1, 'cis2', 'https://cis2.example', 'ann-sub', $2)`, ann, f.now)
		f.exec(t, `INSERT INTO oidc_logins (state_hash, provider, nonce, verifier, next, link_user_id, expires_at) VALUES ('h5', 'cis2', 'n', 'v', '/account', $1, $2)`, ann, f.now)
		f.exec(t, `INSERT INTO oidc_held_identities (token_hash, provider, issuer, subject, email, name, org_codes, mfa, sid, expires_at)
			VALUES ('h6', 'okta', 'https://okta.example', 'ann-okta', $1, 'Ann Quill', 'RM1', FALSE, 's', $2)`, f.ann.Email, f.now)
		f.exec(t, `INSERT INTO access_requests (user_id, kind, requested_role, org_ods, status, created_at, decided_by) VALUES ($1, 'role', 'reviewer', 'RM1', 'approved', $2, $3)`, f.other.ID, f.now, ann)
		f.exec(t, `INSERT INTO access_requests (user_id, kind, requested_role, org_ods, status, created_at) VALUES ($1, 'role', 'reviewer', 'RM1', 'pending', $2)`, ann, f.now)
		f.exec(t, `INSERT INTO documents (kind, version, body, html, summary, material, published_at, published_by)
			VALUES ('terms', 1, 'Terms', '<p>Terms</p>', '', TRUE, $1, $2)`, f.now, ann)
		f.exec(t, `INSERT INTO acceptances (user_id, kind, version, accepted_at, ip, user_agent) VALUES ($1, 'terms', 1, $2, '192.0.2.7', 'Firefox')`, ann, f.now)
		f.exec(t, `INSERT INTO consents (user_id, purpose, granted, updated_at) VALUES ($1, 'usage_analysis', TRUE, $2)`, ann, f.now)
		f.exec(t, `INSERT INTO consent_history (user_id, purpose, granted, changed_at, privacy_version, ip) VALUES ($1, 'usage_analysis', TRUE, $2, 1, '192.0.2.7')`, ann, f.now)
		f.exec(t, `INSERT INTO notification_preferences (user_id, severe_harm, never_event, public_report, updated_at) VALUES ($1, TRUE, TRUE, TRUE, $2)`, ann, f.now)
		f.exec(t, `INSERT INTO drafts (user_id, event_type, answers, created_at, updated_at) VALUES ($1, 'incident', '{}', $2, $2)`, ann, f.now)
		f.exec(t, `INSERT INTO sharing_agreements (reference, recipient, purpose, legal_basis, special_basis, starts_on, ends_on, fields,
			all_orgs, approver_name, approver_role, approved_on, created_by, created_at, updated_at)
			VALUES ('DSA-2026-001', 'A body', 'Learning', 'art6-1e', 'art9-2h', $1, $1, 'reference', TRUE, 'A N Other', 'SIRO', $1, $2, $1, $1)`, f.now, ann)
		f.exec(t, `INSERT INTO sharing_agreement_recipients (agreement_id, user_id) SELECT id, $1 FROM sharing_agreements`, ann)
		f.exec(t, `INSERT INTO api_keys (org_ods, name, prefix, key_hash, created_by, created_at, revoked_at, revoked_by)
			VALUES ('RM1', 'Datix', 'psims_abcdef', 'h', $1, $2, $2, $1)`, ann, f.now)
		f.exec(t, `INSERT INTO statistics_publications (title, period_start, period_end, basis, release_at, status, rules, created_by, created_at, updated_at)
			VALUES ('Statistics', '2026-04-01', '2026-09-30', 'occurred', $1, 'draft', '{}', $2, $1, $1)`, f.now, ann)
		f.exec(t, `INSERT INTO statistics_prerelease (publication_id, email, added_by, added_at) SELECT id, $1, $2, $3 FROM statistics_publications`,
			f.ann.Email, ann, f.now)
		f.exec(t, `INSERT INTO usage_events (at, kind, route, status, user_id, org_ods, session_hash, ip, browser, browser_major) VALUES ($1, 'page', 'GET /', 200, $2, 'RM1', 's', '192.0.2.7', 'Firefox', 120)`, f.now, ann)
		f.exec(t, `INSERT INTO usage_user_days (org_ods, day, user_id, sign_ins, page_views, documents, mask, last_at) VALUES ('RM1', '2026-12-05', $1, 1, 1, 0, 1, $2)`, ann, f.now)
		f.exec(t, `INSERT INTO usage_user_periods (org_ods, period, start, user_id, mask) VALUES ('RM1', 'week', '2026-11-30', $1, 1)`, ann)
		f.exec(t, `INSERT INTO feedback_items (user_id, kind, page, body, may_reply, status, created_at, updated_at, waiting_since) VALUES ($1, 'question', '/', 'Signed Ann Quill', TRUE, 'new', $2, $2, $2)`, ann, f.now)
		f.exec(t, `INSERT INTO feedback_replies (item_id, author_id, body, emailed, created_at) SELECT id, $1, 'Thanks', FALSE, $2 FROM feedback_items`, f.admin.ID, f.now)
		f.exec(t, `INSERT INTO events (reference, event_type, org_ods, source, reporter_id, occurred_from, occurred_to, submitted_at, version, updated_at, sharing_opt_out, statement_version, assignee_id)
			VALUES ('PSE-TEST-1', 'incident', 'RM1', 'staff', $1, $2, $2, $2, 1, $2, FALSE, 1, $1)`, ann, f.now)
		f.exec(t, `INSERT INTO event_versions (event_id, version, author_id, created_at, reason, answers) SELECT id, 1, $1, $2, '', '{}' FROM events`, ann, f.now)
		f.exec(t, `INSERT INTO review_notes (event_id, author_id, created_at, updated_at, version, body) SELECT id, $1, $2, $2, 1, 'Looked at it' FROM events`, ann, f.now)
		f.exec(t, `INSERT INTO data_exports (public_id, user_id, requested_by, kind, format, status, content, created_at, expires_at)
			VALUES ('x1', $1, $1, 'self', 'psims-personal-data/1', 'ready', $2, $3, $3)`, ann, []byte("Ann Quill"), f.now)
		f.exec(t, `INSERT INTO concern_reports (kind, body, reporter_id, reporter_name, reporter_email, named_user_id, named_email, status,
			outcome, outcome_text, created_at, due_at) VALUES ('unauthorised-access', 'Someone used my account', NULL, 'Ann Quill', $1, $2, '', 'open', '', '', $3, $3)`,
			strings.ToUpper(f.ann.Email), f.other.ID, f.now)

		if err := f.accounts.RequestReset(ctx, f.ann.Email, "192.0.2.7"); err != nil {
			t.Fatal(err)
		}
		var resetJobs int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'password_reset_link'`).Scan(&resetJobs); err != nil || resetJobs != 1 {
			t.Fatalf("%d password reset jobs before erasure (%v), want 1", resetJobs, err)
		}
		if _, err := f.svc.Ask(ctx, f.as(f.ann), rights.Restriction, ""); err != nil {
			t.Fatal(err)
		}
		req, err := f.svc.Ask(ctx, f.as(f.ann), rights.Erasure, "I am leaving the NHS")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Complete(ctx, f.as(f.ann), req.ID); err == nil {
			t.Fatal("a person completed their own erasure")
		}
		if err := f.svc.Complete(ctx, f.as(f.admin), req.ID); err != nil {
			t.Fatal(err)
		}

		for _, c := range columns(t, d) {
			key := c.table + "." + c.name
			if !erased[key] {
				continue
			}
			var n int
			if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+c.table+` WHERE `+c.name+` = $1`, ann).Scan(&n); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			if n != 0 {
				t.Errorf("%s still holds the erased person in %d rows", key, n)
			}
		}
		for _, c := range columns(t, d) {
			k := strings.ToLower(c.kind)
			if !strings.Contains(k, "text") && !strings.Contains(k, "char") {
				continue
			}
			for _, s := range []string{"ann.quill", "Ann Quill", "leaving the NHS"} {
				var n int
				if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+c.table+` WHERE `+c.name+` LIKE $1`, "%"+s+"%").Scan(&n); err != nil {
					t.Fatalf("%s.%s: %v", c.table, c.name, err)
				}
				if c.table == "outbox" && n == 1 {
					continue // the outcome email, checked below
				}
				if n != 0 {
					t.Errorf("%s.%s holds %q in %d rows", c.table, c.name, s, n)
				}
			}
		}
		var jobsNaming, open int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'password_reset_link'`).Scan(&jobsNaming); err != nil || jobsNaming != 0 {
			t.Errorf("%d password reset jobs naming the erased person are kept (%v)", jobsNaming, err)
		}
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM rights_requests WHERE user_id = $1 AND status IN ('received', 'in_progress', 'extended')`, ann).Scan(&open); err != nil || open != 0 {
			t.Errorf("%d requests of the erased person are still open (%v)", open, err)
		}
		var subjects []string
		rows, err := d.QueryContext(ctx, `SELECT subject FROM outbox WHERE to_addr = $1`, f.ann.Email)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			rows.Scan(&s)
			subjects = append(subjects, s)
		}
		rows.Close()
		if len(subjects) != 1 || !strings.Contains(subjects[0], "erased") {
			t.Errorf("emails to the erased person: %q, want the outcome alone", subjects)
		}
		action, details := f.lastAudit(t)
		if action != "rights.completed" || strings.Contains(details, "ann") || !strings.Contains(details, `"usage_events":"1"`) {
			t.Errorf("erasure audit row %s %s: want counts and nothing personal", action, details)
		}
		if _, p, err := audit.Verify(ctx, d); err != nil || p != nil {
			t.Errorf("audit chain after erasure: %v %+v", err, p)
		}
		var reporter int64
		if err := d.QueryRowContext(ctx, `SELECT reporter_id FROM events WHERE reference = 'PSE-TEST-1'`).Scan(&reporter); err != nil {
			t.Fatalf("the event is gone: %v", err)
		}
		tomb, err := f.accounts.UserWithOrg(ctx, reporter)
		if err != nil || tomb.Status != account.StatusErased || tomb.Name != "" || tomb.Email == f.ann.Email {
			t.Errorf("the event's reporter is %+v (%v), want a tombstone", tomb, err)
		}
		res, err := f.accounts.SignIn(ctx, f.ann.Email, goodPassword, account.Client{IP: "192.0.2.7"})
		if apperr.CodeOf(err) != apperr.Unauthorized || res.Outcome != account.OutcomeFailed {
			t.Errorf("the erased person signs in: %+v %v", res.Outcome, err)
		}
		day := f.now
		again, err := f.accounts.Create(ctx, account.NewUser{Email: f.ann.Email, Name: "Ann Quill", JobRole: "Nurse", OrgCode: "RM1",
			Role: account.RoleReporter, Password: goodPassword, IGTrainingOn: &day})
		if err != nil || again.ID == ann {
			t.Errorf("registering the address afresh: %+v %v, want a new person", again.ID, err)
		}
	})
}
