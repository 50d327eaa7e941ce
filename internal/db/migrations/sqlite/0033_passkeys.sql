-- Passkeys (issue 17, T3): WebAuthn credentials a person registered, for
-- signing in without a password or as the second step. credential is the
-- public key and its counters as the WebAuthn library keeps them (JSON);
-- nothing secret is stored.
CREATE TABLE passkeys (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id BLOB NOT NULL UNIQUE,
    credential    TEXT NOT NULL,
    name          TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- A WebAuthn ceremony between its two requests: the challenge and what the
-- answer must match, found by the hash of a random token the page posts
-- back, used once, and gone after five minutes. user_id is NULL for
-- signing in with a passkey, when nobody is known yet.
CREATE TABLE webauthn_ceremonies (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    data       TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
