package io.safegrid.alerting.escalation;

import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.AlarmState;
import io.safegrid.alerting.ledger.AlarmStoreException;
import io.safegrid.alerting.ledger.JdbcAlarmLedger;
import io.safegrid.alerting.ledger.LedgerHook;
import io.safegrid.alerting.ledger.LedgerTx;
import io.safegrid.alerting.ledger.NotificationDelivery;
import io.safegrid.alerting.outbox.OutboxDispatcher;
import io.safegrid.alerting.outbox.OutboxWriter;
import io.safegrid.alerting.routing.AlarmClass;
import io.safegrid.alerting.routing.RecipientGroup;
import io.safegrid.alerting.routing.Route;
import io.safegrid.alerting.routing.Router;
import io.safegrid.model.Severity;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Escalation through the five-level grid, persisted in {@code alarms.escalation_level},
 * {@code escalation_step} and {@code next_escalation_at}.
 *
 * <ul>
 *   <li>Raised, or re-opened after an acknowledgement: notify the grid recipient at the
 *       severity's starting level, the responders of the alarm's kind and, when critical, the
 *       report-upward recipients (向上抄告: sub-district duty leader, district emergency
 *       management bureau); deadline = now + T. A hazard ({@link AlarmClass#HAZARD}) also tells
 *       every grid level below its starting level (the unit lead household and the building
 *       group of a leaking flat are the people on the spot: a more dangerous alarm tells at least
 *       those a milder one tells; newcomer7 F28); a maintenance alarm tells its starting level
 *       only and calls no responder (newcomer7 F16).
 *   <li>Severity rises on an acknowledged alarm above the highest severity acknowledged: the
 *       acknowledgement covered the milder alarm only; the ledger resets it and this is notified
 *       as a new occurrence, as above (newcomer7 F14). A rise back to a severity already
 *       acknowledged (a leak swinging around 50 %LEL after its critical was acknowledged) keeps
 *       the acknowledgement and tells nobody (review7 R5).
 *   <li>A fire spreads to another zone (a repeat whose evidence has a new {@code new_zone}):
 *       everyone told so far is told again, reason {@code spread}; an acknowledgement lapses
 *       (newcomer7 F25).
 *   <li>A device-offline, gas-fault or fire-panel-fault alarm of a device with a live hazard
 *       alarm is routed as that hazard ({@link AlarmClass#SENSOR_LOST_RULES}; review7 R7; active, or cleared within the re-open window: review8 R8-6).
 *   <li>Re-opened before anyone acknowledged it: the running escalation goes on (level and
 *       deadline kept, nobody notified again), so a flapping alarm still climbs.
 *   <li>Severity rises: if the new start level is above the current one, jump there and notify it;
 *       becoming critical also reports upward; deadline = now + T(new severity), or the running
 *       deadline when it is sooner and nothing jumped.
 *   <li>Deadline passes unacknowledged ({@link #runDue()}): go one level up and notify it; at the
 *       top, re-notify the top every T.
 *   <li>Acknowledge or close: the ledger clears the deadline; nothing more is sent.
 * </ul>
 *
 * <p>Every step writes its outbox rows and an {@code alarm_events} row ({@code notified} or
 * {@code escalated}, actor {@code escalation}) in the same transaction as the alarm change.
 * Idempotency keys are {@code a<alarm>-s<step>-<recipient>.<channel>}: a step re-run after a crash
 * writes nothing new. A cleared but unacknowledged alarm keeps escalating: it still needs an
 * officer.
 */
public final class Escalator implements LedgerHook {
  /** Actor of escalation events. */
  public static final String ACTOR = "escalation";

  private final JdbcAlarmLedger ledger;
  private final Router router;
  private final OutboxWriter outbox;
  private final EscalationConfig config;

  /**
   * Registers itself as a hook of the ledger.
   *
   * @param ledger the ledger (its clock is the escalation clock)
   * @param router routes by grid place and kind
   * @param outbox writes notifications
   * @param config timeouts
   */
  public Escalator(JdbcAlarmLedger ledger, Router router, OutboxWriter outbox, EscalationConfig config) {
    this.ledger = Objects.requireNonNull(ledger);
    this.router = Objects.requireNonNull(router);
    this.outbox = Objects.requireNonNull(outbox);
    this.config = Objects.requireNonNull(config);
    ledger.addHook(this);
  }

  @Override
  public void onChange(LedgerTx tx, String type, Alarm before, Alarm after) {
    switch (type) {
      case "raised" -> start(tx, after);
      case "reopened" -> {
        if (before != null && before.state() == AlarmState.CLEARED_UNACKED && !newlyAHazardMatter(tx, after)) {
          stillUnacknowledged(tx, before, after);
        } else {
          start(tx, after); // acknowledged (or closed) since: a new occurrence, from the first level
        }
      }
      case "repeated", "severity_changed" -> {
        if (before != null && type.equals("repeated") && JdbcAlarmLedger.spread(before.evidence(), after.evidence())) {
          spread(tx, before, after); // a fire in another zone: everyone told is told again (F25)
        } else if (before != null && after.severity().compareTo(before.severity()) > 0) {
          if (before.state() == AlarmState.ACTIVE_ACKED && after.state() == AlarmState.ACTIVE_UNACKED) {
            start(tx, after); // the acknowledgement was of the milder alarm: a new occurrence (F14)
          } else if (after.state() == AlarmState.ACTIVE_ACKED) {
            // back up to a severity already acknowledged (the ledger lapses the acknowledgement
            // only above it): told and reported upward when it was there, nobody again (review7 R5)
          } else {
            severityRose(tx, before, after);
          }
        }
      }
      default -> { } // acknowledged / closed: the ledger cleared the deadline; cleared: keep going
    }
  }

  /**
   * Whether a re-opened alarm that nobody acknowledged is, this time, a hazard matter its earlier
   * occurrence was not: a device-offline, gas-fault or fire-panel-fault ({@link
   * AlarmClass#SENSOR_LOST_RULES}) of a device whose hazard alarm is open, whose responders were
   * never told of it (no {@code responder} row in the outbox). Then the re-open is a call-out
   * ({@link #start}), not the quiet continuation of a flapping alarm: a river gauge in flood
   * whose offline alarm had been raised and cleared before goes silent, and flood command must
   * learn it (newcomer8 N3). Once told, a flapping offline goes on quietly as before.
   */
  private boolean newlyAHazardMatter(LedgerTx tx, Alarm a) {
    if (!AlarmClass.SENSOR_LOST_RULES.contains(a.ruleId()) || openHazard(tx, a).isEmpty()) {
      return false;
    }
    try (PreparedStatement ps = tx.connection().prepareStatement(
        "SELECT 1 FROM outbox WHERE alarm_id = ? AND payload->>'reason' = 'responder' LIMIT 1")) {
      ps.setLong(1, a.id());
      try (ResultSet rs = ps.executeQuery()) {
        return !rs.next();
      }
    } catch (SQLException e) {
      throw new AlarmStoreException("cannot read whether responders were told of alarm " + a.id(), e);
    }
  }

  private void start(LedgerTx tx, Alarm a) {
    Routed routed = routed(tx, a);
    Route route = routed.route();
    int step = state(tx, a.id()).step + 1;
    Notices n = new Notices(tx, a, route, step);
    RecipientGroup first = route.chain().get(route.startIndex());
    List<String> below = gridBelow(n, routed.cls(), route, -1, route.startIndex());
    n.notify(first, "alarm");
    for (RecipientGroup r : route.responders()) {
      n.notify(r, "responder");
    }
    for (RecipientGroup r : route.reportUpward()) {
      n.notify(r, "report_upward");
    }
    enqueue(tx, a, routed.cls(), n);
    Instant deadline = tx.now().plus(config.timeout(a.severity()));
    save(tx, a.id(), route.startIndex(), step, deadline);
    tx.record("notified", a.state(), a, ACTOR,
        // queued, not yet delivered: the outbox's 'delivery' events and the history's
        // details.delivery say when it reached them (newcomer8 N7)
        "call-out queued for " + first.name() + alsoBelow(below) + (route.reportUpward().isEmpty() ? "" : "; report upward queued"),
        details(route, route.startIndex(), step, n.told, deadline));
  }

  /**
   * For a hazard, notifies (reason {@code alarm}) the grid levels of the chain above index {@code
   * after} and below {@code start}, lowest first: the unit lead household, the building group and
   * the compound branch a milder alarm of the same device would have told (Dongnan 2022 work
   * report: the five-level grid down to the unit lead household, about 10 households a cell, is
   * the emergency network's base; newcomer7 F28). Nothing for a maintenance alarm: it starts at
   * its own level.
   *
   * @return the names told, lowest first
   */
  private static List<String> gridBelow(Notices n, AlarmClass cls, Route route, int after, int start) {
    if (cls != AlarmClass.HAZARD) {
      return List.of();
    }
    List<String> names = new ArrayList<>();
    for (int i = after + 1; i < start; i++) {
      RecipientGroup g = route.chain().get(i);
      n.notify(g, "alarm");
      names.add(g.name());
    }
    return names;
  }

  private static String alsoBelow(List<String> below) {
    return below.isEmpty() ? "" : " and below it " + String.join(", ", below);
  }

  /**
   * Re-opened before anyone acknowledged it: the escalation that is running goes on, at its level
   * and its deadline; nobody is notified again (they were, and have not acknowledged; the live
   * dashboard shows it back). Restarting at the first level with a fresh deadline, as a new
   * occurrence does, let a flapping alarm nobody acknowledged never climb (newcomer5 F3). A
   * severity rise on the way back is taken as one.
   */
  private void stillUnacknowledged(LedgerTx tx, Alarm before, Alarm after) {
    if (after.severity().compareTo(before.severity()) > 0) {
      severityRose(tx, before, after);
      return;
    }
    if (tx.escalation(after.id()).map(LedgerTx.EscalationState::deadline).isEmpty()) {
      EscState s = state(tx, after.id()); // no deadline running (not expected while unacknowledged): set one
      save(tx, after.id(), s.level, s.step, tx.now().plus(config.timeout(after.severity())));
    }
  }

  /**
   * A fire spread to another zone of the panel ({@link JdbcAlarmLedger#SPREAD_EVIDENCE}; newcomer7
   * F25): everyone told of the alarm so far is told again, reason {@code spread} (the grid from the
   * first level a hazard tells up to the level escalation reached, the responders, report upward
   * when critical): the fire brigade sent to zone 1 learns of zone 5. When the repeat lapsed an
   * acknowledgement (the ledger does: the zones acknowledged no longer cover the fire) escalation
   * runs again from the level reached with a fresh deadline; when nobody had acknowledged, the
   * running deadline is kept (never later).
   */
  private void spread(LedgerTx tx, Alarm before, Alarm after) {
    Routed routed = routed(tx, after);
    Route route = routed.route();
    EscState s = state(tx, after.id());
    boolean unacked = after.state() == AlarmState.ACTIVE_UNACKED || after.state() == AlarmState.CLEARED_UNACKED;
    boolean lapsed = unacked && (before.state() == AlarmState.ACTIVE_ACKED || before.state() == AlarmState.CLEARED_ACKED);
    int level = Math.min(Math.max(s.level, route.startIndex()), route.topIndex());
    int step = s.step + 1;
    Notices n = new Notices(tx, after, route, step);
    int from = routed.cls() == AlarmClass.HAZARD ? 0 : route.startIndex();
    for (int i = from; i <= level; i++) {
      n.notify(route.chain().get(i), "spread");
    }
    for (RecipientGroup r : route.responders()) {
      n.notify(r, "spread");
    }
    for (RecipientGroup r : route.reportUpward()) {
      n.notify(r, "spread");
    }
    enqueue(tx, after, routed.cls(), n);
    Instant fresh = tx.now().plus(config.timeout(after.severity()));
    Instant deadline = !unacked ? null : lapsed || !s.deadline.isBefore(fresh) ? fresh : s.deadline;
    save(tx, after.id(), level, step, deadline);
    tx.record("notified", after.state(), after, ACTOR,
        "spread to zone " + after.evidence().get(JdbcAlarmLedger.SPREAD_EVIDENCE) + ": call-out queued again for "
            + String.join(", ", n.told),
        details(route, level, step, n.told, deadline));
  }

  private void severityRose(LedgerTx tx, Alarm before, Alarm after) {
    Routed routed = routed(tx, after);
    Route route = routed.route();
    EscState s = state(tx, after.id());
    boolean unacked = after.state() == AlarmState.ACTIVE_UNACKED || after.state() == AlarmState.CLEARED_UNACKED;
    boolean reportUp = after.severity() == Severity.CRITICAL && before.severity() != Severity.CRITICAL;
    boolean jump = unacked && route.startIndex() > s.level;
    if (!jump && !reportUp) {
      if (unacked) {
        // the new severity's wait, unless the deadline already running is sooner: never later
        Instant sooner = tx.now().plus(config.timeout(after.severity()));
        save(tx, after.id(), s.level, s.step, s.deadline.isBefore(sooner) ? s.deadline : sooner);
      }
      return;
    }
    int step = s.step + 1;
    int level = jump ? route.startIndex() : s.level;
    Notices n = new Notices(tx, after, route, step);
    List<String> below = List.of();
    if (jump) {
      below = gridBelow(n, routed.cls(), route, s.level, level); // the levels between the old and the new start
      n.notify(route.chain().get(level), "alarm");
    }
    if (reportUp) {
      for (RecipientGroup r : route.reportUpward()) {
        n.notify(r, "report_upward");
      }
    }
    enqueue(tx, after, routed.cls(), n);
    Instant deadline = unacked ? tx.now().plus(config.timeout(after.severity())) : null;
    save(tx, after.id(), level, step, deadline);
    tx.record(jump ? "escalated" : "notified", after.state(), after, ACTOR,
        "severity rose to " + after.severity().wireName() + alsoBelow(below), details(route, level, step, n.told, deadline));
  }

  /**
   * Writes the step's notifications. A hazard's are due at once; a maintenance alarm's (device
   * offline, low battery, faults: {@link AlarmClass#MAINTENANCE}) wait for the recipient's next
   * digest slot ({@link OutboxDispatcher#digestSlot}), where the dispatcher sends everything due
   * for one recipient and channel as one digest: a neighbourhood's power cut is one incident, not
   * 126 pages to the duty officer (newcomer7 F11). The ledger, the live feed and the escalation
   * deadlines are not delayed, only the messages. Never for an alarm whose escalation timeout is
   * shorter than {@link OutboxDispatcher#DIGEST_WINDOW} (default: major 3 min, critical 1 min):
   * its next level would be told before, or with, the first (review7 R6); nor for {@link
   * AlarmClass#ALARM_PATH} ({@code channel-dead:*}) or a maintenance alarm routed as its device's
   * open hazard ({@code cls} is then {@link AlarmClass#HAZARD}).
   */
  private void enqueue(LedgerTx tx, Alarm a, AlarmClass cls, Notices n) {
    if (cls == AlarmClass.MAINTENANCE
        && config.timeout(a.severity()).compareTo(OutboxDispatcher.DIGEST_WINDOW) >= 0) {
      outbox.enqueueDigest(tx, a.id(), n.out, OutboxDispatcher.digestSlot(tx.now()));
    } else {
      outbox.enqueueAll(tx, a.id(), n.out);
    }
  }

  /** A route and the class it was taken as. */
  private record Routed(Route route, AlarmClass cls) {}

  /**
   * The route of {@code a}: by its rule's class ({@link AlarmClass#ofRule}), except that an alarm
   * of {@link AlarmClass#SENSOR_LOST_RULES} (device offline, gas or fire panel fault) of a device
   * with a live hazard alarm ({@link #openHazard}) is routed as that hazard: responders of the
   * device's kind, the grid from the higher of the two severities' starting level, due at once
   * (review7 R7). Report upward only when the alarm's OWN severity is critical (review8 R8-6: the
   * hazard was reported upward when it was raised; what is new is "sensor lost", a matter for the
   * crew and the grid, not a second report to the district). One indexed query, only for those
   * rules.
   */
  private Routed routed(LedgerTx tx, Alarm a) {
    AlarmClass cls = AlarmClass.ofRule(a.ruleId());
    Severity severity = a.severity();
    if (cls == AlarmClass.MAINTENANCE && AlarmClass.SENSOR_LOST_RULES.contains(a.ruleId())) {
      Optional<Severity> hazard = openHazard(tx, a);
      if (hazard.isPresent()) {
        cls = AlarmClass.HAZARD;
        if (hazard.get().compareTo(severity) > 0) {
          Route asHazard = router.route(a.deviceId(), a.ruleId(), hazard.get(), cls);
          Route own = router.route(a.deviceId(), a.ruleId(), severity, cls);
          return new Routed(new Route(asHazard.kind(), asHazard.place(), asHazard.chain(), asHazard.startIndex(),
              asHazard.responders(), own.reportUpward()), cls);
        }
      }
    }
    return new Routed(router.route(a.deviceId(), a.ruleId(), severity, cls), cls);
  }

  /**
   * The highest severity of the device's other hazard alarms ({@link AlarmClass#HAZARD}) that are
   * live: active ({@code active_unacked}, {@code active_acked}), or cleared less than the ledger's
   * re-open window ({@link JdbcAlarmLedger#reopenWindow()}, default 10 min) ago, if any. A leak
   * that cleared minutes ago may be the sensor's last word before it died (the crew may still be
   * on site); one that cleared on Monday and waits for its write-off is not an incident a power cut
   * on Thursday belongs to (review8 R8-6: every unit with such a leftover made its own critical
   * call-out with report upward in a neighbourhood power cut).
   */
  private Optional<Severity> openHazard(LedgerTx tx, Alarm a) {
    try (PreparedStatement ps = tx.connection().prepareStatement(
        "SELECT rule_id, severity FROM alarms WHERE device_id = ? AND id <> ?"
            + " AND (state IN ('active_unacked', 'active_acked')"
            + " OR (state IN ('cleared_unacked', 'cleared_acked') AND cleared_at >= ?))")) {
      ps.setString(1, a.deviceId());
      ps.setLong(2, a.id());
      ps.setObject(3, tx.now().minus(ledger.reopenWindow()).atOffset(ZoneOffset.UTC));
      Severity max = null;
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          if (AlarmClass.ofRule(rs.getString(1)) == AlarmClass.HAZARD) {
            Severity s = Severity.valueOf(rs.getString(2).toUpperCase(java.util.Locale.ROOT));
            if (max == null || s.compareTo(max) > 0) {
              max = s;
            }
          }
        }
      }
      return Optional.ofNullable(max);
    } catch (SQLException e) {
      throw new AlarmStoreException("cannot look for a live hazard alarm of " + a.deviceId(), e);
    }
  }

  /**
   * Takes every due, unacknowledged deadline one step ({@code FOR UPDATE SKIP LOCKED}: several
   * gateway processes may poll the same database).
   *
   * @return how many alarms were escalated or re-notified
   */
  public int runDue() {
    return ledger.inTransaction(tx -> {
      List<Long> due = new ArrayList<>();
      try (PreparedStatement ps = tx.connection().prepareStatement(
          "SELECT id FROM alarms WHERE next_escalation_at <= ? AND state IN ('active_unacked', 'cleared_unacked')"
              + " ORDER BY next_escalation_at, id LIMIT ? FOR UPDATE SKIP LOCKED")) {
        ps.setObject(1, tx.now().atOffset(ZoneOffset.UTC));
        ps.setInt(2, config.batchSize());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            due.add(rs.getLong(1));
          }
        }
      } catch (SQLException e) {
        throw new AlarmStoreException("cannot read escalation deadlines", e);
      }
      for (long id : due) {
        Alarm a = tx.lockAlarm(id).orElseThrow();
        step(tx, a, state(tx, id));
      }
      return due.size();
    });
  }

  private void step(LedgerTx tx, Alarm a, EscState s) {
    Routed routed = routed(tx, a);
    Route route = routed.route();
    int level = Math.min(Math.min(s.level, route.topIndex()) + 1, route.topIndex());
    boolean up = level > s.level;
    int step = s.step + 1;
    RecipientGroup r = route.chain().get(level);
    Notices n = new Notices(tx, a, route, step);
    n.notify(r, up ? "escalation" : "renotify");
    enqueue(tx, a, routed.cls(), n);
    Instant deadline = s.deadline.plus(config.timeout(a.severity()));
    if (!deadline.isAfter(tx.now())) {
      deadline = tx.now().plus(config.timeout(a.severity())); // after a long stop: no burst of catch-up steps
    }
    save(tx, a.id(), level, step, deadline);
    tx.record(up ? "escalated" : "notified", a.state(), a, ACTOR,
        // the deadline that fell due, not the current severity's wait: an alarm raised critical
        // and lowered to major keeps the earlier (critical) deadline, escalation is never delayed
        "unacknowledged at its escalation deadline "
            + DateTimeFormatter.ISO_LOCAL_TIME.format(s.deadline.atOffset(ZoneOffset.UTC).toLocalTime().withNano(0))
            + " UTC: "
            + (up ? "escalated to " : "re-notification queued for ") + r.name(),
        details(route, level, step, n.told, deadline));
  }

  /**
   * The notifications of one escalation step: one payload per recipient, in the order notified.
   * What every payload of the step shares (the alarm's fields, the step, the times as ISO-8601
   * text) is worked out once per step, not once per recipient.
   */
  private static final class Notices {
    final List<String> told = new ArrayList<>(8);
    final List<OutboxWriter.Notification> out = new ArrayList<>(8);
    private final Alarm a;
    private final Route route;
    private final int step;
    private final String keyPrefix;
    private final String kind;
    private final String severity;
    private final String state;
    private final String raisedAt;
    private final String at;

    Notices(LedgerTx tx, Alarm a, Route route, int step) {
      this.a = a;
      this.route = route;
      this.step = step;
      this.keyPrefix = "a" + a.id() + "-s" + step + "-";
      this.kind = route.kind().wireName();
      this.severity = a.severity().wireName();
      this.state = a.state().wireName();
      this.raisedAt = a.raisedAt().toString();
      this.at = tx.now().toString();
    }

    /** Notifies {@code r} (the payload of docs/alerting.md's notifications) for {@code reason}. */
    void notify(RecipientGroup r, String reason) {
      Map<String, Object> p = new LinkedHashMap<>(32); // 14 entries without a resize
      p.put("alarmId", a.id());
      p.put("deviceId", a.deviceId());
      p.put("ruleId", a.ruleId());
      p.put("kind", kind);
      p.put("place", route.place());
      p.put("severity", severity);
      p.put("state", state);
      p.put("message", a.message());
      p.put("count", a.count());
      p.put("level", r.level() == null ? null : r.level().wireName());
      p.put("reason", reason);
      p.put("step", step);
      p.put("raisedAt", raisedAt);
      p.put("at", at);
      out.add(new OutboxWriter.Notification(keyPrefix + r.id(), r, p));
      told.add(r.id());
    }
  }

  private static Map<String, Object> details(Route route, int level, int step, List<String> told, Instant deadline) {
    Map<String, Object> d = new LinkedHashMap<>();
    RecipientGroup g = route.chain().get(level);
    d.put("level", g.level() == null ? null : g.level().wireName());
    d.put("step", step);
    d.put("recipients", told);
    d.put("nextEscalationAt", deadline == null ? null : deadline.toString());
    // written to the outbox in this transaction, not delivered: GET /api/alarms/{id} gives the
    // current state, the outbox's 'delivery' events its changes (newcomer8 N7)
    d.put("delivery", Map.of("state", NotificationDelivery.QUEUED));
    return d;
  }

  private record EscState(int level, int step, Instant deadline) {}

  private static EscState state(LedgerTx tx, long alarmId) {
    Optional<LedgerTx.EscalationState> known = tx.escalation(alarmId);
    if (known.isPresent()) {
      LedgerTx.EscalationState k = known.get();
      return new EscState(k.level(), k.step(), k.deadline() == null ? tx.now() : k.deadline());
    }
    try (PreparedStatement ps = tx.connection().prepareStatement(
        "SELECT escalation_level, escalation_step, next_escalation_at FROM alarms WHERE id = ?")) {
      ps.setLong(1, alarmId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        OffsetDateTime t = rs.getObject(3, OffsetDateTime.class);
        return new EscState(rs.getInt(1), rs.getInt(2), t == null ? tx.now() : t.toInstant());
      }
    } catch (SQLException e) {
      throw new AlarmStoreException("cannot read escalation state of alarm " + alarmId, e);
    }
  }

  /** Deferred to the transaction's next round trip ({@link LedgerTx#defer}). */
  private static void save(LedgerTx tx, long alarmId, int level, int step, Instant deadline) {
    tx.escalationWritten(alarmId, new LedgerTx.EscalationState(level, step, deadline));
    tx.defer("UPDATE alarms SET escalation_level = ?, escalation_step = ?, next_escalation_at = ? WHERE id = ?",
        level, step, deadline == null ? null : deadline.atOffset(ZoneOffset.UTC), alarmId);
  }
}
