// Package web is the HTTP face of PSIMS: routing, middleware, sessions,
// forms and pages. Handlers ask the feature packages to do the work; they
// hold no rules of their own beyond turning requests into calls and results
// into pages.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apikey"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/clientip"
	"github.com/psims/psims/internal/concern"
	"github.com/psims/psims/internal/dataexport"
	"github.com/psims/psims/internal/feedback"
	"github.com/psims/psims/internal/fhir"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/incident/taxonomy"
	"github.com/psims/psims/internal/library"
	"github.com/psims/psims/internal/mail/mailadmin"
	"github.com/psims/psims/internal/newsletter"
	"github.com/psims/psims/internal/oidclogin"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/rights"
	"github.com/psims/psims/internal/sharing"
	"github.com/psims/psims/internal/stats"
	"github.com/psims/psims/internal/terms"
	"github.com/psims/psims/internal/web/static"
)

// Deps are what the web layer needs from the rest of the system.
type Deps struct {
	Accounts *account.Service
	// OIDC signs people in through OpenID Connect providers (P11); nil
	// offers none.
	OIDC  *oidclogin.Service
	Terms *terms.Service
	Orgs  *org.Store
	// Incidents keeps and lists events, on the national Taxonomy;
	// Recorder submits them.
	Incidents *incident.Service
	Recorder  *incident.Recorder
	Taxonomy  *taxonomy.Taxonomy
	Ready     func(ctx context.Context) error // reports whether the database answers
	Metrics   *Metrics
	// MetricsElsewhere is true when /metrics is served on an address of its
	// own (--metrics-addr): this server then answers it with 404. When
	// false, it serves /metrics to loopback clients only.
	MetricsElsewhere bool
	Logger           *slog.Logger
	// SecureCookies marks cookies Secure (the base URL is https).
	SecureCookies bool
	// Clock is the system's clock, the one transactions take their time
	// from (time.Now when nil).
	Clock func() time.Time
	// DraftRetention is how long a draft is kept after its last change.
	DraftRetention time.Duration
	// RateLimits keeps the per-address limits in the database, so every
	// process shares them; nil (only in tests that do not post to the
	// limited forms) limits nothing.
	RateLimits RateLimits
	// PublicReportRate is how many concerns one address may try to submit
	// through the public route per hour.
	PublicReportRate int
	// SignInRate is how many sign-in, registration and reset posts one
	// address may make per minute.
	SignInRate int
	// ClientIPs says which address a request came from, believing
	// X-Forwarded-For only from trusted proxies.
	ClientIPs clientip.Resolver
	// FormKey signs values the server puts in forms and must get back
	// unchanged, such as when the public form was first shown.
	FormKey []byte
	// Usage takes a usage event for each request of a signed-in person;
	// nil records nothing (tests of other things).
	Usage UsageRecorder
	// UsageReports makes the usage reports of organisations and the
	// national one.
	UsageReports UsageReports
	// Library is the guidance library.
	Library *library.Service
	// Feedback keeps the feedback and questions sent from the "?" link on
	// every page, and the operator's replies (P3, P8).
	Feedback *feedback.Service
	// DataExport makes "Download my data" exports and legal disclosures
	// (P15, P18).
	DataExport *dataexport.Service
	// Rights keeps requests for erasure, restriction and objection (P15).
	Rights *rights.Service
	// Concerns keeps concern reports and their 48-hour queue (T5, T6).
	Concerns *concern.Service
	// AuditLog reads the audit log for the national admins' viewer.
	AuditLog *audit.Log
	// MailAdmin is the outbox view for national admins: delivery status
	// and Send again (issue 14).
	MailAdmin *mailadmin.Service
	// Dormancy lists accounts about to be deactivated for not being used
	// (P12, P13).
	Dormancy *account.Dormancy
	// Newsletters keeps newsletters and research invitations, and answers
	// their one-click unsubscribe links (issue 14, P7).
	Newsletters *newsletter.Service
	// Statistics keeps the official statistics publications (issue 15,
	// T16).
	Statistics *stats.Service
	// Sharing keeps the data sharing agreements every export outside the
	// recording organisation runs under (issue 15, T15).
	Sharing *sharing.Service
	// APIKeys keeps the organisations' keys to the LFPSE-compatible API
	// (issue 16, T3).
	APIKeys *apikey.Service
	// API serves the LFPSE-compatible FHIR API under /adverse-event/fhir/
	// and /taxonomy/fhir/ (issue 16): it knows keys, not sessions, so none
	// of the pages' middleware for people (sessions, CSRF, usage) wraps
	// it. nil serves no API.
	API http.Handler
}

