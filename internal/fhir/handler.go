package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apikey"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/incident/taxonomy"
	"github.com/psims/psims/internal/ratelimit"
)

// Where the API answers, under the base URL.
const (
	// EventsPath is where AdverseEvent resources, the CapabilityStatement
	// and the OpenAPI document are, and EventsRoot every address below it.
	EventsPath = "/adverse-event/fhir"
	EventsRoot = EventsPath + "/"
	// TaxonomyPath is where the definitions of the profile, its value sets
	// and code systems are, and TaxonomyRoot every address below it.
	TaxonomyPath = "/taxonomy/fhir"
	TaxonomyRoot = TaxonomyPath + "/"
)

// Keys authenticates API keys; *apikey.Service is one.
type Keys interface {
	Authenticate(ctx context.Context, secret string) (apikey.Key, error)
}

// Limiter takes a token from a named bucket shared by every process;
// *ratelimit.Store is one.
type Limiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (ratelimit.Decision, error)
}

// Deps are what the API needs.
type Deps struct {
	DB       *db.DB // for the audit entries of reads and refusals
	Taxonomy *taxonomy.Taxonomy
	Events   *incident.Service
	Recorder *incident.Recorder
	Keys     Keys
	Limiter  Limiter
	// Rate is how many requests one key may make a minute.
	Rate int
	// Base is the service's base URL, without a trailing slash: links in
	// responses are absolute under it.
	Base    string
	Version string // PSIMS's version, for the CapabilityStatement
	Logger  *slog.Logger
	// ClientIP says which address a request came from.
	ClientIP func(r *http.Request) string
}

// Handler serves the API.
type Handler struct {
	Deps
	codec *Codec
	mux   *http.ServeMux
	// patterns are the routes, for the authorisation test.
	patterns []string
}

// New returns the API's handler.
func New(d Deps) (*Handler, error) {
	if d.DB == nil || d.Taxonomy == nil || d.Events == nil || d.Recorder == nil || d.Keys == nil || d.Limiter == nil ||
		d.Rate < 1 || d.Logger == nil || d.ClientIP == nil {
		return nil, errors.New("fhir: every dependency must be set, and the rate positive")
	}
	codec, err := NewCodec(d.Taxonomy)
	if err != nil {
		return nil, err
	}
	h := &Handler{Deps: d, codec: codec, mux: http.NewServeMux()}
	h.route("GET "+EventsRoot+"metadata", h.metadata)
	h.route("GET "+EventsRoot+"openapi.json", h.openAPI)
	h.route("POST "+EventsRoot+"AdverseEvent", h.withKey(h.create))
	h.route("GET "+EventsRoot+"AdverseEvent", h.withKey(h.search))
	h.route("GET "+EventsRoot+"AdverseEvent/{id}", h.withKey(h.read))
	h.route("PUT "+EventsRoot+"AdverseEvent/{id}", h.withKey(h.update))
	h.route("GET "+EventsRoot+"AdverseEvent/{id}/_history", h.withKey(h.history))
	h.route("GET "+EventsRoot+"AdverseEvent/{id}/_history/{vid}", h.withKey(h.vread))
	h.route("GET "+TaxonomyRoot+"StructureDefinition/{id}", h.definition(StructureDefinition))
	h.route("GET "+TaxonomyRoot+"ValueSet/{id}", h.definition(ValueSet))
	h.route("GET "+TaxonomyRoot+"CodeSystem/{id}", h.definition(CodeSystem))
	h.mux.HandleFunc(EventsRoot, h.unknown)
	h.mux.HandleFunc(TaxonomyRoot, h.unknown)
	return h, nil
}

func (h *Handler) route(pattern string, fn http.HandlerFunc) {
	h.mux.HandleFunc(pattern, fn)
	h.patterns = append(h.patterns, pattern)
}

// Routes lists the API's route patterns.
func (h *Handler) Routes() []string { return append([]string(nil), h.patterns...) }

// ServeHTTP answers a request under EventsRoot or TaxonomyRoot. Nothing
// of the web's sessions applies: the API knows keys, not people.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			h.Logger.ErrorContext(r.Context(), "fhir: panic", "panic", fmt.Sprint(v), "path", r.URL.Path)
			writeOutcome(w, http.StatusInternalServerError, Issue{Severity: severityFatal, Code: codeException,
				Message: "Something went wrong in PSIMS. Nothing was stored. Try again later"})
		}
	}()
	w.Header().Set("Cache-Control", "no-store")
	if !acceptable(r.Header.Get("Accept")) {
		writeOutcome(w, http.StatusNotAcceptable, Issue{Severity: severityError, Code: codeNotSupported,
			Message: "PSIMS answers in " + contentType + " only: ask for it in the Accept header"})
		return
	}
	h.mux.ServeHTTP(w, r)
}

