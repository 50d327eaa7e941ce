-- Organisation administration: reasons for status changes, information
-- governance training, pending email and organisation changes, read-only
-- grants and requests for roles and organisation moves.

ALTER TABLE users ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN status_changed_at TIMESTAMP;
ALTER TABLE users ADD COLUMN ig_training_at TIMESTAMP;
ALTER TABLE users ADD COLUMN pending_email TEXT;
ALTER TABLE users ADD COLUMN pending_org_ods TEXT REFERENCES organisations (ods_code);

CREATE INDEX users_org_name ON users (org_ods, name);
CREATE INDEX users_name ON users (name);
CREATE INDEX users_status ON users (status);

CREATE TABLE read_grants (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_ods    TEXT NOT NULL REFERENCES organisations (ods_code),
    granted_by INTEGER,
    granted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, org_ods)
);

CREATE TABLE access_requests (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    org_ods        TEXT NOT NULL REFERENCES organisations (ods_code),
    requested_role TEXT NOT NULL DEFAULT '',
    justification  TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    decided_by     INTEGER,
    decided_at     TIMESTAMP,
    reason         TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX access_requests_org ON access_requests (org_ods, status);
CREATE INDEX access_requests_user ON access_requests (user_id, status);
