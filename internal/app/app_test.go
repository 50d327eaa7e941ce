package app_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
)

func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	t.Parallel()
	e := dbtest.SQLite(t)
	cfg := config.Defaults()
	cfg.DataDir = filepath.Dir(e.SQLitePath)
	a, err := app.OpenServer(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()

	// A request whose handler is running: it waits for the rest of its body.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "email=a%40nhs.net&password=x"
	if _, err := io.WriteString(conn, "POST /sign-in HTTP/1.1\r\nHost: psims\r\nConnection: close\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\nemail="); err != nil {
		t.Fatal(err)
	}
	inFlight := regexp.MustCompile(`(?m)^psims_http_requests_in_flight (\d+)`)
	waitUntil(t, func() bool {
		// The scrape counts itself, so 2 means the sign-in is being served.
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		m := inFlight.FindSubmatch(b)
		return m != nil && string(m[1]) == "2"
	})

	stop()
	waitUntil(t, func() bool {
		// Shutdown closes the listener first.
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case err := <-done:
		t.Fatalf("serve returned (%v) with a request still in flight", err)
	default:
	}

	if _, err := io.WriteString(conn, strings.TrimPrefix(body, "email=")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the request in flight got no answer: %v", err)
	}
	resp.Body.Close()
	// The form has no token, so the answer is the "form expired" page: what
	// matters is that the request in flight was answered.
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d", resp.StatusCode)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return after the last request finished")
	}
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMetricsCanHaveAnAddressOfTheirOwn: with --metrics-addr, /metrics is
// served there and the service's own address answers it with 404.
func TestMetricsCanHaveAnAddressOfTheirOwn(t *testing.T) {
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := free.Addr().String()
	free.Close()
	site := apptest.Start(t, dbtest.SQLite(t), func(c *config.Config) { c.MetricsAddr = metricsAddr })
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var code int
	var body string
	waitUntil(t, func() bool {
		resp, err := http.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	if code, body = get("http://" + metricsAddr + "/metrics"); code != http.StatusOK || !strings.Contains(body, "psims_http_requests_in_flight") {
		t.Fatalf("metrics on their own address: %d", code)
	}
	if code, _ = get(site.URL + "/metrics"); code != http.StatusNotFound {
		t.Fatalf("metrics on the service's address: %d, want 404", code)
	}
}