// Server handles every HTTP request.
type Server struct {
	Deps
	render  *Renderer
	assets  *static.Assets
	forms   *form.Form
	handler http.Handler
	// uk is the time zone of times shown on pages.
	uk *time.Location
	// mux is the router, asked which route a held post would reach (held.go).
	mux *http.ServeMux
	// routeList is every pattern registered, for the authorisation matrix test.
	routeList []string
	// ungatedRoutes are the patterns a user who must accept new terms can
	// still reach.
	ungatedRoutes []string
}

// New builds the server, parsing every template and hashing every asset, so
// a broken template fails here rather than on a request.
func New(d Deps) (*Server, error) {
	assets, err := static.New()
	if err != nil {
		return nil, err
	}
	render, err := NewRenderer(assets, d.Logger)
	if err != nil {
		return nil, err
	}
	// The settings come from config, which gives their defaults; a zero
	// here is a wiring mistake.
	if d.SignInRate <= 0 || d.PublicReportRate <= 0 || d.DraftRetention <= 0 || len(d.FormKey) == 0 {
		return nil, errors.New("web: SignInRate, PublicReportRate, DraftRetention and FormKey must be set")
	}
	if d.Taxonomy == nil {
		if d.Taxonomy, err = taxonomy.Load(); err != nil {
			return nil, err
		}
	}
	forms, err := form.New(d.Taxonomy)
	if err != nil {
		return nil, err
	}
	s := &Server{Deps: d, render: render, assets: assets, forms: forms, uk: ukTime()}
	s.handler = s.routes()
	return s, nil
}

