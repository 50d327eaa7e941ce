-- Concern reports (issue 13 item 3, T5 and T6): a breach of the terms,
-- unauthorised access, a need to deactivate a user, or a suspected personal
-- data breach, reported by a signed-in user (reporter_id) or from the
-- sign-in page by someone signed out (reporter_name and reporter_email, as
-- typed, for the receipt and the outcome). due_at is created_at + 48 hours,
-- the clock the terms set.
--
-- The account a report names is kept as named_user_id when the address
-- typed belongs to an account. named_email keeps the address as typed only
-- when it belongs to nobody (the operator needs it to look further), and
-- is emptied when the report is closed: no address of a non-user is kept
-- longer than the report is worked on.
CREATE TABLE concern_reports (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('terms-breach', 'unauthorised-access', 'deactivate-user', 'data-breach')),
    body           TEXT NOT NULL,
    happened_on    TEXT,
    reporter_id    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    reporter_name  TEXT NOT NULL,
    reporter_email TEXT NOT NULL,
    named_user_id  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    named_email    TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    outcome        TEXT NOT NULL,
    outcome_text   TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    due_at         TIMESTAMPTZ NOT NULL,
    closed_at      TIMESTAMPTZ,
    closed_by      BIGINT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX concern_reports_queue ON concern_reports (status, due_at);
CREATE INDEX concern_reports_named ON concern_reports (named_user_id);

-- What was done on a report, oldest first: notes, and actions on the named
-- account. The audit log holds the same steps; this is the report's page.
CREATE TABLE concern_entries (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id  BIGINT NOT NULL REFERENCES concern_reports (id) ON DELETE CASCADE,
    author_id  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('note', 'suspended', 'deactivated', 'closed')),
    body       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX concern_entries_report ON concern_entries (report_id, id);
