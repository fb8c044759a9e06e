package io.safegrid.alerting.ledger;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The alarms this ledger wrote last, one per (device, rule), each with a fingerprint of its row
 * as committed (md5 of the whole {@code alarms} row's text, read in the committing round trip) and
 * its escalation columns: what lets the next rule transition of the same (device, rule) skip the
 * lock-and-select round trip (docs/alerting.md "One round trip").
 *
 * <p>A memory the database checks: a transition written from it sends {@code
 * safegrid_lock_unchanged_alarm} (migration V3) first, which fails with SQLSTATE {@value
 * #CHANGED_SQLSTATE} unless the row still has exactly the remembered content, and the ledger then
 * forgets the entry and redoes the transitions with the select. The content, not {@code xmin}: a
 * transaction id lost with an asynchronous commit in a PostgreSQL crash is given out again
 * (review5 H1). Closed alarms are not kept (whether a closed alarm re-opens depends on the clock:
 * the reopen window), so there is at most one entry per alarm not closed.
 *
 * <p>Thread-safe. An entry holds the alarm (with its evidence map): a few hundred bytes.
 */
final class KnownAlarms {
  /** SQLSTATE of {@code safegrid_lock_unchanged_alarm} when the row changed (migration V3). */
  static final String CHANGED_SQLSTATE = "SGA01";

  /** Statement sent first in a transition's round trip: lock, then check the row's content. */
  static final String LOCK_UNCHANGED = "SELECT safegrid_lock_unchanged_alarm(?, ?, ?, ?)";

  /**
   * An alarm as this ledger committed it.
   *
   * @param alarm the row as written
   * @param escalation its escalation columns as written
   * @param fingerprint md5 of the row's text as committed (32 hex digits)
   */
  record Known(Alarm alarm, LedgerTx.EscalationState escalation, String fingerprint) {}

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

  /**
   * Forgets an alarm by id (an officer action or escalation step changed it). Scans the entries
   * (at most one per alarm not closed): officer actions are rare.
   */
  void forgetAlarm(long alarmId) {
    byKey.values().removeIf(k -> k.alarm().id() == alarmId);
  }

  /** How many entries are kept. */
  int size() {
    return byKey.size();
  }
}
