-- Usage events (issue 12, P2 and P4): one row for each page a signed-in
-- person is served, or document they open. The route is the pattern that
-- served it ("GET /events/{ref}"), never the address with its ids and
-- query; the browser is its family and major version, never the whole
-- User-Agent; the session is a hash. The address is whole until its
-- retention period ends, then cut to its network. There is no foreign key
-- to users: a batch written just after someone is deleted must not fail
-- for everyone else in it, so erasing a person (issue 13) deletes their
-- usage events itself.
CREATE TABLE usage_events (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            TIMESTAMPTZ NOT NULL,
    kind          TEXT NOT NULL,     -- 'page' or 'document'
    route         TEXT NOT NULL,
    status        INTEGER NOT NULL,  -- the HTTP status answered
    user_id       BIGINT NOT NULL,
    org_ods       TEXT,              -- the person's organisation then, if any
    session_hash  TEXT NOT NULL,
    ip            TEXT NOT NULL,
    browser       TEXT NOT NULL,
    browser_major INTEGER NOT NULL
);
CREATE INDEX usage_events_at ON usage_events (at);
CREATE INDEX usage_events_org_at ON usage_events (org_ods, at);
CREATE INDEX usage_events_user_at ON usage_events (user_id, at);