// localMetrics serves /metrics on the service's own address, to a scraper
// on the same machine only: Prometheus figures describe the service's load
// and errors, which are nobody else's business. A request that came through
// a proxy (it names a forwarded address) is not local, whatever the
// connection's address, since the proxy may itself run on this machine.
func (s *Server) localMetrics() http.HandlerFunc {
	metrics := s.Metrics.Handler()
	return func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		ip, perr := netip.ParseAddr(host)
		local := err == nil && perr == nil && ip.Unmap().IsLoopback() &&
			r.Header.Get("X-Forwarded-For") == "" && r.Header.Get("Forwarded") == ""
		if s.MetricsElsewhere || !local {
			s.notFound(w, r)
			return
		}
		metrics.ServeHTTP(w, r)
	}
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	s.mux = mux
	r := &router{mux: mux, gate: s.gate}
	r.handle("GET /static/", s.assets.Handler())
	r.open("GET /healthz", s.healthz)
	r.open("GET /readyz", s.readyz)
	r.handle("GET /metrics", s.localMetrics())

	r.handleFunc("GET /{$}", s.home)
	s.documentRoutes(r)
	s.cookieRoutes(r)
	r.open("GET /accessibility", s.infoPage("accessibility", "Accessibility statement"))

	r.handleFunc("GET /register", s.registerForm)
	r.handleFunc("POST /register", s.limited(s.register))
	r.handleFunc("GET /register/check-email", s.infoPage("account-check-email", "Check your email"))
	r.handleFunc("GET /verify-email", s.verifyEmailForm)
	r.handleFunc("POST /verify-email", s.verifyEmail)
	r.handleFunc("GET /verify-email/resend", s.resendForm)
	r.handleFunc("POST /verify-email/resend", s.limited(s.resend))
	r.handleFunc("GET /pending-approval", s.infoPage("account-pending", "Your account is waiting for approval"))

	r.handleFunc("GET /sign-in", s.signInForm)
	r.handleFunc("POST /sign-in", s.limited(s.signIn))
	r.open("POST /sign-out", s.signOut)

	r.handleFunc("GET /password-reset", s.resetRequestForm)
	r.handleFunc("POST /password-reset", s.limited(s.resetRequest))
	r.handleFunc("GET /password-reset/sent", s.infoPage("account-reset-sent", "Check your email"))
	r.handleFunc("GET /password-reset/new", s.resetForm)
	r.handleFunc("POST /password-reset/new", s.limited(s.reset))

	r.handleFunc("GET /account", s.requireUser(s.accountPage))
	r.handleFunc("POST /account/sign-out-everywhere", s.requireUser(s.signOutEverywhere))
	r.handleFunc("POST /account/devices/{id}/forget", s.requireUser(s.forgetDevice))
	r.open("POST /session/extend", s.extendSession)

	s.profileRoutes(r)
	s.alertRoutes(r)
	s.adminUserRoutes(r)
	s.usageReportRoutes(r)
	s.dashboardRoutes(r)
	s.requestRoutes(r)
	s.adminOrgRoutes(r)
	s.termsRoutes(r)
	s.eventRoutes(r)
	s.recordRoutes(r)
	s.amendRoutes(r)
	s.reviewRoutes(r)
	s.reportRoutes(r)
	s.libraryRoutes(r)
	s.feedbackRoutes(r)
	s.dataExportRoutes(r)
	s.rightsRoutes(r)
	s.concernRoutes(r)
	s.auditRoutes(r)
	s.outboxRoutes(r)
	s.dormancyRoutes(r)
	s.newsletterRoutes(r)
	s.statisticsRoutes(r)
	s.sharingRoutes(r)
	s.apiKeyRoutes(r)
	s.twoStepRoutes(r)
	s.passkeyRoutes(r)
	s.oidcRoutes(r)
	s.routeList = r.patterns
	s.ungatedRoutes = r.ungated

	mux.HandleFunc("/", s.notFound)

	var h http.Handler = recordRoute(mux)
	h = s.recordUsage(h)
	h = s.requireSecondStep(h)
	h = s.authenticate(h)
	h = s.cleanInput(h)
	h = s.checkCSRF(h)
	h = http.NewCrossOriginProtection().Handler(h)
	h = s.apiApart(h)
	h = s.Metrics.Middleware(h)
	h = recoverPanics(s.Logger, s.render)(h)
	h = logRequests(s.Logger)(h)
	h = securityHeaders(s.SecureCookies, s.OIDC.FormActions)(h)
	h = requestID(h)
	return h
}

// apiApart sends requests for the API to it, and the rest to pages.
func (s *Server) apiApart(pages http.Handler) http.Handler {
	if s.API == nil {
		return pages
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, fhir.EventsRoot) || strings.HasPrefix(r.URL.Path, fhir.TaxonomyRoot) {
			s.API.ServeHTTP(w, r)
			return
		}
		pages.ServeHTTP(w, r)
	})
}

// router registers handlers on the mux and remembers each pattern.
type router struct {
	mux      *http.ServeMux
	patterns []string
	// gate wraps every route registered with handleFunc: a signed-in user
	// who must accept new terms sees the review page instead (T1, T2).
	gate func(http.HandlerFunc) http.HandlerFunc
	// ungated are the routes registered with handle or open.
	ungated []string
}

// handle registers a route that the acceptance gate does not cover: files,
// health checks and metrics.
func (r *router) handle(pattern string, h http.Handler) {
	r.mux.Handle(pattern, h)
	r.patterns = append(r.patterns, pattern)
	r.ungated = append(r.ungated, pattern)
}

// handleFunc registers a route behind the acceptance gate.
func (r *router) handleFunc(pattern string, h http.HandlerFunc) {
	r.mux.Handle(pattern, r.gate(h))
	r.patterns = append(r.patterns, pattern)
}

// open registers a page that stays reachable before the user has accepted
// the terms: the review page itself, signing out, and the pages it links
// to.
func (r *router) open(pattern string, h http.HandlerFunc) { r.handle(pattern, h) }

