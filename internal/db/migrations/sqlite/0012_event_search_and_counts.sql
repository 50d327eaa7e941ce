-- Full-text search of events' free text answers (incident/search.go).
-- One row per event, its rowid the event's id: the organisation's code (so
-- that a search within organisations, and its count, is answered by the
-- index alone) and the free text of the current version. Contentless: the
-- text is already in event_versions, so the index keeps only its words;
-- contentless_delete lets an amendment replace an event's row.
-- The unicode61 tokenizer folds case, keeps accents and matches whole
-- words, as PostgreSQL's 'simple' configuration does, so both engines
-- find the same events.
CREATE VIRTUAL TABLE event_search USING fts5(org, body, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0');

-- Existing events, from their current version. The elements are the
-- form's free text questions (form.Text and form.Textarea); new events
-- are indexed by the store from what the form says is free text.
INSERT INTO event_search (rowid, org, body)
SELECT e.id, e.org_ods, COALESCE((SELECT group_concat(j.value, char(10))
    FROM json_each(v.answers) k, json_each(k.value) j
    WHERE k.key IN ('AdverseEvent.description', 'PatientInformation.ClinicalOutcome', 'AdverseEventAgent.DrugsInvolved',
        'AdverseEventOutcome.ImmediateActions', 'AdverseEventWentWell.StrengthsOfCare',
        'AdverseEventWentWell.HowFutureOccurrence', 'AdverseEventRiskDetails.RiskPopulation',
        'PractitionerDetails.ReporterTypeOther')), '')
FROM events e JOIN event_versions v ON v.event_id = e.id AND v.version = e.version;

-- How many events each organisation received each day (UTC), by event type
-- and most severe physical harm (incident/tally.go): what the signed-in
-- home counts "this week" from, a few rows a day rather than every event.
-- Kept in the same transaction as submissions and amendments.
CREATE TABLE event_day_counts (
    org_ods       TEXT NOT NULL,
    day           TEXT NOT NULL, -- YYYY-MM-DD, UTC
    event_type    TEXT NOT NULL,
    physical_harm TEXT NOT NULL,
    n             INTEGER NOT NULL,
    PRIMARY KEY (org_ods, day, event_type, physical_harm)
);
CREATE INDEX event_day_counts_day ON event_day_counts (day);
INSERT INTO event_day_counts (org_ods, day, event_type, physical_harm, n)
SELECT org_ods, substr(submitted_at, 1, 10), event_type, physical_harm, COUNT(*)
FROM events GROUP BY org_ods, substr(submitted_at, 1, 10), event_type, physical_harm;

-- Counting up to 10,000 events that happened in a date range (incident/
-- list.go) reads this index alone, without looking up each event for the
-- end of its date range.
CREATE INDEX events_org_occurred_span ON events (org_ods, occurred_from, occurred_to);