// unknown answers addresses and methods the API does not have.
func (h *Handler) unknown(w http.ResponseWriter, r *http.Request) {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != "" && pattern != EventsRoot && pattern != TaxonomyRoot {
			writeOutcome(w, http.StatusMethodNotAllowed, Issue{Severity: severityError, Code: codeNotSupported,
				Message: "PSIMS does not take " + r.Method + " here"})
			return
		}
	}
	writeOutcome(w, http.StatusNotFound, Issue{Severity: severityError, Code: codeNotFound,
		Message: "PSIMS's API has nothing at this address. The CapabilityStatement at " + EventsRoot + "metadata lists what it has"})
}

// acceptable reports whether an Accept header allows FHIR JSON.
func acceptable(accept string) bool {
	if accept == "" {
		return true
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case contentType, "application/json", "application/*", "*/*":
			return true
		}
	}
	return false
}

// writeJSON answers with a resource.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", contentType+"; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

func (h *Handler) metadata(w http.ResponseWriter, r *http.Request) {
	body, err := marshal(CapabilityStatement(h.Base, h.Taxonomy, h.Version, time.Now()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func (h *Handler) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(OpenAPI(h.Base))
}

// definition serves one of the taxonomy's definitions by id.
func (h *Handler) definition(find func(base string, tax *taxonomy.Taxonomy, id string) (any, bool)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := find(h.Base, h.Taxonomy, r.PathValue("id"))
		if !ok {
			writeOutcome(w, http.StatusNotFound, Issue{Severity: severityError, Code: codeNotFound,
				Message: "The taxonomy has no definition with this id"})
			return
		}
		body, err := marshal(v)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, body)
	}
}

// refusedPerMinute is how many requests with keys that do not work one
// network may make a minute before it is answered 429.
const refusedPerMinute = 30

// keyed is a handler for requests made with a key k, from the address ip.
type keyed func(w http.ResponseWriter, r *http.Request, k apikey.Key, ip string)

// secretOf is the key a request presents: in Ocp-Apim-Subscription-Key, as
// LFPSE clients send it, or as a bearer token.
func secretOf(r *http.Request) string {
	if s := r.Header.Get("Ocp-Apim-Subscription-Key"); s != "" {
		return strings.TrimSpace(s)
	}
	if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(token)
	}
	return ""
}

