-- The guidance library (issue 12): documents national admins upload for
-- people to read, each with every version ever uploaded. The files
-- themselves are kept here, not on a disk of one machine, so that every
-- psims serve process can serve them. A new version never replaces an old
-- one: versions are neither changed nor deleted (triggers refuse both).
CREATE TABLE library_documents (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title      TEXT NOT NULL,
    summary    TEXT NOT NULL,
    -- everyone: every signed-in person may read it; otherwise only those
    -- whose role is listed in library_document_roles.
    everyone   BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    -- updated_at is the last change: a new version or new details.
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX library_documents_updated ON library_documents (updated_at, id);

CREATE TABLE library_document_roles (
    document_id BIGINT NOT NULL REFERENCES library_documents (id),
    role        TEXT NOT NULL,
    PRIMARY KEY (document_id, role)
);

CREATE TABLE library_versions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id BIGINT NOT NULL REFERENCES library_documents (id),
    version     INTEGER NOT NULL,  -- 1, 2, ... within the document
    label       TEXT NOT NULL,     -- the uploader's own name for it, such as "2.1"; may be empty
    file_name   TEXT NOT NULL,
    file_type   TEXT NOT NULL,     -- as found in the content: pdf, docx, xlsx, html or markdown
    media_type  TEXT NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,     -- hex
    content     BYTEA NOT NULL,
    uploaded_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    uploaded_at TIMESTAMPTZ NOT NULL,
    UNIQUE (document_id, version)
);
CREATE TRIGGER library_versions_immutable BEFORE UPDATE OF document_id, version, label, file_name, file_type,
    media_type, size, sha256, content, uploaded_at ON library_versions
    FOR EACH ROW EXECUTE FUNCTION psims_refuse_change();
CREATE TRIGGER library_versions_kept BEFORE DELETE ON library_versions
    FOR EACH ROW EXECUTE FUNCTION psims_refuse_change();

-- A usage event of kind 'document' names the document opened. No foreign
-- key, as for user_id: a batch of events must never fail as a whole.
ALTER TABLE usage_events ADD COLUMN document_id BIGINT;
CREATE INDEX usage_events_document_at ON usage_events (document_id, at) WHERE document_id IS NOT NULL;
