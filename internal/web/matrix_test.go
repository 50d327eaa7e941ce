package web_test

import (
	"cmp"
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apikey"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/authz"
	concernreport "github.com/psims/psims/internal/concern"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/dataexport"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/feedback"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/library"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/newsletter"
	"github.com/psims/psims/internal/oidclogin"
	"github.com/psims/psims/internal/oidctest"
	"github.com/psims/psims/internal/rights"
	"github.com/psims/psims/internal/sharing"
	"github.com/psims/psims/internal/stats"
	"github.com/psims/psims/internal/terms"
	"github.com/psims/psims/internal/web"
)

// The organisations of the matrix: actors belong to ownOrg; targets are in
// ownOrg or otherOrg. Read-only actors are granted grantedOrg, which is
// neither.
const (
	ownOrg     = "RM1"
	otherOrg   = "D82044"
	grantedOrg = "QMM"
	anonymous  = "anonymous"
)

var everyone = []string{anonymous, authz.Reporter, authz.Reviewer, authz.OrgAdmin, authz.ReadOnly, authz.NationalAdmin}
var signedIn = everyone[1:]

// target is the object of one request: a user of ownOrg or otherOrg with a
// pending role request and an event they recorded there.
type target struct {
	User      account.User
	RequestID int64
	Org       string
	Reference incident.Reference
	DraftID   int64 // a draft of the target user's
	NoteID    int64 // a review note the target user wrote on their event
	// Guidance and ReviewersGuidance are documents of the library, for
	// everyone and for reviewers only.
	Guidance, ReviewersGuidance int64
	// FeedbackID is a question the target user sent with the "?" link.
	FeedbackID int64
	// ExportID names a download of the target user's own data, and
	// DisclosureID a legal disclosure about them (P15, P18).
	ExportID, DisclosureID string
	// RightsID is the target user's request for erasure (P15).
	RightsID int64
	// ConcernID is a concern report naming the target user.
	ConcernID int64
	// OutboxID is a failed email to the target user (issue 14).
	OutboxID int64
	// NewsletterID is a newsletter draft, and UnsubscribePath the target
	// user's one-click unsubscribe address for the newsletter (P7).
	NewsletterID    int64
	UnsubscribePath string
	// DraftStats, ReleasedStats and PendingStats are official statistics
	// publications (issue 15): a draft, one published and released, and
	// one published but not released yet, with nobody on its pre-release
	// list.
	DraftStats, ReleasedStats, PendingStats int64
	// SharingID is a data sharing agreement in force covering the
	// target's organisation and naming the target user, with its signed
	// PDF (T15).
	SharingID int64
	// APIKeyID is an API key of the target's organisation (T3).
	APIKeyID int64
}

// matrixCase says who may use one route, on an object of their own
// organisation and on one of another organisation.
type matrixCase struct {
	pattern string
	// path is the request path for the target; nil means the pattern's path.
	path func(tg target) string
	// form is what a POST sends (the form token is added).
	form url.Values
	// pending makes the target a registration waiting for approval rather
	// than an active user.
	pending bool
	// targetRole is the target user's role (a reporter when empty).
	targetRole string
	// listsOwn and listsOther, for lists, are the roles whose list shows
	// the target's event, in the actor's organisation and in another: the
	// scope the policy chose (authz.ListEvents).
	listsOwn, listsOther []string
	own                  []string // roles allowed on an object of their own organisation
	other                []string // roles allowed on an object of another organisation
}

func (c matrixCase) method() string { m, _, _ := strings.Cut(c.pattern, " "); return m }

func (c matrixCase) pathFor(tg target) string {
	if c.path != nil {
		return c.path(tg)
	}
	_, p, _ := strings.Cut(c.pattern, " ")
	return strings.TrimSuffix(p, "{$}")
}

func userPath(format string) func(target) string {
	return func(tg target) string { return fmt.Sprintf(format, tg.User.ID) }
}

func requestPath(format string) func(target) string {
	return func(tg target) string { return fmt.Sprintf(format, tg.RequestID) }
}

func draftPath(suffix string) func(target) string {
	return func(tg target) string { return fmt.Sprintf("/drafts/%d/%s", tg.DraftID, suffix) }
}

func guidancePath(format string) func(target) string {
	return func(tg target) string { return fmt.Sprintf(format, tg.Guidance) }
}

func reviewersGuidancePath(format string) func(target) string {
	return func(tg target) string { return fmt.Sprintf(format, tg.ReviewersGuidance) }
}

func feedbackPath(format string) func(target) string {
	return func(tg target) string { return fmt.Sprintf(format, tg.FeedbackID) }
}

// exportPath and disclosurePath name the target's download and the
// disclosure about them; a target made without them (the acceptance gate's
// walk) gets a name that exists nowhere.
func exportPath(suffix string) func(target) string {
	return func(tg target) string { return "/account/data/download/" + cmp.Or(tg.ExportID, "none") + suffix }
}

func disclosurePath(suffix string) func(target) string {
	return func(tg target) string {
		return fmt.Sprintf("/admin/users/%d/disclosure/%s%s", tg.User.ID, cmp.Or(tg.DisclosureID, "none"), suffix)
	}
}

func rightsPath(format string) func(target) string {
	return func(tg target) string { return fmt.Sprintf(format, tg.RightsID) }
}

func concernPath(format string) func(target) string {
	return func(tg target) string { return fmt.Sprintf(format, tg.ConcernID) }
}

func newsletterPath(format string) func(target) string {
	return func(tg target) string { return fmt.Sprintf(format, tg.NewsletterID) }
}

func statsPath(id func(target) int64, format string) func(target) string {
	return func(tg target) string { return fmt.Sprintf(format, id(tg)) }
}

func draftStats(tg target) int64    { return tg.DraftStats }
func releasedStats(tg target) int64 { return tg.ReleasedStats }
func pendingStats(tg target) int64  { return tg.PendingStats }

func sharingPath(format string) func(target) string {
	return func(tg target) string { return fmt.Sprintf(format, tg.SharingID) }
}

func apiKeyPath(format string) func(target) string {
	return func(tg target) string { return fmt.Sprintf(format, tg.APIKeyID) }
}

func eventPath(suffix string) func(target) string {
	return func(tg target) string { return "/events/" + string(tg.Reference) + suffix }
}

