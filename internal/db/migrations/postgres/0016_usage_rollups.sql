-- Usage aggregates (issue 12, P2, P4, P6, P10, P19): what the usage
-- reports read, so that a report over a year of tens of millions of usage
-- events reads a few thousand rows, and what is kept once the raw events
-- are deleted (usage/rollup.go, usage/minimise.go, usage/report.go).
--
-- The rollup job turns each complete UTC day of usage_events into:
--   usage_days          how many events of each kind, and page views of
--                       each area, an organisation had that day: no user
--                       id, kept after the raw events. Organisation '*'
--                       is the whole service (every organisation, and
--                       people of none, who are '').
--   usage_user_days     one row per person, organisation and day: their
--                       sign-ins, page views and documents opened, a mask
--                       of what they did (kinds and areas, bits fixed in
--                       usage/measure.go) and when they last did it. For
--                       the per-person rows of a report (only for people
--                       who consent, P19) and for counting people over
--                       days that are not a whole week or month.
--   usage_user_periods  one row per person, organisation and ISO week
--                       (Monday) or calendar month, the masks of its days
--                       OR-ed together: people counted over whole weeks
--                       and months without reading every day.
--   usage_period_users  how many different people did each thing (the
--                       measure: 'active', a kind or 'area:' an area) in
--                       each complete week and month, per organisation
--                       and '*' for the whole service; stored when the
--                       rollup completes the period, with no user id, so
--                       periods older than the raw events still report
--                       active users and can be suppressed under five.
-- The per-person tables are deleted with the raw events, after
-- --usage-retention; usage_days and usage_period_users are kept.
--
-- usage_progress holds each job's watermark, so a job that stops part
-- way resumes where it stopped and a re-run changes nothing: 'rollup' is
-- the last day rolled up (YYYY-MM-DD), 'ip' the time before which every
-- address is truncated (RFC 3339, UTC, fixed width), and 'horizon' the
-- first day whose per-person rows are still kept.
CREATE TABLE usage_days (
    org_ods TEXT NOT NULL,
    day     TEXT NOT NULL, -- YYYY-MM-DD, UTC
    kind    TEXT NOT NULL,
    area    TEXT NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (org_ods, day, kind, area)
);

CREATE TABLE usage_user_days (
    org_ods    TEXT NOT NULL,
    day        TEXT NOT NULL,
    user_id    BIGINT NOT NULL,
    sign_ins   BIGINT NOT NULL,
    page_views BIGINT NOT NULL,
    documents  BIGINT NOT NULL,
    mask       BIGINT NOT NULL,
    last_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_ods, day, user_id)
);
CREATE INDEX usage_user_days_day ON usage_user_days (day, user_id, mask);

CREATE TABLE usage_user_periods (
    org_ods TEXT NOT NULL,
    period  TEXT NOT NULL, -- 'week' or 'month'
    start   TEXT NOT NULL, -- its first day, YYYY-MM-DD
    user_id BIGINT NOT NULL,
    mask    BIGINT NOT NULL,
    PRIMARY KEY (org_ods, period, start, user_id)
);
CREATE INDEX usage_user_periods_start ON usage_user_periods (period, start, user_id, mask);

CREATE TABLE usage_period_users (
    org_ods TEXT NOT NULL,
    period  TEXT NOT NULL,
    start   TEXT NOT NULL,
    measure TEXT NOT NULL,
    users   BIGINT NOT NULL,
    PRIMARY KEY (org_ods, period, start, measure)
);

CREATE TABLE usage_progress (
    job   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO usage_progress (job, value) VALUES ('rollup', ''), ('ip', ''), ('horizon', '');
