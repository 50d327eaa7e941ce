package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apikey"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/org"
)

// apiKeysPath lists an organisation's API keys and takes new ones.
const apiKeysPath = "/admin/api-keys"

// apiKeyRoutes registers the pages on which an organisation's admins, and
// national admins for any organisation (?org=), list, make and revoke the
// organisation's keys to the LFPSE-compatible API (issue 16, T3).
func (s *Server) apiKeyRoutes(r *router) {
	r.handleFunc("GET "+apiKeysPath, s.requireUser(s.apiKeys))
	r.handleFunc("POST "+apiKeysPath, s.requireUser(s.apiKeyCreate))
	r.handleFunc("GET "+apiKeysPath+"/{id}/revoke", s.requireUser(s.apiKeyRevokeForm))
	r.handleFunc("POST "+apiKeysPath+"/{id}/revoke", s.requireUser(s.apiKeyRevoke))
}

// apiKeyForm is the form for a new key as typed.
type apiKeyForm struct {
	Name    string
	Expires dateInput
}

// apiKeyRow is a key as the list shows it: times in UK time.
type apiKeyRow struct {
	ID                         int64
	Name, Prefix               string
	Created, Expires, LastUsed string
	Status                     string // apikey's status
}

// apiKeysData is what the list of an organisation's keys shows.
type apiKeysData struct {
	OrgCode, OrgName string
	// Query is "?org=CODE" when the page was asked for an organisation,
	// for the addresses of its forms and links.
	Query string
	Keys  []apiKeyRow
	// National shows the field for choosing another organisation.
	National bool
	MaxName  int
	MaxYears int
}

// apiKeyCreatedData is what the page showing a new key once holds.
type apiKeyCreatedData struct {
	OrgCode, OrgName string
	Query            string
	Name, Secret     string
	Expires          string
}

// apiKeyRevokeData is what the page confirming a revocation shows.
type apiKeyRevokeData struct {
	Key     apiKeyRow
	OrgCode string
	Query   string
}

// apiKeyNotices are the success messages after a redirect, by ?done=.
var apiKeyNotices = map[string]string{"revoked": "The API key was revoked. Requests that send it are refused from now on."}

// apiKeyOrg is the organisation the page is about: ?org= when given, the
// viewer's own otherwise. ok is false (and the page not found shown) when
// ?org= is not an ODS code.
func (s *Server) apiKeyOrg(w http.ResponseWriter, r *http.Request) (code, query string, ok bool) {
	code = viewerFrom(r.Context()).user.OrgCode
	if q := strings.TrimSpace(r.URL.Query().Get("org")); q != "" {
		c, err := org.ParseCode(q)
		if err != nil {
			s.notFound(w, r)
			return "", "", false
		}
		code, query = c.String(), "?org="+url.QueryEscape(c.String())
	}
	return code, query, true
}

// ukDateTime is t in UK time as pages show it, or never when t is zero.
func (s *Server) ukDateTime(t time.Time, never string) string {
	if t.IsZero() {
		return never
	}
	return t.In(s.uk).Format("2 January 2006 at 15:04")
}

func (s *Server) apiKeyRow(k apikey.Key) apiKeyRow {
	return apiKeyRow{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Created: s.ukDateTime(k.CreatedAt, ""),
		Expires: s.ukDateTime(k.ExpiresAt, "Never"), LastUsed: s.ukDateTime(k.LastUsedAt, "Not used yet"), Status: k.Status(s.now())}
}

