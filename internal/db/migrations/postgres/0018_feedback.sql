-- Feedback and questions sent from the "?" link on every page (issue 12
-- item 4, P3 and P8), and the operator's replies. Only signed-in users
-- send them, so each belongs to a user and goes with them when the account
-- is deleted (P12); replies keep their text when the admin who wrote them
-- is deleted. The reply address is read from users when a reply is sent,
-- never copied here. waiting_since is when the item last became new (sent,
-- or reopened): the overdue count runs from it.
CREATE TABLE feedback_items (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('feedback', 'question')),
    page          TEXT NOT NULL,
    body          TEXT NOT NULL,
    may_reply     BOOLEAN NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('new', 'answered', 'closed')),
    assignee_id   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    waiting_since TIMESTAMPTZ NOT NULL
);
CREATE INDEX feedback_items_user ON feedback_items (user_id, id);
CREATE INDEX feedback_items_status ON feedback_items (status, waiting_since);
CREATE INDEX feedback_items_assignee ON feedback_items (assignee_id, id);

CREATE TABLE feedback_replies (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id    BIGINT NOT NULL REFERENCES feedback_items (id) ON DELETE CASCADE,
    author_id  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    body       TEXT NOT NULL,
    emailed    BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX feedback_replies_item ON feedback_replies (item_id, id);
