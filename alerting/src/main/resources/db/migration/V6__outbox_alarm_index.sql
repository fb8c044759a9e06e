-- The outbox rows of one alarm (delivery state per escalation step, newcomer8 N7; escalation's
-- "were the responders told" check, newcomer8 N3): without it each was a scan of the whole outbox.
CREATE INDEX outbox_alarm ON outbox (alarm_id);
