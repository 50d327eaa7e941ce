package incident_test

import (
	"context"
	"errors"
	"testing"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
)

// TestASystemRecordsAndChangesOnlyItsOrganisationsEvents: a record sent
// by a system is stored as the system's, with its key on the version; it
// may change its organisation's events but not a public report (whose
// words are the person's), another organisation's event (not found) or an
// event's type.
func TestASystemRecordsAndChangesOnlyItsOrganisationsEvents(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRecorderFixture(t, d)
		ctx := context.Background()
		if _, err := d.ExecContext(ctx, `INSERT INTO api_keys (org_ods, name, prefix, key_hash, created_at)
			VALUES ('RM1', 'Datix', 'psims_abcdef', 'h1', $1)`, d.Now()); err != nil {
			t.Fatal(err)
		}
		var key int64
		if err := d.QueryRowContext(ctx, `SELECT id FROM api_keys`).Scan(&key); err != nil {
			t.Fatal(err)
		}
		res, err := f.gen.Answers(incident.Incident, "RM1", d.Now())
		if err != nil {
			t.Fatal(err)
		}
		rec := incident.SystemRecord{Type: incident.Incident, Answers: res.Answers, Org: "RM1", KeyID: key}
		ev, err := f.rec.SubmitSystem(ctx, rec, incident.Client{})
		if err != nil {
			t.Fatal(err)
		}
		versions, err := f.events.Versions(ctx, ev.ID)
		if err != nil || ev.Source != incident.System || ev.ReporterID != 0 || versions[0].KeyID != key || versions[0].AuthorID != 0 {
			t.Fatalf("stored as %+v, versions %+v, %v", ev, versions, err)
		}

		if _, err := f.rec.SubmitSystem(ctx, incident.SystemRecord{Type: incident.Incident, Answers: res.Answers, Org: "X26", KeyID: key},
			incident.Client{}); !errors.As(err, new(apperr.Fields)) || err.(apperr.Fields)[0] != incident.ErrOtherOrganisation[0] {
			t.Fatalf("another organisation's key: %v", err)
		}
		other := rec
		other.Org = "X26"
		if _, err := f.rec.AmendSystem(ctx, incident.SystemAmendment{EventID: ev.ID, Record: other}, incident.Client{}); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("changing another organisation's event: %v", err)
		}
		risk := rec
		risk.Type = incident.Risk
		if _, err := f.rec.AmendSystem(ctx, incident.SystemAmendment{EventID: ev.ID, Record: risk}, incident.Client{}); !errors.As(err, new(apperr.Fields)) {
			t.Fatalf("changing the type: %v", err)
		}
		public, err := f.rec.SubmitPublic(ctx, incident.PublicReport{Answers: f.public(t, "RM1"), StatementVersion: f.statement(t)}, incident.Client{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.rec.AmendSystem(ctx, incident.SystemAmendment{EventID: public.ID, Record: rec}, incident.Client{}); !errors.Is(err, incident.ErrPublicWords) {
			t.Fatalf("changing a public report: %v", err)
		}
		if _, err := f.rec.AmendSystem(ctx, incident.SystemAmendment{EventID: ev.ID, Base: 7, Record: rec}, incident.Client{}); !errors.Is(err, incident.ErrChangedMeanwhile) {
			t.Fatalf("a stale base: %v", err)
		}
	})
}
