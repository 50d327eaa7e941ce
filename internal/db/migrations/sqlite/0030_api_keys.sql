-- Organisation API keys (issue 16 item 4, T3): the credentials local risk
-- management systems send to the LFPSE-compatible API on behalf of one
-- organisation.
--
-- Only the SHA-256 of a key is kept (key_hash, hex): a key is 32 random
-- bytes, too many to guess, so a slow password hash would add nothing but
-- cost on every request. prefix is the key's first 12 characters, shown in
-- lists so people can tell keys apart. A key works until expires_at (when
-- set) or revoked_at, judged by the database clock on every request.
-- last_used_at is written at most once a minute. Whoever created or
-- revoked a key is cleared when that person is erased (apikey.ErasePerson);
-- the audit log keeps what was done.
CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY,
    org_ods       TEXT NOT NULL REFERENCES organisations (ods_code),
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    key_hash      TEXT NOT NULL UNIQUE,
    created_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at    TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP,
    revoked_at    TIMESTAMP,
    revoked_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    revoke_reason TEXT NOT NULL DEFAULT '',
    last_used_at  TIMESTAMP
);
CREATE INDEX api_keys_org ON api_keys (org_ods, created_at);
-- For erasing a person (P15): most rows of revoked_by hold NULL.
CREATE INDEX api_keys_created_by ON api_keys (created_by) WHERE created_by IS NOT NULL;
CREATE INDEX api_keys_revoked_by ON api_keys (revoked_by) WHERE revoked_by IS NOT NULL;
