-- SafeGrid alerting: which outbox rows may be grouped into a maintenance digest (docs/alerting.md
-- "Maintenance digests"). Escalation marks the rows it writes due at a digest slot
-- (OutboxWriter.enqueueDigest); the dispatcher groups only those. Before, it grouped by the
-- payload's rule id, so a device-offline routed at once as its device's open hazard (review7 R7)
-- could still go out inside a digest with unrelated maintenance messages. Rows written before
-- this migration are not grouped (they go out alone, in their usual shape).
ALTER TABLE outbox ADD COLUMN digest boolean NOT NULL DEFAULT false;
