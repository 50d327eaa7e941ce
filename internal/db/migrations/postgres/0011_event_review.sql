-- The recording organisation's review of each event (incident/review.go):
-- where the review stands, who has it and by when, and the reviewers'
-- notes with every version of each. None of it is national data: it is
-- never exported, and only the organisation's reviewers and the operator
-- read it.
ALTER TABLE events ADD COLUMN review_state TEXT NOT NULL DEFAULT 'new';
ALTER TABLE events ADD COLUMN assignee_id BIGINT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE events ADD COLUMN review_due TIMESTAMPTZ;
-- The organisation's list filtered on state, or on assignee, newest first,
-- and sorted by due date; each read in order by keyset like the other
-- sorts (incident/list.go).
CREATE INDEX events_org_review_submitted ON events (org_ods, review_state, submitted_at, id);
CREATE INDEX events_org_assignee_submitted ON events (org_ods, assignee_id, submitted_at, id);
CREATE INDEX events_org_due ON events (org_ods, review_due, id);

CREATE TABLE review_notes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id   BIGINT NOT NULL REFERENCES events (id),
    author_id  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL
);
CREATE INDEX review_notes_event ON review_notes (event_id, id);

-- Every version of every note, as written; an edit adds a version.
CREATE TABLE review_note_versions (
    note_id    BIGINT NOT NULL REFERENCES review_notes (id),
    version    INTEGER NOT NULL,
    author_id  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (note_id, version)
);
CREATE TRIGGER review_note_versions_immutable BEFORE UPDATE OF note_id, version, created_at, body ON review_note_versions
    FOR EACH ROW EXECUTE FUNCTION psims_refuse_change();
CREATE TRIGGER review_note_versions_kept BEFORE DELETE ON review_note_versions
    FOR EACH ROW EXECUTE FUNCTION psims_refuse_change();
