package authz

import "slices"

// EventList is what a person asks an event list (or its export) for.
type EventList struct {
	// Mine asks for the events the viewer recorded themselves.
	Mine bool
	// Orgs asks for the events of the viewer's organisation by name (the
	// link "See your organisation's events"), so that a reviewer who may
	// not read them yet is told why rather than shown their own.
	Orgs bool
	// Org asks for one organisation's events (an ODS code, already parsed);
	// "" asks for the default of the viewer's role.
	Org string
	// Export asks for a download. A download is never of one's own events
	// only: it needs the right to read an organisation's records.
	Export bool
}

// Listing is the answer: whose events the list shows, and what else the
// viewer may ask for, so the page offers exactly that.
type Listing struct {
	// Exactly one of ReporterID, Orgs and All says whose events are shown.
	ReporterID int64
	Orgs       []string
	All        bool
	// OrgsToo is true when the viewer may also list organisations' events
	// (the page offers both "Your events" and the organisations').
	OrgsToo bool
	// Granted are the organisations a read-only viewer may choose from.
	Granted []string
	// AnyOrg is true when the viewer may ask for any organisation by code.
	AnyOrg bool
	// Review is true when the listed events' reviews (state, assignee, due
	// date) may be shown, filtered and sorted on: the viewer may read the
	// review of every organisation listed (ViewReview).
	Review bool
}

// Mine reports whether the listing is of the viewer's own events.
func (l Listing) Mine() bool { return l.ReporterID != 0 }

// ListEvents decides whose events s may list for the request: reporters,
// and anyone asking for their own, see what they recorded; reviewers and
// organisation admins their organisation's (their own events when they may
// not read it yet, unless they asked for it, by code or by Orgs, or for a
// download); read-only
// users their granted organisations' (one of them when chosen; none
// before any is granted, which lists nothing); national
// admins everyone's, or one organisation's. When the answer is no, the
// Object is what was refused, for the page that explains it.
func ListEvents(s Subject, req EventList) (Listing, Decision, Object) {
	mine := Listing{ReporterID: s.UserID}
	own := Object{Org: s.Org}
	if s.UserID == 0 {
		return Listing{}, deny(NotSignedIn), Object{}
	}
	switch s.Role {
	case Reviewer, OrgAdmin:
		if !req.Export && (req.Mine || (req.Org == "" && !req.Orgs && Decide(s, ViewOrgRecords, own).Denied())) {
			mine.OrgsToo = true
			return mine, allow(), own
		}
		return orgListing(s, Listing{Orgs: []string{s.Org}, OrgsToo: true}, own)
	case ReadOnly:
		l := Listing{Orgs: s.ReadOrgs, Granted: s.ReadOrgs}
		if req.Org != "" {
			l.Orgs = []string{req.Org}
		}
		for _, o := range l.Orgs {
			if d := Decide(s, ViewOrgRecords, Object{Org: o}); d.Denied() {
				return Listing{}, d, Object{Org: o}
			}
		}
		return l, allow(), own
	case NationalAdmin:
		if !req.Export && req.Mine {
			mine.OrgsToo, mine.AnyOrg = true, true
			return mine, allow(), own
		}
		if req.Org != "" {
			return orgListing(s, Listing{Orgs: []string{req.Org}, OrgsToo: true, AnyOrg: true}, Object{Org: req.Org})
		}
		return orgListing(s, Listing{All: true, OrgsToo: true, AnyOrg: true}, Object{})
	case Reporter:
		// Asking for an organisation's events, by name or by code, or for
		// a download is refused with the reason, not answered with their
		// own events as if that were what they asked for.
		if req.Export || req.Orgs || req.Org != "" {
			return Listing{}, Decide(s, ViewOrgRecords, own), own
		}
		return mine, allow(), own
	}
	return Listing{}, deny(unknownSubject), own
}

// orgListing is l when s may read the records of o.
func orgListing(s Subject, l Listing, o Object) (Listing, Decision, Object) {
	if d := Decide(s, ViewOrgRecords, o); d.Denied() {
		return Listing{}, d, o
	}
	l.Orgs = slices.Clone(l.Orgs)
	l.Review = Decide(s, ViewReview, o).Allowed
	return l, allow(), o
}
