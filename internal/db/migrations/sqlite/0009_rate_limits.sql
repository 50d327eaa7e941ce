-- Rate limits shared by every process (internal/ratelimit) and server
-- secrets created on first use (internal/secret).

-- One token bucket per key, kept as the time it will be full again
-- (GCRA's "theoretical arrival time"). The time is an integer of
-- nanoseconds since the Unix epoch, not a TIMESTAMP: the one upsert that
-- decides a request does arithmetic on it, and integers give the same exact
-- answer on both engines, where timestamps have no arithmetic in common.
-- The key is the SHA-256 (or HMAC-SHA-256) of the namespaced key, such as
-- "signin:" and an address, never the raw address.
-- No index on full_at_ns: every allowed request rewrites it,
-- and only the periodic sweep searches by it.
CREATE TABLE rate_limits (
    key_hash   BLOB PRIMARY KEY,
    full_at_ns INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL
);
