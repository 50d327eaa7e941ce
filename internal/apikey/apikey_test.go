package apikey

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// fixture is a database with two organisations, an admin of RM1 and a
// clock tests move.
type fixture struct {
	db    *db.DB
	svc   *Service
	admin int64
	clock time.Time
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: d, svc: New(d), clock: time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)}
	d.SetClock(func() time.Time { return f.clock })
	for _, o := range []string{"RM1", "X26"} {
		if _, err := d.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ($1, $1, $2, $2)`, o, f.clock); err != nil {
			t.Fatal(err)
		}
	}
	err := d.WriteRowContext(ctx, `INSERT INTO users (email, name, job_role, org_ods, role, status, password_hash, created_at, updated_at)
		VALUES ('admin@nhs.net', 'Admin', 'Admin', 'RM1', 'org-admin', 'active', 'x', $1, $1) RETURNING id`, f.clock).Scan(&f.admin)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var client = Client{IP: "192.0.2.7"}

// create makes a key of org that never expires.
func (f *fixture) create(t *testing.T, org, name string) (Key, string) {
	t.Helper()
	k, secret, err := f.svc.Create(context.Background(), NewKey{Org: org, Name: name, CreatedBy: f.admin}, client)
	if err != nil {
		t.Fatal(err)
	}
	return k, secret
}

func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	var fields apperr.Fields
	if !errors.As(err, &fields) {
		t.Fatalf("want field errors, got %v", err)
	}
	m := map[string]string{}
	for _, f := range fields {
		m[f.Field] = f.Message
	}
	return m
}

func TestCreatedKeysAreListedNewestFirstAndFoundByID(t *testing.T) { // T3
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		first, secret := f.create(t, "rm1", "Datix")
		if !wellFormed(secret) || len(secret) != 49 || !strings.HasPrefix(secret, "psims_") {
			t.Fatalf("secret %q is not psims_ and 43 characters of base64url", secret)
		}
		if first.Org != "RM1" || first.Name != "Datix" || first.Prefix != secret[:12] || first.CreatedBy != f.admin ||
			!first.CreatedAt.Equal(f.clock) || !first.ExpiresAt.IsZero() || first.Status(f.clock) != Active {
			t.Fatalf("created %+v", first)
		}
		f.clock = f.clock.Add(time.Second)
		second, _ := f.create(t, "RM1", "Ulysses")
		f.clock = f.clock.Add(time.Second)
		other, _ := f.create(t, "X26", "Other trust's system")

		list, err := f.svc.List(ctx, "RM1")
		if err != nil || len(list) != 2 || list[0].ID != second.ID || list[1].ID != first.ID {
			t.Fatalf("RM1's list = %+v, %v", list, err)
		}
		all, err := f.svc.List(ctx, "")
		if err != nil || len(all) != 3 || all[0].ID != other.ID {
			t.Fatalf("every organisation's list = %+v, %v", all, err)
		}
		got, err := f.svc.Get(ctx, first.ID)
		if err != nil || got != first {
			t.Fatalf("Get = %+v, %v; want %+v", got, err, first)
		}
		if _, err := f.svc.Get(ctx, 9999); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("Get of no key: %v, want NotFound", err)
		}
	})
}

// T12: a key's name is free text, so the identifier guard reads it.
func TestCreateAndCheckRefuseBadNamesExpiriesAndOrganisations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		for _, c := range []struct {
			name  string
			nk    NewKey
			field string
		}{
			{"an empty name", NewKey{Org: "RM1", Name: "  "}, "name"},
			{"a name too long", NewKey{Org: "RM1", Name: strings.Repeat("a", MaxName+1)}, "name"},
			{"a name with a control character", NewKey{Org: "RM1", Name: "Datix\x00"}, "name"},
			{"a name with an NHS number", NewKey{Org: "RM1", Name: "Key for 943 476 5919"}, "name"},
			{"an expiry in the past", NewKey{Org: "RM1", Name: "Datix", ExpiresAt: f.clock.Add(-time.Hour)}, "expires"},
			{"an expiry now", NewKey{Org: "RM1", Name: "Datix", ExpiresAt: f.clock}, "expires"},
			{"an expiry over 2 years ahead", NewKey{Org: "RM1", Name: "Datix", ExpiresAt: f.clock.AddDate(2, 0, 1)}, "expires"},
			{"an unknown organisation", NewKey{Org: "ZZZ99", Name: "Datix"}, "org"},
			{"no organisation", NewKey{Name: "Datix"}, "org"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, secret, err := f.svc.Create(ctx, c.nk, client)
				if msg := fieldsOf(t, err)[c.field]; msg == "" || secret != "" {
					t.Fatalf("error %v, secret %q; want a problem with %s", err, secret, c.field)
				}
				if msg := fieldsOf(t, f.svc.Check(ctx, c.nk))[c.field]; msg == "" {
					t.Fatalf("Check finds no problem with %s", c.field)
				}
			})
		}
		if _, _, err := f.svc.Create(ctx, NewKey{Org: "RM1", Name: strings.Repeat("é", MaxName), ExpiresAt: f.clock.AddDate(2, 0, 0)}, client); err != nil {
			t.Fatalf("a name of %d characters expiring in exactly 2 years: %v", MaxName, err)
		}
		if err := f.svc.Check(ctx, NewKey{Org: "RM1", Name: "Checked only"}); err != nil {
			t.Fatalf("Check of a good key: %v", err)
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_keys`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d keys stored (%v), want 1", n, err)
		}
	})
}

