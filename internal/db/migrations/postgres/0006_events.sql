-- Patient safety events: the current state of each (for lists and
-- filters), every version of its answers (never changed), the codes that
-- lists filter on, and drafts. Answers are JSON keyed by taxonomy element.

CREATE TABLE events (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reference          TEXT NOT NULL UNIQUE,
    event_type         TEXT NOT NULL,
    org_ods            TEXT NOT NULL REFERENCES organisations (ods_code),
    source             TEXT NOT NULL,
    reporter_id        BIGINT REFERENCES users (id) ON DELETE SET NULL,
    occurred_from      TIMESTAMPTZ NOT NULL,
    occurred_to        TIMESTAMPTZ NOT NULL,
    submitted_at       TIMESTAMPTZ NOT NULL,
    version            INTEGER NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    physical_harm      TEXT NOT NULL DEFAULT '',
    psychological_harm TEXT NOT NULL DEFAULT '',
    service_type       TEXT NOT NULL DEFAULT '',
    sharing_opt_out    BOOLEAN NOT NULL,
    statement_version  INTEGER NOT NULL
);
CREATE INDEX events_org_submitted ON events (org_ods, submitted_at, id);
CREATE INDEX events_org_occurred ON events (org_ods, occurred_from, id);
CREATE INDEX events_reporter ON events (reporter_id, submitted_at, id);
CREATE INDEX events_submitted ON events (submitted_at, id);

CREATE TABLE event_versions (
    event_id   BIGINT NOT NULL REFERENCES events (id),
    version    INTEGER NOT NULL,
    author_id  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL,
    reason     TEXT NOT NULL,
    answers    TEXT NOT NULL,
    PRIMARY KEY (event_id, version)
);
CREATE TRIGGER event_versions_immutable BEFORE UPDATE OF event_id, version, created_at, reason, answers ON event_versions
    FOR EACH ROW EXECUTE FUNCTION psims_refuse_change();
CREATE TRIGGER event_versions_kept BEFORE DELETE ON event_versions
    FOR EACH ROW EXECUTE FUNCTION psims_refuse_change();

CREATE TABLE event_codes (
    event_id BIGINT NOT NULL REFERENCES events (id),
    element  TEXT NOT NULL,
    code     TEXT NOT NULL,
    PRIMARY KEY (event_id, element, code)
);
CREATE INDEX event_codes_lookup ON event_codes (element, code, event_id);

CREATE TABLE drafts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_type  TEXT NOT NULL,
    answers     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    reminded_at TIMESTAMPTZ
);
CREATE INDEX drafts_user ON drafts (user_id, updated_at);
CREATE INDEX drafts_updated ON drafts (updated_at);
