-- Indexes for the audit log viewer's filters (issue 13): each ends with id,
-- so a filtered page, newest first, reads only the rows it shows. The rows
-- themselves and their hashes are unchanged. The action and subject_type
-- indexes also let the viewer list the values present without reading the
-- whole log.
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id, id);
CREATE INDEX audit_log_subject ON audit_log (subject_type, subject_id, id);
CREATE INDEX audit_log_at ON audit_log (at, id);
