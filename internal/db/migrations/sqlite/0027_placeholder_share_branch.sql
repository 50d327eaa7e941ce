-- Placeholder on branch i15-share only: migration 0027 belongs to another
-- part of issue 15. Delete this file when merging; the real one replaces it.
SELECT 1;
