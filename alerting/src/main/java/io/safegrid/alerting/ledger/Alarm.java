package io.safegrid.alerting.ledger;

import io.safegrid.model.Severity;
import java.time.Instant;
import java.util.Map;

/**
 * One ledger entry (a row of {@code alarms}): one open alarm per (device, rule); repeats raise its
 * count.
 *
 * @param id database id
 * @param deviceId the device
 * @param ruleId the rule that raised it
 * @param severity current severity
 * @param state lifecycle state
 * @param count how many times the condition was raised (re-opened) on this entry
 * @param message the latest human text
 * @param evidence the latest evidence (values, thresholds, times)
 * @param raisedAt when first raised
 * @param updatedAt when last changed
 * @param acknowledgedBy who acknowledged, or null
 * @param acknowledgedAt when acknowledged, or null
 * @param clearedAt when the condition ended, or null
 * @param closedAt when written off, or null
 * @param closeNote the disposal note of the write-off, or null
 */
public record Alarm(
    long id,
    String deviceId,
    String ruleId,
    Severity severity,
    AlarmState state,
    int count,
    String message,
    Map<String, Object> evidence,
    Instant raisedAt,
    Instant updatedAt,
    String acknowledgedBy,
    Instant acknowledgedAt,
    Instant clearedAt,
    Instant closedAt,
    String closeNote) {}
