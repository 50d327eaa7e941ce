-- Indexes for erasing a person (P15, and the dormancy sweep's deletions,
-- P12). An erasure detaches the person from what they did for others and
-- deletes their rows from every table that holds them, by user id; each of
-- these columns had no index, so every erasure read the whole table: a
-- million users for one exemption_by, every event for one assignee_id.
-- The dormancy sweep deletes thousands of people an hour after a long
-- outage or on its first months, so each erasure must touch only the
-- person's own rows. Partial where most rows hold NULL.
CREATE INDEX users_exemption_by ON users (exemption_by) WHERE exemption_by IS NOT NULL;
CREATE INDEX access_requests_decided_by ON access_requests (decided_by) WHERE decided_by IS NOT NULL;
CREATE INDEX read_grants_granted_by ON read_grants (granted_by) WHERE granted_by IS NOT NULL;
CREATE INDEX events_assignee ON events (assignee_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX review_notes_author ON review_notes (author_id) WHERE author_id IS NOT NULL;
CREATE INDEX usage_user_days_user ON usage_user_days (user_id);
CREATE INDEX usage_user_periods_user ON usage_user_periods (user_id);
