-- PostgreSQL's search index changes its layout here (see that engine's
-- 0014); SQLite's FTS5 table needs no change. Both engines keep the same
-- numbers, so that a migration means the same step on each.
SELECT 1;
