package secret_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/secret"
)

func TestGet(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := secret.New(d)
		a, err := s.Get(ctx, "form")
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != secret.Size || bytes.Equal(a, make([]byte, secret.Size)) {
			t.Fatalf("secret %x: want %d random bytes", a, secret.Size)
		}
		again, err := secret.New(d).Get(ctx, "form")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, again) {
			t.Fatalf("second Get: %x, first %x", again, a)
		}
		other, err := s.Get(ctx, "ratelimit")
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(a, other) {
			t.Fatal("two names share a value")
		}
		if _, err := s.Get(ctx, ""); err == nil {
			t.Fatal("empty name: no error")
		}
	})
}

func TestGetRefusesBadValue(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.ExecContext(ctx, `INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3)`,
			"short", []byte("tiny"), d.Now()); err != nil {
			t.Fatal(err)
		}
		if v, err := secret.New(d).Get(ctx, "short"); err == nil {
			t.Fatalf("short value %x: no error", v)
		}
	})
}

// TestGetRace has two handles, as two processes starting together would,
// create the same secret at once: all must get one value.
func TestGetRace(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			stores := []*secret.Store{secret.New(dbtest.Open(t, e)), secret.New(dbtest.Open(t, e))}
			const goroutines = 20
			values := make([][]byte, goroutines)
			errs := make([]error, goroutines)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					<-start
					values[g], errs[g] = stores[g%2].Get(context.Background(), "csrf")
				})
			}
			close(start)
			wg.Wait()
			for g := range goroutines {
				if errs[g] != nil {
					t.Fatal(errs[g])
				}
				if !bytes.Equal(values[g], values[0]) {
					t.Fatalf("goroutine %d got %x, goroutine 0 %x", g, values[g], values[0])
				}
			}
		})
	}
}

func TestSignVerify(t *testing.T) {
	key := bytes.Repeat([]byte{7}, secret.Size)
	mac := secret.Sign(key, "report-form", "2026-03-02T09:00:00Z")
	if strings.ContainsAny(mac, "+/=") || len(mac) != 43 {
		t.Fatalf("mac %q: want 43 characters of unpadded base64url", mac)
	}
	if !secret.Verify(key, mac, "report-form", "2026-03-02T09:00:00Z") {
		t.Fatal("own signature refused")
	}
	otherKey := bytes.Repeat([]byte{8}, secret.Size)
	for name, ok := range map[string]bool{
		"other value":   secret.Verify(key, mac, "report-form", "2026-03-02T09:00:01Z"),
		"other purpose": secret.Verify(key, mac, "reset-form", "2026-03-02T09:00:00Z"),
		"parts moved":   secret.Verify(key, mac, "report-form2026-03-02T09:00:00Z"),
		"extra part":    secret.Verify(key, mac, "report-form", "2026-03-02T09:00:00Z", ""),
		"other key":     secret.Verify(otherKey, mac, "report-form", "2026-03-02T09:00:00Z"),
		"empty key":     secret.Verify(nil, mac, "report-form", "2026-03-02T09:00:00Z"),
		"empty mac":     secret.Verify(key, "", "report-form", "2026-03-02T09:00:00Z"),
		"truncated":     secret.Verify(key, mac[:42], "report-form", "2026-03-02T09:00:00Z"),
		"padded":        secret.Verify(key, mac+"=", "report-form", "2026-03-02T09:00:00Z"),
	} {
		if ok {
			t.Errorf("%s: verified", name)
		}
	}
	// Boundaries between parts count: "a","bc" is not "ab","c".
	if secret.Sign(key, "a", "bc") == secret.Sign(key, "ab", "c") {
		t.Fatal(`"a","bc" and "ab","c" sign the same`)
	}
	if secret.Sign(key) == secret.Sign(key, "") {
		t.Fatal(`no parts and one empty part sign the same`)
	}
}

func TestSignEmptyKeyPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	secret.Sign(nil, "x")
}
