-- Draft IDs are never given out twice (issue 11 item 12). A plain INTEGER
-- PRIMARY KEY hands the highest deleted ID to the next insert, so a tab
-- left open on a deleted draft would open someone's newer draft of the same
-- user under the old address. AUTOINCREMENT keeps the highest ID ever used
-- in sqlite_sequence and never goes below it. SQLite cannot add it to an
-- existing table, so the table is rebuilt with its rows and indexes;
-- nothing refers to drafts, so dropping the old table is safe. Rows keep
-- their IDs; the sequence starts from the highest ID present (IDs above it
-- that were deleted before this migration cannot be known).
CREATE TABLE drafts_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_type  TEXT NOT NULL,
    answers     TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    reminded_at TIMESTAMP
);
INSERT INTO drafts_new (id, user_id, event_type, answers, created_at, updated_at, reminded_at)
    SELECT id, user_id, event_type, answers, created_at, updated_at, reminded_at FROM drafts;
DROP TABLE drafts;
ALTER TABLE drafts_new RENAME TO drafts;
CREATE INDEX drafts_user ON drafts (user_id, updated_at);
CREATE INDEX drafts_updated ON drafts (updated_at);
