package usage

import "testing"

// Every route the service serves falls in the area a person using it
// would name; one that matched no route is "other".
func TestAreaOfRoutes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ route, want string }{
		{"GET /{$}", AreaHome},
		{"GET /", AreaHome},
		{"GET /events/new", AreaRecording},
		{"POST /events/new", AreaRecording},
		{"GET /drafts", AreaRecording},
		{"POST /drafts/{id}/{step}", AreaRecording},
		{"GET /drafts/{id}/check", AreaRecording},
		{"GET /events/{ref}/change/{step}", AreaRecording},
		{"GET /events/{ref}/submitted", AreaRecording},
		{"POST /drafts/{id}/submit", AreaRecording},
		{"GET /report", AreaRecording},
		{"GET /report/recorded/{ref}", AreaRecording},
		{"GET /events", AreaEvents},
		{"GET /events/{ref}", AreaEvents},
		{"GET /events/{ref}/history", AreaEvents},
		{"GET /events/export", AreaEvents},
		{"GET /sharing", AreaEvents},
		{"POST /events/{ref}/review", AreaEvents},
		{"POST /events/{ref}/review/notes/{id}", AreaEvents},
		{"GET /library", AreaLibrary},
		{"GET /library/{id}/file", AreaLibrary},
		{"POST /admin/library/new", AreaLibrary},
		{"GET /account", AreaAccount},
		{"POST /account/profile/email", AreaAccount},
		{"POST /sign-in", AreaAccount},
		{"POST /sign-out", AreaAccount},
		{"GET /consent", AreaAccount},
		{"POST /review-terms", AreaAccount},
		{"POST /session/extend", AreaAccount},
		{"GET /admin/users", AreaAdmin},
		{"POST /admin/users/{id}/status", AreaAdmin},
		{"GET /admin/organisations/{code}", AreaAdmin},
		{"GET /admin/documents/{kind}/new", AreaAdmin},
		{"GET /admin/usage", AreaReports},
		{"GET /admin/usage/{ods}", AreaReports},
		{"GET /admin/usage/download", AreaReports},
		{"GET /report", AreaRecording},
		{"GET /help", AreaHelp},
		{"POST /help/feedback", AreaHelp},
		{"GET /account/queries", AreaHelp},
		{"GET /admin/feedback/{id}", AreaHelp},
		{"GET /terms", AreaPolicies},
		{"GET /privacy", AreaPolicies},
		{"GET /documents/{kind}/{version}", AreaPolicies},
		{"POST /cookies", AreaPolicies},
		{"GET /accessibility", AreaPolicies},
		{"unmatched", AreaOther},
		{"GET /static/", AreaOther},
		{"", AreaOther},
		// A path that only starts like a known one is not in its area.
		{"GET /eventsfeed", AreaOther},
		{"GET /administrator", AreaOther},
	} {
		if got := Area(c.route); got != c.want {
			t.Errorf("Area(%q) = %q, want %q", c.route, got, c.want)
		}
	}
	if got := EventArea(KindDocument, "GET /documents/{kind}"); got != AreaLibrary {
		t.Errorf("a document opened is in %q, want the library", got)
	}
	if got := EventArea(KindPage, "GET /documents/{kind}"); got != AreaPolicies {
		t.Errorf("a page of the policies is in %q", got)
	}
	seen := map[string]bool{}
	for _, a := range Areas() {
		if seen[a] || AreaLabel(a) == "" || (a != AreaOther && AreaLabel(a) == "Other") {
			t.Errorf("area %q repeated or without its own label", a)
		}
		seen[a] = true
	}
	if len(Areas())+areaBitBase > 62 {
		t.Error("too many areas for a mask")
	}
}
