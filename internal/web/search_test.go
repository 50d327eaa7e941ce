package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
)

// describe sets an event's description, indexed for search as the form
// indexes it.
func describe(text string) func(*incident.Submission) {
	return func(sub *incident.Submission) {
		sub.Answers["AdverseEvent.description"] = []string{text}
		sub.Index.Text = text
	}
}

// Words search the free text within what the viewer may list, with the
// other filters; a reference number goes straight to the event when the
// viewer may see it, and otherwise finds nothing, whether or not it exists.
func TestSearchingEvents(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newEventsSite(t, e)
			fall := s.event(s.rita, describe("Patient slipped in the bathroom"))
			goodCare := s.event(s.reuben, func(sub *incident.Submission) {
				describe("Quick help after a slip on the stairs")(sub)
				sub.Type = incident.GoodCare
			})
			insulin := s.event(s.rita, describe("Insulin dose missed"))
			elsewhere := s.event(s.quentin, describe("Slipped on a wet floor"))
			all := []incident.Event{fall, goodCare, insulin, elsewhere}

			victor := s.as("victor@nhs.net")
			r := victor.get("/events?q=slipped")
			wantStatus(t, "a search by a word", r, http.StatusOK)
			wantRefs(t, "a search by a word", r.body, all, fall)
			if !strings.Contains(r.body, "1 event found") || !strings.Contains(r.body, `value="slipped"`) {
				t.Fatalf("a search by a word:\n%s", r.body)
			}
			wantRefs(t, "words and a filter", victor.get("/events?q=SLIP&type=good-care").body, all, goodCare)
			wantRefs(t, "a reporter's search", s.as("rita@nhs.net").get("/events?q=slip+stairs").body, all)
			wantRefs(t, "a national search", s.as("nina@nhs.net").get("/events?q=slipped").body, all, fall, elsewhere)
			wantRefs(t, "a read-only search", s.as("rose@nhs.net").get("/events?q=slipped").body, all, elsewhere)

			// The next page keeps the search.
			if r := victor.get("/events?q=" + url.QueryEscape(`"slipped" OR *`)); r.status != http.StatusOK {
				t.Fatalf("query syntax typed as words: %d\n%s", r.status, r.body)
			}

			for _, typed := range []string{string(fall.Reference), strings.ToLower(strings.ReplaceAll(string(fall.Reference), "-", " "))} {
				r = victor.get("/events?q=" + url.QueryEscape(typed))
				if r.status != http.StatusSeeOther || r.location != "/events/"+string(fall.Reference) {
					t.Fatalf("reference %q: %d to %q", typed, r.status, r.location)
				}
			}
			for what, ref := range map[string]incident.Reference{"another organisation's": elsewhere.Reference, "an unknown": incident.NewReference()} {
				r = victor.get("/events?q=" + url.QueryEscape(string(ref)))
				wantStatus(t, what+" reference", r, http.StatusOK)
				if !strings.Contains(r.body, "No event found with reference "+string(ref)) {
					t.Fatalf("%s reference:\n%s", what, r.body)
				}
				if strings.Contains(r.body, `href="/events/`+string(ref)) || strings.Contains(r.body, "Slipped on a wet floor") {
					t.Fatalf("%s reference links to it:\n%s", what, r.body)
				}
			}
			// An export of a reference has that event alone, when in scope.
			r = victor.get("/events/export?q=" + string(fall.Reference))
			wantStatus(t, "an export of a reference", r, http.StatusOK)
			wantRefs(t, "an export of a reference", r.body, all, fall)
			wantRefs(t, "an export of another organisation's reference", victor.get("/events/export?q="+string(elsewhere.Reference)).body, all)

			// A reporter's colleague's event is not theirs to see.
			r = s.as("reuben@nhs.net").get("/events?q=" + string(fall.Reference))
			if r.status != http.StatusOK || !strings.Contains(r.body, "No event found") {
				t.Fatalf("a colleague's reference: %d", r.status)
			}
		})
	}
}

// Searches that cannot be run are explained by the search box, with what
// was typed kept.
func TestBadSearchesAreExplained(t *testing.T) {
	t.Parallel()
	s := newEventsSite(t, dbtest.SQLite(t))
	victor := s.as("victor@nhs.net")
	for typed, message := range map[string]string{
		`*"():-`:                 "Enter words to search for, using letters or numbers",
		strings.Repeat("a", 201): "Search must be 200 characters or fewer",
		"PSE-2222-222":           "Enter words to search for", // not a reference's length: words, and fine
		"one two three four five six seven eight nine ten eleven": "Search for 10 words or fewer",
	} {
		r := victor.get("/events?q=" + url.QueryEscape(typed))
		if typed == "PSE-2222-222" {
			wantStatus(t, "a short reference-like text", r, http.StatusOK)
			continue
		}
		wantStatus(t, "search "+typed, r, http.StatusUnprocessableEntity)
		if !strings.Contains(r.body, "There is a problem") || !strings.Contains(r.body, `href="#q"`) || !strings.Contains(r.body, message) {
			t.Fatalf("search %q:\n%s", typed, r.body)
		}
		if strings.Contains(r.body, "events found") {
			t.Fatalf("search %q listed events despite the error", typed)
		}
	}
	ref := string(incident.NewReference())
	wrong := ref[:len(ref)-1] + "2"
	if ref[len(ref)-1] == '2' {
		wrong = ref[:len(ref)-1] + "3"
	}
	r := victor.get("/events?q=" + wrong)
	wantStatus(t, "a mistyped reference", r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.body, "Enter a reference number like PSE-7K2M-9QXH") || !strings.Contains(r.body, `value="`+wrong+`"`) {
		t.Fatalf("a mistyped reference:\n%s", r.body)
	}
}

