-- Organisations, accounts, sessions, one-time tokens, the audit log and the
-- mail outbox. Times are UTC, written by the application.

CREATE TABLE organisations (
    ods_code   TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    org_type   TEXT NOT NULL DEFAULT 'other',
    parent_ods TEXT,
    active     BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX organisations_name ON organisations (name);

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    email               TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    job_role            TEXT NOT NULL,
    org_ods             TEXT NOT NULL REFERENCES organisations (ods_code),
    role                TEXT NOT NULL DEFAULT 'reporter',
    status              TEXT NOT NULL,
    password_hash       TEXT NOT NULL,
    email_verified_at   TIMESTAMP,
    approved_at         TIMESTAMP,
    failed_attempts     INTEGER NOT NULL DEFAULT 0,
    failed_window_start TIMESTAMP,
    locked_until        TIMESTAMP,
    last_sign_in_at     TIMESTAMP,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
CREATE INDEX users_org ON users (org_ods, status);

CREATE TABLE user_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    ip           TEXT NOT NULL,
    user_agent   TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            TIMESTAMP NOT NULL,
    actor_user_id INTEGER,
    action        TEXT NOT NULL,
    subject_type  TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    details       TEXT NOT NULL,
    ip            TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    to_addr     TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body_text   TEXT NOT NULL,
    body_html   TEXT NOT NULL,
    secret      TEXT,
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    sent_at     TIMESTAMP
);
CREATE INDEX outbox_status ON outbox (status);
CREATE INDEX outbox_to ON outbox (to_addr);