// matrixCases lists every route. TestAuthorisationMatrix fails when a route
// is missing, so a new route cannot escape the matrix.
func matrixCases() []matrixCase {
	admins := []string{authz.OrgAdmin, authz.NationalAdmin}
	national := []string{authz.NationalAdmin}
	orgRecords := []string{authz.Reviewer, authz.OrgAdmin, authz.NationalAdmin}
	recorders := []string{authz.Reporter, authz.Reviewer, authz.OrgAdmin, authz.NationalAdmin}
	seeOthers := []string{authz.Reviewer, authz.OrgAdmin, authz.ReadOnly, authz.NationalAdmin} // roles that read events of others
	// forReviewers may read a library document for reviewers only.
	forReviewers := []string{authz.Reviewer, authz.NationalAdmin}
	var nobody []string
	return []matrixCase{
		// Public pages and the account pages every visitor may use.
		{pattern: "GET /static/", path: func(target) string { return "/static/app.css" }, own: everyone, other: everyone},
		{pattern: "GET /healthz", own: everyone, other: everyone},
		{pattern: "GET /readyz", own: everyone, other: everyone},
		{pattern: "GET /metrics", own: everyone, other: everyone},
		// The signed-in home lists the organisation's new events for those
		// who may read them (issue 11, item 16).
		{pattern: "GET /{$}", own: everyone, other: everyone, listsOwn: orgRecords, listsOther: national},
		{pattern: "GET /terms", own: everyone, other: everyone},
		{pattern: "GET /privacy", own: everyone, other: everyone},
		{pattern: "GET /accessibility", own: everyone, other: everyone},
		{pattern: "GET /register", own: everyone, other: everyone},
		{pattern: "POST /register", form: url.Values{"action": {"search"}, "org_query": {"RM1"}}, own: everyone, other: everyone},
		{pattern: "GET /register/check-email", own: everyone, other: everyone},
		{pattern: "GET /verify-email", own: everyone, other: everyone},
		{pattern: "POST /verify-email", form: url.Values{"token": {"not-a-token"}}, own: everyone, other: everyone},
		{pattern: "GET /verify-email/resend", own: everyone, other: everyone},
		{pattern: "POST /verify-email/resend", form: url.Values{"email": {"someone@nhs.net"}}, own: everyone, other: everyone},
		{pattern: "GET /pending-approval", own: everyone, other: everyone},
		{pattern: "GET /sign-in", own: everyone, other: everyone},
		{pattern: "POST /sign-in", form: url.Values{"email": {"nobody@nhs.net"}, "password": {"wrong password here"}}, own: everyone, other: everyone},
		{pattern: "POST /sign-out", own: everyone, other: everyone},
		{pattern: "GET /password-reset", own: everyone, other: everyone},
		{pattern: "POST /password-reset", form: url.Values{"email": {"someone@nhs.net"}}, own: everyone, other: everyone},
		{pattern: "GET /password-reset/sent", own: everyone, other: everyone},
		{pattern: "GET /password-reset/new", own: everyone, other: everyone},
		{pattern: "POST /password-reset/new", form: url.Values{"token": {"not-a-token"}}, own: everyone, other: everyone},

		// The cookies page and the banner's choice: every visitor, signed in
		// or not, may read the page and save (here, reject) analytics cookies.
		{pattern: "GET /cookies", own: everyone, other: everyone},
		{pattern: "POST /cookies", form: url.Values{"analytics": {"no"}, "next": {"/"}}, own: everyone, other: everyone},

		// The acceptance gate's review page, the consent offer and "Your
		// data": every signed-in user, for themselves.
		{pattern: "GET /review-terms", own: signedIn, other: signedIn},
		{pattern: "POST /review-terms", form: url.Values{"action": {"accept"}}, own: signedIn, other: signedIn},
		{pattern: "GET /consent", own: signedIn, other: signedIn},
		{pattern: "POST /consent", form: url.Values{"action": {"none"}}, own: signedIn, other: signedIn},
		{pattern: "GET /account/data-preferences", own: signedIn, other: signedIn},
		{pattern: "POST /account/data-preferences", form: url.Values{"consent": {"newsletter"}}, own: signedIn, other: signedIn},
		{pattern: "GET /account/data", own: signedIn, other: signedIn},

		// A signed-in user's own account.
		{pattern: "GET /account", own: signedIn, other: signedIn},
		{pattern: "POST /account/sign-out-everywhere", own: signedIn, other: signedIn},
		{pattern: "POST /session/extend", own: signedIn, other: signedIn},
		{pattern: "GET /account/profile", own: signedIn, other: signedIn},
		{pattern: "GET /account/profile/details", own: signedIn, other: signedIn},
		{pattern: "POST /account/profile/details", form: url.Values{"name": {""}}, own: signedIn, other: signedIn},
		{pattern: "GET /account/profile/email", own: signedIn, other: signedIn},
		{pattern: "POST /account/profile/email", form: url.Values{"email": {""}}, own: signedIn, other: signedIn},
		{pattern: "POST /account/profile/email/cancel", own: signedIn, other: signedIn},
		{pattern: "GET /account/profile/organisation", own: signedIn, other: signedIn},
		{pattern: "POST /account/profile/organisation", form: url.Values{"org_query": {""}}, own: signedIn, other: signedIn},
		{pattern: "POST /account/profile/organisation/withdraw", own: signedIn, other: signedIn},
		{pattern: "GET /account/ig-training", own: signedIn, other: signedIn},
		{pattern: "POST /account/ig-training", form: url.Values{"day": {"40"}}, own: signedIn, other: signedIn},
		// Event alert choices: every signed-in user, for themselves (only
		// reviewers and organisation admins are emailed).
		{pattern: "GET /account/alerts", own: signedIn, other: signedIn},
		{pattern: "POST /account/alerts", form: url.Values{"alerts": {"never-event"}}, own: signedIn, other: signedIn},
		{pattern: "GET /account/role-request", own: signedIn, other: signedIn},
		{pattern: "POST /account/role-request", form: url.Values{"role": {""}}, own: signedIn, other: signedIn},
		{pattern: "POST /account/role-request/withdraw", form: url.Values{"request_id": {"0"}}, own: signedIn, other: signedIn},
		// Confirming a new email address needs only the emailed token.
		{pattern: "GET /account/profile/email/confirm", own: everyone, other: everyone},
		{pattern: "POST /account/profile/email/confirm", form: url.Values{"token": {"not-a-token"}}, own: everyone, other: everyone},
		{pattern: "GET /account/profile/email/changed", own: everyone, other: everyone},

		// User administration. Lists are scoped to the admin's organisation:
		// an org admin asking for another one's list gets their own.
		{pattern: "GET /admin/users", path: func(tg target) string { return "/admin/users?org=" + tg.Org }, own: admins, other: admins},
		{pattern: "GET /admin/users/export", path: func(tg target) string { return "/admin/users/export?org=" + tg.Org }, own: admins, other: admins},
		// Usage reports (issue 12): an organisation admin's report is of
		// their own organisation whatever is asked for, as the user list is
		// (TestAnOrgAdminsUsageReportIsTheirOwnOrganisations); national
		// admins choose any, or the national report.
		{pattern: "GET /admin/usage", path: func(tg target) string { return "/admin/usage?org=" + tg.Org }, own: admins, other: admins},
		{pattern: "GET /admin/usage/download", path: func(tg target) string { return "/admin/usage/download?org=" + tg.Org }, own: admins, other: admins},
		{pattern: "GET /admin/usage", path: func(target) string { return "/admin/usage?by=month" }, own: admins, other: admins},
		// The dashboard (T14): reviewers and org admins their own
		// organisation's, read-only users their granted one's (QMM, by
		// default), national admins any and the national one.
		{pattern: "GET /dashboard", own: seeOthers, other: seeOthers},
		{pattern: "GET /dashboard", path: func(tg target) string { return "/dashboard?org=" + tg.Org }, own: orgRecords, other: national},
		{pattern: "GET /dashboard", path: func(target) string { return "/dashboard?org=" + grantedOrg + "&grain=week&by=harm" }, own: []string{authz.ReadOnly, authz.NationalAdmin}, other: []string{authz.ReadOnly, authz.NationalAdmin}},
		{pattern: "GET /admin/users/{id}", path: userPath("/admin/users/%d"), own: admins, other: national},
		{pattern: "POST /admin/users/{id}/status", path: userPath("/admin/users/%d/status"), form: url.Values{"status": {"suspended"}, "reason": {"Matrix test"}}, own: admins, other: national},
		{pattern: "POST /admin/users/{id}/role", path: userPath("/admin/users/%d/role"), form: url.Values{"role": {"reviewer"}}, own: admins, other: national},
		{pattern: "POST /admin/users/{id}/read-grants", path: userPath("/admin/users/%d/read-grants"), form: url.Values{"orgs": {"QMM"}}, own: national, other: national},
		// Nobody acts on an account whose role they could not grant: an
		// org admin may not suspend, re-role or decide for a read-only
		// user or a national admin of their own organisation.
		{pattern: "POST /admin/users/{id}/status", path: userPath("/admin/users/%d/status"), targetRole: authz.NationalAdmin, form: url.Values{"status": {"suspended"}, "reason": {"Matrix test"}}, own: national, other: national},
		{pattern: "POST /admin/users/{id}/status", path: userPath("/admin/users/%d/status"), targetRole: authz.ReadOnly, form: url.Values{"status": {"deactivated"}, "reason": {"Matrix test"}}, own: national, other: national},
		{pattern: "POST /admin/users/{id}/role", path: userPath("/admin/users/%d/role"), targetRole: authz.NationalAdmin, form: url.Values{"role": {"reporter"}}, own: national, other: national},
		{pattern: "POST /admin/users/{id}/role", path: userPath("/admin/users/%d/role"), targetRole: authz.ReadOnly, form: url.Values{"role": {"reviewer"}}, own: national, other: national},
		{pattern: "GET /admin/users/{id}", path: userPath("/admin/users/%d"), targetRole: authz.NationalAdmin, own: admins, other: national},
		// Two-step verification (twostep.go, T3): the second step of
		// signing in and a person's own app and codes are theirs; an admin
		// resets someone else's as they would suspend them.
		{pattern: "GET /sign-in/two-step", own: everyone, other: everyone},
		{pattern: "POST /sign-in/two-step", form: url.Values{"code": {"123456"}}, own: signedIn, other: signedIn},
		{pattern: "GET /account/two-step", own: signedIn, other: signedIn},
		{pattern: "GET /account/two-step/set-up", own: signedIn, other: signedIn},
		{pattern: "POST /account/two-step/set-up/start", own: signedIn, other: signedIn},
		{pattern: "POST /account/two-step/set-up", form: url.Values{"code": {"123456"}}, own: signedIn, other: signedIn},
		{pattern: "POST /account/two-step/recovery-codes", own: signedIn, other: signedIn},
		{pattern: "POST /account/two-step/turn-off", form: url.Values{"code": {"123456"}}, own: signedIn, other: signedIn},
		{pattern: "POST /admin/users/{id}/two-step/reset", path: userPath("/admin/users/%d/two-step/reset"), form: url.Values{"two_step_reason": {"Matrix test"}}, own: admins, other: national},
		// Passkeys (passkey.go, T3): a person's own; signing in with one is
		// open to every visitor; nobody removes a passkey that is not theirs.
		{pattern: "GET /account/passkeys", own: signedIn, other: signedIn},
		{pattern: "POST /account/passkeys/new", form: url.Values{"name": {"Matrix key"}}, own: signedIn, other: signedIn},
		{pattern: "POST /account/passkeys/new/finish", form: url.Values{"name": {""}, "token": {"x"}, "credential": {"{}"}}, own: signedIn, other: signedIn},
		{pattern: "POST /account/passkeys/{id}/remove", path: func(target) string { return "/account/passkeys/999999/remove" }},
		{pattern: "POST /account/devices/{id}/forget", path: func(target) string { return "/account/devices/999999/forget" }},
		{pattern: "POST /sign-in/passkey", own: everyone, other: everyone},
		{pattern: "POST /sign-in/passkey/finish", form: url.Values{"token": {"x"}, "credential": {"{}"}}, own: everyone, other: everyone},
		{pattern: "POST /sign-in/two-step/passkey", own: signedIn, other: signedIn},
		{pattern: "POST /sign-in/two-step/passkey/finish", form: url.Values{"token": {"x"}, "credential": {"{}"}}, own: signedIn, other: signedIn},
		// Sign-in through an OpenID Connect provider (oidc.go, P11): starting
		// one, its callback, and the pages of an identity held for linking
		// or registering are open to every visitor (with nothing held, or a
		// callback with no sign-in behind it, they explain and change
		// nothing); a person's linked sign-ins are their own, and nobody
		// removes one that is not theirs; the provider's back-channel logout
		// takes a signed token, not a session.
		{pattern: "GET /sign-in/oidc/{name}", path: func(target) string { return "/sign-in/oidc/cis2" }, own: everyone, other: everyone},
		{pattern: "GET /sign-in/oidc/{name}/callback", path: func(target) string { return "/sign-in/oidc/cis2/callback?state=x&code=y" }, own: everyone, other: everyone},
		{pattern: "GET /sign-in/not-linked", own: everyone, other: everyone},
		{pattern: "GET /register/oidc", own: everyone, other: everyone},
		{pattern: "POST /register/oidc", form: url.Values{"name": {"Matrix"}, "job_role": {"Nurse"}, "org": {"RM1"}, "email": {"m@nhs.net"}}, own: everyone, other: everyone},
		{pattern: "GET /account/sign-ins", own: signedIn, other: signedIn},
		{pattern: "POST /account/sign-ins/{name}/link", path: func(target) string { return "/account/sign-ins/cis2/link" }, own: signedIn, other: signedIn},
		{pattern: "GET /account/sign-ins/link", own: signedIn, other: signedIn},
		{pattern: "POST /account/sign-ins/link", own: signedIn, other: signedIn},
		{pattern: "POST /account/sign-ins/{id}/remove", path: func(target) string { return "/account/sign-ins/999999/remove" }},
		{pattern: "POST /oidc/{name}/backchannel-logout", path: func(target) string { return "/oidc/cis2/backchannel-logout" },
			form: url.Values{"logout_token": {"not.a.token"}}, own: everyone, other: everyone},
		{pattern: "POST /admin/users/{id}/two-step/reset", path: userPath("/admin/users/%d/two-step/reset"), targetRole: authz.NationalAdmin, form: url.Values{"two_step_reason": {"Matrix test"}}, own: national, other: national},
		{pattern: "POST /admin/users/{id}/two-step/reset", path: userPath("/admin/users/%d/two-step/reset"), targetRole: authz.ReadOnly, form: url.Values{"two_step_reason": {"Matrix test"}}, own: national, other: national},

		// Organisations, for the operator.
		{pattern: "GET /admin/organisations", own: national, other: national},
		{pattern: "GET /admin/organisations/{code}", path: func(tg target) string { return "/admin/organisations/" + tg.Org }, own: national, other: national},

		// Versioned documents (documents.go, admin_documents.go). Every
		// visitor may read every version; only national admins manage them.
		// The preview sends a text and a summary but publishes nothing; the
		// publish row publishes a minor version of the recording statement,
		// which emails nobody and asks nobody to accept anything.
		{pattern: "GET /documents/{kind}", path: func(target) string { return "/documents/terms" }, own: everyone, other: everyone},
		{pattern: "GET /documents/{kind}/{version}", path: func(target) string { return "/documents/privacy/1" }, own: everyone, other: everyone},
		{pattern: "GET /admin/documents", own: national, other: national},
		{pattern: "GET /admin/documents/{kind}", path: func(target) string { return "/admin/documents/terms" }, own: national, other: national},
		{pattern: "GET /admin/documents/{kind}/new", path: func(target) string { return "/admin/documents/privacy/new" }, own: national, other: national},
		{pattern: "POST /admin/documents/{kind}/new", path: func(target) string { return "/admin/documents/terms/new" },
			form: url.Values{"action": {"preview"}, "body": {"Matrix text."}, "summary": {"Matrix test"}}, own: national, other: national},
		{pattern: "POST /admin/documents/{kind}/new", path: func(target) string { return "/admin/documents/recording-statement/new" },
			form: url.Values{"action": {"publish"}, "body": {"Matrix recording statement."}, "summary": {"Matrix test"}}, own: national, other: national},
		{pattern: "GET /admin/documents/{kind}/{version}", path: func(target) string { return "/admin/documents/terms/1" }, own: national, other: national},

		// Approvals.
		{pattern: "GET /admin/approvals", own: admins, other: admins, pending: true},
		{pattern: "GET /admin/approvals/registrations/{id}", path: userPath("/admin/approvals/registrations/%d"), pending: true, own: admins, other: national},
		{pattern: "POST /admin/approvals/registrations/{id}", path: userPath("/admin/approvals/registrations/%d"), form: url.Values{"decision": {"reject"}, "reason": {"Matrix test"}}, pending: true, own: admins, other: national},
		{pattern: "GET /admin/approvals/requests/{id}", path: requestPath("/admin/approvals/requests/%d"), own: admins, other: national},
		{pattern: "POST /admin/approvals/requests/{id}", path: requestPath("/admin/approvals/requests/%d"), form: url.Values{"decision": {"reject"}, "reason": {"Matrix test"}}, own: admins, other: national},
		// Approving a national admin's request for the reviewer role would
		// demote them: only the operator decides it.
		{pattern: "POST /admin/approvals/requests/{id}", path: requestPath("/admin/approvals/requests/%d"), targetRole: authz.NationalAdmin, form: url.Values{"decision": {"approve"}}, own: national, other: national},

		// Feedback and questions (feedback.go, P3, P8). The form is on
		// every page's "?" link: a signed-out visitor gets a page asking
		// them to sign in, and only signed-in users send. Someone's own
		// list is theirs; one message, and its confirmation, only its
		// sender's (never the actor here, so nobody: a national admin
		// included, who reads it in the inbox). The inbox is the
		// operator's.
		{pattern: "GET /help/feedback", path: func(target) string { return "/help/feedback?from=/events" }, own: everyone, other: everyone},
		{pattern: "POST /help/feedback", form: url.Values{"kind": {"feedback"}, "text": {"Matrix feedback."}, "from": {"/events"}}, own: signedIn, other: signedIn},
		{pattern: "GET /help/feedback/sent/{id}", path: feedbackPath("/help/feedback/sent/%d"), own: nobody, other: nobody},
		{pattern: "GET /account/queries", own: signedIn, other: signedIn},
		{pattern: "GET /account/queries/{id}", path: feedbackPath("/account/queries/%d"), own: nobody, other: nobody},
		{pattern: "GET /admin/feedback", own: national, other: national},
		{pattern: "GET /admin/feedback/{id}", path: feedbackPath("/admin/feedback/%d"), own: national, other: national},
		{pattern: "POST /admin/feedback/{id}/assign", path: feedbackPath("/admin/feedback/%d/assign"), form: url.Values{"assignee": {""}}, own: national, other: national},
		{pattern: "POST /admin/feedback/{id}/reply", path: feedbackPath("/admin/feedback/%d/reply"), form: url.Values{"reply": {"A matrix reply."}}, own: national, other: national},
		{pattern: "POST /admin/feedback/{id}/status", path: feedbackPath("/admin/feedback/%d/status"), form: url.Values{"status": {"closed"}}, own: national, other: national},
		// Concern reports (concerns.go, T5, T6). Anyone reports, signed in
		// or not; the queue and a report are the national admins', and an
		// organisation admin's for reports naming its own users; acting on
		// the named account is allowed only to whoever could change its
		// status directly; closing is the operator's.
		{pattern: "GET /concerns/new", own: everyone, other: everyone},
		{pattern: "POST /concerns", form: url.Values{"kind": {"terms-breach"}, "text": {"Matrix concern."}, "reporter_name": {"Matrix Visitor"},
			"reporter_email": {"visitor@example.org"}}, own: everyone, other: everyone},
		{pattern: "GET /concerns/sent/{ref}", path: func(target) string { return "/concerns/sent/CR-00001" }, own: everyone, other: everyone},
		{pattern: "GET /admin/concerns", own: admins, other: admins},
		{pattern: "GET /admin/concerns/{id}", path: concernPath("/admin/concerns/%d"), own: admins, other: national},
		{pattern: "POST /admin/concerns/{id}/notes", path: concernPath("/admin/concerns/%d/notes"), form: url.Values{"note": {"A matrix note."}}, own: admins, other: national},
		{pattern: "POST /admin/concerns/{id}/account", path: concernPath("/admin/concerns/%d/account"), form: url.Values{"status": {"suspended"}, "reason": {"Matrix reason"}}, own: admins, other: national},
		{pattern: "POST /admin/concerns/{id}/account", path: concernPath("/admin/concerns/%d/account"), form: url.Values{"status": {"suspended"}, "reason": {"Matrix reason"}}, targetRole: authz.NationalAdmin, own: national, other: national},
		{pattern: "POST /admin/concerns/{id}/account", path: concernPath("/admin/concerns/%d/account"), form: url.Values{"status": {"suspended"}, "reason": {"Matrix reason"}}, targetRole: authz.ReadOnly, own: national, other: national},
		{pattern: "POST /admin/concerns/{id}/close", path: concernPath("/admin/concerns/%d/close"), form: url.Values{"outcome": {"no-breach"}}, own: national, other: national},

		// "Download my data" (dataexport.go, P15): everyone signed in asks
		// for and reads their own; a download is its owner's alone (never
		// the actor here, so nobody, a national admin included). Legal
		// disclosures about a user (P18) are the operator's.
		{pattern: "GET /account/data/download", own: signedIn, other: signedIn},
		{pattern: "POST /account/data/download", own: signedIn, other: signedIn},
		{pattern: "GET /account/data/download/{export}", path: exportPath(""), own: nobody, other: nobody},
		{pattern: "GET /account/data/download/{export}/json", path: exportPath("/json"), own: nobody, other: nobody},
		{pattern: "GET /admin/users/{id}/disclosure", path: userPath("/admin/users/%d/disclosure"), own: national, other: national},
		{pattern: "POST /admin/users/{id}/disclosure", path: userPath("/admin/users/%d/disclosure"), form: url.Values{"basis": {"court_order"}, "reference": {"Matrix order 2"}}, own: national, other: national},
		{pattern: "GET /admin/users/{id}/disclosure/{export}", path: disclosurePath(""), own: national, other: national},
		{pattern: "GET /admin/users/{id}/disclosure/{export}/json", path: disclosurePath("/json"), own: national, other: national},
		{pattern: "GET /admin/users/{id}/disclosure", path: userPath("/admin/users/%d/disclosure"), targetRole: authz.NationalAdmin, own: national, other: national},
		// Requests for erasure, restriction and objection (rights.go, P15).
		// Everyone signed in asks for their own (the form left empty here,
		// so nothing changes); the target's request is theirs alone to
		// withdraw. The queue, and every step on a request, are the
		// national admins': never an org admin, even for their own
		// organisation's people.
		{pattern: "GET /account/data/rights", own: signedIn, other: signedIn},
		{pattern: "POST /account/data/rights", form: url.Values{"kind": {""}}, own: signedIn, other: signedIn},
		{pattern: "POST /account/data/rights/{id}/withdraw", path: rightsPath("/account/data/rights/%d/withdraw"), own: nobody, other: nobody},
		{pattern: "GET /admin/rights", own: national, other: national},
		{pattern: "GET /admin/rights/{id}", path: rightsPath("/admin/rights/%d"), own: national, other: national},
		{pattern: "POST /admin/rights/{id}/note", path: rightsPath("/admin/rights/%d/note"), form: url.Values{"note": {"A matrix note."}}, own: national, other: national},
		{pattern: "POST /admin/rights/{id}/extend", path: rightsPath("/admin/rights/%d/extend"), form: url.Values{"months": {"1"}, "reason": {"Matrix test"}}, own: national, other: national},
		{pattern: "POST /admin/rights/{id}/refuse", path: rightsPath("/admin/rights/%d/refuse"), form: url.Values{"refusal": {"Matrix test"}}, own: national, other: national},
		{pattern: "POST /admin/rights/{id}/complete", path: rightsPath("/admin/rights/%d/complete"), own: national, other: national},
		{pattern: "POST /admin/rights/{id}/lift", path: rightsPath("/admin/rights/%d/lift"), own: national, other: national},

		// The audit log viewer and its export (issue 13): national admins
		// only, whichever organisation or person the filters name.
		{pattern: "GET /admin/audit", path: func(tg target) string { return "/admin/audit?org=" + tg.Org }, own: national, other: national},
		{pattern: "GET /admin/audit", path: func(tg target) string { return fmt.Sprintf("/admin/audit?actor=%d", tg.User.ID) }, own: national, other: national},
		{pattern: "GET /admin/audit/download", path: func(tg target) string { return "/admin/audit/download?org=" + tg.Org }, own: national, other: national},

		// The outbox view and Send again (issue 14): national admins only,
		// as it names every recipient.
		{pattern: "GET /admin/outbox", own: national, other: national},
		{pattern: "GET /admin/outbox", path: func(target) string { return "/admin/outbox?status=failed" }, own: national, other: national},
		{pattern: "POST /admin/outbox/{id}/resend", path: func(tg target) string { return fmt.Sprintf("/admin/outbox/%d/resend", tg.OutboxID) }, own: national, other: national},
		// Newsletters and invitations (newsletters.go, P7): national admins
		// only. The one-click unsubscribe address needs no sign-in: its
		// signed token is the authority, so every visitor reaches it.
		{pattern: "GET /admin/newsletters", own: national, other: national},
		{pattern: "GET /admin/newsletters/new", own: national, other: national},
		{pattern: "POST /admin/newsletters/new", form: url.Values{"kind": {"newsletter"}, "subject": {"Matrix news"}, "body": {"Matrix text."},
			"audience": {"everyone"}, "when": {"now"}}, own: national, other: national},
		{pattern: "GET /admin/newsletters/{id}", path: newsletterPath("/admin/newsletters/%d"), own: national, other: national},
		{pattern: "GET /admin/newsletters/{id}/edit", path: newsletterPath("/admin/newsletters/%d/edit"), own: national, other: national},
		{pattern: "POST /admin/newsletters/{id}/edit", path: newsletterPath("/admin/newsletters/%d/edit"), form: url.Values{"kind": {"newsletter"},
			"subject": {"Matrix news, changed"}, "body": {"Matrix text."}, "audience": {"everyone"}, "when": {"now"}}, own: national, other: national},
		{pattern: "POST /admin/newsletters/{id}/send", path: newsletterPath("/admin/newsletters/%d/send"), own: national, other: national},
		{pattern: "POST /admin/newsletters/{id}/cancel", path: newsletterPath("/admin/newsletters/%d/cancel"), own: national, other: national},
		// Data sharing agreements (sharing.go, T15): the registry is
		// national admins'; an extract is theirs and the agreement's named
		// recipients' (the target user, never the actor here: see
		// sharing_test.go); everyone signed in lists the agreements naming
		// them.
		{pattern: "GET /admin/sharing", own: national, other: national},
		{pattern: "GET /admin/sharing/new", own: national, other: national},
		{pattern: "POST /admin/sharing/new", form: url.Values{"recipient": {"Matrix body"}, "purpose": {"Matrix learning"},
			"legal_basis": {"art6-1e"}, "special_basis": {"art9-2h"}, "starts_on-day": {"1"}, "starts_on-month": {"1"}, "starts_on-year": {"2026"},
			"ends_on-day": {"31"}, "ends_on-month": {"12"}, "ends_on-year": {"2027"}, "approved_on-day": {"1"}, "approved_on-month": {"1"},
			"approved_on-year": {"2026"}, "fields": {"reference"}, "coverage": {"all"}, "approver_name": {"Matrix approver"},
			"approver_role": {"SIRO"}}, own: national, other: national},
		{pattern: "GET /admin/sharing/{id}", path: sharingPath("/admin/sharing/%d"), own: national, other: national},
		{pattern: "GET /admin/sharing/{id}/edit", path: sharingPath("/admin/sharing/%d/edit"), own: national, other: national},
		{pattern: "POST /admin/sharing/{id}/edit", path: sharingPath("/admin/sharing/%d/edit"), form: url.Values{"recipient": {"Matrix body"},
			"purpose": {"Matrix learning, changed"}, "legal_basis": {"art6-1e"}, "special_basis": {"art9-2h"}, "starts_on-day": {"1"},
			"starts_on-month": {"1"}, "starts_on-year": {"2026"}, "ends_on-day": {"31"}, "ends_on-month": {"12"}, "ends_on-year": {"2027"},
			"approved_on-day": {"1"}, "approved_on-month": {"1"}, "approved_on-year": {"2026"}, "fields": {"reference"}, "coverage": {"all"},
			"approver_name": {"Matrix approver"}, "approver_role": {"SIRO"}}, own: national, other: national},
		{pattern: "POST /admin/sharing/{id}/revoke", path: sharingPath("/admin/sharing/%d/revoke"), form: url.Values{"reason": {"Matrix ended"}}, own: national, other: national},
		{pattern: "POST /admin/sharing/{id}/document", path: sharingPath("/admin/sharing/%d/document"), own: national, other: national},
		{pattern: "GET /admin/sharing/{id}/document", path: sharingPath("/admin/sharing/%d/document"), own: national, other: national},
		{pattern: "GET /admin/sharing/{id}/extract", path: sharingPath("/admin/sharing/%d/extract"), own: national, other: national},
		{pattern: "POST /admin/sharing/{id}/extract", path: sharingPath("/admin/sharing/%d/extract"), own: national, other: national},
		{pattern: "GET /sharing", own: signedIn, other: signedIn},
		{pattern: "GET /unsubscribe/{token}", path: func(tg target) string { return tg.UnsubscribePath }, own: everyone, other: everyone},
		{pattern: "POST /unsubscribe/{token}", path: func(tg target) string { return tg.UnsubscribePath }, own: everyone, other: everyone},

		// Official statistics (statistics.go, T16): released publications
		// are public; one published but not released is seen only by its
		// pre-release list (nobody here) and national admins; a draft by
		// nobody on the public pages. Making them is national admins'.
		{pattern: "GET /statistics", own: everyone, other: everyone},
		{pattern: "GET /statistics/{id}", path: statsPath(releasedStats, "/statistics/%d"), own: everyone, other: everyone},
		{pattern: "GET /statistics/{id}", path: statsPath(pendingStats, "/statistics/%d"), own: national, other: national},
		{pattern: "GET /statistics/{id}", path: statsPath(draftStats, "/statistics/%d"), own: nobody, other: nobody},
		{pattern: "GET /statistics/{id}/v/{n}", path: statsPath(releasedStats, "/statistics/%d/v/1"), own: everyone, other: everyone},
		{pattern: "GET /statistics/{id}/v/{n}", path: statsPath(pendingStats, "/statistics/%d/v/1"), own: national, other: national},
		{pattern: "GET /statistics/{id}/v/{n}/{file}", path: statsPath(releasedStats, "/statistics/%d/v/1/national-totals.csv"), own: everyone, other: everyone},
		{pattern: "GET /statistics/{id}/v/{n}/{file}", path: statsPath(pendingStats, "/statistics/%d/v/1/publication.xlsx"), own: national, other: national},
		{pattern: "GET /admin/statistics", own: national, other: national},
		{pattern: "GET /admin/statistics/new", own: national, other: national},
		{pattern: "POST /admin/statistics/new", form: url.Values{"title": {"Matrix statistics"}, "period": {"custom"}, "basis": {"occurred"},
			"from-day": {"1"}, "from-month": {"4"}, "from-year": {"2020"}, "to-day": {"30"}, "to-month": {"9"}, "to-year": {"2020"},
			"release-day": {"12"}, "release-month": {"11"}, "release-year": {"2020"}, "release-time": {"09:30"}}, own: national, other: national},
		{pattern: "GET /admin/statistics/denominators", own: national, other: national},
		{pattern: "POST /admin/statistics/denominators", own: national, other: national},
		{pattern: "GET /admin/statistics/{id}", path: statsPath(draftStats, "/admin/statistics/%d"), own: national, other: national},
		{pattern: "GET /admin/statistics/{id}/preview", path: statsPath(draftStats, "/admin/statistics/%d/preview"), own: national, other: national},
		{pattern: "POST /admin/statistics/{id}/publish", path: statsPath(draftStats, "/admin/statistics/%d/publish"), form: url.Values{"confirm": {"yes"}}, own: national, other: national},
		{pattern: "POST /admin/statistics/{id}/revise", path: statsPath(releasedStats, "/admin/statistics/%d/revise"), form: url.Values{"reason": {"Matrix revision"}}, own: national, other: national},
		{pattern: "POST /admin/statistics/{id}/prerelease", path: statsPath(pendingStats, "/admin/statistics/%d/prerelease"), form: url.Values{"email": {"press@example.nhs.uk"}}, own: national, other: national},
		{pattern: "POST /admin/statistics/{id}/prerelease/remove", path: statsPath(pendingStats, "/admin/statistics/%d/prerelease/remove"), form: url.Values{"email": {"press@example.nhs.uk"}}, own: national, other: national},

		// Event lists and pages (events.go). Everyone signed in has a list:
		// a reporter's own events, a reviewer's or org admin's organisation,
		// a read-only user's granted organisations, everything for national
		// admins. The export asks for the target's organisation: reviewers
		// and org admins get their own organisation's whatever they ask, a
		// national admin gets the one asked for, and a read-only user is
		// refused because neither organisation is granted (they may export
		// grantedOrg, which events_test.go checks). One event, and its
		// history, is for its organisation's reviewers and admins and the
		// operator; the target's reporter is not the actor, so reporters are
		// refused.
		{pattern: "GET /events", own: signedIn, other: signedIn, listsOwn: orgRecords, listsOther: national},
		// Asking for an organisation: reviewers and org admins get their
		// organisation's list whatever they ask; a reporter is refused
		// (they see only their own events, and are told so rather than
		// shown them as if they were what was asked for); a read-only user
		// is refused an organisation not granted.
		{pattern: "GET /events", path: func(tg target) string { return "/events?org=" + tg.Org }, own: orgRecords, other: orgRecords, listsOwn: orgRecords, listsOther: national},
		{pattern: "GET /events", path: func(target) string { return "/events?view=mine" }, own: signedIn, other: signedIn, listsOwn: []string{}, listsOther: []string{}},
		// Asking for the organisation's events by name, and searching
		// (issue 11, items 6 and 19): words find only what the list would
		// show; a reference goes to the event or finds nothing, so nobody
		// is refused (the event page's own row checks who gets it).
		{pattern: "GET /events", path: func(target) string { return "/events?view=org" }, own: seeOthers, other: seeOthers, listsOwn: orgRecords, listsOther: national},
		{pattern: "GET /events", path: func(target) string { return "/events?q=matrix+test" }, own: signedIn, other: signedIn, listsOwn: orgRecords, listsOther: national},
		{pattern: "GET /events", path: func(tg target) string { return "/events?q=" + string(tg.Reference) }, own: signedIn, other: signedIn},
		// A national admin's export leaves the recording organisation, so
		// without an agreement parameter it is a page choosing one (or
		// saying there is none), which shows no event (T15).
		{pattern: "GET /events/export", path: func(tg target) string { return "/events/export?org=" + tg.Org }, own: orgRecords, other: orgRecords,
			listsOwn: []string{authz.Reviewer, authz.OrgAdmin}, listsOther: []string{}},
		{pattern: "GET /events/{ref}", path: eventPath(""), own: orgRecords, other: national},
		{pattern: "GET /events/{ref}/history", path: eventPath("/history"), own: orgRecords, other: national},

		// Recording (record.go): everyone signed in but read-only users
		// records. A draft, and the confirmation of a submission, are their
		// author's alone: the target's are refused to every actor, national
		// admins included.
		{pattern: "GET /events/new", own: recorders, other: recorders},
		{pattern: "POST /events/new", form: url.Values{"type": {"risk"}}, own: recorders, other: recorders},
		{pattern: "GET /events/{ref}/submitted", path: eventPath("/submitted"), own: nobody, other: nobody},
		{pattern: "GET /drafts", own: recorders, other: recorders},
		{pattern: "GET /drafts/{id}/check", path: draftPath("check"), own: nobody, other: nobody},
		{pattern: "GET /drafts/{id}/statement", path: draftPath("statement"), own: nobody, other: nobody},
		{pattern: "POST /drafts/{id}/statement", path: draftPath("statement"), form: url.Values{"statement_version": {"1"}}, own: nobody, other: nobody},
		{pattern: "GET /drafts/{id}/delete", path: draftPath("delete"), own: nobody, other: nobody},
		{pattern: "POST /drafts/{id}/delete", path: draftPath("delete"), own: nobody, other: nobody},
		{pattern: "GET /drafts/{id}/{step}", path: draftPath("date-known"), own: nobody, other: nobody},
		{pattern: "POST /drafts/{id}/{step}", path: draftPath("date-known"), form: url.Values{"answer": {"exact"}}, own: nobody, other: nobody},

		// Changing a submitted event (amend.go): its reporter (never the
		// actor here), its organisation's reviewers and admins, the operator.
		{pattern: "GET /events/{ref}/change/{step}", path: eventPath("/change/description"), own: orgRecords, other: national},
		{pattern: "POST /events/{ref}/change/{step}", path: eventPath("/change/description"),
			// Not the event's own text: a refused post may be carried through
			// the sign-in page, and what was sent is no secret to its sender.
			form: url.Values{"answer": {"A matrix test amendment."}, "reason": {"Matrix test"}}, own: orgRecords, other: national},

		// Reviewing an event (review.go): its organisation's reviewers and
		// admins; the operator reads reviews but does not do them. A note
		// is changed by its author alone (the target user, never the actor).
		{pattern: "POST /events/{ref}/review", path: eventPath("/review"), form: url.Values{"state": {"in-review"}},
			own: []string{authz.Reviewer, authz.OrgAdmin}, other: nobody},
		{pattern: "POST /events/{ref}/review/notes/{id}", path: func(tg target) string {
			return fmt.Sprintf("/events/%s/review/notes/%d", tg.Reference, tg.NoteID)
		}, form: url.Values{"body": {"Matrix note, changed"}, "version": {"1"}}, own: nobody, other: nobody},

		// The guidance library (library.go): everyone signed in reads the
		// documents for everyone and those for their role; one for other
		// roles is not found. National admins read every document and
		// manage the library. Posts sent without a file change nothing but
		// the details.
		{pattern: "GET /library", own: signedIn, other: signedIn},
		{pattern: "GET /library/{id}", path: guidancePath("/library/%d"), own: signedIn, other: signedIn},
		{pattern: "GET /library/{id}", path: reviewersGuidancePath("/library/%d"), own: forReviewers, other: forReviewers},
		{pattern: "GET /library/{id}/file", path: guidancePath("/library/%d/file"), own: signedIn, other: signedIn},
		{pattern: "GET /library/{id}/file", path: reviewersGuidancePath("/library/%d/file"), own: forReviewers, other: forReviewers},
		{pattern: "GET /library/{id}/versions/{n}/file", path: guidancePath("/library/%d/versions/1/file"), own: signedIn, other: signedIn},
		{pattern: "GET /library/{id}/versions/{n}/file", path: reviewersGuidancePath("/library/%d/versions/1/file"), own: forReviewers, other: forReviewers},
		{pattern: "GET /admin/library", own: national, other: national},
		{pattern: "GET /admin/library/new", own: national, other: national},
		{pattern: "POST /admin/library/new", form: url.Values{"title": {"Matrix guidance"}, "audience": {"everyone"}}, own: national, other: national},
		{pattern: "GET /admin/library/{id}/versions/new", path: reviewersGuidancePath("/admin/library/%d/versions/new"), own: national, other: national},
		{pattern: "POST /admin/library/{id}/versions/new", path: reviewersGuidancePath("/admin/library/%d/versions/new"),
			form: url.Values{"label": {"2"}}, own: national, other: national},
		{pattern: "GET /admin/library/{id}/edit", path: guidancePath("/admin/library/%d/edit"), own: national, other: national},
		{pattern: "POST /admin/library/{id}/edit", path: guidancePath("/admin/library/%d/edit"),
			form: url.Values{"title": {"Matrix guidance, renamed"}, "audience": {"everyone"}}, own: national, other: national},

		// The public route (report.go): every visitor, signed in or not.
		// The search posts nothing that is stored.
		{pattern: "GET /report", own: everyone, other: everyone},
		{pattern: "POST /report", form: url.Values{"action": {"search"}, "org_query": {"RM1"}}, own: everyone, other: everyone},
		{pattern: "GET /report/recorded/{ref}", path: func(tg target) string { return "/report/recorded/" + string(tg.Reference) }, own: everyone, other: everyone},
		// Dormant accounts (issue 14, P12, P13). The link in a warning
		// works for whoever holds it, signed in or not (a bad one shows
		// the expired-link page); exemptions are the operator's; the list
		// of who is about to be deactivated is an organisation's admins'
		// for their own, and national admins' for any.
		{pattern: "GET /account/still-active", path: func(target) string { return "/account/still-active?token=not-a-token" }, own: everyone, other: everyone},
		{pattern: "POST /account/still-active", form: url.Values{"token": {"not-a-token"}}, own: everyone, other: everyone},
		{pattern: "POST /admin/users/{id}/dormancy-exemption", path: userPath("/admin/users/%d/dormancy-exemption"), form: url.Values{"exemption_reason": {"Matrix test"}}, own: national, other: national},
		{pattern: "POST /admin/users/{id}/dormancy-exemption/remove", path: userPath("/admin/users/%d/dormancy-exemption/remove"), own: national, other: national},
		{pattern: "POST /admin/users/{id}/dormancy-exemption", path: userPath("/admin/users/%d/dormancy-exemption"), targetRole: authz.NationalAdmin, form: url.Values{"exemption_reason": {"Matrix test"}}, own: national, other: national},
		{pattern: "GET /admin/users/dormant", path: func(tg target) string { return "/admin/users/dormant?org=" + tg.Org }, own: admins, other: national},
		// Organisation API keys (apikeys.go, T3): an organisation's admins
		// manage their own, national admins any organisation's.
		{pattern: "GET /admin/api-keys", path: func(tg target) string { return "/admin/api-keys?org=" + tg.Org }, own: admins, other: national},
		{pattern: "POST /admin/api-keys", path: func(tg target) string { return "/admin/api-keys?org=" + tg.Org },
			form: url.Values{"name": {"Matrix system"}}, own: admins, other: national},
		{pattern: "GET /admin/api-keys/{id}/revoke", path: apiKeyPath("/admin/api-keys/%d/revoke"), own: admins, other: national},
		{pattern: "POST /admin/api-keys/{id}/revoke", path: apiKeyPath("/admin/api-keys/%d/revoke"), form: url.Values{"reason": {"Matrix ended"}}, own: admins, other: national},
	}
}

