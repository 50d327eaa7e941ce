package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
)

// Cookies about the visitor's analytics choice. The session and form
// cookies are in session.go; every cookie is described in cookieRegistry.
const (
	// policyCookie remembers whether the visitor accepted analytics cookies.
	policyCookie = "psims_cookie_policy"
	// analyticsCookie holds the anonymous visitor ID, set only with consent.
	analyticsCookie = "psims_analytics"
)

// The values of policyCookie.
const (
	policyAccepted = "accepted"
	policyRejected = "rejected"
)

// choiceMaxAge is how long, in seconds, the policy and analytics cookies
// last: a year, after which the banner asks again.
const choiceMaxAge = 365 * 24 * 60 * 60

// cookieCategory says whether a cookie needs the visitor's consent.
type cookieCategory string

const (
	// strictlyNecessary cookies make the service work; they need no consent.
	strictlyNecessary cookieCategory = "Strictly necessary cookies"
	// analytics cookies help us count use; they are set only with consent.
	analytics cookieCategory = "Cookies that measure website use"
)

// cookieInfo describes one cookie the service sets, as the cookies page
// shows it.
type cookieInfo struct {
	Name     string
	Category cookieCategory
	Purpose  string // what it does, for the visitor
	Lifetime string // when it ends, for the visitor
}

// cookieRegistry lists every cookie the service sets. It is the one source
// of truth for the cookies page: a new cookie must be added here.
func cookieRegistry() []cookieInfo {
	return []cookieInfo{
		{Name: sessionCookie, Category: strictlyNecessary,
			Purpose:  "Keeps you signed in",
			Lifetime: "When you close your browser or sign out. You are also signed out after 30 minutes without using PSIMS (15 minutes for administrators and read-only accounts), and 12 hours after signing in"},
		{Name: deviceCookie, Category: strictlyNecessary,
			Purpose:  "Set only if you ask PSIMS to remember this browser after entering a code from your authenticator app or using a passkey: signing in here then needs only your password. It holds a random code, kept by us only as a hash, and you can forget the browser from “Your account”",
			Lifetime: "30 days, or until you forget the browser, sign out everywhere or change your password"},
		{Name: oidcStateCookie, Category: strictlyNecessary,
			Purpose:  "Set only when you sign in through your organisation's identity service (such as NHS CIS2): it holds a random code that makes sure the sign-in that comes back is the one this browser started",
			Lifetime: "10 minutes, or when you come back from the identity service"},
		{Name: heldIdentityCookie, Category: strictlyNecessary,
			Purpose:  "Set only when your identity service's sign-in is not linked to a PSIMS account yet: it holds a random code, kept by us only as a hash, that finds that sign-in while you link it to your account or create one",
			Lifetime: "30 minutes, or when the sign-in is linked or an account is made with it"},
		{Name: csrfCookie, Category: strictlyNecessary,
			Purpose:  "Protects forms against cross-site request forgery, where another website tries to send a form in your name",
			Lifetime: "When you close your browser"},
		{Name: policyCookie, Category: strictlyNecessary,
			Purpose:  "Remembers whether you agreed to analytics cookies (it holds “accepted” or “rejected”), so we do not ask you again",
			Lifetime: "1 year"},
		{Name: cleanedCookie, Category: strictlyNecessary,
			Purpose:  "Set only when we removed hidden characters from a form you sent, so the next page can tell you (it holds no data)",
			Lifetime: "5 minutes, or when the next page is shown"},
		{Name: analyticsCookie, Category: analytics,
			Purpose:  "Holds a random anonymous identifier, so we can count how many different browsers use PSIMS. It is never linked to your account. We set it only after you agree",
			Lifetime: "1 year"},
	}
}

// cookieGroup is one section of the cookies page: a category, what it is,
// and a table of its cookies.
type cookieGroup struct {
	Caption cookieCategory
	Intro   string
	Cookies []cookieInfo
}

// cookieGroups returns the registry as one group per category, strictly
// necessary first.
func cookieGroups() []cookieGroup {
	groups := []cookieGroup{
		{Caption: strictlyNecessary, Intro: "These cookies make PSIMS work, for example by keeping you signed in. " +
			"We do not need to ask before using them."},
		{Caption: analytics, Intro: "With your permission, we use this cookie to count how many different browsers use PSIMS, " +
			"which helps us plan and improve the service. It does not tell us who you are and we do not share it with anyone."},
	}
	for _, c := range cookieRegistry() {
		for i := range groups {
			if groups[i].Caption == c.Category {
				groups[i].Cookies = append(groups[i].Cookies, c)
			}
		}
	}
	return groups
}

