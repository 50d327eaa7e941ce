package password

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// testParams keep tests quick under the race detector.
var testParams = Params{MemoryKiB: 64, Time: 1, Threads: 1}

func TestHashIsAPHCStringWithTheParameters(t *testing.T) {
	h := NewHasher(Params{MemoryKiB: 19456, Time: 2, Threads: 1}, 1)
	enc, err := h.Hash(context.Background(), "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not start with the PHC prefix", enc)
	}
	parts := strings.Split(enc, "$")
	if len(parts[4]) != 22 || len(parts[5]) != 43 {
		t.Fatalf("salt %q or key %q has the wrong length for 16 and 32 unpadded bytes", parts[4], parts[5])
	}
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 2)
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if again == enc {
		t.Fatal("two hashes of one password are equal; the salt is not random")
	}
	tests := []struct {
		name   string
		plain  string
		wantOK bool
	}{
		{"the right password is accepted", "correct horse battery staple", true},
		{"a wrong password is refused", "correct horse battery stapler", false},
		{"the right password in other case is refused", "Correct horse battery staple", false},
		{"an empty password is refused", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, tt.plain, enc)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if rehash {
				t.Fatal("needsRehash for a hash made with the same parameters")
			}
		})
	}
}

func TestVerifyAsksForARehashWhenParametersChange(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(testParams, 1)
	enc, err := old.Hash(ctx, "a long enough passphrase")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    Params
	}{
		{"more memory", Params{MemoryKiB: 128, Time: 1, Threads: 1}},
		{"more passes", Params{MemoryKiB: 64, Time: 2, Threads: 1}},
		{"more lanes", Params{MemoryKiB: 64, Time: 1, Threads: 2}},
	}
	for _, tt := range tests {
		t.Run("when the new hasher uses "+tt.name, func(t *testing.T) {
			ok, rehash, err := NewHasher(tt.p, 1).Verify(ctx, "a long enough passphrase", enc)
			if err != nil || !ok {
				t.Fatalf("ok = %v, err = %v; the old hash must still verify", ok, err)
			}
			if !rehash {
				t.Fatal("needsRehash = false")
			}
		})
	}
	t.Run("but not for a wrong password", func(t *testing.T) {
		ok, rehash, err := NewHasher(Params{MemoryKiB: 128, Time: 1, Threads: 1}, 1).Verify(ctx, "wrong", enc)
		if err != nil || ok || rehash {
			t.Fatalf("ok = %v, rehash = %v, err = %v", ok, rehash, err)
		}
	})
}