// matrixFixture holds the running site and makes actors and targets.
type matrixFixture struct {
	t    *testing.T
	site *apptest.Site
	n    int
	// releasedStats and pendingStats are published once per site, when a
	// target first needs them: publishing builds every table and file,
	// and no matrix request changes what the cases check of them.
	releasedStats, pendingStats int64
}

// actor signs in a new user of ownOrg with the role and current IG
// training, returning their browser; anonymous gets a browser only.
func (f *matrixFixture) actor(role string) *browser {
	f.t.Helper()
	b := newBrowser(f.t, f.site)
	if role == anonymous {
		return b
	}
	email := f.newUser(role, ownOrg, false).Email
	if r := signIn(f.t, b, email, passphrase); r.status != http.StatusSeeOther {
		f.t.Fatalf("sign in as %s: %d", role, r.status)
	}
	return b
}

// newUser creates a user directly, with IG training done today.
func (f *matrixFixture) newUser(role, org string, pending bool) account.User {
	f.t.Helper()
	ctx := context.Background()
	f.n++
	u, err := f.site.App.Accounts.Create(ctx, account.NewUser{
		Email: fmt.Sprintf("user%d.%s@nhs.net", f.n, strings.ReplaceAll(role, "-", "")), Name: fmt.Sprintf("Matrix Person %d", f.n),
		JobRole: "Tester", OrgCode: org, Role: account.Role(role), Password: passphrase,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	w := f.site.App.DB.WritePool()
	if _, err := w.ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, f.site.App.DB.Now(), u.ID); err != nil {
		f.t.Fatal(err)
	}
	if role == authz.ReadOnly {
		if _, err := w.ExecContext(ctx, `INSERT INTO read_grants (user_id, org_ods, granted_at) VALUES ($1, $2, $3)`, u.ID, grantedOrg, f.site.App.DB.Now()); err != nil {
			f.t.Fatal(err)
		}
	}
	if pending {
		if _, err := w.ExecContext(ctx, `UPDATE users SET status = 'pending', approved_at = NULL WHERE id = $1`, u.ID); err != nil {
			f.t.Fatal(err)
		}
		u.Status = account.StatusPending
	}
	return u
}

// target makes a fresh object in org: a user of the role (a reporter when
// empty) with a pending request for the reviewer role, or a pending
// registration.
func (f *matrixFixture) target(org string, pending bool, role string) target {
	f.t.Helper()
	if role == "" {
		role = authz.Reporter
	}
	u := f.newUser(role, org, pending)
	var id int64
	err := f.site.App.DB.WritePool().QueryRowContext(context.Background(), `INSERT INTO access_requests
		(user_id, kind, org_ods, requested_role, justification, status, created_at)
		VALUES ($1, 'role', $2, 'reviewer', 'I review incidents for my ward', 'pending', $3) RETURNING id`,
		u.ID, org, f.site.App.DB.Now()).Scan(&id)
	if err != nil {
		f.t.Fatal(err)
	}
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	ev, err := f.site.App.Incidents.Submit(context.Background(), incident.Submission{Type: incident.Incident, OrgCode: org,
		Source: incident.Staff, ReporterID: u.ID, OccurredFrom: day, OccurredTo: day, StatementVersion: 1,
		Answers: incident.Answers{"AdverseEvent.description": {matrixTextOf(u)}}, Index: incident.Index{Text: matrixTextOf(u)}}, incident.Client{})
	if err != nil {
		f.t.Fatal(err)
	}
	draft, err := f.site.App.Incidents.SaveDraft(context.Background(), u.ID, 0, incident.Incident, incident.Answers{"AdverseEvent.description": {matrixTextOf(u)}})
	if err != nil {
		f.t.Fatal(err)
	}
	rv, err := f.site.App.Incidents.SetReview(context.Background(), incident.ReviewChange{EventID: ev.ID, ActorID: u.ID,
		State: incident.ReviewNew, Note: "Matrix note"}, incident.Client{})
	if err != nil {
		f.t.Fatal(err)
	}
	guidance := func(a authz.Audience) int64 {
		doc, err := f.site.App.Library.Add(context.Background(), 0, library.Client{}, library.NewDocument{Title: "Matrix guidance",
			Audience: a, File: library.Upload{FileName: "guidance.md", Content: strings.NewReader("# Matrix guidance\n")}})
		if err != nil {
			f.t.Fatal(err)
		}
		return doc.ID
	}
	fb, err := f.site.App.Feedback.Send(context.Background(), feedback.Submission{UserID: u.ID, Kind: feedback.Question,
		Text: "A matrix question.", Page: "/events", MayReply: true})
	if err != nil {
		f.t.Fatal(err)
	}
	export, err := f.site.App.DataExport.Request(context.Background(), u.ID, "")
	if err != nil {
		f.t.Fatal(err)
	}
	disclosure, err := f.site.App.DataExport.Disclose(context.Background(), dataexport.Discloser{Name: "Matrix operator", Email: "operator@nhs.net"},
		u.ID, dataexport.DisclosureRequest{Basis: dataexport.BasisCourtOrder, Reference: "Matrix order 1"})
	if err != nil {
		f.t.Fatal(err)
	}
	rr, err := f.site.App.Rights.Ask(context.Background(), rights.Actor{ID: u.ID}, rights.Erasure, "")
	if err != nil {
		f.t.Fatal(err)
	}
	cr, err := f.site.App.Concerns.Report(context.Background(), concernreport.Submission{ReporterID: u.ID, Kind: concernreport.UnauthorisedAccess,
		Text: "A matrix concern.", NamedEmail: u.Email})
	if err != nil {
		f.t.Fatal(err)
	}
	var outboxID int64
	if err := f.site.App.DB.InTx(context.Background(), func(tx *db.Tx) error {
		var err error
		if outboxID, err = f.site.App.Outbox.Enqueue(context.Background(), tx, mail.AccountLocked(u.Email, u.Name)); err != nil {
			return err
		}
		_, err = tx.ExecContext(context.Background(), `UPDATE outbox SET status = 'failed' WHERE id = $1`, outboxID)
		return err
	}); err != nil {
		f.t.Fatal(err)
	}
	nl, err := f.site.App.Newsletters.Create(context.Background(), newsletter.Actor{}, newsletter.Draft{Kind: newsletter.KindNewsletter,
		Subject: "Matrix news", Body: "Matrix text.", Audience: newsletter.Everyone})
	if err != nil {
		f.t.Fatal(err)
	}
	unsubscribe := strings.TrimPrefix(f.site.App.Newsletters.UnsubscribeURL(u.ID, terms.Newsletter), f.site.URL)
	// A period with no events, so every publication can be protected.
	publication := func(release time.Time, publish bool) int64 {
		id, err := f.site.App.Statistics.Create(context.Background(), stats.Actor{}, stats.Draft{Title: "Matrix statistics",
			From: time.Date(2020, 4, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2020, 9, 30, 0, 0, 0, 0, time.UTC),
			Basis: incident.BasisOccurred, Release: release})
		if err != nil {
			f.t.Fatal(err)
		}
		if publish {
			if err := f.site.App.Statistics.Publish(context.Background(), stats.Actor{}, id); err != nil {
				f.t.Fatal(err)
			}
		}
		return id
	}
	past, future := time.Date(2020, 11, 12, 9, 30, 0, 0, time.UTC), time.Date(2099, 11, 12, 9, 30, 0, 0, time.UTC)
	if f.releasedStats == 0 {
		f.releasedStats, f.pendingStats = publication(past, true), publication(future, true)
	}
	now := f.site.App.DB.Now()
	agreement, err := f.site.App.Sharing.Create(context.Background(), sharing.Actor{}, sharing.Draft{Recipient: "Matrix body",
		Purpose: "Matrix learning", LegalBasis: "art6-1e", SpecialBasis: "art9-2h", StartsOn: now.AddDate(0, 0, -1), EndsOn: now.AddDate(0, 0, 30),
		Fields: []string{"reference"}, Orgs: org, ApproverName: "Matrix approver", ApproverRole: "SIRO", ApprovedOn: now.AddDate(0, 0, -2),
		Recipients: u.Email})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.site.App.Sharing.AttachDocument(context.Background(), sharing.Actor{}, agreement,
		sharing.Upload{FileName: "matrix.pdf", Content: strings.NewReader("%PDF-1.4\n%%EOF\n")}); err != nil {
		f.t.Fatal(err)
	}
	key, _, err := f.site.App.APIKeys.Create(context.Background(), apikey.NewKey{Org: org, Name: "Matrix key"}, apikey.Client{})
	if err != nil {
		f.t.Fatal(err)
	}
	return target{User: u, RequestID: id, Org: org, Reference: ev.Reference, DraftID: draft, NoteID: rv.Notes[0].ID,
		Guidance: guidance(authz.Audience{Everyone: true}), ReviewersGuidance: guidance(authz.Audience{Roles: []string{authz.Reviewer}}),
		FeedbackID: fb.ID, ExportID: export.PublicID, DisclosureID: disclosure.PublicID, RightsID: rr.ID, ConcernID: cr.ID,
		NewsletterID: nl, UnsubscribePath: unsubscribe, OutboxID: outboxID,
		DraftStats: publication(past, false), ReleasedStats: f.releasedStats, PendingStats: f.pendingStats,
		SharingID: agreement, APIKeyID: key.ID}
}

// TestAuthorisationMatrix walks every route, for every role, on an object of
// the user's own organisation and on one of another organisation, and
// checks that exactly the allowed roles get through: everyone else gets 403
// or 404 (or, when not signed in, the sign-in page), and no response to
// anyone not allowed mentions the object. // T13, T14
func TestAuthorisationMatrix(t *testing.T) {
	t.Parallel()
	cases := matrixCases()
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.pattern] = true
	}
	// The cases are shared out among parts that run in parallel, each on a
	// site of its own: one site took minutes for the whole matrix, as
	// every request gets a fresh actor and target, and used less than one
	// core.
	const parts = 4
	for part := range parts {
		t.Run(fmt.Sprintf("part-%d-of-%d", part+1, parts), func(t *testing.T) {
			t.Parallel()
			// A real provider, so the routes of signing in through one run
			// as they do in service.
			idp := oidctest.Start(t, oidctest.Options{})
			site := apptest.Start(t, dbtest.SQLite(t), func(c *config.Config) {
				c.OIDCProviders = []oidclogin.Config{{Name: "cis2", Label: "NHS CIS2", Issuer: idp.Issuer(), ClientID: "psims", ClientSecret: "matrix"}}
			})
			f := &matrixFixture{t: t, site: site}
			if part == 0 {
				srv, err := web.New(site.App.WebDeps(web.NewMetrics(prometheus.NewRegistry(), nil)))
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range srv.Routes() {
					if !covered[p] {
						t.Errorf("route %q is not in the authorisation matrix", p)
					}
				}
			}
			for i, c := range cases {
				if i%parts != part {
					continue
				}
				for _, scope := range []struct {
					org     string
					allowed []string
				}{{ownOrg, c.own}, {otherOrg, c.other}} {
					for _, role := range everyone {
						name := fmt.Sprintf("%s/%s/%s", c.pattern, scope.org, role)
						if c.targetRole != "" {
							name += "/on-" + c.targetRole
						}
						t.Run(name, func(t *testing.T) {
							f.t = t
							b := f.actor(role)
							tg := f.target(scope.org, c.pending, c.targetRole)
							r := b.request(c.method(), c.pathFor(tg), c.form)
							got := !refused(r)
							want := slices.Contains(scope.allowed, role)
							if got != want {
								t.Fatalf("allowed = %v (status %d, location %q), want %v", got, r.status, r.location, want)
							}
							path := c.pathFor(tg)
							if !want && (strings.Contains(r.body, tg.User.Email) || showsEvent(r.body, path, tg)) {
								t.Fatal("a refused response mentions the object")
							}
							if scope.org == otherOrg && role != authz.NationalAdmin && strings.Contains(r.body, tg.User.Email) {
								t.Fatal("a response shows another organisation's user")
							}
							if scope.org == otherOrg && role != authz.NationalAdmin && showsEvent(r.body, path, tg) {
								t.Fatal("a response shows another organisation's event")
							}
							if lists := map[string][]string{ownOrg: c.listsOwn, otherOrg: c.listsOther}[scope.org]; lists != nil && got {
								if shown := strings.Contains(r.body, string(tg.Reference)); shown != slices.Contains(lists, role) {
									t.Fatalf("the list shows the target's event: %v, want %v", shown, slices.Contains(lists, role))
								}
							}
						})
					}
				}
			}
		})
	}
}

