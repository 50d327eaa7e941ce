package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
)

// eventsSite is a running site with staff in two organisations and a
// read-only user granted the second.
type eventsSite struct {
	*adminUsersSite
	reuben, victor, rose, nina account.User
}

func newEventsSite(t *testing.T, e dbtest.Engine) *eventsSite {
	t.Helper()
	s := &eventsSite{adminUsersSite: &adminUsersSite{t: t, site: apptest.Start(t, e, nil)}}
	s.rita = s.person("Rita Reporter", "rita@nhs.net", "RM1", account.RoleReporter)
	s.reuben = s.person("Reuben Reporter", "reuben@nhs.net", "RM1", account.RoleReporter)
	s.victor = s.person("Victor Reviewer", "victor@nhs.net", "RM1", account.RoleReviewer)
	s.quentin = s.person("Quentin Reporter", "quentin@nhs.net", "D82044", account.RoleReporter)
	s.rose = s.person("Rose Readonly", "rose@nhs.net", "QMM", account.RoleReadOnly)
	s.nina = s.person("Nina National", "nina@nhs.net", "QMM", account.RoleNationalAdmin)
	_, err := s.site.App.DB.WritePool().ExecContext(context.Background(),
		`INSERT INTO read_grants (user_id, org_ods, granted_at) VALUES ($1, 'D82044', $2)`, s.rose.ID, time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// event submits an incident by u at their organisation.
func (s *eventsSite) event(u account.User, edit func(*incident.Submission)) incident.Event {
	s.t.Helper()
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	sub := incident.Submission{Type: incident.Incident, OrgCode: u.OrgCode, Source: incident.Staff, ReporterID: u.ID,
		OccurredFrom: day, OccurredTo: day, StatementVersion: 1,
		Answers: incident.Answers{"AdverseEvent.description": {"A fall in the day room."}, "PSIMS.PatientCount": {"1"}, "PatientInformation.PhysicalHarm": {"4"}},
		Index:   incident.Index{PhysicalHarm: "4", ServiceType: "1"}}
	if edit != nil {
		edit(&sub)
	}
	ev, err := s.site.App.Incidents.Submit(context.Background(), sub, incident.Client{IP: "192.0.2.1"})
	if err != nil {
		s.t.Fatal(err)
	}
	return ev
}

// audited counts the audit entries of the action by the user.
func (s *eventsSite) audited(action string, u account.User) int {
	s.t.Helper()
	var n int
	err := s.site.App.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = $1 AND actor_user_id = $2`,
		action, u.ID).Scan(&n)
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

// wantRefs fails unless body shows exactly the wanted events of all.
func wantRefs(t *testing.T, what, body string, all []incident.Event, want ...incident.Event) {
	t.Helper()
	for _, ev := range all {
		wanted := false
		for _, w := range want {
			wanted = wanted || w.ID == ev.ID
		}
		if strings.Contains(body, string(ev.Reference)) != wanted {
			t.Fatalf("%s: shows %s = %v, want %v\n%s", what, ev.Reference, !wanted, wanted, body)
		}
	}
}

// T14: each role lists exactly the events it may see, and only those with
// the organisation's records may export them.
func TestEventListsShowEachRoleWhatItMaySee(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newEventsSite(t, e)
			rita := s.event(s.rita, nil)
			reuben := s.event(s.reuben, func(sub *incident.Submission) { sub.Type = incident.GoodCare })
			quentin := s.event(s.quentin, nil)
			all := []incident.Event{rita, reuben, quentin}

			r := s.as("rita@nhs.net").get("/events")
			wantStatus(t, "a reporter's list", r, http.StatusOK)
			wantRefs(t, "a reporter's list", r.body, all, rita)
			if !strings.Contains(r.body, "Your events") || strings.Contains(r.body, "Export as CSV") {
				t.Fatalf("a reporter's list:\n%s", r.body)
			}
			// A reporter asking for an organisation's events is told they
			// may not see them, not shown their own as if they were.
			for _, path := range []string{"/events?org=D82044", "/events?org=RM1", "/events?view=org"} {
				r = s.as("rita@nhs.net").get(path)
				wantStatus(t, "a reporter asking for "+path, r, http.StatusForbidden)
				wantRefs(t, "a reporter asking for "+path, r.body, all)
				if !strings.Contains(r.body, "You do not have permission") {
					t.Fatalf("a reporter asking for %s:\n%s", path, r.body)
				}
			}

			victor := s.as("victor@nhs.net")
			r = victor.get("/events")
			wantStatus(t, "a reviewer's list", r, http.StatusOK)
			wantRefs(t, "a reviewer's list", r.body, all, rita, reuben)
			if !strings.Contains(r.body, "2 events found") || !strings.Contains(r.body, `href="/events/export"`) {
				t.Fatalf("a reviewer's list:\n%s", r.body)
			}
			wantRefs(t, "a reviewer asking for D82044", victor.get("/events?org=D82044").body, all, rita, reuben)
			wantRefs(t, "a reviewer's good care", victor.get("/events?type=good-care").body, all, reuben)
			r = victor.get("/events?view=mine")
			wantRefs(t, "a reviewer's own", r.body, all)
			if !strings.Contains(r.body, "You have not recorded any events yet") {
				t.Fatalf("a reviewer's own events:\n%s", r.body)
			}

			rose := s.as("rose@nhs.net")
			wantRefs(t, "a read-only user's list", rose.get("/events").body, all, quentin)
			wantRefs(t, "a read-only user's chosen organisation", rose.get("/events?org=d82044").body, all, quentin)
			wantStatus(t, "a read-only user asking for an organisation not granted", rose.get("/events?org=RM1"), http.StatusNotFound)

			nina := s.as("nina@nhs.net")
			wantRefs(t, "a national admin's list", nina.get("/events").body, all, rita, reuben, quentin)
			wantRefs(t, "a national admin's choice", nina.get("/events?org=D82044").body, all, quentin)

			r = victor.get("/events/export?type=incident")
			wantStatus(t, "a reviewer's export", r, http.StatusOK)
			if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="psims-events-`) || !strings.HasSuffix(cd, `.csv"`) {
				t.Fatalf("export disposition %q", cd)
			}
			records, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
			if err != nil || len(records) != 2 || records[0][0] != "Reference" || records[1][0] != string(rita.Reference) ||
				records[1][8] != "Low physical harm" {
				t.Fatalf("export: %v\n%s", err, r.body)
			}
			var details string
			err = s.site.App.DB.QueryRowContext(context.Background(), `SELECT details FROM audit_log WHERE action = 'event.export' AND actor_user_id = $1`,
				s.victor.ID).Scan(&details)
			if err != nil || !strings.Contains(details, `"scope":"RM1"`) || !strings.Contains(details, `"types":"incident"`) || !strings.Contains(details, `"rows":"1"`) {
				t.Fatalf("export audit %q, %v", details, err)
			}
			wantStatus(t, "a reporter's export", s.as("rita@nhs.net").get("/events/export"), http.StatusForbidden)
			if s.audited("event.export", s.rita) != 0 {
				t.Fatal("a refused export was audited")
			}
			// A read-only user's export leaves the recording organisation:
			// without a data sharing agreement naming them, they are told
			// why and get no events (T15; sharing_test.go exports under one).
			r = rose.get("/events/export")
			wantStatus(t, "a read-only user's export", r, http.StatusOK)
			wantRefs(t, "a read-only user's export", r.body, all)
			if !strings.Contains(r.body, "You cannot export these events yet") || s.audited("event.export", s.rose) != 0 {
				t.Fatalf("a read-only user's export without an agreement:\n%s", r.body)
			}
		})
	}
}

