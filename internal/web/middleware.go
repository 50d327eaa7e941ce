package web

// Middleware that wraps every request. The order, outermost first:
//
//	requestID → securityHeaders → logRequests → recoverPanics → Metrics.Middleware → … →
//	authenticate → recordUsage → recordRoute(mux)
//
// requestID is outermost so every later step (and the logs) can read the ID.
// recoverPanics is inside logRequests so a panic is logged as a 500.
// recordRoute wraps the mux itself: the mux sets r.Pattern on the request it
// is given, and middleware that calls r.WithContext (sessions, CSRF) hands it
// a copy, so the pattern is copied back through the context for the outer
// steps to read.

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// contentSecurityPolicy allows nothing from other hosts and no inline script
// or style. NHS.UK frontend works within it: its JavaScript only changes
// styles through the CSSOM, which CSP does not restrict, and the build
// removes its @font-face rules for the externally hosted Frutiger font.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// securityHeaders sets the headers that restrict what a browser may do with
// our pages. hsts adds Strict-Transport-Security; set it only when the
// service is reached over https (the base URL is https). formActions, when
// not nil, returns the other origins forms may lead to: the OpenID Connect
// providers that a signed-in person's "Link ..." button redirects to,
// which form-action 'self' alone makes the browser refuse (it checks every
// redirect of a form's submission).
func securityHeaders(hsts bool, formActions func() []string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			csp := contentSecurityPolicy
			if formActions != nil {
				if origins := formActions(); len(origins) > 0 {
					csp = strings.Replace(csp, "form-action 'self'", "form-action 'self' "+strings.Join(origins, " "), 1)
				}
			}
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			if hsts {
				h.Set("Strict-Transport-Security", "max-age=31536000")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// requestInfo is what the outermost middleware shares with the inner ones
// through the context. Only the goroutine serving the request touches it.
type requestInfo struct {
	id      string
	pattern string // the mux's pattern, once recordRoute has seen it
	// documentID is the library document the request opened, for its
	// usage event (markDocumentOpen); 0 for any other request.
	documentID int64
}

type requestInfoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return info
}

// requestID gives every request a new random ID, in the context (see
// RequestID) and in the X-Request-ID response header. An ID sent by the
// client is ignored, so logs cannot be confused by forged IDs.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := &requestInfo{id: rand.Text()}
		w.Header().Set("X-Request-ID", info.id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)))
	})
}

// RequestID returns the ID of the request ctx belongs to, or "" outside a request.
func RequestID(ctx context.Context) string {
	if info := infoFrom(ctx); info != nil {
		return info.id
	}
	return ""
}

// recordRoute wraps the mux so that the pattern it matched reaches the
// logging and metrics middleware even when the request was copied on the
// way in.
func recordRoute(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if info := infoFrom(r.Context()); info != nil {
				info.pattern = r.Pattern
			}
		}()
		mux.ServeHTTP(w, r)
	})
}

// route names the route of a served request for logs and metrics: the mux
// pattern, such as "GET /password-reset/new", never the path, which may hold
// a token. Requests no pattern matched are "unmatched", which keeps metric
// labels few.
func route(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	if info := infoFrom(r.Context()); info != nil && info.pattern != "" {
		return info.pattern
	}
	return "unmatched"
}

// method returns r.Method if it is a standard one and "other" if not, so a
// client cannot create new metric labels at will.
func method(r *http.Request) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return r.Method
	}
	return "other"
}

// statusRecorder remembers the status and size of a response, for logging
// and metrics. Use recorderFor so nested middleware share one.
type statusRecorder struct {
	http.ResponseWriter
	status int   // 0 until the handler writes a final status
	bytes  int64 // body bytes written
}

// recorderFor returns w itself if it is already a recorder, or wraps it.
func recorderFor(w http.ResponseWriter) *statusRecorder {
	if rec, ok := w.(*statusRecorder); ok {
		return rec
	}
	return &statusRecorder{ResponseWriter: w}
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 && code >= 200 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Flush lets handlers stream through the recorder.
func (s *statusRecorder) Flush() {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	http.NewResponseController(s.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// written reports whether the status line has gone to the client.
func (s *statusRecorder) written() bool { return s.status != 0 }

// finalStatus is the status the client got; a handler that wrote nothing sent 200.
func (s *statusRecorder) finalStatus() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

// logRequests writes one JSON line per request. It logs the route pattern,
// not the path, and never the query string or form values, because links
// and forms carry tokens. For a visitor who accepted analytics cookies it
// adds their anonymous ID as "visitor", so the logs can count distinct
// browsers; without that consent the line has no such ID. A nil logger
// means slog.Default().
func logRequests(logger *slog.Logger) func(http.Handler) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := recorderFor(w)
			next.ServeHTTP(rec, r)
			attrs := []slog.Attr{
				slog.String("method", method(r)),
				slog.String("route", route(r)),
				slog.Int("status", rec.finalStatus()),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
				slog.Int64("bytes", rec.bytes),
				slog.String("request_id", RequestID(r.Context())),
			}
			if id := visitorID(r); id != "" {
				attrs = append(attrs, slog.String("visitor", id))
			}
			logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
		})
	}
}

