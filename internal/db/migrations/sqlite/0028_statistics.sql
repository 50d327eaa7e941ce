-- Official statistics publications (issue 15, T16, T17): a publication is
-- a period, a basis and a release time; publishing it stores version 1 as
-- an immutable snapshot (every file's bytes and SHA-256, the rules, the
-- fingerprint of the counts and every published figure in words), and each
-- revision stores the next version with its reason and what changed.
-- Versions and their files can never be changed or deleted, as
-- event_versions (0006). Who published is in the audit log, not here, so
-- that erasing a person never has to touch a snapshot.
CREATE TABLE statistics_publications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    title        TEXT NOT NULL,
    period_start TEXT NOT NULL, -- first day, YYYY-MM-DD (UTC)
    period_end   TEXT NOT NULL, -- last day, included
    basis        TEXT NOT NULL CHECK (basis IN ('occurred', 'submitted')),
    release_at   TIMESTAMP NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    rules        TEXT NOT NULL, -- JSON of the disclosure control rules
    created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX statistics_publications_release ON statistics_publications (status, release_at);

CREATE TABLE statistics_versions (
    publication_id INTEGER NOT NULL REFERENCES statistics_publications (id),
    version        INTEGER NOT NULL,
    reason         TEXT NOT NULL, -- '' for version 1
    rules          TEXT NOT NULL,
    fingerprint    TEXT NOT NULL, -- SHA-256 of the counts and denominators built from
    figures        TEXT NOT NULL, -- JSON list of every published figure in words
    changes        TEXT NOT NULL, -- JSON list of the figures that changed from the version before
    published_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (publication_id, version)
);
CREATE TRIGGER statistics_versions_immutable BEFORE UPDATE ON statistics_versions
BEGIN
    SELECT RAISE(ABORT, 'published statistics cannot be changed');
END;
CREATE TRIGGER statistics_versions_kept BEFORE DELETE ON statistics_versions
BEGIN
    SELECT RAISE(ABORT, 'published statistics cannot be deleted');
END;

CREATE TABLE statistics_files (
    publication_id INTEGER NOT NULL,
    version        INTEGER NOT NULL,
    position       INTEGER NOT NULL,
    name           TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    content        BLOB NOT NULL,
    sha256         TEXT NOT NULL,
    PRIMARY KEY (publication_id, version, name),
    FOREIGN KEY (publication_id, version) REFERENCES statistics_versions (publication_id, version)
);
CREATE TRIGGER statistics_files_immutable BEFORE UPDATE ON statistics_files
BEGIN
    SELECT RAISE(ABORT, 'published statistics cannot be changed');
END;
CREATE TRIGGER statistics_files_kept BEFORE DELETE ON statistics_files
BEGIN
    SELECT RAISE(ABORT, 'published statistics cannot be deleted');
END;

-- The pre-release access list: people (by email address) who may see a
-- published publication before its release time, signed in.
CREATE TABLE statistics_prerelease (
    publication_id INTEGER NOT NULL REFERENCES statistics_publications (id),
    email          TEXT NOT NULL,
    added_by       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    added_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (publication_id, email)
);

-- Denominators for reporting rates: an organisation's admissions or bed
-- days in a period, loaded from a CSV file. Loading a row again replaces
-- its value.
CREATE TABLE statistics_denominators (
    org_ods      TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    measure      TEXT NOT NULL CHECK (measure IN ('admissions', 'bed-days')),
    value        INTEGER NOT NULL CHECK (value > 0),
    loaded_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (period_start, period_end, org_ods, measure)
);
