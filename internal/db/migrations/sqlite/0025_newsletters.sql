-- Newsletters and research invitations (issue 14 item 3, P7), composed by
-- national admins in Markdown and sent through the outbox in batches.
--
-- audience is everyone, chosen roles (audience_roles, a comma-separated
-- list of role slugs) or chosen organisations (audience_orgs, a
-- comma-separated list of ODS codes). send_at is when a scheduled mailing
-- starts (NULL: send when asked). cursor_user_id is the highest user id
-- already queued: it is committed with each batch of outbox rows, so a send
-- cut short resumes after it and nobody gets two copies. queued counts the
-- messages queued so far.
CREATE TABLE newsletters (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL CHECK (kind IN ('newsletter', 'invitation')),
    subject        TEXT NOT NULL,
    body           TEXT NOT NULL,
    audience       TEXT NOT NULL CHECK (audience IN ('everyone', 'roles', 'orgs')),
    audience_roles TEXT NOT NULL,
    audience_orgs  TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'sent', 'cancelled')),
    send_at        TIMESTAMP,
    author_id      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    cursor_user_id INTEGER NOT NULL DEFAULT 0,
    queued         INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    started_at     TIMESTAMP,
    finished_at    TIMESTAMP
);
CREATE INDEX newsletters_due ON newsletters (status, send_at);
