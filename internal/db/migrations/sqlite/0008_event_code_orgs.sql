-- Each filter code carries its event's organisation, so that counting an
-- organisation's events with a safety challenge or agent reads one stretch
-- of one index instead of checking its events one by one (incident/list.go).
ALTER TABLE event_codes ADD COLUMN org_ods TEXT NOT NULL DEFAULT '';
UPDATE event_codes SET org_ods = (SELECT e.org_ods FROM events e WHERE e.id = event_codes.event_id);
CREATE INDEX event_codes_org ON event_codes (element, code, org_ods, event_id);
-- The new index serves every lookup by element and code the old one did.
DROP INDEX event_codes_lookup;
