-- Data sharing agreements (issue 15 item 5, T4, T15, T17): the registry of
-- agreements under which event data leaves the recording organisation,
-- and the log of every extract made under one.
--
-- starts_on and ends_on are whole days (midnight UTC), both included: an
-- agreement is in force from the start of starts_on to the end of ends_on,
-- unless revoked_at is set. fields are the keys of the export columns it
-- permits (incident.ExportFields), comma separated. all_orgs covers every
-- organisation; otherwise sharing_agreement_orgs lists those covered. The
-- signed agreement is a PDF kept here (document), with its SHA-256.
CREATE TABLE sharing_agreements (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reference            TEXT NOT NULL UNIQUE,
    recipient            TEXT NOT NULL,
    purpose              TEXT NOT NULL,
    legal_basis          TEXT NOT NULL,
    special_basis        TEXT NOT NULL,
    starts_on            TIMESTAMPTZ NOT NULL,
    ends_on              TIMESTAMPTZ NOT NULL,
    fields               TEXT NOT NULL,
    all_orgs             BOOLEAN NOT NULL,
    approver_name        TEXT NOT NULL,
    approver_role        TEXT NOT NULL,
    approved_on          TIMESTAMPTZ NOT NULL,
    document_name        TEXT NOT NULL DEFAULT '',
    document_size        BIGINT NOT NULL DEFAULT 0,
    document_sha256      TEXT NOT NULL DEFAULT '',
    document             BYTEA,
    document_uploaded_at TIMESTAMPTZ,
    revoked_at           TIMESTAMPTZ,
    revoked_by           BIGINT REFERENCES users (id) ON DELETE SET NULL,
    revoke_reason        TEXT NOT NULL DEFAULT '',
    created_by           BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    CHECK (ends_on >= starts_on)
);
CREATE INDEX sharing_agreements_dates ON sharing_agreements (ends_on, starts_on);

CREATE TABLE sharing_agreement_orgs (
    agreement_id BIGINT NOT NULL REFERENCES sharing_agreements (id) ON DELETE CASCADE,
    org_ods      TEXT NOT NULL REFERENCES organisations (ods_code),
    PRIMARY KEY (agreement_id, org_ods)
);

-- The PSIMS accounts that may download extracts under an agreement.
CREATE TABLE sharing_agreement_recipients (
    agreement_id BIGINT NOT NULL REFERENCES sharing_agreements (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (agreement_id, user_id)
);
CREATE INDEX sharing_agreement_recipients_user ON sharing_agreement_recipients (user_id);

-- Every export made under an agreement: who, when, how many rows, of
-- which organisations (scope) and columns (fields).
CREATE TABLE sharing_exports (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agreement_id BIGINT NOT NULL REFERENCES sharing_agreements (id) ON DELETE CASCADE,
    user_id      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    exported_at  TIMESTAMPTZ NOT NULL,
    row_count    BIGINT NOT NULL,
    scope        TEXT NOT NULL,
    fields       TEXT NOT NULL,
    complete     BOOLEAN NOT NULL
);
CREATE INDEX sharing_exports_agreement ON sharing_exports (agreement_id, id);
CREATE INDEX sharing_exports_user ON sharing_exports (user_id);