// T14: viewing someone else's event, or its history, is audited; viewing
// one's own is not; nobody sees an event outside their scope.
func TestViewingAnEventAndItsHistory(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newEventsSite(t, e)
			rita := s.event(s.rita, nil)
			quentin := s.event(s.quentin, nil)
			amended := incident.Answers{"AdverseEvent.description": {"A fall in the day room, found at once."}, "PSIMS.PatientCount": {"1"}, "PatientInformation.PhysicalHarm": {"3"}}
			if _, err := s.site.App.Incidents.Amend(context.Background(), rita.ID, s.victor.ID, "Harm was worse than first thought",
				incident.Change{Answers: amended, Index: incident.Index{PhysicalHarm: "3"}, OccurredFrom: rita.OccurredFrom, OccurredTo: rita.OccurredTo},
				incident.Client{}); err != nil {
				t.Fatal(err)
			}

			ritaB := s.as("rita@nhs.net")
			r := ritaB.get("/events/" + string(rita.Reference))
			wantStatus(t, "own event", r, http.StatusOK)
			for _, want := range []string{"A fall in the day room, found at once.", "Moderate physical harm", "Physical harm", "20 November 2026"} {
				if !strings.Contains(r.body, want) {
					t.Fatalf("own event lacks %q:\n%s", want, r.body)
				}
			}
			wantStatus(t, "own event's history", ritaB.get("/events/"+strings.ToLower(string(rita.Reference))+"/history"), http.StatusOK)
			if s.audited("event.view", s.rita) != 0 {
				t.Fatal("viewing one's own event was audited")
			}

			victor := s.as("victor@nhs.net")
			wantStatus(t, "a colleague's event", victor.get("/events/"+string(rita.Reference)), http.StatusOK)
			r = victor.get("/events/" + string(rita.Reference) + "/history")
			wantStatus(t, "its history", r, http.StatusOK)
			for _, want := range []string{"Version 2 (current)", "Version 1", "Victor Reviewer", "Rita Reporter",
				"Harm was worse than first thought", "A fall in the day room.", "Low physical harm"} {
				if !strings.Contains(r.body, want) {
					t.Fatalf("history lacks %q:\n%s", want, r.body)
				}
			}
			if strings.Index(r.body, "Version 2") > strings.Index(r.body, "Version 1") {
				t.Fatal("history is not newest first")
			}
			if n := s.audited("event.view", s.victor); n != 2 {
				t.Fatalf("%d views audited, want 2", n)
			}

			wantStatus(t, "another organisation's event", victor.get("/events/"+string(quentin.Reference)), http.StatusNotFound)
			wantStatus(t, "another organisation's history", victor.get("/events/"+string(quentin.Reference)+"/history"), http.StatusNotFound)
			wantStatus(t, "a colleague's event, for a reporter", s.as("reuben@nhs.net").get("/events/"+string(rita.Reference)), http.StatusForbidden)
			wantStatus(t, "a granted organisation's event", s.as("rose@nhs.net").get("/events/"+string(quentin.Reference)), http.StatusOK)
			wantStatus(t, "any event, for a national admin", s.as("nina@nhs.net").get("/events/"+string(quentin.Reference)), http.StatusOK)
			for _, ref := range []string{"PSE-NOPE-NOPE", string(incident.NewReference()), "%00", "PSE-7K2M-9QXH-EXTRA"} {
				wantStatus(t, "reference "+ref, victor.get("/events/"+ref), http.StatusNotFound)
			}
			if s.audited("event.view", s.victor) != 2 {
				t.Fatal("a refused view was audited")
			}
		})
	}
}

