package io.safegrid.alerting.ledger;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The alarms this ledger wrote last, one per (device, rule), each with the version of its row
 * (the {@code xmin} of the {@code alarms} row as committed, read in the committing round trip) and
 * its escalation columns: what lets the next rule transition of the same (device, rule) skip the
 * lock-and-select round trip (docs/alerting.md "One round trip").
 *
 * <p>Only a memory, never the truth: a transition written from it sends {@code
 * safegrid_lock_unchanged_alarm} (migration V3) first, which fails with SQLSTATE {@value
 * #CHANGED_SQLSTATE} when the row is no longer at that version, and the ledger then forgets the
 * entry and redoes the transition with the select. Closed alarms are not kept (whether a closed
 * alarm re-opens depends on the clock: the reopen window).
 *
 * <p>Thread-safe. Size: one entry per (device, rule) that ever raised, a few hundred bytes each.
 */
final class KnownAlarms {
  /** SQLSTATE of {@code safegrid_lock_unchanged_alarm} when the row changed (migration V3). */
  static final String CHANGED_SQLSTATE = "SGA01";

  /** Statement sent first in a transition's round trip: lock, then check the row's version. */
  static final String LOCK_UNCHANGED = "SELECT safegrid_lock_unchanged_alarm(?, ?, ?, ?)";

  /**
   * An alarm as this ledger committed it.
   *
   * @param alarm the row as written
   * @param escalation its escalation columns as written
   * @param version the row's {@code xmin} after the commit
   */
  record Known(Alarm alarm, LedgerTx.EscalationState escalation, long version) {}

  private final Map<String, Known> byKey = new ConcurrentHashMap<>();

  /** The key of a (device, rule). */
  static String key(String deviceId, String ruleId) {
    return deviceId + '\u0000' + ruleId;
  }

  /** The entry of a (device, rule), if one is kept. */
  Optional<Known> get(String deviceId, String ruleId) {
    return Optional.ofNullable(byKey.get(key(deviceId, ruleId)));
  }

  /** Keeps (or replaces) what was just committed; a closed alarm is forgotten instead. */
  void remember(Known k) {
    String key = key(k.alarm().deviceId(), k.alarm().ruleId());
    if (k.alarm().state() == AlarmState.CLOSED) {
      byKey.remove(key);
    } else {
      byKey.put(key, k);
    }
  }

  /** Forgets a (device, rule). */
  void forget(String deviceId, String ruleId) {
    byKey.remove(key(deviceId, ruleId));
  }

  /** Forgets an alarm by id (an officer action or escalation step changed it). */
  void forgetAlarm(long alarmId) {
    byKey.values().removeIf(k -> k.alarm().id() == alarmId);
  }

  /** How many entries are kept. */
  int size() {
    return byKey.size();
  }
}
