-- Rate limits shared by every process (internal/ratelimit) and server
-- secrets created on first use (internal/secret).

-- One token bucket per key, kept as the time it will be full again
-- (GCRA's "theoretical arrival time"). The time is an integer of
-- nanoseconds since the Unix epoch, not a TIMESTAMPTZ: the one upsert that
-- decides a request does arithmetic on it, and integers give the same exact
-- answer on both engines, where timestamps have no arithmetic in common.
-- The key is the SHA-256 (or HMAC-SHA-256) of the namespaced key, such as
-- "signin:" and an address, never the raw address.
-- No index on full_at_ns: every allowed request rewrites it
-- (an index would also rule out PostgreSQL's HOT updates),
-- and only the periodic sweep searches by it.
CREATE TABLE rate_limits (
    key_hash   BYTEA PRIMARY KEY,
    full_at_ns BIGINT NOT NULL
);

CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    value      BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
