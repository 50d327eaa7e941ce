package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

func TestReadyzReportsWhetherTheDatabaseAnswers(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, err := New(bareDeps(Deps{Ready: d.Ping}))
		if err != nil {
			t.Fatal(err)
		}
		get := func() int {
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			return w.Code
		}
		if code := get(); code != http.StatusOK {
			t.Fatalf("readyz with the database up: %d", code)
		}
		d.Close()
		if code := get(); code != http.StatusServiceUnavailable {
			t.Fatalf("readyz with the database closed: %d, want 503", code)
		}
	})
}

// TestMetricsAreForLocalScrapersOnly: /metrics answers a client on the
// loopback interface, and 404 to any other address, to a request that came
// through a proxy, and to everyone when the metrics have an address of
// their own (--metrics-addr).
func TestMetricsAreForLocalScrapersOnly(t *testing.T) {
	for _, elsewhere := range []bool{false, true} {
		s, err := New(bareDeps(Deps{MetricsElsewhere: elsewhere}))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			remote, header string
			local          bool
		}{
			{"127.0.0.1:50000", "", true},
			{"[::1]:50000", "", true},
			{"[::ffff:127.0.0.1]:50000", "", true},
			{"192.0.2.10:50000", "", false},
			{"10.0.0.5:50000", "", false},
			{"127.0.0.1:50000", "X-Forwarded-For: 203.0.113.9", false},
			{"127.0.0.1:50000", "Forwarded: for=203.0.113.9", false},
			{"not an address", "", false},
		} {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.RemoteAddr = c.remote
			if name, value, ok := strings.Cut(c.header, ": "); ok {
				req.Header.Set(name, value)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			want := http.StatusNotFound
			if c.local && !elsewhere {
				want = http.StatusOK
			}
			if w.Code != want {
				t.Errorf("metrics elsewhere %v, from %s %s: %d, want %d", elsewhere, c.remote, c.header, w.Code, want)
			}
			if want == http.StatusOK && !strings.Contains(w.Body.String(), "psims_") {
				t.Errorf("metrics from %s: no PSIMS metrics in %q", c.remote, w.Body.String()[:min(200, w.Body.Len())])
			}
		}
	}
}

// bareDeps completes d with what every server needs, for tests of pages
// that use nothing else.
func bareDeps(d Deps) Deps {
	d.Metrics = NewMetrics(prometheus.NewRegistry(), func() float64 { return 0 })
	d.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	d.SignInRate, d.PublicReportRate, d.DraftRetention = 1, 1, time.Hour
	d.FormKey = []byte("a key for tests of pages that sign nothing")
	return d
}