// withKey authenticates the request's key and takes a token from its
// bucket before fn runs. Refusals are audited; a request with no key
// names nobody, so it is only answered.
func (h *Handler) withKey(fn keyed) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		ip := h.ClientIP(r)
		secret := secretOf(r)
		if secret == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="psims"`)
			writeOutcome(w, http.StatusUnauthorized, Issue{Severity: severityError, Code: codeSecurity,
				Message: "Send your organisation's API key in the Ocp-Apim-Subscription-Key header, or as a bearer token"})
			return
		}
		k, err := h.Keys.Authenticate(ctx, secret)
		if apperr.CodeOf(err) == apperr.Unauthorized {
			// A network sending many keys that do not work is answered 429
			// past refusedPerMinute, and those are not audited, so that
			// nobody can fill the audit log. Working keys never count.
			d, lerr := h.Limiter.Allow(ctx, "apikey-refused:"+ratelimit.Network(ip), refusedPerMinute, time.Minute, time.Now())
			if lerr != nil {
				h.fail(w, r, lerr)
				return
			}
			if !d.Allowed {
				h.throttled(w, d, "Too many requests with API keys that do not work have come from your network")
				return
			}
			h.audit(ctx, "api.refused", "api_key", "", ip, map[string]string{"status": "401", "reason": "key not valid",
				"method": r.Method, "path": r.URL.Path})
			w.Header().Set("WWW-Authenticate", `Bearer realm="psims", error="invalid_token"`)
			writeOutcome(w, http.StatusUnauthorized, Issue{Severity: severityError, Code: codeSecurity, Message: apperr.MessageOf(err)})
			return
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		d, err := h.Limiter.Allow(ctx, "apikey:"+strconv.FormatInt(k.ID, 10), h.Rate, time.Minute, time.Now())
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if !d.Allowed {
			h.refuse(ctx, k, r, ip, http.StatusTooManyRequests, "rate limit")
			h.throttled(w, d, "Too many requests with this key")
			return
		}
		fn(w, r, k, ip)
	}
}

// throttled answers a request over its rate, saying which (what) and
// when to try again.
func (h *Handler) throttled(w http.ResponseWriter, d ratelimit.Decision, what string) {
	secs := max(1, int((d.RetryAfter+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeOutcome(w, http.StatusTooManyRequests, Issue{Severity: severityError, Code: codeThrottled,
		Message: fmt.Sprintf("%s. Wait %d seconds, then try again", what, secs)})
}

// audit writes an entry of the audit log in a transaction of its own; a
// failure is logged, as the answer has been decided.
func (h *Handler) audit(ctx context.Context, action, subjectType, subjectID, ip string, details map[string]string) {
	err := h.DB.InTx(ctx, func(tx *db.Tx) error {
		return audit.Record(ctx, tx, audit.Entry{Action: action, SubjectType: subjectType, SubjectID: subjectID, IP: ip, Details: details})
	})
	if err != nil {
		h.Logger.ErrorContext(ctx, "fhir: audit", "action", action, "err", err)
	}
}

// refuse audits a refusal of a request made with key k.
func (h *Handler) refuse(ctx context.Context, k apikey.Key, r *http.Request, ip string, status int, reason string) {
	h.audit(ctx, "api.refused", "api_key", strconv.FormatInt(k.ID, 10), ip, map[string]string{
		"org": k.Org, "status": strconv.Itoa(status), "reason": reason, "method": r.Method, "path": r.URL.Path})
}

// fail answers an unexpected error, logged with its detail.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.Logger.ErrorContext(r.Context(), "fhir: request failed", "err", err, "method", r.Method, "path", r.URL.Path)
	writeOutcome(w, http.StatusInternalServerError, Issue{Severity: severityFatal, Code: codeException,
		Message: "Something went wrong in PSIMS. Nothing was stored. Try again later"})
}

// body reads a resource sent: FHIR JSON only, at most MaxBody bytes.
func (h *Handler) body(w http.ResponseWriter, r *http.Request) ([]byte, *Issue, int) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != contentType {
		return nil, &Issue{Severity: severityError, Code: codeNotSupported,
			Message: "Send the resource as " + contentType}, http.StatusUnsupportedMediaType
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, &Issue{Severity: severityError, Code: codeTooLong,
			Message: fmt.Sprintf("The resource is larger than PSIMS takes (%d bytes)", MaxBody)}, http.StatusRequestEntityTooLarge
	}
	if err != nil {
		return nil, &Issue{Severity: severityError, Code: codeStructure, Message: "The body could not be read"}, http.StatusBadRequest
	}
	return b, nil, 0
}

// decode reads and decodes the resource of a create or update; on a
// problem it answers and returns false.
func (h *Handler) decode(w http.ResponseWriter, r *http.Request, k apikey.Key, ip string) (Record, bool) {
	body, problem, status := h.body(w, r)
	if problem != nil {
		h.refuse(r.Context(), k, r, ip, status, problem.Code)
		writeOutcome(w, status, *problem)
		return Record{}, false
	}
	rec, issues := h.codec.Decode(body)
	if issues != nil {
		status := http.StatusUnprocessableEntity
		if issues[0].Code == codeStructure && issues[0].Expression == "" {
			status = http.StatusBadRequest
		}
		h.refuse(r.Context(), k, r, ip, status, issueCodes(issues))
		writeOutcome(w, status, issues...)
		return Record{}, false
	}
	return rec, true
}

// issueCodes lists the codes of issues, for the audit log: never their
// messages, which may describe what was sent.
func issueCodes(issues []Issue) string {
	seen := map[string]bool{}
	var codes []string
	for _, is := range issues {
		if !seen[is.Code] {
			seen[is.Code] = true
			codes = append(codes, is.Code)
		}
	}
	return strings.Join(codes, ",")
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request, k apikey.Key, ip string) {
	rec, ok := h.decode(w, r, k, ip)
	if !ok {
		return
	}
	ev, err := h.Recorder.SubmitSystem(r.Context(), incident.SystemRecord{Type: rec.Type, Answers: rec.Answers, Org: k.Org, KeyID: k.ID},
		incident.Client{IP: ip})
	if err != nil {
		h.refused(w, r, k, ip, rec, err)
		return
	}
	h.answer(w, r, http.StatusCreated, ev.Reference, ev.Type, ev.Version, ev.UpdatedAt, ev.Answers)
}

func (h *Handler) update(w http.ResponseWriter, r *http.Request, k apikey.Key, ip string) {
	ev, ok := h.event(w, r, k, ip)
	if !ok {
		return
	}
	base := 0
	if m := r.Header.Get("If-Match"); m != "" {
		v, ok := parseETag(m)
		if !ok {
			h.refuse(r.Context(), k, r, ip, http.StatusBadRequest, "if-match")
			writeOutcome(w, http.StatusBadRequest, Issue{Severity: severityError, Code: codeValue,
				Message: `Give If-Match as the version's ETag, such as W/"3"`})
			return
		}
		base = v
	}
	rec, ok := h.decode(w, r, k, ip)
	if !ok {
		return
	}
	if rec.ID != string(ev.Reference) {
		h.refuse(r.Context(), k, r, ip, http.StatusBadRequest, "id")
		writeOutcome(w, http.StatusBadRequest, Issue{Severity: severityError, Code: codeValue, Expression: "AdverseEvent.id",
			Message: "The resource's id must be the reference in the address, " + string(ev.Reference)})
		return
	}
	after, err := h.Recorder.AmendSystem(r.Context(), incident.SystemAmendment{EventID: ev.ID, Base: base,
		Record: incident.SystemRecord{Type: rec.Type, Answers: rec.Answers, Org: k.Org, KeyID: k.ID}}, incident.Client{IP: ip})
	if err != nil {
		h.refused(w, r, k, ip, rec, err)
		return
	}
	h.answer(w, r, http.StatusOK, after.Reference, after.Type, after.Version, after.UpdatedAt, after.Answers)
}