// cookieChoice returns what the visitor chose about analytics cookies:
// policyAccepted, policyRejected, or "" when they have not chosen (or the
// policy cookie holds anything else).
func cookieChoice(r *http.Request) string {
	c, err := r.Cookie(policyCookie)
	if err != nil {
		return ""
	}
	switch c.Value {
	case policyAccepted, policyRejected:
		return c.Value
	}
	return ""
}

// showCookieBanner reports whether the page for r shows the cookie banner:
// when the visitor has not chosen yet. It is left off the cookies page,
// which asks the same question, and off pages that answer a form post, as
// the banner brings the visitor back to the page by its path and such a
// page cannot be fetched again.
func showCookieBanner(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	return cookieChoice(r) == "" && r.URL.Path != "/cookies"
}

// visitorID returns the visitor's anonymous analytics ID, or "" unless they
// accepted analytics cookies and their browser sent a well-formed ID.
func visitorID(r *http.Request) string {
	if cookieChoice(r) != policyAccepted {
		return ""
	}
	c, err := r.Cookie(analyticsCookie)
	if err != nil || !wellFormedID(c.Value) {
		return ""
	}
	return c.Value
}

// wellFormedID reports whether v could be an ID from newVisitorID, so
// nothing else a browser sends reaches the logs.
func wellFormedID(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 16
}

// newVisitorID returns a random 128-bit ID, base64url-encoded.
func newVisitorID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// cookieRoutes registers the cookies page, which every visitor may use,
// before accepting the terms too: the review page links to it.
func (s *Server) cookieRoutes(r *router) {
	r.open("GET /cookies", s.cookiesPage)
	r.open("POST /cookies", s.saveCookieChoice)
}

// cookieForm is the analytics choice: "yes", "no" or, before choosing, "".
// Next is the page to go back to, when the choice came from the banner.
type cookieForm struct{ Analytics, Next string }

// cookiesData is what the cookies page shows besides the form.
type cookiesData struct {
	Groups []cookieGroup
	Choice string // the current choice: policyAccepted, policyRejected or ""
}

// cookiesPageFor returns the cookies page with the form filled in.
func (s *Server) cookiesPageFor(r *http.Request, f cookieForm) Page {
	p := s.page(r, "Cookies")
	p.Form = f
	p.Data = cookiesData{Groups: cookieGroups(), Choice: cookieChoice(r)}
	return p
}

func (s *Server) cookiesPage(w http.ResponseWriter, r *http.Request) {
	f := cookieForm{}
	switch cookieChoice(r) {
	case policyAccepted:
		f.Analytics = "yes"
	case policyRejected:
		f.Analytics = "no"
	}
	p := s.cookiesPageFor(r, f)
	if r.URL.Query().Get("saved") != "" {
		p.Notice = "Your cookie settings were saved"
	}
	s.render.Render(w, r, http.StatusOK, "cookies", p)
}

// saveCookieChoice records the choice from the banner or the cookies page:
// accepting sets the analytics cookie (keeping one the visitor already
// has), rejecting deletes it.
func (s *Server) saveCookieChoice(w http.ResponseWriter, r *http.Request) {
	f := cookieForm{Analytics: r.PostFormValue("analytics"), Next: r.PostFormValue("next")}
	var choice string
	switch f.Analytics {
	case "yes":
		choice = policyAccepted
	case "no":
		choice = policyRejected
	default:
		p := s.cookiesPageFor(r, f)
		p.Errors = []FieldError{{Field: "analytics", Message: "Select whether you want to use cookies to measure your website use"}}
		s.render.Render(w, r, http.StatusUnprocessableEntity, "cookies", p)
		return
	}
	s.setChoiceCookie(w, policyCookie, choice, choiceMaxAge)
	if choice == policyAccepted {
		if c, err := r.Cookie(analyticsCookie); err != nil || !wellFormedID(c.Value) {
			s.setChoiceCookie(w, analyticsCookie, newVisitorID(), choiceMaxAge)
		}
	} else {
		s.setChoiceCookie(w, analyticsCookie, "", -1)
	}
	http.Redirect(w, r, cookieReturn(f.Next), http.StatusSeeOther)
}

// setChoiceCookie sets (or, with maxAge -1, deletes) a cookie of the
// analytics choice.
func (s *Server) setChoiceCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// cookieReturn is where to go after saving the choice: back to the page the
// banner was on, or to the cookies page, saying the choice was saved, when
// next is empty, not a path on this site, or the cookies page itself.
func cookieReturn(next string) string {
	if next != "" && safeNext(next) == next {
		if u, err := url.Parse(next); err == nil && u.Path != "/cookies" {
			return next
		}
	}
	return "/cookies?saved=1"
}
