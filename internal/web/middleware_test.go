package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello")) })
}

func serve(h http.Handler, method, url string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, url, nil))
	return w
}

func TestSecurityHeaders(t *testing.T) {
	want := map[string]string{
		"Content-Security-Policy":    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "same-origin",
		"X-Frame-Options":            "DENY",
		"Permissions-Policy":         "camera=(), microphone=(), geolocation=()",
		"Cross-Origin-Opener-Policy": "same-origin",
	}
	t.Run("are all set", func(t *testing.T) {
		w := serve(securityHeaders(false, nil)(okHandler()), "GET", "/")
		for name, value := range want {
			if got := w.Header().Get(name); got != value {
				t.Errorf("%s = %q, want %q", name, got, value)
			}
		}
		if got := w.Header().Get("Strict-Transport-Security"); got != "" {
			t.Errorf("HSTS sent over http: %q", got)
		}
	})
	t.Run("let forms lead to the sign-in providers", func(t *testing.T) {
		providers := func() []string { return []string{"https://idp.example", "https://login.idp.example:8443"} }
		w := serve(securityHeaders(false, providers)(okHandler()), "GET", "/")
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "; form-action 'self' https://idp.example https://login.idp.example:8443; ") {
			t.Errorf("Content-Security-Policy = %q, want form-action to name the providers too", csp)
		}
	})
	t.Run("include HSTS when the service is on https", func(t *testing.T) {
		w := serve(securityHeaders(true, nil)(okHandler()), "GET", "/")
		if got := w.Header().Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") {
			t.Errorf("Strict-Transport-Security = %q", got)
		}
	})
}

func TestRequestID(t *testing.T) {
	var seen []string
	h := requestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, RequestID(r.Context()))
	}))
	ids := map[string]bool{}
	for range 3 {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("X-Request-ID", "forged")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		id := w.Header().Get("X-Request-ID")
		if id == "" || id == "forged" {
			t.Fatalf("X-Request-ID = %q", id)
		}
		if ids[id] {
			t.Errorf("ID %q used twice", id)
		}
		ids[id] = true
		if got := seen[len(seen)-1]; got != id {
			t.Errorf("context has %q, header %q", got, id)
		}
	}
	if got := RequestID(context.Background()); got != "" {
		t.Errorf("RequestID outside a request = %q", got)
	}
}

// stack builds the middleware in the order the server uses, around a mux
// that is reached through a copied request, as the session middleware does.
// The returned buffer holds the log of the last request only.
func stack(t *testing.T, mux *http.ServeMux, m *Metrics) (http.Handler, *bytes.Buffer) {
	t.Helper()
	logger, logs := testLogger(t)
	rd, _ := testRenderer(t)
	type copiedKey struct{}
	copyRequest := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), copiedKey{}, 1)))
		})
	}
	var h http.Handler = recordRoute(mux)
	h = copyRequest(h)
	h = m.Middleware(h)
	h = recoverPanics(logger, rd)(h)
	h = logRequests(logger)(h)
	h = securityHeaders(false, nil)(h)
	h = requestID(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logs.Reset()
		h.ServeHTTP(w, r)
	}), logs
}

