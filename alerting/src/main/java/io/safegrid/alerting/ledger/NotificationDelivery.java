package io.safegrid.alerting.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Delivery state of an alarm's notifications, per escalation step, read from the outbox (the
 * rows of step {@code s} of alarm {@code a} are those whose idempotency key starts with {@code
 * a<a>-s<s>-}). A {@code notified} or {@code escalated} event only says the step's notifications
 * were written to the outbox; whether they reached anyone is this (newcomer8 N7: the duty page said
 * "notified" for a call-out a dead broker never carried).
 *
 * <p>States: {@value #DELIVERED} (every row acknowledged by its far side: MQTT PUBACK, HTTP 2xx),
 * {@value #QUEUED} (not yet tried, or not yet due: a maintenance digest slot, a channel without a
 * broker configured), {@value #FAILING} (at least one row failed its last attempt and is being
 * retried), {@value #DEAD} (at least one row gave up after the outbox's attempts). A step with
 * failing and dead rows is {@value #DEAD}; with delivered and failing rows {@value #FAILING}.
 */
public final class NotificationDelivery {
  /** Every row of the step delivered. */
  public static final String DELIVERED = "delivered";
  /** Rows waiting for their first attempt (or their digest slot); none failed. */
  public static final String QUEUED = "queued";
  /** A row failed and is retried with backoff. */
  public static final String FAILING = "failing";
  /** A row gave up (dead after the outbox's maximum attempts). */
  public static final String DEAD = "dead";

  /** Event type the outbox records when a step's delivery state changes. */
  public static final String EVENT_TYPE = "delivery";

  private NotificationDelivery() {}

  private static final String BY_STEP = "SELECT (regexp_match(idempotency_key, '^a[0-9]+-s([0-9]+)-'))[1]::int AS step,"
      + " count(*), count(delivered_at), count(*) FILTER (WHERE dead),"
      + " count(*) FILTER (WHERE delivered_at IS NULL AND NOT dead AND last_error IS NOT NULL),"
      + " max(last_error) FILTER (WHERE delivered_at IS NULL), bool_or(payload->>'reason' = 'responder')"
      + " FROM outbox WHERE alarm_id = ? GROUP BY 1";

  /**
   * The delivery state of each step of the alarm that wrote outbox rows.
   *
   * @return step -> {@code {"state", "total", "delivered", "failing", "dead", "lastError",
   *     "responders"}} (counts of outbox rows; {@code responders}: the step called out responders,
   *     i.e. the alarm was routed as a hazard)
   */
  public static Map<Integer, Map<String, Object>> byStep(Connection c, long alarmId) throws SQLException {
    Map<Integer, Map<String, Object>> out = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(BY_STEP)) {
      ps.setLong(1, alarmId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          int step = rs.getInt(1);
          if (rs.wasNull()) {
            continue; // not a step's key
          }
          long total = rs.getLong(2);
          long delivered = rs.getLong(3);
          long dead = rs.getLong(4);
          long failing = rs.getLong(5);
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("state", dead > 0 ? DEAD : failing > 0 ? FAILING : delivered == total ? DELIVERED : QUEUED);
          m.put("total", total);
          m.put("delivered", delivered);
          m.put("failing", failing);
          m.put("dead", dead);
          m.put("lastError", rs.getString(6));
          m.put("responders", rs.getBoolean(7));
          out.put(step, m);
        }
      }
    }
    return out;
  }

  /**
   * {@code events} with each {@code notified} / {@code escalated} event's {@code details.delivery}
   * set to its step's current state from {@code byStep} (events of other types, and steps without
   * outbox rows, as they are).
   */
  static List<AlarmEvent> withDelivery(List<AlarmEvent> events, Map<Integer, Map<String, Object>> byStep) {
    if (byStep.isEmpty()) {
      return events;
    }
    List<AlarmEvent> out = new ArrayList<>(events.size());
    for (AlarmEvent e : events) {
      Object step = e.details() == null ? null : e.details().get("step");
      Map<String, Object> d = step instanceof Number n && isStep(e.type()) ? byStep.get(n.intValue()) : null;
      if (d == null) {
        out.add(e);
        continue;
      }
      Map<String, Object> details = new LinkedHashMap<>(e.details());
      details.put("delivery", d);
      out.add(new AlarmEvent(e.id(), e.alarmId(), e.type(), e.fromState(), e.toState(), e.actor(), e.note(), e.at(),
          e.alarm(), details));
    }
    return out;
  }

  private static boolean isStep(String type) {
    return "notified".equals(type) || "escalated".equals(type);
  }
}
