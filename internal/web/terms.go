package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/terms"
)

// termsRoutes are the acceptance gate's review page, the consent pages and
// "Your data".
func (s *Server) termsRoutes(r *router) {
	r.open("GET /review-terms", s.requireUser(s.reviewPage))
	r.open("POST /review-terms", s.requireUser(s.reviewDecide))
	r.handleFunc("GET /consent", s.requireUser(s.consentOffer))
	r.handleFunc("POST /consent", s.requireUser(s.consentOfferSave))
	r.handleFunc("GET /account/data-preferences", s.requireUser(s.preferencesPage))
	r.handleFunc("POST /account/data-preferences", s.requireUser(s.preferencesSave))
	r.handleFunc("GET /account/data", s.requireUser(s.yourDataPage))
}

// gate lets a signed-in user through only once they have accepted the
// latest material version of the terms and the privacy policy (T1, T2,
// P16). Pages send them to the review page, which brings them back; a form
// they post is answered with the review page itself, which carries what
// they sent; machine clients get a 403 with a reason they can act on.
func (s *Server) gate(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := viewerFrom(r.Context())
		if v == nil || !v.docs.Blocked() {
			h(w, r)
			return
		}
		if wantsJSON(r) {
			kinds := make([]string, len(v.docs.MustAccept))
			for i, k := range v.docs.MustAccept {
				kinds[i] = string(k)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(map[string]any{
				"error":       "terms_not_accepted",
				"message":     "Accept the current terms of use and privacy policy before using the service.",
				"must_accept": kinds,
				"review_url":  "/review-terms",
			})
			return
		}
		if r.Method == http.MethodPost {
			// A form sent as the new version was published: show the
			// review page here, carrying what was sent, so that it can be
			// sent again once accepted (held.go).
			var held *heldPost
			if h, ok := s.holdRequest(r); ok {
				held = &h
			}
			s.renderReview(w, r, http.StatusOK, nil, s.backFor(r.URL.Path), held)
			return
		}
		http.Redirect(w, r, "/review-terms?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	}
}

// wantsJSON reports whether the client is a program rather than a browser.
func wantsJSON(r *http.Request) bool {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		return true
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

// reviewData is what the review page shows.
type reviewData struct {
	Items []terms.Review
	// Required is true when the user must accept before going on; false
	// when they are only reading versions that are not material.
	Required bool
	Next     string
	// Held is a form the gate stopped, to send again after accepting.
	Held *heldPost
}

func (s *Server) reviewPage(w http.ResponseWriter, r *http.Request) {
	s.renderReview(w, r, http.StatusOK, nil, safeNext(r.FormValue("next")), nil)
}

// renderReview shows the documents the viewer must accept, or may read
// again, with what changed since the version they last accepted. next is
// where accepting leads; held, when not nil, a form to send again after.
func (s *Server) renderReview(w http.ResponseWriter, r *http.Request, status int, errs []FieldError, next string, held *heldPost) {
	v := viewerFrom(r.Context())
	data := reviewData{Required: v.docs.Blocked(), Next: next, Held: held}
	for _, kind := range terms.AcceptedKinds() {
		if !slices.Contains(v.docs.MustAccept, kind) && !slices.Contains(v.docs.Updated, kind) {
			continue
		}
		rev, err := s.Terms.Review(r.Context(), v.user.ID, kind)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data.Items = append(data.Items, rev)
	}
	if len(data.Items) == 0 && status == http.StatusOK {
		if held != nil {
			s.resume(w, r, *held, csrfToken(r), nil)
			return
		}
		http.Redirect(w, r, data.Next, http.StatusSeeOther)
		return
	}
	title := "Review the changes to our terms"
	if len(data.Items) > 0 && data.Items[0].Previous.Version == 0 {
		title = "Accept the terms of use and privacy policy"
	}
	p := s.page(r, title)
	p.Data = data
	p.Errors = errs
	s.render.Render(w, r, status, "review-terms", p)
}

// reviewDecide accepts or declines the versions the review page showed.
func (s *Server) reviewDecide(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	next := safeNext(r.PostFormValue("next"))
	var held *heldPost
	if h, ok := s.heldFrom(r); ok {
		held = &h
	}
	again := func(status int, message string) {
		s.renderReview(w, r, status, []FieldError{{Field: "accept", Message: message}}, next, held)
	}
	versions := map[terms.Kind]int{}
	for _, kind := range terms.AcceptedKinds() {
		raw := r.PostFormValue("version-" + string(kind))
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			again(http.StatusUnprocessableEntity, "The form was not complete. Read the text below and choose again")
			return
		}
		versions[kind] = n
	}
	c := s.termsClient(r)
	switch r.PostFormValue("action") {
	case "decline":
		if err := s.Terms.Decline(r.Context(), v.user.ID, c, versions); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.Accounts.SignOut(r.Context(), v.session, c.IP); err != nil {
			s.fail(w, r, err)
			return
		}
		s.clearSessionCookie(w)
		p := s.page(r, "You have been signed out")
		p.Viewer = nil
		p.CSRFToken = ""
		s.render.Render(w, r, http.StatusOK, "terms-declined", p)
	case "accept":
		if len(versions) == 0 {
			again(http.StatusUnprocessableEntity, "The form was not complete. Read the text below and choose again")
			return
		}
		_, privacy := versions[terms.Privacy]
		err := s.Terms.Accept(r.Context(), v.user.ID, c, versions)
		if apperr.CodeOf(err) == apperr.Conflict {
			// A newer version appeared while they read: show it.
			st, serr := s.Terms.Status(r.Context(), v.user.ID)
			if serr != nil {
				s.fail(w, r, serr)
				return
			}
			v.docs = st
			again(http.StatusConflict, apperr.MessageOf(err))
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if privacy {
			consents, err := s.Terms.Consents(r.Context(), v.user.ID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			if !consents.Offered {
				if held != nil {
					// The offer is made now, carrying the held form on.
					s.renderConsentOffer(w, r, next, held)
					return
				}
				next = "/consent?next=" + url.QueryEscape(next)
			}
		}
		if held != nil {
			s.resume(w, r, *held, csrfToken(r), nil)
			return
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	default:
		again(http.StatusUnprocessableEntity, "Choose whether you accept")
	}
}

// consentData is what the consent pages show.
type consentData struct {
	Purposes []consentChoice
	Next     string
	// First is true for the offer made once after accepting the privacy
	// policy; false for "Your data preferences".
	First bool
	// Held is a form to send again after the offer (see held.go).
	Held *heldPost
	// Preferences is true for "Your data preferences", which also says
	// that service notices are always sent, and whether the person
	// objects to being contacted (Objected) with where to change it
	// (issue 14, P7).
	Preferences, Objected bool
}

// consentChoice is one checkbox.
type consentChoice struct {
	terms.Purpose
	Checked bool
}

func consentChoices(granted map[terms.Purpose]bool) []consentChoice {
	var list []consentChoice
	for _, p := range terms.Purposes() {
		list = append(list, consentChoice{Purpose: p, Checked: granted[p]})
	}
	return list
}

// postedConsents reads the ticked checkboxes; values it does not know are
// ignored, so an old form cannot consent to something by mistake.
func postedConsents(r *http.Request) map[terms.Purpose]bool {
	granted := map[terms.Purpose]bool{}
	for _, raw := range r.PostForm["consent"] {
		for _, p := range terms.Purposes() {
			if raw == string(p) {
				granted[p] = true
			}
		}
	}
	return granted
}

// consentOffer is the page offered once, after the first acceptance of the
// privacy policy (P9). Every option starts unticked.
func (s *Server) consentOffer(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	next := safeNext(r.FormValue("next"))
	c, err := s.Terms.Consents(r.Context(), v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if c.Offered {
		http.Redirect(w, r, "/account/data-preferences", http.StatusSeeOther)
		return
	}
	s.renderConsentOffer(w, r, next, nil)
}

// renderConsentOffer shows the offer of consent, carrying a held form to
// send again afterwards when held is not nil.
func (s *Server) renderConsentOffer(w http.ResponseWriter, r *http.Request, next string, held *heldPost) {
	p := s.page(r, "Choose how we may use your information")
	p.Data = consentData{Purposes: consentChoices(nil), Next: next, First: true, Held: held}
	s.render.Render(w, r, http.StatusOK, "consent", p)
}

func (s *Server) consentOfferSave(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	granted := postedConsents(r)
	if r.PostFormValue("action") == "none" {
		granted = nil
	}
	if err := s.Terms.SetConsents(r.Context(), v.user.ID, s.termsClient(r), granted); err != nil {
		s.fail(w, r, err)
		return
	}
	if h, ok := s.heldFrom(r); ok {
		s.resume(w, r, h, csrfToken(r), nil)
		return
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// preferencesPage lets the user change their consents at any time (P15).
func (s *Server) preferencesPage(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	c, err := s.Terms.Consents(r.Context(), v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Your data preferences")
	// "Your data preferences" also says what is always sent and whether
	// the person objects to contact (issue 14, P7).
	p.Data = consentData{Purposes: consentChoices(c.Granted), Preferences: true, Objected: v.user.ContactObjectedAt != nil}
	if r.URL.Query().Get("saved") != "" {
		p.Notice = "Your data preferences were saved. Changes take effect straight away."
	}
	s.render.Render(w, r, http.StatusOK, "consent", p)
}

func (s *Server) preferencesSave(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	if err := s.Terms.SetConsents(r.Context(), v.user.ID, s.termsClient(r), postedConsents(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/data-preferences?saved=1", http.StatusSeeOther)
}

// yourData is what "Your data" shows.
type yourData struct {
	Ledger   []terms.Acceptance
	Consents []consentChoice
	History  []terms.ConsentChange
	// Requests are the person's requests for erasure, restriction and
	// objection (P15); Restricted and Objected say what is in force.
	Requests             []rightsRow
	Restricted, Objected bool
}

// yourDataPage shows the user what they accepted and consented to, and
// when (P15).
func (s *Server) yourDataPage(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	ctx := r.Context()
	ledger, err := s.Terms.Ledger(ctx, v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Terms.Consents(ctx, v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	history, err := s.Terms.ConsentHistory(ctx, v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	requests, err := s.ownRightsRows(r, v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Your data")
	p.Data = yourData{Ledger: ledger, Consents: consentChoices(c.Granted), History: history, Requests: requests,
		Restricted: v.user.RestrictedAt != nil, Objected: v.user.ContactObjectedAt != nil}
	p.Notice = rightsNotices[r.URL.Query().Get("done")]
	s.render.Render(w, r, http.StatusOK, "your-data", p)
}