// T3: a key works while it is active and stops the moment it is revoked
// or expires, by the database's clock; anything else is refused the same
// way.
func TestAuthenticateAcceptsOnlyActiveKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		k, secret := f.create(t, "RM1", "Datix")
		got, err := f.svc.Authenticate(ctx, secret)
		if err != nil || got.ID != k.ID || got.Org != "RM1" {
			t.Fatalf("a fresh key: %+v, %v", got, err)
		}
		if err := f.svc.Revoke(ctx, k.ID, "", f.admin, "Replaced", client); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, secret); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("a revoked key on the next request: %v, want Unauthorized", err)
		}

		_, trial, err := f.svc.Create(ctx, NewKey{Org: "RM1", Name: "Trial", ExpiresAt: f.clock.Add(24 * time.Hour)}, client)
		if err != nil {
			t.Fatal(err)
		}
		f.clock = f.clock.Add(24*time.Hour - time.Microsecond)
		if _, err := f.svc.Authenticate(ctx, trial); err != nil {
			t.Fatalf("a key just before it expires: %v", err)
		}
		f.clock = f.clock.Add(time.Microsecond)
		if _, err := f.svc.Authenticate(ctx, trial); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("a key the moment it expires: %v, want Unauthorized", err)
		}

		_, good := f.create(t, "RM1", "Good")
		unknown := KeyPrefix + strings.Repeat("A", 43)
		for name, s := range map[string]string{
			"empty": "", "the prefix alone": KeyPrefix, "a key of the right shape that does not exist": unknown,
			"a key one character short": good[:len(good)-1], "a key with a character added": good + "A",
			"a key with the wrong prefix": "psimz_" + good[6:], "a key with non-ASCII": good[:len(good)-2] + "é",
			"a key with a space": " " + good[1:], "a key in upper case": strings.ToUpper(good),
		} {
			if _, err := f.svc.Authenticate(ctx, s); apperr.CodeOf(err) != apperr.Unauthorized || apperr.MessageOf(err) != apperr.MessageOf(refused()) {
				t.Errorf("%s: %v, want the one Unauthorized refusal", name, err)
			}
		}
	})
}

// T3: the database holds the key's SHA-256 and its first 12 characters,
// never the rest of it.
func TestTheSecretIsNotStored(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		k, secret := f.create(t, "RM1", "Datix")
		rows, err := d.QueryContext(ctx, `SELECT * FROM api_keys WHERE id = $1`, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		if !rows.Next() {
			t.Fatal("no row")
		}
		values := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range values {
			ptrs[i] = &values[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(secret))
		want := hex.EncodeToString(sum[:])
		// Anything longer than the prefix, such as its first 13
		// characters or the part after psims_, is too much.
		tooMuch := []string{secret, secret[:PrefixLength+1], secret[len(KeyPrefix):], secret[PrefixLength:]}
		for i, v := range values {
			text := fmt.Sprint(v)
			if b, ok := v.([]byte); ok {
				text = string(b)
			}
			if cols[i] == "key_hash" && text != want {
				t.Errorf("key_hash = %q, want the SHA-256 of the key %q", text, want)
			}
			for _, s := range tooMuch {
				if strings.Contains(text, s) {
					t.Errorf("column %s holds %q of the key", cols[i], s)
				}
			}
		}
	})
}