// matrixEventText is what the target's event says.
const matrixEventText = "A matrix test event."

// matrixTextOf is what the event of target user u says: each its own, so
// that a page showing other events that say the same is not taken for one
// showing the target's.
func matrixTextOf(u account.User) string { return fmt.Sprintf("%s Case %d.", matrixEventText, u.ID) }

// showsEvent reports whether body shows the target's event: what it says,
// or its reference when the request did not name it (a page may echo its
// own address, as the sign-in link does).
func showsEvent(body, path string, tg target) bool {
	return strings.Contains(body, matrixTextOf(tg.User)) ||
		(!strings.Contains(path, string(tg.Reference)) && strings.Contains(body, string(tg.Reference)))
}

// refused reports whether the response turned the request away.
func refused(r response) bool {
	return r.status == http.StatusForbidden || r.status == http.StatusNotFound ||
		(r.status == http.StatusSeeOther && strings.HasPrefix(r.location, "/sign-in?")) ||
		// a form posted without a session: the sign-in page, carrying it
		// (or, for a program, a JSON refusal)
		(r.status == http.StatusUnauthorized && (strings.Contains(r.body, `id="sign-in-needed"`) || strings.Contains(r.body, `"signed_out"`)))
}

// request sends a GET, or a POST with the form and a valid form token.
func (b *browser) request(method, path string, form url.Values) response {
	b.t.Helper()
	if method == http.MethodGet {
		return b.get(path)
	}
	values := url.Values{}
	for k, v := range form {
		values[k] = v
	}
	page := b.get("/sign-in")
	if m := csrfPattern.FindStringSubmatch(page.body); m != nil {
		values.Set("csrf_token", html.UnescapeString(m[1]))
	}
	return b.post(path, values)
}