// now is the time by the system's one clock (the database's, which stamps
// every transaction), for checking answers as they are typed.
func (s *Server) now() time.Time {
	if s.Clock == nil {
		return time.Now()
	}
	return s.Clock()
}

// Routes lists every route pattern the server serves, apart from the
// catch-all that answers 404.
func (s *Server) Routes() []string { return append([]string(nil), s.routeList...) }

// UngatedRoutes lists the routes a signed-in user who has not accepted the
// current terms can still reach.
func (s *Server) UngatedRoutes() []string { return append([]string(nil), s.ungatedRoutes...) }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.Ready(ctx); err != nil {
		s.Logger.ErrorContext(ctx, "readiness check failed", "err", err, "request_id", RequestID(ctx))
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("database unreachable\n"))
		return
	}
	w.Write([]byte("ok\n"))
}

// infoPage serves a page that needs nothing but the common data.
func (s *Server) infoPage(name, title string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.render.Render(w, r, http.StatusOK, name, s.page(r, title))
	}
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.render.Render(w, r, http.StatusNotFound, "not-found", s.page(r, "Page not found"))
}

// page returns the data every page needs.
func (s *Server) page(r *http.Request, title string) Page {
	p := Page{Title: title, Path: r.URL.Path, CSRFToken: csrfToken(r)}
	p.CookieBanner = showCookieBanner(r)
	p.Passkeys = s.Accounts != nil && s.Accounts.PasskeysAvailable()
	p.Providers = s.OIDC.Choices()
	p.ReturnTo = r.URL.RequestURI()
	if v := viewerFrom(r.Context()); v != nil {
		p.Viewer = &Viewer{Name: v.user.Name, Email: v.user.Email, Role: string(v.user.Role), OrgName: v.orgName,
			Pending: v.step != account.StepDone}
		p.Session = s.timeoutFor(v.session)
		if r.URL.Path != "/review-terms" && len(v.docs.MustAccept)+len(v.docs.Updated) > 0 {
			n := &documentNotice{Review: "/review-terms"}
			if r.Method == http.MethodGet {
				n.Review += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			for _, k := range slices.Concat(v.docs.MustAccept, v.docs.Updated) {
				n.Names = append(n.Names, k.Label())
			}
			for _, k := range v.docs.MustAccept {
				n.MustAccept = append(n.MustAccept, k.Label())
			}
			p.Updated = n
		}
	}
	return p
}

// fieldErrors turns a form's validation errors (apperr.Fields) into the
// page's error list; ok is false for any other error.
func fieldErrors(err error) (errs []FieldError, ok bool) {
	var fields apperr.Fields
	if !errors.As(err, &fields) {
		return nil, false
	}
	errs = make([]FieldError, 0, len(fields))
	for _, fe := range fields {
		errs = append(errs, FieldError{Field: fe.Field, Message: fe.Message})
	}
	return errs, true
}

// fail shows the error page that fits err: the one place application errors
// become HTTP statuses.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	switch apperr.CodeOf(err) {
	case apperr.Invalid:
		status = http.StatusUnprocessableEntity
	case apperr.NotFound:
		status = http.StatusNotFound
	case apperr.Conflict:
		status = http.StatusConflict
	case apperr.Unauthorized:
		status = http.StatusUnauthorized
	case apperr.Forbidden:
		status = http.StatusForbidden
	case apperr.RateLimited:
		status = http.StatusTooManyRequests
	case apperr.Unavailable:
		status = http.StatusServiceUnavailable
	}
	if status == http.StatusInternalServerError && !errors.Is(err, context.Canceled) {
		s.Logger.ErrorContext(r.Context(), "request failed", "err", err, "request_id", RequestID(r.Context()))
	}
	if status == http.StatusNotFound {
		s.notFound(w, r)
		return
	}
	p := s.page(r, "Sorry, there is a problem with the service")
	p.Data = apperr.MessageOf(err)
	s.render.Render(w, r, status, "error", p)
}
