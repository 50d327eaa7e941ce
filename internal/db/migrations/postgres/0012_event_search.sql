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
    FROM jsonb_each(v.answers::jsonb) k, jsonb_array_elements_text(k.value) j
    WHERE k.key IN ('AdverseEvent.description', 'PatientInformation.ClinicalOutcome', 'AdverseEventAgent.DrugsInvolved',
        'AdverseEventOutcome.ImmediateActions', 'AdverseEventWentWell.StrengthsOfCare',
        'AdverseEventWentWell.HowFutureOccurrence', 'AdverseEventRiskDetails.RiskPopulation')), ''))
FROM events e JOIN event_versions v ON v.event_id = e.id AND v.version = e.version;