// renderAPIKeys shows the keys of code with the form for a new one.
func (s *Server) renderAPIKeys(w http.ResponseWriter, r *http.Request, status int, code, query string, f apiKeyForm, errs []FieldError, notice string) {
	o, err := s.Orgs.Get(r.Context(), parsedCode(code))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	keys, err := s.APIKeys.List(r.Context(), code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := apiKeysData{OrgCode: code, OrgName: o.Name, Query: query, National: sub.Role == authz.NationalAdmin,
		MaxName: apikey.MaxName, MaxYears: apikey.MaxYears}
	for _, k := range keys {
		data.Keys = append(data.Keys, s.apiKeyRow(k))
	}
	p := s.page(r, "API keys")
	p.Form, p.Errors, p.Data, p.Notice = f, errs, data, notice
	s.render.Render(w, r, status, "admin-api-keys", p)
}

func (s *Server) apiKeys(w http.ResponseWriter, r *http.Request) {
	code, query, ok := s.apiKeyOrg(w, r)
	if !ok || !s.authorize(w, r, authz.ManageAPIKeys, authz.Object{Org: code}) {
		return
	}
	s.renderAPIKeys(w, r, http.StatusOK, code, query, apiKeyForm{}, nil, apiKeyNotices[r.URL.Query().Get("done")])
}

// apiKeyCreate makes a key and shows it, once, in the answer to the post:
// never in an address, a cookie or the session, and never again.
func (s *Server) apiKeyCreate(w http.ResponseWriter, r *http.Request) {
	code, query, ok := s.apiKeyOrg(w, r)
	if !ok || !s.authorize(w, r, authz.ManageAPIKeys, authz.Object{Org: code}) {
		return
	}
	v := viewerFrom(r.Context())
	f := apiKeyForm{Name: r.PostFormValue("name"), Expires: dateInput{Day: r.PostFormValue("expires-day"),
		Month: r.PostFormValue("expires-month"), Year: r.PostFormValue("expires-year")}}
	nk := apikey.NewKey{Org: code, Name: f.Name, CreatedBy: v.user.ID}
	var typed []FieldError
	if strings.TrimSpace(f.Expires.Day+f.Expires.Month+f.Expires.Year) != "" {
		day, in, valid := parseDateInput(f.Expires, "The expiry date", "Enter the expiry date, or leave it empty")
		f.Expires = in
		if valid {
			// The key stops working as the day starts in the UK.
			nk.ExpiresAt = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, s.uk)
		} else {
			typed = append(typed, FieldError{Field: in.errorField("expires"), Message: in.Message})
		}
	}
	var k apikey.Key
	var secret string
	var err error
	if len(typed) > 0 {
		err = s.APIKeys.Check(r.Context(), nk)
	} else {
		k, secret, err = s.APIKeys.Create(r.Context(), nk, apikey.Client{IP: s.client(r).IP})
	}
	if err == nil && len(typed) == 0 {
		o, err := s.Orgs.Get(r.Context(), parsedCode(code))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p := s.page(r, "Copy your new API key")
		p.Data = apiKeyCreatedData{OrgCode: code, OrgName: o.Name, Query: query, Name: k.Name, Secret: secret,
			Expires: s.ukDateTime(k.ExpiresAt, "")}
		// Pages are never stored (writeHTML); this one above all.
		w.Header().Set("Cache-Control", "no-store")
		s.render.Render(w, r, http.StatusOK, "admin-api-key-created", p)
		return
	}
	errs, ok := fieldErrors(err)
	if err != nil && !ok {
		s.fail(w, r, err)
		return
	}
	s.renderAPIKeys(w, r, http.StatusUnprocessableEntity, code, query, f,
		inPageOrder(withoutDateErrors(errs, typed), []string{"name", "expires", "org"}), "")
}

// apiKeyTarget finds the key of the path and checks the viewer may manage
// its organisation's keys; ok is false when the page that says otherwise
// has been shown (not found for another organisation's key).
func (s *Server) apiKeyTarget(w http.ResponseWriter, r *http.Request) (apikey.Key, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return apikey.Key{}, false
	}
	k, err := s.APIKeys.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return apikey.Key{}, false
	}
	if !s.authorize(w, r, authz.ManageAPIKeys, authz.Object{Org: k.Org}) {
		return apikey.Key{}, false
	}
	return k, true
}

// apiKeyQuery is the ?org= of the key list of org, for a viewer of
// another organisation (a national admin).
func apiKeyQuery(r *http.Request, org string) string {
	if org == viewerFrom(r.Context()).user.OrgCode {
		return ""
	}
	return "?org=" + url.QueryEscape(org)
}

func (s *Server) renderAPIKeyRevoke(w http.ResponseWriter, r *http.Request, status int, k apikey.Key, reason string, errs []FieldError) {
	p := s.page(r, "Revoke API key "+k.Name)
	p.Form, p.Errors = reason, errs
	p.Data = apiKeyRevokeData{Key: s.apiKeyRow(k), OrgCode: k.Org, Query: apiKeyQuery(r, k.Org)}
	s.render.Render(w, r, status, "admin-api-key-revoke", p)
}

func (s *Server) apiKeyRevokeForm(w http.ResponseWriter, r *http.Request) {
	k, ok := s.apiKeyTarget(w, r)
	if !ok {
		return
	}
	s.renderAPIKeyRevoke(w, r, http.StatusOK, k, "", nil)
}

func (s *Server) apiKeyRevoke(w http.ResponseWriter, r *http.Request) {
	k, ok := s.apiKeyTarget(w, r)
	if !ok {
		return
	}
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// An organisation admin revokes only their organisation's keys: the
	// service checks it again inside the transaction.
	scope := sub.Org
	if sub.Role == authz.NationalAdmin {
		scope = ""
	}
	reason := r.PostFormValue("reason")
	err = s.APIKeys.Revoke(r.Context(), k.ID, scope, sub.UserID, reason, apikey.Client{IP: s.client(r).IP})
	if errs, ok := fieldErrors(err); ok {
		s.renderAPIKeyRevoke(w, r, http.StatusUnprocessableEntity, k, reason, errs)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := apiKeyQuery(r, k.Org)
	if q == "" {
		q = "?done=revoked"
	} else {
		q += "&done=revoked"
	}
	http.Redirect(w, r, apiKeysPath+q, http.StatusSeeOther)
}
