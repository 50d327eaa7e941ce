-- Versioned documents (terms of use, privacy policy, recording statement),
-- the acceptance ledger, consent preferences with their history, and the
-- progress of change notices. Published documents and ledger rows never
-- change: triggers refuse updates, whatever the application does.

CREATE FUNCTION psims_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows cannot be changed', TG_TABLE_NAME;
END
$$;

CREATE TABLE documents (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT NOT NULL,
    version      INTEGER NOT NULL,
    body         TEXT NOT NULL,
    html         TEXT NOT NULL,
    summary      TEXT NOT NULL,
    material     BOOLEAN NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    published_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    UNIQUE (kind, version)
);
CREATE INDEX documents_material ON documents (kind, material, version);
CREATE TRIGGER documents_immutable BEFORE UPDATE OF kind, version, body, html, summary, material, published_at ON documents
    FOR EACH ROW EXECUTE FUNCTION psims_refuse_change();
CREATE TRIGGER documents_kept BEFORE DELETE ON documents
    FOR EACH ROW EXECUTE FUNCTION psims_refuse_change();

CREATE TABLE acceptances (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    accepted_at TIMESTAMPTZ NOT NULL,
    ip          TEXT NOT NULL,
    user_agent  TEXT NOT NULL,
    FOREIGN KEY (kind, version) REFERENCES documents (kind, version)
);
CREATE INDEX acceptances_user ON acceptances (user_id, kind, version);
CREATE INDEX acceptances_version ON acceptances (kind, version, user_id);
CREATE TRIGGER acceptances_append_only BEFORE UPDATE ON acceptances
    FOR EACH ROW EXECUTE FUNCTION psims_refuse_change();

CREATE TABLE consents (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    granted    BOOLEAN NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, purpose)
);
CREATE INDEX consents_purpose ON consents (purpose, granted, user_id);

CREATE TABLE consent_history (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose         TEXT NOT NULL,
    granted         BOOLEAN NOT NULL,
    privacy_version INTEGER NOT NULL,
    changed_at      TIMESTAMPTZ NOT NULL,
    ip              TEXT NOT NULL
);
CREATE INDEX consent_history_user ON consent_history (user_id, id);
CREATE TRIGGER consent_history_append_only BEFORE UPDATE ON consent_history
    FOR EACH ROW EXECUTE FUNCTION psims_refuse_change();

CREATE TABLE document_notices (
    document_id  BIGINT PRIMARY KEY REFERENCES documents (id),
    last_user_id BIGINT NOT NULL DEFAULT 0,
    queued       INTEGER NOT NULL DEFAULT 0,
    finished_at  TIMESTAMPTZ
);
