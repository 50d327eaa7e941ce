-- Which event alerts each person wants (issue 11 item 18). A person with no
-- row gets every kind: the defaults for reviewers are all on. Rows go with
-- their user.
CREATE TABLE notification_preferences (
    user_id       BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    severe_harm   BOOLEAN NOT NULL,
    never_event   BOOLEAN NOT NULL,
    public_report BOOLEAN NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
