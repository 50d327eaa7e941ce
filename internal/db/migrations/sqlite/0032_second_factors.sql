-- Second factors (issue 17, T3). A person's authenticator app: the shared
-- secret sealed with the server's key (it must be read back to check
-- codes, so it cannot be hashed), when the first code confirmed it (NULL
-- while being set up), and the last time step a code was accepted for,
-- so that no code is accepted twice.
CREATE TABLE totp_factors (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed       BLOB NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    last_step    INTEGER NOT NULL DEFAULT 0
);

-- Single-use recovery codes, stored as hashes only.
CREATE TABLE recovery_codes (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   TIMESTAMP,
    PRIMARY KEY (user_id, code_hash)
);

-- How a session passed the second step of signing in: '' until it has
-- (or when the account needed none at sign-in), otherwise 'totp' or
-- 'recovery'.
ALTER TABLE sessions ADD COLUMN second_factor TEXT NOT NULL DEFAULT '';
