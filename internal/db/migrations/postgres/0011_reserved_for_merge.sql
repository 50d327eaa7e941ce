-- PLACEHOLDER on branch i11-admin only: number 0011 belongs to another
-- branch of issue 11. Delete this file when merging that branch: migrations
-- are numbered without gaps, and this keeps 0013 (notification
-- preferences) loadable on this branch until then.
SELECT 1;
