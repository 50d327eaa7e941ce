-- Indexes for the event lists (incident/list.go), which page by keyset on
-- (sort time, id). Each lets a common filter read matching events already
-- in order, so neither the page nor its capped count walks every event of
-- an organisation; measured at 300,000 events on both engines, the filters
-- they serve went from tens of milliseconds to about one.
-- An organisation's events of one type, or of one level of harm or one
-- service type, newest first.
CREATE INDEX events_org_type_submitted ON events (org_ods, event_type, submitted_at, id);
CREATE INDEX events_org_physical_submitted ON events (org_ods, physical_harm, submitted_at, id);
CREATE INDEX events_org_psychological_submitted ON events (org_ods, psychological_harm, submitted_at, id);
CREATE INDEX events_org_service_submitted ON events (org_ods, service_type, submitted_at, id);
-- The national list filtered on physical harm (the rare, severe levels are
-- what national staff look for).
CREATE INDEX events_physical_submitted ON events (physical_harm, submitted_at, id);
-- Sorting by when it happened: nationally, and a reporter's own events
-- (organisations already have events_org_occurred).
CREATE INDEX events_occurred ON events (occurred_from, id);
CREATE INDEX events_reporter_occurred ON events (reporter_id, occurred_from, id);
