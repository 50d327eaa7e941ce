// Package password hashes passwords with Argon2id and checks new passwords
// against the password policy (NIST SP 800-63B revision 4).
//
// Hashes are stored as PHC strings, such as
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// so the parameters travel with each hash and can be raised later: Verify
// reports when a stored hash was made with other parameters, and the caller
// rehashes the password while it has it in hand.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Sizes of the salt and the derived key, in bytes.
const (
	SaltLen = 16
	KeyLen  = 32
)

// Limits on the parameters Verify accepts from a stored hash. A damaged or
// planted hash must not make one verification take gigabytes or minutes.
const (
	maxMemoryKiB = 256 * 1024
	maxTime      = 16
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
)

// ErrMalformedHash is returned (wrapped) when a stored hash cannot be read.
var ErrMalformedHash = errors.New("password: malformed hash")

// b64 is the PHC encoding: standard alphabet, no padding.
var b64 = base64.RawStdEncoding

// Params are the Argon2id cost parameters.
type Params struct {
	MemoryKiB uint32 // memory per hash, in KiB
	Time      uint32 // passes over the memory
	Threads   uint8  // lanes computed in parallel
}

// DefaultParams returns the OWASP-recommended minimum for Argon2id
// (19 MiB, 2 passes, 1 lane), which is what production uses.
func DefaultParams() Params {
	return Params{MemoryKiB: 19456, Time: 2, Threads: 1}
}

// Hasher hashes and verifies passwords. At most its concurrency of hashes
// run at once, so the memory they take stays bounded however many sign-ins
// arrive together. It is safe for concurrent use.
type Hasher struct {
	params Params
	sem    chan struct{}
	dummy  string // a real hash of a random password, for VerifyDummy
	// inHash, when set (by tests only), runs while a hash holds a slot.
	inHash func()
}