// Bad filters are named in an error summary with what was typed kept, and
// nothing is listed; none of them is a server error.
func TestBadEventFiltersAreExplained(t *testing.T) {
	t.Parallel()
	s := newEventsSite(t, dbtest.SQLite(t))
	s.event(s.rita, nil)
	victor := s.as("victor@nhs.net")
	r := victor.get("/events?occurred-from-day=31&occurred-from-month=2&occurred-from-year=2026&physical=99&service=x&sort=sideways" +
		"&submitted-from-day=2&submitted-from-month=1&submitted-from-year=2026&submitted-to-day=1&submitted-to-month=1&submitted-to-year=2026")
	wantStatus(t, "bad filters", r, http.StatusUnprocessableEntity)
	for _, want := range []string{"There is a problem", `href="#occurred-from-day"`, "Happened from must be a real date", `value="31"`,
		`href="#physical"`, `href="#service"`, `href="#sort"`, `href="#submitted-to-day"`} {
		if !strings.Contains(r.body, want) {
			t.Fatalf("bad filters page lacks %q:\n%s", want, r.body)
		}
	}
	if strings.Contains(r.body, "events found") {
		t.Fatal("a list was shown despite the errors")
	}
	for _, path := range []string{"/events?type=accident", "/events?occurred-to-year=26", "/events?agent=%00", "/events?page=garbage",
		"/events?challenge=2&page=" + strings.Repeat("x", 500), "/events/export?physical=0"} {
		if r := victor.get(path); r.status >= 500 {
			t.Fatalf("%s: %d", path, r.status)
		}
	}
	wantStatus(t, "a bad national ODS code", s.as("nina@nhs.net").get("/events?org=not+a+code"), http.StatusUnprocessableEntity)
}

