-- Draft IDs are never given out twice (issue 11 item 12). On PostgreSQL the
-- drafts ID is an identity column, whose sequence only moves forward and is
-- not rewound by deletes or rolled-back inserts, so there is nothing to
-- change; the number is kept so both engines share their migration list.
SELECT 1;
