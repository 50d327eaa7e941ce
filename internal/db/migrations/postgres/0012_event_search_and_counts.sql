-- Full-text search of events' free text answers (incident/search.go).
-- One row per event: a tsvector of the organisation's code (weight A, so
-- that a search within organisations is answered by the GIN index alone)
-- and of the free text of the current version (weight D). The 'simple'
-- configuration folds case and matches whole words, as SQLite's unicode61
-- tokenizer does, so both engines find the same events.
CREATE TABLE event_search (
    event_id BIGINT PRIMARY KEY REFERENCES events (id),
    document TSVECTOR NOT NULL
);
CREATE INDEX event_search_document ON event_search USING GIN (document);

-- Existing events, from their current version. The elements are the
-- form's free text questions (form.Text and form.Textarea); new events
-- are indexed by the store from what the form says is free text.
INSERT INTO event_search (event_id, document)
SELECT e.id, setweight(to_tsvector('simple', e.org_ods), 'A') || to_tsvector('simple', COALESCE((SELECT string_agg(j.value, E'\n')
    FROM jsonb_each(CASE WHEN jsonb_typeof(v.answers::jsonb) = 'object' THEN v.answers::jsonb ELSE '{}' END) k,
        jsonb_array_elements_text(CASE WHEN jsonb_typeof(k.value) = 'array' THEN k.value ELSE '[]' END) j
    WHERE k.key IN ('AdverseEvent.description', 'PatientInformation.ClinicalOutcome', 'AdverseEventAgent.DrugsInvolved',
        'AdverseEventOutcome.ImmediateActions', 'AdverseEventWentWell.StrengthsOfCare',
        'AdverseEventWentWell.HowFutureOccurrence', 'AdverseEventRiskDetails.RiskPopulation',
        'PractitionerDetails.ReporterTypeOther')), ''))
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
    n             BIGINT NOT NULL,
    PRIMARY KEY (org_ods, day, event_type, physical_harm)
);
CREATE INDEX event_day_counts_day ON event_day_counts (day);
INSERT INTO event_day_counts (org_ods, day, event_type, physical_harm, n)
SELECT org_ods, to_char(submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), event_type, physical_harm, COUNT(*)
FROM events GROUP BY 1, 2, 3, 4;

-- Counting up to 10,000 events that happened in a date range (incident/
-- list.go) reads this index alone, without looking up each event for the
-- end of its date range.
CREATE INDEX events_org_occurred_span ON events (org_ods, occurred_from, occurred_to);