func TestLogRequests(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /password-reset/{token}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte("12345"))
	})
	h, logs := stack(t, mux, nil)

	t.Run("writes the route pattern, never the path or query", func(t *testing.T) {
		w := serve(h, "GET", "/password-reset/SECRET-PATH?token=SECRET-QUERY&email=a@b.c")
		var line map[string]any
		if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
			t.Fatalf("log is not one JSON line: %v\n%s", err, logs)
		}
		if strings.Contains(logs.String(), "SECRET") || strings.Contains(logs.String(), "a@b.c") {
			t.Errorf("log leaks the path or query: %s", logs)
		}
		want := map[string]any{"method": "GET", "route": "GET /password-reset/{token}", "status": float64(202), "bytes": float64(5), "request_id": w.Header().Get("X-Request-ID")}
		for k, v := range want {
			if line[k] != v {
				t.Errorf("%s = %v, want %v", k, line[k], v)
			}
		}
		if _, ok := line["duration_ms"].(float64); !ok {
			t.Errorf("no duration_ms in %s", logs)
		}
	})
	t.Run("names unmatched requests without their path", func(t *testing.T) {
		serve(h, "GET", "/no/such/SECRET")
		if !strings.Contains(logs.String(), `"route":"unmatched"`) || strings.Contains(logs.String(), "SECRET") {
			t.Errorf("log: %s", logs)
		}
	})
	t.Run("does not log form values", func(t *testing.T) {
		req := httptest.NewRequest("POST", "/password-reset/x", strings.NewReader("password=SECRET"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(httptest.NewRecorder(), req)
		if strings.Contains(logs.String(), "SECRET") {
			t.Errorf("log leaks a form value: %s", logs)
		}
	})
}

func TestRecoverPanicsShowsTheServerErrorPage(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("kaboom") })
	h, logs := stack(t, mux, nil)

	w := serve(h, "GET", "/boom")
	if w.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", w.Code)
	}
	if !strings.Contains(w.Body.String(), "Sorry, there is a problem with the service") {
		t.Errorf("body:\n%s", w.Body)
	}
	if w.Header().Get("Content-Security-Policy") == "" {
		t.Error("the error page lost the security headers")
	}
	id := w.Header().Get("X-Request-ID")
	var panicLogged, requestLogged bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("bad log line %q: %v", line, err)
		}
		switch rec["msg"] {
		case "panic":
			panicLogged = rec["panic"] == "kaboom" && rec["request_id"] == id && rec["stack"] != ""
		case "request":
			requestLogged = rec["status"] == float64(500)
		}
	}
	if !panicLogged || !requestLogged {
		t.Errorf("panic logged %v, request logged as 500 %v:\n%s", panicLogged, requestLogged, logs)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, func() float64 { return 7 })
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("kaboom") })
	mux.Handle("GET /metrics", m.Handler())
	h, _ := stack(t, mux, m)

	serve(h, "GET", "/items/1")
	serve(h, "GET", "/items/2")
	serve(h, "GET", "/nowhere/1")
	serve(h, "GET", "/nowhere/2")
	serve(h, "GET", "/boom")
	serve(h, "BREW", "/items/3")
	m.SignIn("success")
	m.SignIn("bad-credentials")
	m.SignIn("success")

	body := serve(h, "GET", "/metrics").Body.String()
	for name, want := range map[string]string{
		"counts requests by route pattern":              `psims_http_requests_total{method="GET",route="GET /items/{id}",status="200"} 2`,
		"times requests by route pattern":               `psims_http_request_duration_seconds_count{method="GET",route="GET /items/{id}"} 2`,
		"labels requests no route matched as unmatched": `psims_http_requests_total{method="GET",route="unmatched",status="404"} 2`,
		"counts a panic as a 500":                       `psims_http_requests_total{method="GET",route="GET /boom",status="500"} 1`,
		"folds unknown methods into other":              `psims_http_requests_total{method="other",route="unmatched",status="405"} 1`,
		"counts sign-ins by outcome":                    `psims_signins_total{outcome="success"} 2`,
		"reports the mail queue depth":                  `psims_mail_queue_depth 7`,
	} {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(body, want+"\n") {
				t.Errorf("metrics lack %s", want)
			}
		})
	}
}

func TestNilMetricsCountNothing(t *testing.T) {
	var m *Metrics
	m.SignIn("success")
	if w := serve(m.Middleware(okHandler()), "GET", "/"); w.Body.String() != "hello" {
		t.Errorf("body %q", w.Body)
	}
	if w := serve(m.Handler(), "GET", "/metrics"); w.Code != http.StatusNotFound {
		t.Errorf("status %d", w.Code)
	}
}

func TestStatusRecorderKeepsTheFirstFinalStatus(t *testing.T) {
	rec := recorderFor(httptest.NewRecorder())
	if recorderFor(rec) != rec {
		t.Error("a recorder was wrapped twice")
	}
	rec.WriteHeader(http.StatusNotFound)
	rec.WriteHeader(http.StatusInternalServerError) // ignored by net/http too
	rec.Write([]byte("abc"))
	if rec.finalStatus() != http.StatusNotFound || rec.bytes != 3 {
		t.Errorf("status %d bytes %d", rec.finalStatus(), rec.bytes)
	}

	early := recorderFor(httptest.NewRecorder())
	early.WriteHeader(http.StatusEarlyHints)
	if early.written() {
		t.Error("a 1xx status counted as the final one")
	}
}
