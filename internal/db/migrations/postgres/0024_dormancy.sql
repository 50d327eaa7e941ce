-- Dormant accounts (issue 14, P12, P13).
--
-- last_active_at is the last time the person themselves showed they still
-- use the account: a sign-in that got a session, or the confirmation link
-- in a dormancy warning. Nothing else moves it (not an admin's change, and
-- not an API key's use). Accounts that never signed in count from their
-- creation. dormancy_warned_at and dormancy_deactivate_at are the running
-- countdown (both NULL when there is none); exemption_* record a national
-- admin's decision to keep the account whatever its activity.
--
-- Every insert in the code sets last_active_at; a trigger fills it from
-- created_at for any row inserted without it, so it can be NOT NULL.
ALTER TABLE users ADD COLUMN last_active_at TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN dormancy_warned_at TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN dormancy_deactivate_at TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN exemption_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN exemption_by BIGINT;
ALTER TABLE users ADD COLUMN exemption_at TIMESTAMPTZ;
UPDATE users SET last_active_at = COALESCE(last_sign_in_at, created_at);
ALTER TABLE users ALTER COLUMN last_active_at SET NOT NULL;
CREATE FUNCTION psims_users_last_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.last_active_at IS NULL THEN
        NEW.last_active_at := NEW.created_at;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER users_last_active_from_created BEFORE INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION psims_users_last_active();
-- The warning pass reads the active accounts idle since before a date in
-- (last_active_at, id) order: a range scan of this index, batch by batch.
CREATE INDEX users_dormancy ON users (status, last_active_at, id);
-- The deactivation and deletion passes read only accounts with a
-- countdown, in id order.
CREATE INDEX users_dormancy_countdown ON users (id) WHERE dormancy_deactivate_at IS NOT NULL;