// refused answers what incident refused in a create or update.
func (h *Handler) refused(w http.ResponseWriter, r *http.Request, k apikey.Key, ip string, rec Record, err error) {
	var fields apperr.Fields
	var status int
	var issues []Issue
	switch {
	case errors.As(err, &fields):
		status = http.StatusUnprocessableEntity
		for _, f := range fields {
			is := Issue{Severity: severityError, Code: codeBusinessRule, Message: f.Message, Expression: h.codec.Path(rec, f.Field)}
			switch {
			case f == incident.ErrOtherOrganisation[0]:
				status, is.Code = http.StatusForbidden, codeForbidden
			case !rec.answered(f.Field):
				is.Code = codeRequired
				is.Message = requiredMessage(f.Field, f.Message)
			case !strings.HasSuffix(f.Message, form.LeaveItOut):
				is.Code = codeValue
			}
			issues = append(issues, is)
		}
	case errors.Is(err, incident.ErrChangedMeanwhile):
		status = http.StatusPreconditionFailed
		issues = []Issue{{Severity: severityError, Code: codeConflict,
			Message: "The event has a newer version than the one in If-Match. Read it again, then send your change"}}
	case apperr.CodeOf(err) == apperr.Conflict:
		status = http.StatusConflict
		issues = []Issue{{Severity: severityError, Code: codeConflict, Message: apperr.MessageOf(err)}}
	case apperr.CodeOf(err) == apperr.NotFound:
		status = http.StatusNotFound
		issues = []Issue{{Severity: severityError, Code: codeNotFound, Message: "There is no event with this reference"}}
	case apperr.CodeOf(err) == apperr.Invalid:
		status = http.StatusUnprocessableEntity
		issues = []Issue{{Severity: severityError, Code: codeValue, Message: apperr.MessageOf(err)}}
	default:
		h.fail(w, r, err)
		return
	}
	h.refuse(r.Context(), k, r, ip, status, issueCodes(issues))
	writeOutcome(w, status, issues...)
}

// answer writes one version of an event with the headers of a read.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, status int, ref incident.Reference, t incident.Type, version int,
	updated time.Time, a incident.Answers) {
	body, err := h.codec.Encode(Snapshot{Reference: ref, Type: t, Version: version, Updated: updated, Answers: a})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(version))
	w.Header().Set("Last-Modified", updated.UTC().Format(http.TimeFormat))
	if status == http.StatusCreated {
		w.Header().Set("Location", h.Base+EventsRoot+"AdverseEvent/"+string(ref)+"/_history/"+strconv.Itoa(version))
	}
	writeJSON(w, status, body)
}

// event finds the event named in the address, of the key's organisation:
// another organisation's events are not found, as if they did not exist.
func (h *Handler) event(w http.ResponseWriter, r *http.Request, k apikey.Key, ip string) (incident.Event, bool) {
	ref, err := incident.ParseReference(r.PathValue("id"))
	var ev incident.Event
	if err == nil {
		ev, err = h.Events.ByReference(r.Context(), ref)
	}
	if err == nil && ev.OrgCode != k.Org {
		err = apperr.New(apperr.NotFound, "")
	}
	switch {
	case err == nil:
		return ev, true
	case apperr.CodeOf(err) == apperr.NotFound || apperr.CodeOf(err) == apperr.Invalid:
		h.refuse(r.Context(), k, r, ip, http.StatusNotFound, "not found")
		writeOutcome(w, http.StatusNotFound, Issue{Severity: severityError, Code: codeNotFound,
			Message: "Your organisation has no event with this reference"})
	default:
		h.fail(w, r, err)
	}
	return incident.Event{}, false
}

