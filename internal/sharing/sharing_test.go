package sharing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/taxonomy"
)

// fixture is a database with three organisations, a national admin, a
// recipient and another user, a few events, and a clock tests move.
type fixture struct {
	db                  *db.DB
	svc                 *Service
	events              *incident.Service
	admin, recip, other int64
	clock               time.Time
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: d, events: incident.NewService(d), clock: time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)}
	d.SetClock(func() time.Time { return f.clock })
	f.svc = NewService(d, incident.ExportFields(nil))
	for _, o := range []string{"X26", "RM1", "D82044"} {
		if _, err := d.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ($1, $1, $2, $2)`, o, f.clock); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []struct {
		id          *int64
		email, role string
	}{{&f.admin, "admin@nhs.net", "national-admin"}, {&f.recip, "analyst@nhs.net", "read-only"}, {&f.other, "other@nhs.net", "read-only"}} {
		err := d.WriteRowContext(ctx, `INSERT INTO users (email, name, job_role, org_ods, role, status, password_hash, created_at, updated_at)
			VALUES ($1, $1, 'Analyst', 'X26', $2, 'active', 'x', $3, $3) RETURNING id`, p.email, p.role, f.clock).Scan(p.id)
		if err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// event submits an event of org, opted out of sharing or not.
func (f *fixture) event(t *testing.T, org string, optOut bool) incident.Event {
	t.Helper()
	day := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	ev, err := f.events.Submit(context.Background(), incident.Submission{Type: incident.Incident, OrgCode: org, Source: incident.Staff,
		ReporterID: f.other, OccurredFrom: day, OccurredTo: day, Answers: incident.Answers{"AdverseEvent.description": {"A fall."}},
		Index: incident.Index{PhysicalHarm: "5", ServiceType: "1"}, StatementVersion: 1, SharingOptOut: optOut}, incident.Client{})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func draft() Draft {
	return Draft{Recipient: "Healthcare Safety Investigation Branch", Purpose: "National learning about falls in hospital",
		LegalBasis: "art6-1e", SpecialBasis: "art9-2i", StartsOn: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
		EndsOn: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC), Fields: []string{"reference", "service_type", "physical_harm"},
		Orgs: "RM1, rm1\nD82044", ApproverName: "Dr Asha Patel", ApproverRole: "Caldicott Guardian",
		ApprovedOn: time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC), Recipients: "Analyst@nhs.net"}
}

func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	var fields apperr.Fields
	if !errors.As(err, &fields) {
		t.Fatalf("want field errors, got %v", err)
	}
	m := map[string]string{}
	for _, f := range fields {
		m[f.Field] = f.Message
	}
	return m
}

var by = Actor{IP: "192.0.2.7"}

func TestListsGiveEachAgreementItsOwnOrganisationsAndRecipients(t *testing.T) { // T15
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		first, second := draft(), draft()
		second.Orgs, second.Recipients = "X26", "other@nhs.net\nanalyst@nhs.net"
		for _, dr := range []Draft{first, second} {
			if _, err := f.svc.Create(ctx, by, dr); err != nil {
				t.Fatal(err)
			}
		}
		emails := func(a Agreement) []string {
			var out []string
			for _, r := range a.Recipients {
				out = append(out, r.Email)
			}
			return out
		}
		list, err := f.svc.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || !slices.Equal(list[0].Orgs, []string{"X26"}) || !slices.Equal(emails(list[0]), []string{"analyst@nhs.net", "other@nhs.net"}) ||
			!slices.Equal(list[1].Orgs, []string{"D82044", "RM1"}) || !slices.Equal(emails(list[1]), []string{"analyst@nhs.net"}) {
			t.Fatalf("list = %+v", list)
		}
		mine, err := f.svc.ForRecipient(ctx, f.other)
		if err != nil {
			t.Fatal(err)
		}
		if len(mine) != 1 || mine[0].ID != list[0].ID || !slices.Equal(mine[0].Orgs, []string{"X26"}) || len(mine[0].Recipients) != 2 {
			t.Fatalf("the other user's agreements = %+v", mine)
		}
	})
}

func TestAnAgreementIsRegisteredWithAReferenceAndAudited(t *testing.T) { // T15
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		id, err := f.svc.Create(ctx, Actor{ID: f.admin, IP: by.IP}, draft())
		if err != nil {
			t.Fatal(err)
		}
		a, err := f.svc.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if a.Reference != "DSA-2026-001" || !slices.Equal(a.Orgs, []string{"D82044", "RM1"}) || a.AllOrgs ||
			len(a.Recipients) != 1 || a.Recipients[0].UserID != f.recip || !slices.Equal(a.Fields, []string{"reference", "physical_harm", "service_type"}) {
			t.Fatalf("agreement %+v", a)
		}
		if a.StatusAt(f.clock) != InForce || a.StatusAt(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)) != Expired ||
			a.StatusAt(time.Date(2026, 5, 31, 23, 59, 0, 0, time.UTC)) != NotYetInForce || a.StatusAt(time.Date(2026, 6, 30, 23, 59, 0, 0, time.UTC)) != InForce {
			t.Fatal("status by date is wrong")
		}
		id2, err := f.svc.Create(ctx, by, draft())
		if err != nil {
			t.Fatal(err)
		}
		if a2, _ := f.svc.Get(ctx, id2); a2.Reference != "DSA-2026-002" {
			t.Fatalf("second reference %q", a2.Reference)
		}
		rows, err := audit.List(ctx, d, "sharing_agreement", "1", 5)
		if err != nil || len(rows) != 1 || rows[0].Action != "sharing.create" || rows[0].ActorID != f.admin ||
			rows[0].Details["reference"] != "DSA-2026-001" || rows[0].Details["orgs"] != "D82044 RM1" {
			t.Fatalf("audit %+v, %v", rows, err)
		}

		// Changed while unused, then revoked with a reason.
		changed := draft()
		changed.AllOrgs, changed.Purpose = true, "National learning about falls"
		if err := f.svc.Update(ctx, by, id, changed); err != nil {
			t.Fatal(err)
		}
		if a, _ := f.svc.Get(ctx, id); !a.AllOrgs || len(a.Orgs) != 0 || a.Purpose != changed.Purpose {
			t.Fatalf("changed %+v", a)
		}
		if err := f.svc.Revoke(ctx, by, id, ""); fieldsOf(t, err)["reason"] == "" {
			t.Fatal("revoked without a reason")
		}
		if err := f.svc.Revoke(ctx, by, id, "The recipient asked to end it"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Revoke(ctx, by, id, "Again"); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("revoked twice: %v", err)
		}
		if err := f.svc.Update(ctx, by, id, changed); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("a revoked agreement changed: %v", err)
		}
		if a, _ := f.svc.Get(ctx, id); a.StatusAt(f.clock) != Revoked || a.RevokeReason != "The recipient asked to end it" {
			t.Fatalf("revoked %+v", a)
		}
		rows, _ = audit.List(ctx, d, "sharing_agreement", "1", 5)
		if len(rows) != 3 || rows[0].Action != "sharing.revoke" || rows[1].Action != "sharing.update" {
			t.Fatalf("audit %+v", rows)
		}
	})
}

func TestBadDraftsAreRefusedFieldByField(t *testing.T) { // T12 T15
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		cases := []struct {
			name, field string
			edit        func(*Draft)
		}{
			{"no recipient", "recipient", func(d *Draft) { d.Recipient = " " }},
			{"an NHS number in the purpose", "purpose", func(d *Draft) { d.Purpose = "About the fall of 943 476 5919" }},
			{"a postcode in the recipient", "recipient", func(d *Draft) { d.Recipient = "Team at LS1 4AP" }},
			{"an unknown legal basis", "legal_basis", func(d *Draft) { d.LegalBasis = "consent" }},
			{"no Article 9 choice", "special_basis", func(d *Draft) { d.SpecialBasis = "" }},
			{"an end before the start", "ends_on", func(d *Draft) { d.EndsOn = d.StartsOn.AddDate(0, 0, -1) }},
			{"no start", "starts_on", func(d *Draft) { d.StartsOn = time.Time{} }},
			{"no fields", "fields", func(d *Draft) { d.Fields = nil }},
			{"an unknown field", "fields", func(d *Draft) { d.Fields = append(d.Fields, "nhs_number") }},
			{"an unknown organisation", "orgs", func(d *Draft) { d.Orgs = "RM1 ZZZ99" }},
			{"a malformed organisation", "orgs", func(d *Draft) { d.Orgs = "not-a-code!" }},
			{"no organisations", "orgs", func(d *Draft) { d.Orgs = "" }},
			{"an unknown recipient account", "recipients", func(d *Draft) { d.Recipients = "nobody@nhs.net" }},
			{"a malformed recipient", "recipients", func(d *Draft) { d.Recipients = "not an address" }},
			{"an approval in the future", "approved_on", func(d *Draft) { d.ApprovedOn = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) }},
			{"no approver", "approver_name", func(d *Draft) { d.ApproverName = "" }},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				dr := draft()
				c.edit(&dr)
				_, err := f.svc.Create(ctx, by, dr)
				if msg := fieldsOf(t, err)[c.field]; msg == "" {
					t.Fatalf("no problem with %s: %v", c.field, err)
				}
				if c.field == "purpose" && strings.Contains(err.Error(), "943") {
					t.Fatal("the message repeats the identifier")
				}
			})
		}
		if list, err := f.svc.List(ctx); err != nil || len(list) != 0 {
			t.Fatalf("stored %d, %v", len(list), err)
		}
	})
}

func TestOnlyAPDFIsKeptAsTheSignedAgreement(t *testing.T) { // T15
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		id, err := f.svc.Create(ctx, by, draft())
		if err != nil {
			t.Fatal(err)
		}
		for name, content := range map[string][]byte{"agreement.pdf": []byte("<html><body>not a pdf</body></html>"),
			"empty.pdf": nil, "big.pdf": append([]byte("%PDF-1.7\n"), make([]byte, MaxDocument)...),
			"word.pdf": []byte("PK\x03\x04 a zip")} {
			err := f.svc.AttachDocument(ctx, by, id, Upload{FileName: name, Content: bytes.NewReader(content)})
			if fieldsOf(t, err)["file"] == "" {
				t.Errorf("%s taken: %v", name, err)
			}
		}
		if _, _, err := f.svc.OpenDocument(ctx, id); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("a document before any upload: %v", err)
		}
		pdf := []byte("%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
		if err := f.svc.AttachDocument(ctx, Actor{ID: f.admin}, id, Upload{FileName: `C:\signed\DSA.pdf`, Content: bytes.NewReader(pdf)}); err != nil {
			t.Fatal(err)
		}
		doc, content, err := f.svc.OpenDocument(ctx, id)
		sum := sha256.Sum256(pdf)
		if err != nil || !bytes.Equal(content, pdf) || doc.Name != "DSA.pdf" || doc.SHA256 != hex.EncodeToString(sum[:]) || doc.Size != int64(len(pdf)) {
			t.Fatalf("document %+v, %v", doc, err)
		}
		rows, _ := audit.List(ctx, d, "sharing_agreement", "1", 5)
		if len(rows) != 2 || rows[0].Action != "sharing.document_upload" || rows[0].Details["sha256"] != doc.SHA256 {
			t.Fatalf("audit %+v", rows)
		}
	})
}

// exportUnder runs an export of scope under x, as the web does, and
// returns the CSV records and the error.
func (f *fixture) exportUnder(t *testing.T, tax *taxonomy.Taxonomy, x Extract) ([][]string, int, error) {
	t.Helper()
	var out bytes.Buffer
	scope := incident.Scope{All: x.All, Orgs: x.Orgs}
	n, err := f.svc.Export(context.Background(), x, func(a Agreement, opts incident.ExportOptions) (int, error) {
		return f.events.Export(context.Background(), tax, scope, incident.Filter{Sort: incident.SubmittedOldest}, nil, opts, x.UserID,
			incident.Client{}, &out)
	})
	if err != nil {
		return nil, n, err
	}
	r := csv.NewReader(&out)
	r.FieldsPerRecord = -1
	records, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return records, n, nil
}

func TestExportsRunOnlyUnderAnAgreementInForce(t *testing.T) { // T4 T15 T17
	tax, err := taxonomy.Load()
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		shared := f.event(t, "RM1", false)
		f.event(t, "RM1", true)
		f.event(t, "X26", false)
		id, err := f.svc.Create(ctx, by, draft())
		if err != nil {
			t.Fatal(err)
		}
		rm1 := Extract{AgreementID: id, UserID: f.recip, Orgs: []string{"RM1"}}

		refused := map[string]Extract{
			"for organisations it does not cover": {AgreementID: id, UserID: f.recip, Orgs: []string{"RM1", "X26"}},
			"for every organisation":              {AgreementID: id, UserID: f.admin, National: true, All: true},
			"for someone it does not name":        {AgreementID: id, UserID: f.other, Orgs: []string{"RM1"}},
		}
		for name, x := range refused {
			if _, _, err := f.exportUnder(t, tax, x); apperr.CodeOf(err) != apperr.Forbidden {
				t.Errorf("export %s: %v", name, err)
			}
		}
		if _, _, err := f.exportUnder(t, tax, Extract{AgreementID: id + 100, UserID: f.recip}); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("export under no agreement: %v", err)
		}

		// In force: only the permitted fields, without the opted-out
		// event, labelled, audited and logged.
		records, n, err := f.exportUnder(t, tax, rm1)
		if err != nil || n != 1 {
			t.Fatalf("export: %d rows, %v", n, err)
		}
		if !slices.Equal(records[0], []string{"Data sharing agreement DSA-2026-001"}) || records[1][0] != "Recipient: Healthcare Safety Investigation Branch" ||
			!slices.Contains(records[len(records)-3], TermsLine) {
			t.Fatalf("label lines:\n%q", records)
		}
		header, row := records[len(records)-2], records[len(records)-1]
		if !slices.Equal(header, []string{"Reference", "Physical harm", "Service type"}) || row[0] != string(shared.Reference) {
			t.Fatalf("header %q row %q", header, row)
		}
		if log, err := f.svc.Exports(ctx, id, 10); err != nil || len(log) != 1 || log[0].UserID != f.recip || log[0].Rows != 1 ||
			log[0].Scope != "RM1" || log[0].Incomplete {
			t.Fatalf("log %+v, %v", log, err)
		}
		rows, err := audit.List(ctx, d, "events", "RM1", 5)
		if err != nil || len(rows) != 1 || rows[0].Details["agreement"] != "DSA-2026-001" || rows[0].Details["rows"] != "1" ||
			rows[0].Details["fields"] != "reference,physical_harm,service_type" {
			t.Fatalf("audit %+v, %v", rows, err)
		}
		// Used: no longer changeable.
		if err := f.svc.Update(ctx, by, id, draft()); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("a used agreement changed: %v", err)
		}
		// A national admin need not be named.
		if _, n, err := f.exportUnder(t, tax, Extract{AgreementID: id, UserID: f.admin, National: true, Orgs: []string{"RM1", "D82044"}}); err != nil || n != 1 {
			t.Fatalf("national export: %d, %v", n, err)
		}

		// The database clock decides: before the start and after the end,
		// nothing is exported; usable lists follow.
		for _, at := range []time.Time{time.Date(2026, 5, 31, 23, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 0, 0, 1, 0, time.UTC)} {
			f.clock = at
			if _, _, err := f.exportUnder(t, tax, rm1); apperr.CodeOf(err) != apperr.Forbidden {
				t.Errorf("export at %v: %v", at, err)
			}
			if list, err := f.svc.Usable(ctx, f.recip, false, false, []string{"RM1"}); err != nil || len(list) != 0 {
				t.Errorf("usable at %v: %d, %v", at, len(list), err)
			}
		}
		f.clock = time.Date(2026, 6, 30, 23, 59, 0, 0, time.UTC)
		if list, err := f.svc.Usable(ctx, f.recip, false, false, []string{"RM1"}); err != nil || len(list) != 1 {
			t.Fatalf("usable on the last day: %d, %v", len(list), err)
		}
		if list, _ := f.svc.Usable(ctx, f.other, false, false, []string{"RM1"}); len(list) != 0 {
			t.Fatal("usable by someone not named")
		}
		if list, _ := f.svc.Usable(ctx, f.admin, true, true, nil); len(list) != 0 {
			t.Fatal("usable for every organisation")
		}
		if err := f.svc.Revoke(ctx, by, id, "Ended early"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.exportUnder(t, tax, rm1); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("export under a revoked agreement: %v", err)
		}
		if log, _ := f.svc.Exports(ctx, id, 10); len(log) != 2 {
			t.Fatalf("refused exports were logged: %+v", log)
		}
	})
}

// The signed agreement's check takes any bytes and any name without
// panicking, and keeps only a PDF, under a name ending .pdf.
func FuzzReadPDF(f *testing.F) {
	f.Add("agreement.pdf", []byte("%PDF-1.7\n%%EOF\n"))
	f.Add(`C:\x\y.PDF`, []byte("%PDF-"))
	f.Add("", []byte("<html>"))
	f.Add("a\x00b", []byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, name string, content []byte) {
		got, kept, problem := readPDF(Upload{FileName: name, Content: bytes.NewReader(content)})
		if problem != "" {
			if kept != nil || got != "" {
				t.Fatalf("refused %q but kept it", name)
			}
			return
		}
		if !bytes.HasPrefix(kept, []byte("%PDF-")) || !bytes.Equal(kept, content) || !strings.HasSuffix(strings.ToLower(got), ".pdf") ||
			strings.ContainsAny(got, "/\\\"\r\n") {
			t.Fatalf("kept %q as %q", content, got)
		}
	})
}