func TestLastUseIsWrittenAtMostOnceAMinute(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		f.clock = f.clock.Add(24 * time.Hour) // a day after the creator last did anything
		k, secret := f.create(t, "RM1", "Datix")
		lastUsed := func() time.Time {
			t.Helper()
			got, err := f.svc.Get(ctx, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.LastUsedAt
		}
		if !lastUsed().IsZero() {
			t.Fatal("a new key has been used")
		}
		first := f.clock
		if got, err := f.svc.Authenticate(ctx, secret); err != nil || !got.LastUsedAt.Equal(first) {
			t.Fatalf("first use: %+v, %v", got, err)
		}
		if !lastUsed().Equal(first) {
			t.Fatalf("last used %v, want %v", lastUsed(), first)
		}
		f.clock = first.Add(59 * time.Second)
		if _, err := f.svc.Authenticate(ctx, secret); err != nil {
			t.Fatal(err)
		}
		if !lastUsed().Equal(first) {
			t.Fatalf("a use within a minute rewrote last used: %v", lastUsed())
		}
		f.clock = first.Add(time.Minute)
		if _, err := f.svc.Authenticate(ctx, secret); err != nil {
			t.Fatal(err)
		}
		if !lastUsed().Equal(f.clock) {
			t.Fatalf("a use a minute later: last used %v, want %v", lastUsed(), f.clock)
		}
		// Using a key is nobody's activity, not even its creator's.
		var active int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE last_active_at > $1`, first.Add(-time.Hour)).Scan(&active); err != nil || active != 0 {
			t.Fatalf("%d users active after key use (%v)", active, err)
		}
	})
}

func TestRevokeIsScopedToTheOrganisationAndHappensOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		k, _ := f.create(t, "X26", "Other trust's system")
		if err := f.svc.Revoke(ctx, k.ID, "RM1", f.admin, "", client); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("revoking another organisation's key: %v, want NotFound", err)
		}
		if err := f.svc.Revoke(ctx, 9999, "", f.admin, "", client); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("revoking no key: %v, want NotFound", err)
		}
		if err := f.svc.Revoke(ctx, k.ID, "X26", f.admin, "Ann Smith's NHS number 943 476 5919 leaked", client); fieldsOf(t, err)["reason"] == "" {
			t.Fatalf("a reason with an identifier: %v", err)
		}
		if got, _ := f.svc.Get(ctx, k.ID); got.Status(f.clock) != Active {
			t.Fatal("a refused revocation revoked the key")
		}
		f.clock = f.clock.Add(time.Hour)
		if err := f.svc.Revoke(ctx, k.ID, "X26", f.admin, "System replaced", client); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Get(ctx, k.ID)
		if err != nil || got.Status(f.clock) != Revoked || !got.RevokedAt.Equal(f.clock) || got.RevokedBy != f.admin || got.RevokeReason != "System replaced" {
			t.Fatalf("revoked key %+v, %v", got, err)
		}
		if err := f.svc.Revoke(ctx, k.ID, "", f.admin, "", client); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("revoking twice: %v, want Conflict", err)
		}
	})
}

// T3: creating and revoking are audited, with what was done and never
// the key or its hash.
func TestCreateAndRevokeAreAuditedWithoutTheSecret(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		k, secret, err := f.svc.Create(ctx, NewKey{Org: "RM1", Name: "Datix", ExpiresAt: f.clock.AddDate(1, 0, 0), CreatedBy: f.admin}, client)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Revoke(ctx, k.ID, "RM1", f.admin, "Replaced", client); err != nil {
			t.Fatal(err)
		}
		rows, err := audit.List(ctx, d, "api_key", fmt.Sprint(k.ID), 10)
		if err != nil || len(rows) != 2 {
			t.Fatalf("audit rows %+v, %v", rows, err)
		}
		byAction := map[string]audit.Row{}
		for _, r := range rows {
			byAction[r.Action] = r
		}
		c := byAction["apikey.create"]
		if c.ActorID != f.admin || c.IP != client.IP || c.Details["org"] != "RM1" || c.Details["name"] != "Datix" ||
			c.Details["prefix"] != k.Prefix || c.Details["expires"] != "2027-06-15T10:00:00Z" {
			t.Errorf("create entry %+v", c)
		}
		if r := byAction["apikey.revoke"]; r.ActorID != f.admin || r.Details["reason"] != "Replaced" {
			t.Errorf("revoke entry %+v", r)
		}
		sum := sha256.Sum256([]byte(secret))
		for _, r := range rows {
			text := fmt.Sprint(r.Details)
			if strings.Contains(text, secret[PrefixLength:]) || strings.Contains(text, hex.EncodeToString(sum[:])) {
				t.Errorf("%s entry holds the key or its hash: %s", r.Action, text)
			}
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE details LIKE $1`, "%"+secret[PrefixLength:]+"%").Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d audit rows hold the key (%v)", n, err)
		}
	})
}

// P15: erasing the person who created or revoked a key clears them from
// it; the key stays the organisation's.
func TestErasePersonClearsWhoCreatedAndRevoked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		k, secret := f.create(t, "RM1", "Datix")
		kept, _ := f.create(t, "RM1", "Kept")
		if err := f.svc.Revoke(ctx, k.ID, "", f.admin, "", client); err != nil {
			t.Fatal(err)
		}
		var counts map[string]int64
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			var err error
			counts, err = ErasePerson(ctx, tx, f.admin)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if counts["api_keys.created_by"] != 2 || counts["api_keys.revoked_by"] != 1 {
			t.Fatalf("counts %v", counts)
		}
		for _, id := range []int64{k.ID, kept.ID} {
			got, err := f.svc.Get(ctx, id)
			if err != nil || got.CreatedBy != 0 || got.RevokedBy != 0 {
				t.Fatalf("key %d after erasure: %+v, %v", id, got, err)
			}
		}
		if _, err := f.svc.Authenticate(ctx, secret); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatal("erasure brought a revoked key back")
		}
	})
}