// Keyset pages link to each other and together hold every event once.
func TestEventListPages(t *testing.T) {
	t.Parallel()
	s := newEventsSite(t, dbtest.SQLite(t))
	var all []incident.Event
	for range incident.DefaultPerPage + 3 {
		all = append(all, s.event(s.rita, nil))
	}
	rita := s.as("rita@nhs.net")
	r := rita.get("/events?sort=submitted-oldest")
	if !strings.Contains(r.body, "28 events found") || strings.Contains(r.body, `rel="prev"`) {
		t.Fatalf("first page:\n%s", r.body)
	}
	wantRefs(t, "first page", r.body, all, all[:incident.DefaultPerPage]...)
	next := between(r.body, `<a href="`, `" class="nhsuk-pagination__next"`)
	r = rita.get(strings.ReplaceAll(next, "&amp;", "&"))
	wantRefs(t, "second page", r.body, all, all[incident.DefaultPerPage:]...)
	if strings.Contains(r.body, `rel="next"`) || !strings.Contains(r.body, `rel="prev"`) || !strings.Contains(r.body, "sort=submitted-oldest") {
		t.Fatalf("second page:\n%s", r.body)
	}
	prev := between(r.body, `<a href="`, `" class="nhsuk-pagination__previous"`)
	wantRefs(t, "back to the first page", rita.get(strings.ReplaceAll(prev, "&amp;", "&")).body, all, all[:incident.DefaultPerPage]...)
}

// between returns the last text between start and end before end's first
// occurrence.
func between(body, start, end string) string {
	i := strings.Index(body, end)
	if i < 0 {
		return ""
	}
	j := strings.LastIndex(body[:i], start)
	if j < 0 {
		return ""
	}
	return body[j+len(start) : i]
}

// TestReviewersReadTheEventInTheirOwnWords: the questions about the
// person recording say "your" to them and "the reporter's" to a reviewer;
// the event page and its history say who recorded it in the same words;
// a public report says a member of the public did, and offers no change
// to what they wrote, which cannot be changed by posting either.
func TestReviewersReadTheEventInTheirOwnWords(t *testing.T) {
	t.Parallel()
	s := newEventsSite(t, dbtest.SQLite(t))
	rita := s.event(s.rita, nil)
	public := s.event(s.rita, func(sub *incident.Submission) {
		sub.Source, sub.ReporterID = incident.Public, 0
		sub.Answers["PractitionerDetails.ReporterType"] = []string{"2"}
	})

	own := s.as("rita@nhs.net").get("/events/" + string(rita.Reference))
	if !strings.Contains(own.body, "Your role") || strings.Contains(own.body, "Reporter&#39;s role") {
		t.Fatal("the reporter does not read their own wording")
	}
	victor := s.as("victor@nhs.net")
	page := victor.get("/events/" + string(rita.Reference))
	if !strings.Contains(page.body, "Reporter&#39;s role") || strings.Contains(page.body, "Your role") {
		t.Fatalf("a reviewer reads the reporter's wording:\n%s", page.body)
	}
	recordedBy := func(body string) string {
		_, after, _ := strings.Cut(body, "Recorded by</dt><dd class=\"nhsuk-summary-list__value\">")
		by, _, _ := strings.Cut(after, "</dd>")
		return strings.TrimSpace(by)
	}
	history := victor.get("/events/" + string(rita.Reference) + "/history")
	if by := recordedBy(page.body); by == "" || by != recordedBy(history.body) || !strings.Contains(by, "Rita Reporter") {
		t.Fatalf("recorded by %q on the page and %q in the history", by, recordedBy(history.body))
	}

	page = victor.get("/events/" + string(public.Reference))
	if recordedBy(page.body) != "A member of the public" || recordedBy(victor.get("/events/"+string(public.Reference)+"/history").body) != "A member of the public" {
		t.Fatalf("a public report is recorded by %q", recordedBy(page.body))
	}
	if strings.Contains(page.body, "/change/description") || !strings.Contains(page.body, "/change/harm") {
		t.Fatal("the change links of a public report are wrong")
	}
	if !strings.Contains(page.body, "Their connection to what happened") {
		t.Fatal("a reviewer reads the member of the public's wording")
	}
	change := "/events/" + string(public.Reference) + "/change/description"
	wantStatus(t, "changing the public's words", victor.get(change), http.StatusNotFound)
}
