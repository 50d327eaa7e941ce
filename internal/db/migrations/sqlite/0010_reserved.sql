-- Placeholder on branch i11-review only: number 0010 belongs to another
-- change of issue 11, and migrations must be numbered without gaps. The
-- lead drops this file when merging that change.
SELECT 1;
