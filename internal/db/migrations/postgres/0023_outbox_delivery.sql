-- Delivery bookkeeping for the outbox (issue 14).
--
-- message_key is made when a message is queued and becomes the left part of
-- its Message-ID header, the same on every try: it is the message's
-- idempotency key. send_started_at is written, and committed, before each
-- try talks to the SMTP server, so a try cut short by a crash is recognised
-- and the message is not sent twice. category says whether the message is a
-- service notice (always sent) or a newsletter or invitation (sent only to
-- people who still want it); list_unsubscribe is the one-click unsubscribe
-- address it carries, if any; batch groups the messages of one newsletter
-- for its per-message status.
ALTER TABLE outbox ADD COLUMN message_key TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN send_started_at TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN category TEXT NOT NULL DEFAULT 'service';
ALTER TABLE outbox ADD COLUMN list_unsubscribe TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN batch TEXT NOT NULL DEFAULT '';
-- Messages queued before this migration get their key now.
UPDATE outbox SET message_key = md5(random()::text || id::text);
CREATE INDEX outbox_batch ON outbox (batch, status) WHERE batch <> '';
