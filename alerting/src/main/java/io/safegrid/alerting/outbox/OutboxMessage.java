package io.safegrid.alerting.outbox;

/**
 * One row of the outbox being delivered.
 *
 * @param id outbox row id
 * @param idempotencyKey unique per (alarm, notification step, recipient, channel): receivers
 *     de-duplicate by it (delivery is at least once)
 * @param channel channel name
 * @param recipient recipient group id (MQTT topic level)
 * @param payload the JSON payload text (UTF-8 on the wire)
 * @param attempts attempts so far including this one
 */
public record OutboxMessage(
    long id, String idempotencyKey, String channel, String recipient, String payload, int attempts) {}