// recoverPanics turns a panic in a handler into a logged error and the 500
// page, so one bad request cannot take the process down or leave the
// visitor with a broken response. A nil logger means slog.Default().
func recoverPanics(logger *slog.Logger, rd *Renderer) func(http.Handler) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := recorderFor(w)
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v) // the server's own signal to drop the connection quietly
				}
				logger.LogAttrs(r.Context(), slog.LevelError, "panic",
					slog.String("panic", fmt.Sprint(v)),
					slog.String("route", route(r)),
					slog.String("request_id", RequestID(r.Context())),
					slog.String("stack", string(debug.Stack())),
				)
				if !rec.written() {
					rd.ServerError(rec, r)
				}
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

// Metrics counts requests and sign-ins for Prometheus. A nil *Metrics
// counts nothing, which keeps tests that do not care about metrics short.
type Metrics struct {
	gatherer prometheus.Gatherer
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	signIns  *prometheus.CounterVec
	inFlight prometheus.Gauge
	usage    prometheus.Histogram
}

// NewMetrics registers the PSIMS metrics with reg. mailQueueDepth reports
// how many messages wait in the outbox when scraped; nil leaves that gauge
// out. Handler serves what reg gathers if reg is also a Gatherer (a
// *prometheus.Registry is), and the default registry otherwise. It panics if
// the metrics are already registered with reg, as that is a wiring mistake.
func NewMetrics(reg prometheus.Registerer, mailQueueDepth func() float64) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "psims_http_requests_total",
			Help: "HTTP requests served, by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "psims_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by method and route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "psims_signins_total",
			Help: "Sign-in attempts, by outcome.",
		}, []string{"outcome"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "psims_http_requests_in_flight",
			Help: "HTTP requests being served now.",
		}),
		usage: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "psims_usage_record_seconds",
			Help: "Time each signed-in request spent on recording its usage event, on the request's own path.",
			// Fine enough to see microseconds, with issue 12's goal of
			// 0.2 ms as a bound, so the share of requests over it is exact.
			Buckets: []float64{1e-6, 2e-6, 5e-6, 10e-6, 20e-6, 50e-6, 100e-6, 200e-6, 500e-6, 1e-3, 2e-3, 5e-3},
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.signIns, m.inFlight, m.usage)
	if mailQueueDepth != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "psims_mail_queue_depth",
			Help: "Messages in the outbox waiting to be sent.",
		}, mailQueueDepth))
	}
	m.gatherer = prometheus.DefaultGatherer
	if g, ok := reg.(prometheus.Gatherer); ok {
		m.gatherer = g
	}
	return m
}

// SignIn counts one sign-in attempt. outcome must come from a short fixed
// list (such as "success", "bad-credentials", "locked"), never from input.
func (m *Metrics) SignIn(outcome string) {
	if m == nil {
		return
	}
	m.signIns.WithLabelValues(outcome).Inc()
}

// UsageRecorded counts the time d that one request spent recording its
// usage event.
func (m *Metrics) UsageRecorded(d time.Duration) {
	if m == nil {
		return
	}
	m.usage.Observe(d.Seconds())
}

// Middleware counts and times every request by method, route pattern and
// status. A request that panics is counted as a 500.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := recorderFor(w)
		panicked := true
		m.inFlight.Inc()
		defer func() {
			m.inFlight.Dec()
			status := rec.finalStatus()
			if panicked {
				status = http.StatusInternalServerError
			}
			meth, rt := method(r), route(r)
			m.requests.WithLabelValues(meth, rt, strconv.Itoa(status)).Inc()
			m.duration.WithLabelValues(meth, rt).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(rec, r)
		panicked = false
	})
}

// Handler serves the metrics in the Prometheus text format, for GET /metrics.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
}
