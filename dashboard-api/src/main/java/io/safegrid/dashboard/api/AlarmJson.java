package io.safegrid.dashboard.api;

import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.AlarmEvent;
import io.safegrid.alerting.ledger.AlarmState;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The wire shapes of alarms and alarm events (see {@code /api/openapi.yaml}): camelCase keys,
 * lower-case states and severities ({@code active_unacked}, {@code critical}), times as ISO-8601
 * UTC strings, absent values as null.
 */
public final class AlarmJson {
  private AlarmJson() {}

  /** An alarm as JSON. */
  public static Map<String, Object> alarm(Alarm a) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", a.id());
    m.put("deviceId", a.deviceId());
    m.put("ruleId", a.ruleId());
    m.put("severity", a.severity() == null ? null : a.severity().wireName());
    m.put("state", state(a.state()));
    m.put("count", a.count());
    m.put("message", a.message());
    m.put("evidence", a.evidence());
    m.put("raisedAt", time(a.raisedAt()));
    m.put("updatedAt", time(a.updatedAt()));
    m.put("acknowledgedBy", a.acknowledgedBy());
    m.put("acknowledgedAt", time(a.acknowledgedAt()));
    m.put("clearedAt", time(a.clearedAt()));
    m.put("closedAt", time(a.closedAt()));
    m.put("closeNote", a.closeNote());
    return m;
  }

  /** An alarm event (the SSE {@code event: alarm} data and a history entry) as JSON. */
  public static Map<String, Object> event(AlarmEvent e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", e.id());
    m.put("alarmId", e.alarmId());
    m.put("type", e.type());
    m.put("fromState", state(e.fromState()));
    m.put("toState", state(e.toState()));
    m.put("actor", e.actor());
    m.put("note", e.note());
    m.put("at", time(e.at()));
    m.put("alarm", e.alarm() == null ? null : alarm(e.alarm()));
    m.put("details", e.details());
    return m;
  }

  /** A history entry: the event without the embedded alarm (the alarm is the enclosing object). */
  public static Map<String, Object> historyEntry(AlarmEvent e) {
    Map<String, Object> m = event(e);
    m.remove("alarm");
    return m;
  }

  private static String state(AlarmState s) {
    return s == null ? null : s.wireName();
  }

  static String time(Instant t) {
    return t == null ? null : t.toString();
  }
}
