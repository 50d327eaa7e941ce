-- Events sent through the API (issue 16): each version made by an
-- organisation's local risk management system names the API key that sent
-- it; author_id is NULL then, as no person wrote it. Keys are revoked,
-- never deleted, so the id always names a key.
ALTER TABLE event_versions ADD COLUMN api_key_id BIGINT;