func TestVerifyRefusesMalformedHashes(t *testing.T) {
	h := NewHasher(testParams, 1)
	good, err := h.Hash(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	tests := []struct {
		name, enc string
	}{
		{"a bcrypt hash", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i rather than argon2id", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"an old version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"parameters out of order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{"a zero pass count", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"a negative memory", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key},
		{"too many lanes for a byte", "$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key},
		{"too little memory for the lanes", "$argon2id$v=19$m=8,t=1,p=2$" + salt + "$" + key},
		{"a huge memory cost", "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key},
		{"a huge pass count", "$argon2id$v=19$m=64,t=4294967295,p=1$" + salt + "$" + key},
		{"padded base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"a salt that is not base64", "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + key},
		{"a short salt", "$argon2id$v=19$m=64,t=1,p=1$AAAA$" + key},
		{"an empty key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$"},
		{"a missing field", "$argon2id$v=19$" + salt + "$" + key},
		{"an extra field", good + "$x"},
	}
	for _, tt := range tests {
		t.Run("like "+tt.name, func(t *testing.T) {
			ok, _, err := h.Verify(context.Background(), "x", tt.enc)
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("err = %v, want ErrMalformedHash", err)
			}
			if ok {
				t.Fatal("ok = true")
			}
		})
	}
}

func TestVerifyDummyDoesTheWorkAndHonoursCancellation(t *testing.T) {
	h := NewHasher(testParams, 1)
	var hashes atomic.Int32
	h.inHash = func() { hashes.Add(1) }
	if err := h.VerifyDummy(context.Background(), "someone's guess"); err != nil {
		t.Fatal(err)
	}
	if hashes.Load() != 1 {
		t.Fatalf("VerifyDummy ran %d hashes, want 1", hashes.Load())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.VerifyDummy(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestHashRawMatchesHash(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 1)
	enc, err := h.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	d, err := decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if string(h.HashRaw("pw", d.salt)) != string(d.key) {
		t.Fatal("HashRaw gives a different key from Hash for the same salt")
	}
}

// TestConcurrencyIsBounded holds every hash inside its slot until the test
// releases it, so it can see how many are in at once without timing.
func TestConcurrencyIsBounded(t *testing.T) {
	const limit, callers = 3, 12
	h := NewHasher(testParams, limit)
	var (
		mu      sync.Mutex
		active  int
		maxSeen int
	)
	entered := make(chan struct{}, callers)
	release := make(chan struct{})
	h.inHash = func() {
		mu.Lock()
		active++
		maxSeen = max(maxSeen, active)
		mu.Unlock()
		entered <- struct{}{}
		<-release
		mu.Lock()
		active--
		mu.Unlock()
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := h.Hash(ctx, "pw")
			errs <- err
		})
	}
	for range limit {
		<-entered
	}

	// Every slot is taken: a caller whose context ends while waiting gives up.
	waitCtx, cancel := context.WithCancel(ctx)
	waited := make(chan error, 1)
	go func() {
		_, _, err := h.Verify(waitCtx, "pw", h.dummy)
		waited <- err
	}()
	cancel()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting caller got %v, want context.Canceled", err)
	}

	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if maxSeen != limit {
		t.Fatalf("%d hashes ran at once, want at most (and here exactly) %d", maxSeen, limit)
	}
}

func TestNewHasherDefaultsConcurrencyToTheCPUs(t *testing.T) {
	h := NewHasher(testParams, 0)
	if cap(h.sem) < 1 {
		t.Fatalf("capacity %d", cap(h.sem))
	}
}

func FuzzVerifyEncoded(f *testing.F) {
	h := NewHasher(testParams, 1)
	good, err := h.Hash(context.Background(), "pw")
	if err != nil {
		f.Fatal(err)
	}
	f.Add("pw", good)
	f.Add("pw", "$argon2id$v=19$m=64,t=1,p=1$$")
	f.Add("", "$argon2id$v=19$m=4294967295,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("x", "$$$$$")
	f.Fuzz(func(t *testing.T, plain, enc string) {
		d, err := decode(enc)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("decode error %v does not wrap ErrMalformedHash", err)
			}
			return
		}
		// What decodes re-encodes to the same text: one spelling per hash.
		if again := encode(d.params, d.salt, d.key); again != enc {
			t.Fatalf("decode(%q) re-encodes as %q", enc, again)
		}
		// Verifying is affordable only for small costs; the decoder is what
		// is under test, so skip the expensive ones.
		if d.params.MemoryKiB > 256 || d.params.Time > 2 {
			return
		}
		if _, _, err := h.Verify(context.Background(), plain, enc); err != nil {
			t.Fatalf("Verify of a decodable hash: %v", err)
		}
	})
}

// TestAnEmptyHashIsAnAccountWithNoPassword: an account made through an
// OpenID Connect provider has no password; its empty hash matches nothing,
// not even an empty password, and is not an error. // P11, T3
func TestAnEmptyHashIsAnAccountWithNoPassword(t *testing.T) {
	h := NewHasher(testParams, 1)
	for _, plain := range []string{"", "x", "correct horse battery staple"} {
		ok, rehash, err := h.Verify(context.Background(), plain, "")
		if ok || rehash || err != nil {
			t.Errorf("Verify(%q, no hash) = %v, %v, %v; want false, false, nil", plain, ok, rehash, err)
		}
	}
}
