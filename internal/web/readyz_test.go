package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

func TestReadyzReportsWhetherTheDatabaseAnswers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, err := New(Deps{Ready: d.Ping, Metrics: NewMetrics(prometheus.NewRegistry(), func() float64 { return 0 }),
			Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
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
