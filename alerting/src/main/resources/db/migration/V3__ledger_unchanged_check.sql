-- SafeGrid alerting: the check that lets a rule transition take ONE round trip (docs/alerting.md
-- "One round trip: the alarms this ledger wrote last"). The ledger remembers each alarm it wrote,
-- with a fingerprint of the row as committed: md5 of the whole row's text, read in the committing
-- round trip. The next rule transition of the same (device, rule) is written from that memory,
-- and this check goes first in the same round trip: it takes the per-(device, rule) advisory lock,
-- then locks the row and finds it still with that content. If anyone changed it meanwhile (an
-- officer's acknowledgement, an escalation step, another gateway), or the remembered commit was
-- lost in a PostgreSQL crash (rule transitions commit asynchronously), it raises SQLSTATE SGA01:
-- PostgreSQL skips the rest of the round trip (the COMMIT included), the ledger rolls back and
-- redoes the transitions after reading the rows.
--
-- The content, not xmin: a transaction id lost with an asynchronous commit in a crash is handed
-- out again after recovery, so another writer's row can carry the remembered xmin (review5 H1).
-- Equal content means the memory is right whatever happened in between.
--
-- A PL/pgSQL function because its statements run in order with a snapshot each (READ COMMITTED):
-- the row lock is taken after the advisory lock was granted, and FOR UPDATE re-checks the content
-- on the newest row version if another transaction updated it meanwhile.
CREATE FUNCTION safegrid_lock_unchanged_alarm(p_device_id text, p_rule_id text, p_alarm_id bigint, p_fingerprint text)
  RETURNS void
  LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(p_device_id), hashtext(p_rule_id));
  PERFORM 1 FROM alarms a WHERE a.id = p_alarm_id AND md5(a::text) = p_fingerprint FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'alarm % (% / %) changed since this ledger wrote it', p_alarm_id, p_device_id, p_rule_id
      USING ERRCODE = 'SGA01';
  END IF;
END
$$;
