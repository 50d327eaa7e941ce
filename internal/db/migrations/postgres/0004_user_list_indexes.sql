-- Indexes for the user lists of organisation and national admins: a search
-- within one organisation reads the index alone, pages in name order need
-- no sort, and status filters (such as suspended) find their rows directly.
CREATE INDEX users_org_name_email ON users (org_ods, name, email);
CREATE INDEX users_name_id ON users (name, id);
CREATE INDEX users_status_name ON users (status, name);
DROP INDEX users_org_name;
DROP INDEX users_name;
DROP INDEX users_status;
