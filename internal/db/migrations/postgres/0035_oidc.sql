-- Sign-in through OpenID Connect providers (issue 17, P11).

-- A person's identity at a provider, linked to their account: found by the
-- provider's issuer and subject, never by email address. provider is the
-- configured name, kept so the account page can say which it is.
CREATE TABLE oidc_identities (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider     TEXT NOT NULL,
    issuer       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    UNIQUE (issuer, subject)
);
CREATE INDEX oidc_identities_user ON oidc_identities (user_id);

-- A sign-in sent to a provider and not yet back: found by the hash of its
-- state, which the browser also holds in a cookie; used once, gone after
-- ten minutes. link_user_id is the account being linked from its own
-- page, or 0 for signing in.
CREATE TABLE oidc_logins (
    state_hash   TEXT PRIMARY KEY,
    provider     TEXT NOT NULL,
    nonce        TEXT NOT NULL,
    verifier     TEXT NOT NULL,
    next         TEXT NOT NULL,
    link_user_id BIGINT NOT NULL DEFAULT 0,
    expires_at   TIMESTAMPTZ NOT NULL
);

-- An identity a provider vouched for that no account is linked to yet,
-- held for half an hour while its person signs in to link it or registers:
-- found by the hash of a token in a cookie. email is set only when the
-- provider verified it; org_codes are the organisations a trusted provider
-- gave (comma-separated).
CREATE TABLE oidc_held_identities (
    token_hash TEXT PRIMARY KEY,
    provider   TEXT NOT NULL,
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    email      TEXT NOT NULL,
    name       TEXT NOT NULL,
    org_codes  TEXT NOT NULL,
    mfa        BOOLEAN NOT NULL,
    sid        TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- Which provider sign-in a session came from, so the provider's
-- back-channel logout can end it: its issuer and session ID (sid).
ALTER TABLE sessions ADD COLUMN oidc_issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN oidc_sid TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_oidc ON sessions (oidc_issuer, oidc_sid);
