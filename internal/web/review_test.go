package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/psims/psims/internal/db/dbtest"
)

var notePattern = regexp.MustCompile(`action="/events/[A-Z0-9-]+/review/notes/(\d+)"`)

// TestAReviewerAssignsNotesAndClosesAnEvent: bad input is named with what
// was typed kept (status 422); a good change is saved and audited, shown
// to the organisation's reviewers, never to the reporter, and filtered and
// sorted on in the list; an edited note keeps its old text; the review is
// never in the export; a reviewer without IG training is sent to it.
func TestAReviewerAssignsNotesAndClosesAnEvent(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newEventsSite(t, e)
			ev := s.event(s.rita, nil)
			page := "/events/" + string(ev.Reference)
			action := page + "/review"
			victor := s.as("victor@nhs.net")
			if r := victor.get(page); !strings.Contains(r.body, "Where does the review stand?") || !strings.Contains(r.body, "No review notes yet.") {
				t.Fatal("the reviewer is not offered the review form")
			}
			review := func(state, assignee, day, note string) url.Values {
				return url.Values{"state": {state}, "assignee": {assignee}, "due-day": {day}, "due-month": {"1"}, "due-year": {"2027"}, "note": {note}}
			}
			victorID := fmt.Sprint(s.victor.ID)
			for _, c := range []struct {
				name   string
				values url.Values
				want   string
			}{
				{"a date that does not exist", review("in-review", victorID, "32", "Asked the ward for the rota."), "Due date must be a real date"},
				{"a reporter as assignee", review("in-review", fmt.Sprint(s.rita.ID), "14", "Asked the ward for the rota."), "Choose someone who reviews events for this organisation"},
				{"closing with no note", review("closed", victorID, "14", ""), "Add a note saying what the review concluded before you close it"},
				{"an identifier in the note", review("in-review", victorID, "14", "Mrs Jones, NHS number 943 476 5919, was seen."), "NHS number"},
			} {
				r := victor.submit(page, action, c.values)
				if r.status != http.StatusUnprocessableEntity || !strings.Contains(errorSummary(r.body), c.want) {
					t.Fatalf("%s: %d %s", c.name, r.status, errorSummary(r.body))
				}
				if note := c.values.Get("note"); note != "" && !strings.Contains(r.body, note) {
					t.Fatalf("%s: the note typed was lost", c.name)
				}
			}
			if s.audited("event.review", s.victor) != 0 {
				t.Fatal("a refused change was audited")
			}

			r := victor.submit(page, action, review("in-review", victorID, "14", "Asked the ward for the rota."))
			if r.status != http.StatusSeeOther || r.location != page+"?reviewed=1#review" {
				t.Fatalf("saving the review: %d %s %s", r.status, r.location, errorSummary(r.body))
			}
			r = victor.get(page)
			for _, want := range []string{"In review", "Victor Reviewer", "14 January 2027", "Asked the ward for the rota."} {
				if !strings.Contains(r.body, want) {
					t.Fatalf("the review panel lacks %q", want)
				}
			}
			if s.audited("event.review", s.victor) != 1 || s.audited("event.review_note", s.victor) != 1 {
				t.Fatal("the change was not audited")
			}

			m := notePattern.FindStringSubmatch(r.body)
			if m == nil {
				t.Fatal("the author is not offered to change their note")
			}
			noteAction := page + "/review/notes/" + m[1]
			if r := victor.submit(page, noteAction, url.Values{"body": {""}, "version": {"1"}}); r.status != http.StatusUnprocessableEntity {
				t.Fatalf("an empty note: %d", r.status)
			}
			r = victor.submit(page, noteAction, url.Values{"body": {"Rang Mr John Smith about it."}, "version": {"1"}})
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Rang Mr John Smith about it.") ||
				!strings.Contains(r.body, `value="in-review" checked`) || !strings.Contains(errorSummary(r.body), "#note-"+m[1]) {
				t.Fatalf("a name in a changed note: %d %s", r.status, errorSummary(r.body))
			}
			if r := victor.submit(page, noteAction, url.Values{"body": {"Asked the ward for the rota and the handover sheet."}, "version": {"1"}}); r.status != http.StatusSeeOther {
				t.Fatalf("changing the note: %d %s", r.status, errorSummary(r.body))
			}
			r = victor.get(page)
			if !strings.Contains(r.body, "the handover sheet.") || !strings.Contains(r.body, "Earlier versions of this note") {
				t.Fatal("the changed note or its earlier text is missing")
			}
			if r := victor.submit(page, action, review("closed", victorID, "14", "Rota changed; shared at the safety huddle.")); r.status != http.StatusSeeOther {
				t.Fatalf("closing: %d %s", r.status, errorSummary(r.body))
			}

			own := s.as("rita@nhs.net")
			if r := own.get(page); strings.Contains(r.body, "huddle") || strings.Contains(r.body, "Review notes") {
				t.Fatal("the reporter sees the review")
			}
			if r := own.get("/events?view=mine&state=new"); !strings.Contains(r.body, string(ev.Reference)) || strings.Contains(r.body, "Closed") {
				t.Fatal("a reporter's list tells them where the review stands")
			}
			if r := own.post(action, url.Values{"state": {"in-review"}}); r.status != http.StatusForbidden {
				t.Fatalf("a reporter changes the review: %d", r.status)
			}

			list := victor.get("/events?state=closed&assignee=me&sort=due-soonest")
			if list.status != http.StatusOK || !strings.Contains(list.body, string(ev.Reference)) || !strings.Contains(list.body, "Closed, Victor Reviewer, due 14 January 2027") {
				t.Fatalf("the closed events list: %d", list.status)
			}
			if r := victor.get("/events?state=new"); strings.Contains(r.body, string(ev.Reference)) {
				t.Fatal("a closed event is listed as new")
			}
			if r := victor.get("/events?due-by-day=31&due-by-month=2&due-by-year=2027"); r.status != http.StatusUnprocessableEntity {
				t.Fatalf("a due-by date that does not exist: %d", r.status)
			}
			export := victor.get("/events/export")
			if export.status != http.StatusOK || strings.Contains(export.body, "huddle") || strings.Contains(export.body, "rota") {
				t.Fatal("the review is in the export")
			}

			if _, err := s.site.App.DB.WritePool().ExecContext(context.Background(), `UPDATE users SET ig_training_at = NULL WHERE id = $1`, s.victor.ID); err != nil {
				t.Fatal(err)
			}
			lapsed := s.as("victor@nhs.net")
			// The lapsed reviewer can no longer open the event's page, so
			// the form token is their account page's.
			r = lapsed.submit("/account", action, url.Values{"state": {"in-review"}})
			if r.status != http.StatusForbidden || !strings.Contains(r.body, "information governance training") {
				t.Fatalf("a reviewer without IG training: %d", r.status)
			}
		})
	}
}
