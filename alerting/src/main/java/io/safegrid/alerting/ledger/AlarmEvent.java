package io.safegrid.alerting.ledger;

import java.time.Instant;
import java.util.Map;

/**
 * One change of one alarm (a row of {@code alarm_events}). Its id is increasing and is the live
 * stream's event id: {@code Last-Event-ID} resumes after it.
 *
 * @param id database id, strictly increasing in commit order of the ledger
 * @param alarmId the alarm
 * @param type what happened: {@code raised}, {@code repeated}, {@code severity_changed},
 *     {@code acknowledged}, {@code cleared}, {@code reopened}, {@code closed}, {@code
 *     escalated}, {@code notified} (the step's notifications queued in the outbox), {@code
 *     delivery} (a step's delivery state changed: {@link NotificationDelivery})
 * @param fromState state before (null for raised)
 * @param toState state after
 * @param actor who did it: {@code rules}, an officer's name, {@code escalation}, {@code outbox}
 * @param note why, or a disposal note
 * @param at when
 * @param alarm the alarm as it is after this change
 * @param details extra facts (e.g. grid level and recipients for escalated)
 */
public record AlarmEvent(
    long id,
    long alarmId,
    String type,
    AlarmState fromState,
    AlarmState toState,
    String actor,
    String note,
    Instant at,
    Alarm alarm,
    Map<String, Object> details) {}
