-- Placeholder so that this branch's migrations run without a gap: number
-- 0024 belongs to another part of issue 14. Delete this file when merging
-- that part's 0024.
SELECT 1;
