-- SafeGrid alerting: the check that lets a rule transition take ONE round trip (docs/alerting.md
-- "One round trip: the alarms this ledger wrote last"). The ledger remembers each alarm it wrote, with
-- the row's version (its xmin, the transaction that wrote it). The next rule transition of the same
-- (device, rule) is written from that memory, and this check goes first in the same round trip:
-- it takes the per-(device, rule) advisory lock, then locks the row and finds it still at that
-- version. If anyone changed it meanwhile (an officer's acknowledgement, an escalation step,
-- another gateway), it raises SQLSTATE SGA01: PostgreSQL skips the rest of the round trip (the
-- COMMIT included), the ledger rolls back and redoes the transition after reading the row.
--
-- A PL/pgSQL function because its statements run in order with a snapshot each (READ COMMITTED):
-- the row lock is taken after the advisory lock was granted, and FOR UPDATE re-checks the version
-- on the newest row version if another transaction updated it meanwhile.
CREATE FUNCTION safegrid_lock_unchanged_alarm(p_device_id text, p_rule_id text, p_alarm_id bigint, p_version bigint)
  RETURNS void
  LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(p_device_id), hashtext(p_rule_id));
  PERFORM 1 FROM alarms WHERE id = p_alarm_id AND xmin::text::bigint = p_version FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'alarm % (% / %) changed since this ledger wrote it', p_alarm_id, p_device_id, p_rule_id
      USING ERRCODE = 'SGA01';
  END IF;
END
$$;
