-- Requests for erasure, restriction and objection (issue 13 item 2, P15).
-- A request stays when the person is erased: their users row becomes a
-- tombstone (account.Service.ErasePerson) that keeps the id, so user_id
-- still names a row but nobody. reason is the person's own words (guarded,
-- blanked on erasure); outcome is the national admin's reason for a
-- refusal or an extension, emailed to the person. due_at is one calendar
-- month after received_at, moved by an extension to at most three.
CREATE TABLE rights_requests (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('erasure', 'restriction', 'objection')),
    status           TEXT NOT NULL CHECK (status IN ('received', 'in_progress', 'extended', 'completed', 'refused', 'withdrawn')),
    reason           TEXT NOT NULL,
    received_at      TIMESTAMPTZ NOT NULL,
    due_at           TIMESTAMPTZ NOT NULL,
    extension_reason TEXT NOT NULL DEFAULT '',
    outcome          TEXT NOT NULL DEFAULT '',
    closed_at        TIMESTAMPTZ,
    closed_by        BIGINT REFERENCES users (id) ON DELETE SET NULL,
    lifted_at        TIMESTAMPTZ,
    lifted_by        BIGINT REFERENCES users (id) ON DELETE SET NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX rights_requests_queue ON rights_requests (status, due_at, id);
CREATE INDEX rights_requests_user ON rights_requests (user_id, id);
-- One open request of each kind per person.
CREATE UNIQUE INDEX rights_requests_one_open ON rights_requests (user_id, kind)
    WHERE status IN ('received', 'in_progress', 'extended');

-- National admins' notes on a request, oldest first.
CREATE TABLE rights_request_notes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES rights_requests (id) ON DELETE CASCADE,
    author_id  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    body       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX rights_request_notes_request ON rights_request_notes (request_id, id);

-- Restriction (set while a completed restriction request is not lifted)
-- makes the account read-only and keeps the person out of newsletters,
-- notifications and per-person usage analysis; an objection to contact
-- stops newsletters, notifications and invitations at once. Both are
-- written by internal/account, which owns users.
ALTER TABLE users ADD COLUMN restricted_at TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN contact_objected_at TIMESTAMPTZ;
