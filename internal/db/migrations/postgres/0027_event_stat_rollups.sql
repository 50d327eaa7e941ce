-- Counts of events for official statistics (incident/stats.go), kept so
-- that a publication over millions of events reads a few hundred thousand
-- rows instead of every event. For each basis ('occurred': the UTC day of
-- occurred_from; 'submitted': the UTC day of submitted_at), how many
-- current events of each organisation, type, most severe physical harm and
-- service type fell on each day, and in each month; and how many carried
-- each safety challenge and agent code. A period reads the months it
-- covers whole and the days at its ends. Kept in the same transaction as
-- every write that changes what they count (submission, amendment,
-- loading); a row whose count falls to 0 stays, and readers skip it.
CREATE TABLE event_stat_days (
    basis         TEXT NOT NULL, -- 'occurred' or 'submitted'
    day           TEXT NOT NULL, -- YYYY-MM-DD, UTC
    org_ods       TEXT NOT NULL,
    event_type    TEXT NOT NULL,
    physical_harm TEXT NOT NULL,
    service_type  TEXT NOT NULL,
    n             BIGINT NOT NULL,
    PRIMARY KEY (basis, day, org_ods, event_type, physical_harm, service_type)
);

CREATE TABLE event_stat_months (
    basis         TEXT NOT NULL,
    month         TEXT NOT NULL, -- YYYY-MM, UTC
    org_ods       TEXT NOT NULL,
    event_type    TEXT NOT NULL,
    physical_harm TEXT NOT NULL,
    service_type  TEXT NOT NULL,
    n             BIGINT NOT NULL,
    PRIMARY KEY (basis, month, org_ods, event_type, physical_harm, service_type)
);

-- Codes of the safety challenges and agents elements only: the ones the
-- statistics count.
CREATE TABLE event_stat_code_days (
    basis      TEXT NOT NULL,
    day        TEXT NOT NULL,
    org_ods    TEXT NOT NULL,
    event_type TEXT NOT NULL,
    element    TEXT NOT NULL,
    code       TEXT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (basis, day, org_ods, event_type, element, code)
);

CREATE TABLE event_stat_code_months (
    basis      TEXT NOT NULL,
    month      TEXT NOT NULL,
    org_ods    TEXT NOT NULL,
    event_type TEXT NOT NULL,
    element    TEXT NOT NULL,
    code       TEXT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (basis, month, org_ods, event_type, element, code)
);

-- The events stored before this migration.
INSERT INTO event_stat_days (basis, day, org_ods, event_type, physical_harm, service_type, n)
SELECT 'occurred', to_char(e.occurred_from AT TIME ZONE 'UTC', 'YYYY-MM-DD'), e.org_ods, e.event_type, e.physical_harm, e.service_type, COUNT(*)
FROM events e GROUP BY 2, 3, 4, 5, 6;
INSERT INTO event_stat_days (basis, day, org_ods, event_type, physical_harm, service_type, n)
SELECT 'submitted', to_char(e.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), e.org_ods, e.event_type, e.physical_harm, e.service_type, COUNT(*)
FROM events e GROUP BY 2, 3, 4, 5, 6;
INSERT INTO event_stat_months (basis, month, org_ods, event_type, physical_harm, service_type, n)
SELECT basis, substr(day, 1, 7), org_ods, event_type, physical_harm, service_type, SUM(n)
FROM event_stat_days GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO event_stat_code_days (basis, day, org_ods, event_type, element, code, n)
SELECT 'occurred', to_char(e.occurred_from AT TIME ZONE 'UTC', 'YYYY-MM-DD'), e.org_ods, e.event_type, c.element, c.code, COUNT(*)
FROM events e JOIN event_codes c ON c.event_id = e.id
WHERE c.element IN ('AdverseEventSafetyChallenges.SafetyChallenges', 'AdverseEventAgent.InvolvedAgents')
GROUP BY 2, 3, 4, 5, 6;
INSERT INTO event_stat_code_days (basis, day, org_ods, event_type, element, code, n)
SELECT 'submitted', to_char(e.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), e.org_ods, e.event_type, c.element, c.code, COUNT(*)
FROM events e JOIN event_codes c ON c.event_id = e.id
WHERE c.element IN ('AdverseEventSafetyChallenges.SafetyChallenges', 'AdverseEventAgent.InvolvedAgents')
GROUP BY 2, 3, 4, 5, 6;
INSERT INTO event_stat_code_months (basis, month, org_ods, event_type, element, code, n)
SELECT basis, substr(day, 1, 7), org_ods, event_type, element, code, SUM(n)
FROM event_stat_code_days GROUP BY 1, 2, 3, 4, 5, 6;
