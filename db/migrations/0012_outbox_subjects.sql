-- A message with buttons about something that can be decided (a report, a registration, a join
-- request) names it, and keeps Telegram's id once sent: when one coordinator decides, the
-- buttons of the copies the other coordinators got are taken away.
ALTER TABLE outbox ADD COLUMN subject TEXT;       -- e.g. 'report:12'
ALTER TABLE outbox ADD COLUMN message_id INTEGER; -- Telegram's message id, once sent
CREATE INDEX outbox_subject ON outbox (subject);
