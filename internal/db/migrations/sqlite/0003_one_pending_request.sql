-- A user has at most one pending request of each kind; the services check
-- this first, and the database makes sure of it.
CREATE UNIQUE INDEX access_requests_one_pending ON access_requests (user_id, kind) WHERE status = 'pending';