// Item 6 of issue 11: a reviewer without current IG training who asks for
// their organisation's events is told why they cannot see them; with it,
// reviewers and organisation admins land on them.
func TestOrganisationEventsNeedIGTraining(t *testing.T) {
	t.Parallel()
	s := newEventsSite(t, dbtest.SQLite(t))
	rita := s.event(s.rita, nil)
	victor := s.as("victor@nhs.net")
	r := victor.get("/events")
	if !strings.Contains(r.body, "See only the events you recorded") || !strings.Contains(r.body, string(rita.Reference)) {
		t.Fatalf("a trained reviewer does not land on the organisation's events:\n%s", r.body)
	}
	olive := s.person("Olga Orgadmin", "olga@nhs.net", "RM1", "org-admin")
	_ = olive
	if r := s.as("olga@nhs.net").get("/events"); !strings.Contains(r.body, string(rita.Reference)) {
		t.Fatalf("a trained organisation admin does not land on the organisation's events:\n%s", r.body)
	}
	if _, err := s.site.App.DB.WritePool().ExecContext(context.Background(), `UPDATE users SET ig_training_at = NULL WHERE id = $1`, s.victor.ID); err != nil {
		t.Fatal(err)
	}
	victor = s.as("victor@nhs.net")
	r = victor.get("/events")
	wantStatus(t, "an untrained reviewer's list", r, http.StatusOK)
	if !strings.Contains(r.body, "Your events") || !strings.Contains(r.body, `href="/events?view=org"`) || strings.Contains(r.body, string(rita.Reference)) {
		t.Fatalf("an untrained reviewer's list:\n%s", r.body)
	}
	r = victor.get("/events?view=org")
	wantStatus(t, "an untrained reviewer asking for the organisation's events", r, http.StatusForbidden)
	if !strings.Contains(r.body, "information governance training") || strings.Contains(r.body, string(rita.Reference)) {
		t.Fatalf("an untrained reviewer asking for the organisation's events:\n%s", r.body)
	}
}

// Item 20 of issue 11: the export has the free text, location, specialty,
// time of day, level of concern and governance answers, headed as the
// form names them, with formulas made text.
func TestExportHasTheAnswers(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newEventsSite(t, e)
			tax := s.site.App.Taxonomy
			first := func(element string) (code, display string) {
				el, ok := tax.Element(element)
				if !ok {
					t.Fatalf("no element %s", element)
				}
				l, _ := tax.List(el.CodeList)
				return l.Codes[0].Code, l.Codes[0].Display
			}
			location, locationText := first("LocationDetails.LocationWithinService")
			specialty, specialtyText := first("LocationDetails.ResponsibleSpecialty")
			when, whenText := first("AdverseEventEstimatedDate.EstimatedTime")
			concern, concernText := first("AdverseEventClassification.LevelOfConcern")
			ev := s.event(s.rita, func(sub *incident.Submission) {
				sub.Answers["AdverseEvent.description"] = []string{"=HYPERLINK(\"http://example.invalid\")\nthen a fall"}
				sub.Answers["AdverseEventOutcome.ImmediateActions"] = []string{"@SUM(1,1)"}
				sub.Answers["LocationDetails.LocationWithinService"] = []string{location}
				sub.Answers["LocationDetails.ResponsibleSpecialty"] = []string{specialty}
				sub.Answers["AdverseEventEstimatedDate.EstimatedTime"] = []string{when}
				sub.Answers["AdverseEventClassification.LevelOfConcern"] = []string{concern}
				sub.Answers["AdverseEventGovernance.NeverEvent"] = []string{"no"}
				sub.Answers["AdverseEventGovernance.DutyOfCandour"] = []string{"yes"}
			})
			r := s.as("victor@nhs.net").get("/events/export")
			wantStatus(t, "export", r, http.StatusOK)
			records, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
			if err != nil || len(records) != 2 {
				t.Fatalf("export: %v\n%s", err, r.body)
			}
			cell := map[string]string{}
			for i, h := range records[0] {
				cell[h] = records[1][i]
			}
			if records[1][0] != string(ev.Reference) {
				t.Fatalf("export row %q", records[1])
			}
			for heading, want := range map[string]string{
				"What happened":      "'=HYPERLINK(\"http://example.invalid\")\nthen a fall",
				"Done straight away": "'@SUM(1,1)",
				"Location":           locationText,
				"Specialty":          specialtyText,
				"Time of day":        whenText,
				"Concern":            concernText,
				"Never event":        "No",
				"Duty of candour":    "Yes",
				"Serious incident":   "",
				"Medicines":          "",
				"How to repeat it":   "",
			} {
				got, ok := cell[heading]
				if !ok {
					t.Fatalf("no column %q in %q", heading, records[0])
				}
				if got != want {
					t.Errorf("%s: %q, want %q", heading, got, want)
				}
			}
		})
	}
}
