-- Browsers a person chose to remember after the second step of signing in
-- (issue 17): for 30 days a right password there needs no code. The
-- browser holds a random token in a cookie; only its hash is kept here,
-- with what the session list shows of the browser.
CREATE TABLE remembered_devices (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    ip         TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX remembered_devices_user ON remembered_devices (user_id);
