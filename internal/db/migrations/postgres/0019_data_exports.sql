-- Personal data exports (issue 13 items 1 and 4, P15 and P18): a person's
-- own "Download my data" (kind 'self') and a national admin's legal
-- disclosure about a named user (kind 'disclosure', with its legal basis
-- and reference). content is the document as gzip-compressed JSON; it is
-- emptied (and the status set to 'expired') once expires_at has passed.
-- public_id is a random name for the export used in links; only the owner
-- (or, for a disclosure, a national admin) may open it, signed in.
-- One self export at a time may be waiting to be built.
CREATE TABLE data_exports (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id     TEXT NOT NULL UNIQUE,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    requested_by  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('self', 'disclosure')),
    format        TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'failed', 'expired')),
    legal_basis   TEXT NOT NULL DEFAULT '',
    reference     TEXT NOT NULL DEFAULT '',
    content       BYTEA,
    size          BIGINT NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL,
    ready_at      TIMESTAMPTZ,
    expires_at    TIMESTAMPTZ NOT NULL,
    downloaded_at TIMESTAMPTZ
);
CREATE INDEX data_exports_user ON data_exports (user_id, id);
CREATE INDEX data_exports_expires ON data_exports (status, expires_at);
CREATE UNIQUE INDEX data_exports_one_pending ON data_exports (user_id) WHERE kind = 'self' AND status = 'pending';
