package incident

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident/taxonomy"
)

// listFixture is the store fixture with a second organisation, D82044, and
// cat, who works there; its clock moves only when told to.
type listFixture struct {
	fixture
	cat   int64
	clock time.Time
}

func newListFixture(t *testing.T, d *db.DB) *listFixture {
	t.Helper()
	f := &listFixture{fixture: newFixture(t, d), clock: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	if _, err := d.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ('D82044', 'Practice', $1, $1)`, f.clock); err != nil {
		t.Fatal(err)
	}
	err := d.WriteRowContext(ctx, `INSERT INTO users (email, name, job_role, org_ods, status, password_hash, created_at, updated_at)
		VALUES ('cat@nhs.net', 'cat', 'GP', 'D82044', 'active', 'x', $1, $1) RETURNING id`, f.clock).Scan(&f.cat)
	if err != nil {
		t.Fatal(err)
	}
	d.SetClock(func() time.Time { return f.clock })
	return f
}

// event submits an event by userID in org, submitted at the fixture's
// clock plus hours, changed by edit.
func (f *listFixture) event(t *testing.T, userID int64, org string, hours int, edit func(*Submission)) Event {
	t.Helper()
	sub := Submission{
		Type: Incident, OrgCode: org, Source: Staff, ReporterID: userID,
		OccurredFrom: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), OccurredTo: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		Answers:          Answers{"AdverseEvent.description": {"A fall on the ward."}},
		Index:            Index{PhysicalHarm: "5", PsychologicalHarm: "4", ServiceType: "1"},
		StatementVersion: 1,
	}
	if edit != nil {
		edit(&sub)
	}
	saved := f.clock
	f.clock = f.clock.Add(time.Duration(hours) * time.Hour)
	defer func() { f.clock = saved }()
	ev, err := f.svc.Submit(context.Background(), sub, ward)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func refs(list []Summary) []Reference {
	out := make([]Reference, len(list))
	for i, e := range list {
		out[i] = e.Reference
	}
	return out
}

// listAll walks every page of the list forwards and returns the references.
func listAll(t *testing.T, svc *Service, scope Scope, f Filter) []Reference {
	t.Helper()
	var all []Reference
	at := Cursor{}
	for range 100 {
		p, err := svc.List(context.Background(), scope, f, at, 3)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, refs(p.Events)...)
		if p.Next.IsZero() {
			return all
		}
		at = p.Next
	}
	t.Fatal("the list never ends")
	return nil
}

func sameSet(a, b []Reference) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// T14: each viewer sees only the events of their scope; another
// organisation's events never appear.
func TestListShowsOnlyTheScopesEvents(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d)
		ann1 := f.event(t, f.ann, "RM1", 1, nil)
		ann2 := f.event(t, f.ann, "RM1", 2, nil)
		bob := f.event(t, f.bob, "RM1", 3, nil)
		cat := f.event(t, f.cat, "D82044", 4, nil)
		public := f.event(t, 0, "RM1", 5, func(s *Submission) { s.Source, s.ReporterID = Public, 0 })
		for _, c := range []struct {
			name  string
			scope Scope
			want  []Reference
		}{
			{"a reporter sees their own", Scope{ReporterID: f.ann}, []Reference{ann1.Reference, ann2.Reference}},
			{"an organisation sees its own and the public's", Scope{Orgs: []string{"RM1"}}, []Reference{ann1.Reference, ann2.Reference, bob.Reference, public.Reference}},
			{"another organisation sees only its own", Scope{Orgs: []string{"D82044"}}, []Reference{cat.Reference}},
			{"several organisations", Scope{Orgs: []string{"D82044", "RM1"}}, []Reference{ann1.Reference, ann2.Reference, bob.Reference, cat.Reference, public.Reference}},
			{"an organisation with none", Scope{Orgs: []string{"QMM"}}, nil},
			{"everything", Scope{All: true}, []Reference{ann1.Reference, ann2.Reference, bob.Reference, cat.Reference, public.Reference}},
			{"the empty scope sees nothing", Scope{}, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				got := listAll(t, f.svc, c.scope, Filter{})
				if !sameSet(got, c.want) {
					t.Fatalf("got %v, want %v", got, c.want)
				}
				p, err := f.svc.List(context.Background(), c.scope, Filter{}, Cursor{}, 0)
				if err != nil || p.Count != len(c.want) || p.More {
					t.Fatalf("count %d (more %v), %v; want %d", p.Count, p.More, err, len(c.want))
				}
			})
		}
	})
}

// Every filter narrows the list to the events it describes.
func TestListFilters(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d)
		day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }
		plain := f.event(t, f.ann, "RM1", 0, nil)
		goodCare := f.event(t, f.ann, "RM1", 24, func(s *Submission) { s.Type = GoodCare })
		severe := f.event(t, f.bob, "RM1", 48, func(s *Submission) {
			s.Index = Index{PhysicalHarm: "2", PsychologicalHarm: "1", ServiceType: "19"}
		})
		ranged := f.event(t, f.ann, "RM1", 72, func(s *Submission) { s.OccurredFrom, s.OccurredTo = day(10, 1), day(10, 31) })
		falls := f.event(t, f.ann, "RM1", 96, func(s *Submission) {
			s.Index.Codes = map[string][]string{ElementSafetyChallenges: {"2", "3"}, ElementAgents: {"4"}}
		})
		public := f.event(t, 0, "RM1", 120, func(s *Submission) { s.Source, s.ReporterID = Public, 0 })
		f.event(t, f.cat, "D82044", 0, func(s *Submission) {
			s.Type = GoodCare
			s.Index.Codes = map[string][]string{ElementSafetyChallenges: {"2"}}
		})
		everyone := []Reference{plain.Reference, goodCare.Reference, severe.Reference, ranged.Reference, falls.Reference, public.Reference}
		rm1 := Scope{Orgs: []string{"RM1"}}
		for _, c := range []struct {
			name   string
			filter Filter
			want   []Reference
		}{
			{"no filter", Filter{}, everyone},
			{"event type", Filter{Types: []Type{GoodCare}}, []Reference{goodCare.Reference}},
			{"several event types", Filter{Types: []Type{GoodCare, Incident}}, everyone},
			{"physical harm", Filter{PhysicalHarm: []string{"2", "1"}}, []Reference{severe.Reference}},
			{"psychological harm", Filter{PsychologicalHarm: []string{"1"}}, []Reference{severe.Reference}},
			{"service type", Filter{ServiceType: "19"}, []Reference{severe.Reference}},
			{"safety challenge", Filter{SafetyChallenge: "2"}, []Reference{falls.Reference}},
			{"a second safety challenge of the same event", Filter{SafetyChallenge: "3"}, []Reference{falls.Reference}},
			{"agent", Filter{Agent: "4"}, []Reference{falls.Reference}},
			{"agent that nobody chose", Filter{Agent: "9"}, nil},
			{"source", Filter{Source: Public}, []Reference{public.Reference}},
			// f.clock is 1 December 09:00; events are a day apart from it.
			{"submitted from", Filter{SubmittedFrom: day(12, 5)}, []Reference{falls.Reference, public.Reference}},
			{"submitted to, the whole day", Filter{SubmittedTo: day(12, 2)}, []Reference{plain.Reference, goodCare.Reference}},
			{"submitted on one day", Filter{SubmittedFrom: day(12, 3), SubmittedTo: day(12, 3)}, []Reference{severe.Reference}},
			{"occurred in a range that overlaps", Filter{OccurredFrom: day(10, 15), OccurredTo: day(10, 16)}, []Reference{ranged.Reference}},
			{"occurred on a day", Filter{OccurredFrom: day(11, 20), OccurredTo: day(11, 20)}, []Reference{plain.Reference, goodCare.Reference, severe.Reference, falls.Reference, public.Reference}},
			{"occurred after", Filter{OccurredFrom: day(11, 21)}, nil},
			{"combined", Filter{Types: []Type{Incident}, PhysicalHarm: []string{"5"}, SafetyChallenge: "2", Agent: "4"}, []Reference{falls.Reference}},
		} {
			t.Run(c.name, func(t *testing.T) {
				if got := listAll(t, f.svc, rm1, c.filter); !sameSet(got, c.want) {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			})
		}
		for _, bad := range []Filter{
			{Sort: "sideways"},
			{Types: []Type{"accident"}},
			{Source: "robot"},
			{SubmittedFrom: day(12, 5), SubmittedTo: day(12, 4)},
			{OccurredFrom: day(12, 5), OccurredTo: day(12, 4)},
		} {
			if _, err := f.svc.List(context.Background(), rm1, bad, Cursor{}, 0); apperr.CodeOf(err) != apperr.Invalid {
				t.Errorf("filter %+v: %v, want Invalid", bad, err)
			}
		}
	})
}

// Keyset pages follow one another without gaps or repeats, in each order,
// forwards and back, also when events share a sort time.
func TestListPagesByKeysetInEachOrder(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d)
		type ev struct {
			ref                 Reference
			submitted, occurred time.Time
			id                  int64
		}
		var events []ev
		for i := range 14 {
			// Pairs share a submission time; occurrence runs the other way,
			// in threes.
			occurred := time.Date(2026, 11, 1+(13-i)/3, 0, 0, 0, 0, time.UTC)
			e := f.event(t, f.ann, "RM1", i/2, func(s *Submission) { s.OccurredFrom, s.OccurredTo = occurred, occurred })
			events = append(events, ev{e.Reference, e.SubmittedAt, occurred, e.ID})
		}
		scope := Scope{ReporterID: f.ann}
		for _, sort := range Sorts() {
			t.Run(string(sort), func(t *testing.T) {
				want := slices.Clone(events)
				slices.SortFunc(want, func(a, b ev) int {
					ka, kb := a.submitted, b.submitted
					if sort == OccurredNewest || sort == OccurredOldest {
						ka, kb = a.occurred, b.occurred
					}
					c := ka.Compare(kb)
					if c == 0 {
						c = int(a.id - b.id)
					}
					if sort.newestFirst() {
						c = -c
					}
					return c
				})
				var wantRefs []Reference
				for _, e := range want {
					wantRefs = append(wantRefs, e.ref)
				}
				filter := Filter{Sort: sort}
				var pages []ListPage
				at := Cursor{}
				for {
					p, err := f.svc.List(context.Background(), scope, filter, at, 4)
					if err != nil {
						t.Fatal(err)
					}
					if (len(pages) == 0) != p.Previous.IsZero() {
						t.Fatalf("page %d: previous = %+v", len(pages)+1, p.Previous)
					}
					pages = append(pages, p)
					if p.Next.IsZero() {
						break
					}
					// The cursor survives the trip through a link.
					at, err = ParseCursor(p.Next.String(), sort)
					if err != nil {
						t.Fatal(err)
					}
				}
				var got []Reference
				for _, p := range pages {
					got = append(got, refs(p.Events)...)
				}
				if !slices.Equal(got, wantRefs) || len(pages) != 4 {
					t.Fatalf("%d pages forwards: %v, want %v", len(pages), got, wantRefs)
				}
				// Back from the last page, each page is the one seen going
				// forwards, and the first has no previous page.
				for i := len(pages) - 1; i > 0; i-- {
					back, err := f.svc.List(context.Background(), scope, filter, pages[i].Previous, 4)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(refs(back.Events), refs(pages[i-1].Events)) {
						t.Fatalf("back to page %d: %v, want %v", i, refs(back.Events), refs(pages[i-1].Events))
					}
					if back.Next.IsZero() || back.Previous.IsZero() != (i == 1) {
						t.Fatalf("back to page %d: next %+v previous %+v", i, back.Next, back.Previous)
					}
				}
			})
		}
		if _, err := ParseCursor(Cursor{Sort: SubmittedNewest, Time: time.Now(), ID: 3}.String(), OccurredOldest); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("a cursor of another order: %v", err)
		}
		for _, bad := range []string{"%%%", "bm90IGEgY3Vyc29y", strings.Repeat("A", 300)} {
			if _, err := ParseCursor(bad, SubmittedNewest); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("cursor %q: %v", bad, err)
			}
		}
	})
}

// bulkEvents inserts n events of org straight into the table, as a quick
// way to fill it; every tenth has severe physical harm.
func bulkEvents(t *testing.T, d *db.DB, org string, n int, at time.Time) {
	t.Helper()
	_, err := d.ExecContext(context.Background(), `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
		INSERT INTO events (reference, event_type, org_ods, source, occurred_from, occurred_to, submitted_at, version,
			updated_at, physical_harm, psychological_harm, service_type, sharing_opt_out, statement_version)
		SELECT $2 || '-' || i, 'incident', $2, 'public', $3, $3, $3, 1, $3, CASE WHEN i % 10 = 0 THEN '2' ELSE '5' END,
			'4', '1', FALSE, 1 FROM n`, n, org, at)
	if err != nil {
		t.Fatal(err)
	}
}

// A list never counts more than CountCap events.
func TestListCountStopsAtTheCap(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d)
		bulkEvents(t, d, "RM1", CountCap+5, f.clock)
		p, err := f.svc.List(context.Background(), Scope{Orgs: []string{"RM1"}}, Filter{}, Cursor{}, 10)
		if err != nil || p.Count != CountCap || !p.More || len(p.Events) != 10 || p.Next.IsZero() {
			t.Fatalf("count %d more %v, %d events, %v", p.Count, p.More, len(p.Events), err)
		}
		p, err = f.svc.List(context.Background(), Scope{Orgs: []string{"RM1"}}, Filter{PhysicalHarm: []string{"2"}}, Cursor{}, 10)
		if err != nil || p.Count != (CountCap+5)/10 || p.More {
			t.Fatalf("severe: count %d more %v, %v", p.Count, p.More, err)
		}
	})
}

// The list queries read an index in the order they sort, so a page costs
// the same however many events there are. SQLite's plans do not depend on
// statistics, so they are checked here; the benchmark measures both
// engines at a million events.
func TestListQueriesUseAnIndexInOrder(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, dbtest.SQLite(t))
	f := newListFixture(t, d)
	bulkEvents(t, d, "RM1", 3000, f.clock)
	bulkEvents(t, d, "D82044", 3000, f.clock)
	for _, c := range []struct {
		name   string
		scope  Scope
		filter Filter
	}{
		{"an organisation, newest first", Scope{Orgs: []string{"RM1"}}, Filter{}},
		{"an organisation by occurrence", Scope{Orgs: []string{"RM1"}}, Filter{Sort: OccurredOldest}},
		{"an organisation's incidents", Scope{Orgs: []string{"RM1"}}, Filter{Types: []Type{Incident}}},
		{"an organisation's severe harm", Scope{Orgs: []string{"RM1"}}, Filter{PhysicalHarm: []string{"2"}}},
		{"a reporter's own", Scope{ReporterID: f.ann}, Filter{}},
		{"a reporter's own by occurrence", Scope{ReporterID: f.ann}, Filter{Sort: OccurredNewest}},
		{"everything", Scope{All: true}, Filter{}},
		{"everything by occurrence", Scope{All: true}, Filter{Sort: OccurredOldest}},
		{"everything with severe harm", Scope{All: true}, Filter{PhysicalHarm: []string{"2"}}},
		{"everything with a safety challenge", Scope{All: true}, Filter{SafetyChallenge: "2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := filterQuery(c.scope, c.filter)
			col := c.filter.Sort.column()
			text := `EXPLAIN QUERY PLAN SELECT ` + summaryColumns + ` FROM events e` + q.clause() + ` ORDER BY ` + col + ` DESC, e.id DESC LIMIT 26`
			rows, err := d.QueryContext(context.Background(), text, q.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			all := strings.Join(plan, "\n")
			if strings.Contains(all, "TEMP B-TREE") || strings.Contains(all, "SCAN e\n") || strings.HasSuffix(all, "SCAN e") {
				t.Fatalf("the plan sorts or scans the whole table:\n%s", all)
			}
		})
	}
}

// The export holds the filtered events with display text, neutralises
// cells a spreadsheet would run, and is audited with its scope, filter and
// row count.
func TestExportWritesTheFilteredEventsAndIsAudited(t *testing.T) {
	t.Parallel()
	tax, err := taxonomy.Load()
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d)
		falls := f.event(t, f.ann, "RM1", 1, func(s *Submission) {
			s.Type = GoodCare
			s.SharingOptOut = true
			s.Index = Index{PhysicalHarm: "2", PsychologicalHarm: "1", ServiceType: "19",
				Codes: map[string][]string{ElementSafetyChallenges: {"2", "3"}, ElementAgents: {"4"}}}
		})
		formula := f.event(t, f.bob, "RM1", 2, func(s *Submission) { s.Index.ServiceType = "=HYPERLINK(\"http://x\")" })
		f.event(t, f.cat, "D82044", 3, nil)
		var out bytes.Buffer
		n, err := f.svc.Export(context.Background(), tax, Scope{Orgs: []string{"RM1"}}, Filter{Sort: SubmittedOldest}, nil, ExportOptions{}, f.bob, ward, &out)
		if err != nil || n != 2 {
			t.Fatalf("export: %d rows, %v", n, err)
		}
		records, err := csv.NewReader(&out).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(records) != 3 || !slices.Equal(records[0], exportHeader) {
			t.Fatalf("export:\n%v", records)
		}
		want := []string{string(falls.Reference), "Good care", "RM1", "Staff", "2026-11-20", "2026-11-20",
			falls.SubmittedAt.Format("2006-01-02 15:04"), "1", "Severe physical harm", "Severe psychological harm",
			"Maternity services (inpatient or community)", "Falls; Self harm", "Medications", "Yes"}
		if !slices.Equal(records[1], want) {
			t.Fatalf("first row\n got %q\nwant %q", records[1], want)
		}
		if records[2][0] != string(formula.Reference) || records[2][10] != `'=HYPERLINK("http://x")` || records[2][13] != "No" {
			t.Fatalf("second row %q", records[2])
		}

		out.Reset()
		n, err = f.svc.Export(context.Background(), tax, Scope{All: true}, Filter{Types: []Type{GoodCare}, PhysicalHarm: []string{"2"},
			SubmittedFrom: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}, nil, ExportOptions{}, f.bob, ward, &out)
		if err != nil || n != 1 || !strings.Contains(out.String(), string(falls.Reference)) {
			t.Fatalf("filtered export: %d, %v\n%s", n, err, out.String())
		}

		rows, err := audit.List(context.Background(), d, "events", "RM1", 5)
		if err != nil || len(rows) != 1 {
			t.Fatalf("audit = %+v, %v", rows, err)
		}
		if e := rows[0]; e.Action != "event.export" || e.ActorID != f.bob || e.Details["rows"] != "2" ||
			e.Details["sort"] != string(SubmittedOldest) || e.IP != ward.IP {
			t.Fatalf("audit entry %+v", e)
		}
		rows, err = audit.List(context.Background(), d, "events", "all", 5)
		if err != nil || len(rows) != 1 || rows[0].Details["types"] != "good-care" || rows[0].Details["physical_harm"] != "2" ||
			rows[0].Details["submitted_from"] != "2026-12-01" || rows[0].Details["rows"] != "1" {
			t.Fatalf("audit of the filtered export = %+v, %v", rows, err)
		}

		if _, err := f.svc.Export(context.Background(), tax, Scope{All: true}, Filter{Sort: "sideways"}, nil, ExportOptions{}, f.bob, ward, &out); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("export with a bad filter: %v", err)
		}
	})
}

// T14: looking at someone else's event is recorded, without its content.
func TestRecordViewAuditsWhoLooked(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newListFixture(t, d)
		ev := f.event(t, f.ann, "RM1", 1, nil)
		if err := f.svc.RecordView(context.Background(), ev.ID, f.bob, "history", ward); err != nil {
			t.Fatal(err)
		}
		rows, err := audit.List(context.Background(), d, "event", strconv.FormatInt(ev.ID, 10), 5)
		if err != nil || len(rows) != 2 || rows[0].Action != "event.view" || rows[0].ActorID != f.bob || rows[0].Details["page"] != "history" {
			t.Fatalf("audit = %+v, %v", rows, err)
		}
	})
}