// NewHasher returns a Hasher using p that runs at most concurrency hashes at
// once (runtime.NumCPU() when concurrency <= 0). It computes one hash to
// have something for VerifyDummy to compare against. Zero fields of p are
// raised to 1.
func NewHasher(p Params, concurrency int) *Hasher {
	if concurrency <= 0 {
		concurrency = runtime.NumCPU()
	}
	if p.MemoryKiB == 0 {
		p.MemoryKiB = 1
	}
	if p.Time == 0 {
		p.Time = 1
	}
	if p.Threads == 0 {
		p.Threads = 1
	}
	// argon2 needs 8 KiB per lane and raises memory quietly; doing it here
	// keeps the parameters written into hashes true.
	if p.MemoryKiB < 8*uint32(p.Threads) {
		p.MemoryKiB = 8 * uint32(p.Threads)
	}
	h := &Hasher{params: p, sem: make(chan struct{}, concurrency)}
	salt := make([]byte, SaltLen)
	rand.Read(salt) // never fails; see crypto/rand
	h.dummy = encode(p, salt, h.HashRaw(rand.Text(), salt))
	return h
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// HashRaw computes the Argon2id key of plain with salt and the Hasher's
// parameters, without waiting for a slot. Benchmarks use it to measure the
// machine's raw hashing rate; everything else uses Hash.
func (h *Hasher) HashRaw(plain string, salt []byte) []byte {
	return argon2.IDKey([]byte(plain), salt, h.params.Time, h.params.MemoryKiB, h.params.Threads, KeyLen)
}

// Hash returns the PHC string of plain with a new random salt. It waits for
// a free slot, returning ctx's error if ctx ends first.
func (h *Hasher) Hash(ctx context.Context, plain string) (string, error) {
	salt := make([]byte, SaltLen)
	rand.Read(salt)
	var key []byte
	err := h.withSlot(ctx, func() {
		key = h.HashRaw(plain, salt)
	})
	if err != nil {
		return "", fmt.Errorf("password: hash: %w", err)
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether plain is the password of encoded, comparing in
// constant time, and whether encoded should be replaced by a new Hash
// because it was made with other parameters. A malformed encoded returns an
// error wrapping ErrMalformedHash; ctx ending while waiting for a slot
// returns ctx's error.
func (h *Hasher) Verify(ctx context.Context, plain, encoded string) (ok bool, needsRehash bool, err error) {
	if encoded == "" {
		// An account without a password (one made through an OpenID
		// Connect provider) matches nothing, after the same work.
		return false, false, h.VerifyDummy(ctx, plain)
	}
	d, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	var key []byte
	err = h.withSlot(ctx, func() {
		key = argon2.IDKey([]byte(plain), d.salt, d.params.Time, d.params.MemoryKiB, d.params.Threads, uint32(len(d.key)))
	})
	if err != nil {
		return false, false, fmt.Errorf("password: verify: %w", err)
	}
	if subtle.ConstantTimeCompare(key, d.key) != 1 {
		return false, false, nil
	}
	rehash := d.params != h.params || len(d.salt) != SaltLen || len(d.key) != KeyLen
	return true, rehash, nil
}

// VerifyDummy does the work of a real verification and throws the answer
// away. Sign-in calls it when no account has the email given, so that an
// unknown address takes as long as a wrong password and timing does not
// reveal who has an account.
func (h *Hasher) VerifyDummy(ctx context.Context, plain string) error {
	_, _, err := h.Verify(ctx, plain, h.dummy)
	return err
}

// withSlot runs fn holding one of the Hasher's slots.
func (h *Hasher) withSlot(ctx context.Context, fn func()) error {
	// A cancelled caller must not take a free slot either.
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-h.sem }()
	if h.inHash != nil {
		h.inHash()
	}
	fn()
	return nil
}

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decoded is a stored hash taken apart.
type decoded struct {
	params Params
	salt   []byte
	key    []byte
}

// decode reads a PHC string written by encode. It accepts only the exact
// shape encode writes, within limits that keep verification affordable.
func decode(s string) (decoded, error) {
	var d decoded
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return d, fmt.Errorf("%w: want 5 fields separated by $", ErrMalformedHash)
	}
	if parts[1] != "argon2id" {
		return d, fmt.Errorf("%w: algorithm %q is not argon2id", ErrMalformedHash, parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return d, fmt.Errorf("%w: version %q is not supported", ErrMalformedHash, parts[2])
	}
	m, t, p, err := decodeParams(parts[3])
	if err != nil {
		return d, err
	}
	if m > maxMemoryKiB || t > maxTime || m < 8*p {
		return d, fmt.Errorf("%w: parameters m=%d,t=%d,p=%d out of range", ErrMalformedHash, m, t, p)
	}
	d.params = Params{MemoryKiB: uint32(m), Time: uint32(t), Threads: uint8(p)}
	if d.salt, err = b64.Strict().DecodeString(parts[4]); err != nil {
		return d, fmt.Errorf("%w: salt: %v", ErrMalformedHash, err)
	}
	if d.key, err = b64.Strict().DecodeString(parts[5]); err != nil {
		return d, fmt.Errorf("%w: key: %v", ErrMalformedHash, err)
	}
	if len(d.salt) < minSaltLen || len(d.salt) > maxSaltLen {
		return d, fmt.Errorf("%w: salt of %d bytes", ErrMalformedHash, len(d.salt))
	}
	if len(d.key) < minKeyLen || len(d.key) > maxKeyLen {
		return d, fmt.Errorf("%w: key of %d bytes", ErrMalformedHash, len(d.key))
	}
	return d, nil
}

// decodeParams reads "m=<n>,t=<n>,p=<n>" in that order.
func decodeParams(s string) (m, t, p uint64, err error) {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return 0, 0, 0, fmt.Errorf("%w: parameters %q", ErrMalformedHash, s)
	}
	out := [3]*uint64{&m, &t, &p}
	bits := [3]int{32, 32, 8}
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(fields[i], name)
		// ParseUint accepts "+1" and leading zeros nowhere we write them;
		// insist on plain digits so each hash has one spelling.
		if !ok || v == "" || (len(v) > 1 && v[0] == '0') || strings.TrimLeft(v, "0123456789") != "" {
			return 0, 0, 0, fmt.Errorf("%w: parameters %q", ErrMalformedHash, s)
		}
		n, perr := strconv.ParseUint(v, 10, bits[i])
		if perr != nil || n == 0 {
			return 0, 0, 0, fmt.Errorf("%w: parameters %q", ErrMalformedHash, s)
		}
		*out[i] = n
	}
	return m, t, p, nil
}