func (h *Handler) read(w http.ResponseWriter, r *http.Request, k apikey.Key, ip string) {
	ev, ok := h.event(w, r, k, ip)
	if !ok {
		return
	}
	h.audit(r.Context(), "api.read", "event", strconv.FormatInt(ev.ID, 10), ip, map[string]string{"api_key": strconv.FormatInt(k.ID, 10)})
	h.answer(w, r, http.StatusOK, ev.Reference, ev.Type, ev.Version, ev.UpdatedAt, ev.Answers)
}

func (h *Handler) vread(w http.ResponseWriter, r *http.Request, k apikey.Key, ip string) {
	ev, ok := h.event(w, r, k, ip)
	if !ok {
		return
	}
	n, err := strconv.Atoi(r.PathValue("vid"))
	versions, verr := h.Events.Versions(r.Context(), ev.ID)
	if verr != nil {
		h.fail(w, r, verr)
		return
	}
	if err != nil || n < 1 || n > len(versions) {
		writeOutcome(w, http.StatusNotFound, Issue{Severity: severityError, Code: codeNotFound,
			Message: fmt.Sprintf("The event has versions 1 to %d", len(versions))})
		return
	}
	v := versions[n-1]
	h.audit(r.Context(), "api.read", "event", strconv.FormatInt(ev.ID, 10), ip,
		map[string]string{"api_key": strconv.FormatInt(k.ID, 10), "version": strconv.Itoa(n)})
	h.answer(w, r, http.StatusOK, ev.Reference, ev.Type, v.Version, v.CreatedAt, v.Answers)
}

// bundle is the JSON of a Bundle.
type bundle struct {
	ResourceType string        `json:"resourceType"`
	Type         string        `json:"type"`
	Total        *int          `json:"total,omitempty"`
	Link         []bundleLink  `json:"link"`
	Entry        []bundleEntry `json:"entry,omitempty"`
}

type bundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type bundleEntry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
	Search   *bundleSearch   `json:"search,omitempty"`
	Request  *bundleRequest  `json:"request,omitempty"`
	Response *bundleResponse `json:"response,omitempty"`
}

type bundleSearch struct {
	Mode string `json:"mode"`
}

type bundleRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

type bundleResponse struct {
	Status       string `json:"status"`
	LastModified string `json:"lastModified"`
}

func (h *Handler) history(w http.ResponseWriter, r *http.Request, k apikey.Key, ip string) {
	ev, ok := h.event(w, r, k, ip)
	if !ok {
		return
	}
	versions, err := h.Events.Versions(r.Context(), ev.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	total := len(versions)
	b := bundle{ResourceType: "Bundle", Type: "history", Total: &total,
		Link: []bundleLink{{Relation: "self", URL: h.Base + r.URL.RequestURI()}}}
	for i := len(versions) - 1; i >= 0; i-- {
		v := versions[i]
		body, err := h.codec.Encode(Snapshot{Reference: ev.Reference, Type: ev.Type, Version: v.Version, Updated: v.CreatedAt, Answers: v.Answers})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		method, status := http.MethodPut, "200 OK"
		if v.Version == 1 {
			method, status = http.MethodPost, "201 Created"
		}
		url := h.Base + EventsRoot + "AdverseEvent/" + string(ev.Reference)
		b.Entry = append(b.Entry, bundleEntry{FullURL: url, Resource: body,
			Request:  &bundleRequest{Method: method, URL: "AdverseEvent/" + string(ev.Reference)},
			Response: &bundleResponse{Status: status, LastModified: v.CreatedAt.UTC().Format(time.RFC3339Nano)}})
	}
	h.audit(r.Context(), "api.read", "event", strconv.FormatInt(ev.ID, 10), ip,
		map[string]string{"api_key": strconv.FormatInt(k.ID, 10), "history": "all"})
	body, err := marshal(b)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// etag is the ETag of a version.
func etag(version int) string { return `W/"` + strconv.Itoa(version) + `"` }

// parseETag reads an If-Match value: W/"3", "3" or 3.
func parseETag(s string) (int, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	s = strings.Trim(s, `"`)
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1
}
