package usage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/jobs"
	"github.com/psims/psims/internal/terms"
)

// directory names people from the users table, as account.Service does.
type directory struct{ db *db.DB }

func (d directory) Contact(ctx context.Context, id int64) (string, string, error) {
	var name, email string
	err := d.db.QueryRowContext(ctx, `SELECT name, email FROM users WHERE id = $1`, id).Scan(&name, &email)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", apperr.New(apperr.NotFound, "No such account.")
	}
	return name, email, err
}

// reportFixture is the usage of rolledEvents rolled up to Sunday, with
// Monday's event not yet rolled up, by six people of RM1 (IDs 1 to 6)
// who have accepted the privacy policy; the time is Monday 10:00.
type reportFixture struct {
	db      *db.DB
	terms   *terms.Service
	events  *incident.Service
	reports *Reports
	now     time.Time
}

func newReportFixture(t *testing.T, d *db.DB) reportFixture {
	t.Helper()
	ctx := context.Background()
	runner, err := jobs.New(d, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := reportFixture{db: d, terms: terms.NewService(d, runner), events: incident.NewService(d), now: sunday.AddDate(0, 0, 1).Add(10 * time.Hour)}
	f.reports = NewReports(d, f.terms, directory{d}, f.events)
	if err := f.terms.PublishDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"RM1", "RX1"} {
		if _, err := d.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ($1, 'Trust', $2, $2)`,
			code, f.now); err != nil {
			t.Fatal(err)
		}
	}
	priv, err := f.terms.Current(ctx, terms.Privacy)
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(1); i <= 6; i++ {
		var id int64
		err := d.WriteRowContext(ctx, `INSERT INTO users (email, name, job_role, org_ods, status, password_hash, created_at, updated_at)
			VALUES ($1, $2, 'Nurse', 'RM1', 'active', 'x', $3, $3) RETURNING id`, fmt.Sprintf("p%d@nhs.net", i), fmt.Sprintf("Person %d", i), f.now).Scan(&id)
		if err != nil || id != i {
			t.Fatalf("user %d: id %d, %v", i, id, err)
		}
		if err := f.terms.Accept(ctx, id, terms.Client{}, map[terms.Kind]int{terms.Privacy: priv.Version}); err != nil {
			t.Fatal(err)
		}
	}
	load(t, d, rolledEvents()...)
	rollUp(t, d, f.now)
	d.SetClock(func() time.Time { return f.now })
	return f
}

func (f reportFixture) report(t *testing.T, q ReportQuery) Report {
	t.Helper()
	r, err := f.reports.Report(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f reportFixture) consent(t *testing.T, user int64, yes bool) {
	t.Helper()
	if err := f.terms.SetConsents(context.Background(), user, terms.Client{}, map[terms.Purpose]bool{terms.UsageAnalysis: yes}); err != nil {
		t.Fatal(err)
	}
}

func shown(v int64) Figure { return Figure{Value: v} }

var suppressed = Figure{Suppressed: true}

func area(p Period, name string) Figure {
	for _, a := range p.Areas {
		if a.Area == name {
			return a.Views
		}
	}
	return Figure{Value: -1}
}

func checkFigures(t *testing.T, label string, got, want Figure) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %+v, want %+v", label, got, want)
	}
}

// P6, P10, P19: an organisation's report counts its people's use by week
// and by month, from the aggregates and today's raw events alike; every
// figure that fewer than five people stand for is suppressed.
func TestReportCountsAndSuppresses(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newReportFixture(t, d)
		r := f.report(t, ReportQuery{Org: "RM1", From: sunday.AddDate(0, 0, -6), To: sunday.AddDate(0, 0, 1)})
		if len(r.Weeks) != 2 || len(r.Months) != 2 || r.People != nil {
			t.Fatalf("%d weeks, %d months, people %v", len(r.Weeks), len(r.Months), r.People)
		}
		week, monday := r.Weeks[0], r.Weeks[1]
		if !week.From.Equal(sunday.AddDate(0, 0, -6)) || !week.To.Equal(sunday) || !monday.From.Equal(monday.To) {
			t.Fatalf("weeks %s-%s and %s-%s", week.From, week.To, monday.From, monday.To)
		}
		// The whole week: six people signed in and viewed pages; one
		// opened a document and one recorded (fewer than five).
		checkFigures(t, "week's active users", week.ActiveUsers, shown(6))
		checkFigures(t, "week's sign-ins", week.SignIns, shown(6))
		checkFigures(t, "week's page views", week.PageViews, shown(13))
		checkFigures(t, "week's documents", week.DocumentsOpened, suppressed)
		checkFigures(t, "week's home views", area(week, AreaHome), shown(6))
		checkFigures(t, "week's recording views", area(week, AreaRecording), suppressed)
		checkFigures(t, "week's admin views", area(week, AreaAdmin), shown(0))
		// Monday, not rolled up yet, is in the report: one person.
		checkFigures(t, "Monday's active users", monday.ActiveUsers, suppressed)
		checkFigures(t, "Monday's page views", monday.PageViews, suppressed)
		checkFigures(t, "Monday's sign-ins", monday.SignIns, shown(0))
		// February is cut to 23 to 28 February; March to 1 and 2 March.
		feb, mar := r.Months[0], r.Months[1]
		if !feb.From.Equal(sunday.AddDate(0, 0, -6)) || !feb.To.Equal(sunday.AddDate(0, 0, -1)) || !mar.To.Equal(sunday.AddDate(0, 0, 1)) {
			t.Fatalf("months %s-%s and %s-%s", feb.From, feb.To, mar.From, mar.To)
		}
		checkFigures(t, "February's active users", feb.ActiveUsers, shown(6))
		checkFigures(t, "February's page views", feb.PageViews, shown(12))
		checkFigures(t, "March's active users", mar.ActiveUsers, suppressed)
		checkFigures(t, "total active users", r.Total.ActiveUsers, shown(6))
		checkFigures(t, "total page views", r.Total.PageViews, shown(14))
		checkFigures(t, "total home views", area(r.Total, AreaHome), shown(7))
		checkFigures(t, "total events views", area(r.Total, AreaEvents), shown(6))
		checkFigures(t, "events recorded", r.Total.EventsRecorded, shown(0))
		if len(r.Total.Areas) != len(Areas()) {
			t.Errorf("%d areas, want every one", len(r.Total.Areas))
		}

		// The whole service counts the person of no organisation and the
		// person seen in two organisations once.
		all := f.report(t, ReportQuery{From: sunday.AddDate(0, 0, -6), To: sunday.AddDate(0, 0, 1), Individuals: true})
		checkFigures(t, "the service's active users", all.Total.ActiveUsers, shown(7))
		checkFigures(t, "the service's week", all.Weeks[0].ActiveUsers, shown(7))
		checkFigures(t, "the service's events views", area(all.Total, AreaEvents), shown(7))
		checkFigures(t, "the service's admin views", area(all.Total, AreaAdmin), suppressed)
		if all.People != nil {
			t.Fatalf("P10: the report of the whole service names people: %+v", all.People)
		}

		// Events recorded by four people are suppressed; by five, shown.
		d.SetClock(func() time.Time { return sunday.AddDate(0, 0, -2).Add(11 * time.Hour) })
		var subs []incident.Submission
		for id := int64(1); id <= 4; id++ {
			subs = append(subs, incident.Submission{Type: incident.Incident, OrgCode: "RM1", Source: incident.Staff, ReporterID: id,
				OccurredFrom: sunday.AddDate(0, 0, -3), OccurredTo: sunday.AddDate(0, 0, -3), StatementVersion: 1,
				Answers: incident.Answers{"AdverseEventDescription.Description": {"A fall in the bay, no harm."}}})
		}
		if err := f.events.Load(context.Background(), append(subs, subs[0])); err != nil {
			t.Fatal(err)
		}
		d.SetClock(func() time.Time { return f.now })
		r = f.report(t, ReportQuery{Org: "RM1", From: sunday.AddDate(0, 0, -6), To: sunday})
		checkFigures(t, "events recorded by four people", r.Total.EventsRecorded, suppressed)
		fifth := subs[0]
		fifth.ReporterID = 5
		d.SetClock(func() time.Time { return sunday.AddDate(0, 0, -2).Add(12 * time.Hour) })
		if err := f.events.Load(context.Background(), []incident.Submission{fifth}); err != nil {
			t.Fatal(err)
		}
		d.SetClock(func() time.Time { return f.now })
		r = f.report(t, ReportQuery{Org: "RM1", From: sunday.AddDate(0, 0, -6), To: sunday})
		checkFigures(t, "events recorded by five people", r.Total.EventsRecorded, shown(6))
		checkFigures(t, "events recorded in the week", r.Weeks[0].EventsRecorded, shown(6))

		for _, q := range []ReportQuery{
			{Org: "RM1", From: sunday, To: sunday.AddDate(0, 0, -1)},
			{Org: "RM1"},
			{Org: "RM1", From: f.now.AddDate(0, 0, 1), To: f.now.AddDate(0, 0, 2)},
			{Org: "RM1", From: sunday.AddDate(-11, 0, 0), To: sunday},
		} {
			if _, err := f.reports.Report(context.Background(), q); apperr.CodeOf(err) != apperr.Invalid {
				t.Errorf("%+v: %v, want Invalid", q, err)
			}
		}
	})
}

// P19, P15: a person appears one by one in their organisation's report
// only while they consent to analysis of their use; withdrawing takes
// them out at once, and the aggregates still count them.
func TestReportShowsOnlyPeopleWhoConsent(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newReportFixture(t, d)
		q := ReportQuery{Org: "RM1", From: sunday.AddDate(0, 0, -6), To: sunday.AddDate(0, 0, 1), Individuals: true}
		if r := f.report(t, q); len(r.People) != 0 {
			t.Fatalf("people shown without consent: %+v", r.People)
		}
		f.consent(t, 2, true)
		f.consent(t, 4, true)
		f.consent(t, 5, false)
		r := f.report(t, q)
		want := []PersonUse{
			{UserID: 2, Name: "Person 2", Email: "p2@nhs.net", SignIns: 1, PageViews: 2, DocumentsOpened: 1, ActiveDays: 2,
				LastActive: sunday.AddDate(0, 0, -1).Add(8 * time.Hour)},
			// Person 4 is active today, before the rollup.
			{UserID: 4, Name: "Person 4", Email: "p4@nhs.net", SignIns: 1, PageViews: 3, ActiveDays: 2,
				LastActive: sunday.AddDate(0, 0, 1).Add(time.Hour)},
		}
		if fmt.Sprint(r.People) != fmt.Sprint(want) {
			t.Fatalf("people\n%+v\nwant\n%+v", r.People, want)
		}
		if q.Individuals = false; len(f.report(t, q).People) != 0 {
			t.Fatal("people shown when not asked for")
		}
		q.Individuals = true
		f.consent(t, 2, false)
		r = f.report(t, q)
		if len(r.People) != 1 || r.People[0].UserID != 4 {
			t.Fatalf("after person 2 withdrew: %+v", r.People)
		}
		checkFigures(t, "active users", r.Total.ActiveUsers, shown(6))
	})
}

// Once the per-person rows are deleted, whole weeks and months still
// report how many people were active; other spans cannot say, and
// suppress what no whole week or month inside them vouches for.
func TestReportAfterRetention(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newReportFixture(t, d)
		f.consent(t, 2, true)
		later := sunday.AddDate(1, 2, 0)
		if _, err := DeleteExpired(context.Background(), d, later, Retention{Months: 13}); err != nil {
			t.Fatal(err)
		}
		d.SetClock(func() time.Time { return later })
		r := f.report(t, ReportQuery{Org: "RM1", From: sunday.AddDate(0, 0, -6), To: sunday})
		checkFigures(t, "the old week's active users", r.Weeks[0].ActiveUsers, shown(6))
		checkFigures(t, "the old week's page views", r.Weeks[0].PageViews, shown(13))
		checkFigures(t, "the week as the total", r.Total.ActiveUsers, shown(6))
		checkFigures(t, "February cut short", r.Months[0].ActiveUsers, Figure{Unknown: true})
		checkFigures(t, "February cut short, sign-ins", r.Months[0].SignIns, suppressed)
		r = f.report(t, ReportQuery{Org: "RM1", From: sunday.AddDate(0, 0, -10), To: sunday.AddDate(0, 0, 3), Individuals: true})
		checkFigures(t, "a span holding the old week, its sign-ins", r.Total.SignIns, shown(6))
		checkFigures(t, "a span holding the old week, its active users", r.Total.ActiveUsers, Figure{Unknown: true})
		if len(r.People) != 0 {
			t.Fatalf("people from deleted rows: %+v", r.People)
		}
	})
}
