package usage

import "strings"

// The areas of the service that usage reports count page views in: a
// small fixed set, so that a report stays readable and the aggregates
// small whatever routes are added. Area decides which a route is in.
const (
	AreaHome      = "home"      // the signed-in home page
	AreaRecording = "recording" // recording an event: drafts, the form, amendments
	AreaEvents    = "events"    // lists of events, an event, review and export
	AreaLibrary   = "library"   // the document library; every document opened
	AreaAccount   = "account"   // signing in, registration, profile, consent, the terms gate
	AreaAdmin     = "admin"     // administration of users, organisations and documents
	AreaReports   = "reports"   // usage reports and statistics
	AreaHelp      = "help"      // feedback and queries (the "?" on every page)
	AreaPolicies  = "policies"  // the terms, privacy policy, cookies and accessibility pages
	AreaOther     = "other"     // anything else, such as an address that matched no route
)

// Areas lists every area, in the order reports show them.
func Areas() []string {
	return []string{AreaHome, AreaRecording, AreaEvents, AreaLibrary, AreaAccount, AreaAdmin, AreaReports, AreaHelp,
		AreaPolicies, AreaOther}
}

// AreaLabel is an area as reports name it.
func AreaLabel(area string) string {
	switch area {
	case AreaHome:
		return "Home"
	case AreaRecording:
		return "Recording events"
	case AreaEvents:
		return "Event lists and review"
	case AreaLibrary:
		return "Document library"
	case AreaAccount:
		return "Account and sign-in"
	case AreaAdmin:
		return "Administration"
	case AreaReports:
		return "Reports"
	case AreaHelp:
		return "Help and feedback"
	case AreaPolicies:
		return "Terms and policies"
	}
	return "Other"
}

// areaPrefixes map the start of a route's path to its area. The first
// that matches wins, so a more particular prefix comes before a shorter
// one that also matches. A prefix ending in "/" matches the path with or
// without what follows; others match the whole path or the path followed
// by "/".
func areaPrefixes() []struct{ prefix, area string } {
	return []struct{ prefix, area string }{
		// Usage reports, for org admins and national admins.
		{"/admin/usage", AreaReports},
		// The dashboards of events over time (issue 15).
		{"/dashboard", AreaReports},
		// The guidance library and its administration.
		{"/admin/library", AreaLibrary}, {"/library", AreaLibrary},
		// Feedback and queries: the form, a person's own queries, the inbox.
		{"/admin/feedback", AreaHelp}, {"/help", AreaHelp}, {"/account/queries", AreaHelp},
		// Concern reports: the form is help for anyone; the queue is
		// administration (under "/admin" below).
		{"/concerns", AreaHelp},
		{"/admin", AreaAdmin},
		// Recording: new events, drafts, amending a recorded event, the
		// public route, and the page after submitting.
		{"/events/new", AreaRecording}, {"/drafts", AreaRecording}, {"/report", AreaRecording},
		{"/events/{ref}/change", AreaRecording}, {"/events/{ref}/submitted", AreaRecording},
		{"/events", AreaEvents},
		{"/account", AreaAccount}, {"/sign-in", AreaAccount}, {"/sign-out", AreaAccount}, {"/register", AreaAccount},
		{"/verify-email", AreaAccount}, {"/password-reset", AreaAccount}, {"/pending-approval", AreaAccount},
		{"/session", AreaAccount}, {"/consent", AreaAccount}, {"/review-terms", AreaAccount},
		// One-click unsubscribe from newsletters and invitations (issue 14).
		{"/unsubscribe", AreaAccount},
		// An OpenID Connect provider's back-channel logout (issue 17).
		{"/oidc", AreaAccount},
		{"/terms", AreaPolicies}, {"/privacy", AreaPolicies}, {"/documents", AreaPolicies}, {"/cookies", AreaPolicies},
		{"/accessibility", AreaPolicies},
		// Official statistics publications (issue 15), public pages.
		{"/statistics", AreaReports},
		// A recipient's data sharing agreements and extracts (issue 15):
		// exports of events, as /events/export is.
		{"/sharing", AreaEvents},
	}
}

// Area is the area of the service a route pattern is in, such as
// AreaEvents for "GET /events/{ref}" and AreaRecording for
// "POST /drafts/{id}/{step}". The method, and a host if the pattern has
// one, do not matter; a route it does not know is AreaOther.
func Area(route string) string {
	path := route
	if i := strings.IndexByte(path, ' '); i >= 0 {
		path = strings.TrimLeft(path[i+1:], " ")
	}
	if i := strings.IndexByte(path, '/'); i > 0 {
		path = path[i:] // a host before the path
	}
	if path == "/" || path == "/{$}" {
		return AreaHome
	}
	for _, p := range areaPrefixes() {
		if rest, ok := strings.CutPrefix(path, p.prefix); ok && (rest == "" || rest[0] == '/') {
			return p.area
		}
	}
	return AreaOther
}

// EventArea is the area a usage event counts in: a document opened is
// in the library, whatever route served it; a page is in its route's.
func EventArea(kind, route string) string {
	if kind == KindDocument {
		return AreaLibrary
	}
	return Area(route)
}
