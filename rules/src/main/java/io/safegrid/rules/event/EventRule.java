package io.safegrid.rules.event;

import io.safegrid.model.DeviceEvent;
import io.safegrid.model.Severity;
import io.safegrid.rules.RuleContext;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What a device's events do: each event name either raises a latched alarm (rule id, severity)
 * or clears some, or both. Immutable.
 *
 * <p>Fire panel defaults (GB/T 26875.3-2011 status bits; severities are SafeGrid's choice, fire
 * CRITICAL per the model's {@link Severity}): {@code fire} raises {@code fire-panel-fire} CRITICAL;
 * {@code fault} {@code fire-panel-fault} MINOR; {@code supervisory} {@code fire-panel-supervisory} MINOR;
 * {@code shield} {@code fire-panel-shield} WARNING; {@code mains_fault} {@code fire-panel-mains-fault}
 * MINOR; {@code backup_fault} {@code fire-panel-backup-fault} MINOR; {@code reset} clears fire, fault,
 * supervisory and shield; {@code fault_cleared} clears the fault; {@code mains_restored} and
 * {@code backup_restored} clear the power faults. The fault and power-fault raises wait {@code
 * fault_debounce_s} for a clear (a transient fault wakes nobody); a fire is never delayed. A raise
 * of an alarm already open from an event in a zone it has not reported (a fire spreading to
 * another zone) repeats it ({@link Latches#spread}). Unknown events do nothing (they are kept as
 * history by the gateway).
 */
public final class EventRule {

  /**
   * One event's effect.
   *
   * @param event event name, lower case
   * @param raiseRuleId rule id to raise, or null
   * @param severity its severity (null when nothing is raised)
   * @param clearRuleIds rule ids to clear; never null
   * @param label human text for messages, e.g. "fire alarm"
   * @param debounceMillis how long the raise waits for a clear before it happens, ms (0 = at once)
   */
  public record Action(String event, String raiseRuleId, Severity severity,
      List<String> clearRuleIds, String label, long debounceMillis) {
    /** @throws IllegalArgumentException when a raise lacks its rule id or severity */
    public Action {
      Objects.requireNonNull(event, "event");
      if ((raiseRuleId == null) != (severity == null)) {
        throw new IllegalArgumentException(event + ": a raise needs both a rule id and a severity");
      }
      clearRuleIds = clearRuleIds == null ? List.of() : List.copyOf(clearRuleIds);
      label = label == null ? event : label;
      if (debounceMillis < 0) {
        throw new IllegalArgumentException(event + ": debounce must be >= 0");
      }
    }

    /** An event that raises a rule. */
    public static Action raise(String event, String ruleId, Severity severity, String label) {
      return new Action(event, ruleId, severity, List.of(), label, 0);
    }

    /** An event that raises a rule once nothing cleared it for {@code debounceMillis}. */
    public static Action raiseDebounced(String event, String ruleId, Severity severity,
        String label, long debounceMillis) {
      return new Action(event, ruleId, severity, List.of(), label, debounceMillis);
    }

    /** An event that clears rules. */
    public static Action clear(String event, String label, String... ruleIds) {
      return new Action(event, null, null, List.of(ruleIds), label, 0);
    }
  }

  private final Map<String, Action> byEvent;

  /**
   * @param actions one per event name
   * @throws IllegalArgumentException when an event name is given twice
   */
  public EventRule(List<Action> actions) {
    Map<String, Action> m = new HashMap<>();
    for (Action a : actions) {
      if (m.put(a.event(), a) != null) {
        throw new IllegalArgumentException("event '" + a.event() + "' given twice");
      }
    }
    this.byEvent = Map.copyOf(m);
  }

  /** No event does anything. */
  public static EventRule none() {
    return new EventRule(List.of());
  }

  /** The action of an event, or null. */
  public Action action(String event) {
    return byEvent.get(event);
  }

  /** All rule ids this table raises. */
  public java.util.Set<String> raisedRuleIds() {
    java.util.Set<String> s = new java.util.HashSet<>();
    byEvent.values().forEach(a -> {
      if (a.raiseRuleId() != null) {
        s.add(a.raiseRuleId());
      }
    });
    return s;
  }

  /**
   * Applies one event (not flagged, not a duplicate) to the device's latches, on its own time.
   *
   * @return true when the event name is known
   */
  public boolean apply(DeviceEvent e, Latches latches, RuleContext ctx) {
    return apply(e, Long.MIN_VALUE, e.timeMillis(), latches, ctx);
  }

  /**
   * Applies one event (not a resend) whose device time is more than the future skew (5 min) ahead
   * of the gateway clock: the device's clock is ahead (a panel keeping Beijing time, UTC+8, but
   * writing {@code Z}). A fire must not wait hours for the wall clock to catch up, so it is judged
   * on its arrival time: raises and clears at {@code max(nowMillis, the latch's last change)}
   * ({@link Latches#raiseAhead}, {@link Latches#clearAhead}), with {@code device_clock: ahead},
   * {@code event_time_ms} (the time it sent) and {@code received_ms} in the evidence; its device
   * time never becomes a latch's change time, so the panel's in-order events after its clock is
   * put right are not history (newcomer7 F5; docs/rules.md "Time and order").
   *
   * @param nowMillis the engine clock when it arrived, epoch ms
   * @return true when the event name is known
   */
  public boolean applyAhead(DeviceEvent e, long nowMillis, Latches latches, RuleContext ctx) {
    Action a = byEvent.get(e.event().toLowerCase(Locale.ROOT));
    if (a == null) {
      return false;
    }
    Map<String, Object> ev = evidence(e);
    ev.put("device_clock", "ahead");
    ev.put("received_ms", nowMillis);
    String where = place(e);
    String text = e.text() == null ? "" : (" (" + e.text() + ")");
    String message = a.label() + where + text + ": device clock wrong (sent "
        + java.time.Instant.ofEpochMilli(e.timeMillis()) + "), judged on arrival";
    for (String r : a.clearRuleIds()) {
      latches.clearAhead(r, e.timeMillis(), nowMillis, message, ev, ctx);
    }
    if (a.raiseRuleId() != null && (e.zone() == null
        || !latches.spread(a.raiseRuleId(), a.severity(), e.zone(), e.timeMillis(), nowMillis,
            true, latches.get(a.raiseRuleId()).aheadOpenedEventMillis, message, ev, ctx))) {
      latches.raiseAhead(a.raiseRuleId(), a.severity(), e.timeMillis(), nowMillis,
          a.debounceMillis(), message, ev, ctx);
    }
    return true;
  }

  /**
   * Applies one event (not flagged, not a resend: the engine knows the events it judged) to the
   * device's latches.
   *
   * <ul>
   *   <li>A raise older than its latch's last change is history, unless {@code
   *       lateRaiseAtMillis} is given: then it raises at that time (the arrival time of an event
   *       more than the clock tolerance behind the gateway clock: the device's clock may have gone
   *       back, e.g. a panel reset to 2000 after a power cut, and a fire must not be lost), with
   *       {@code late: true} and {@code received_ms} in the evidence.
   *   <li>A raise of an open alarm naming a zone it has not reported (a fire spreading to another
   *       zone of the panel) is a repeat ({@link Latches#spread}): count + 1 in the ledger, a
   *       live event, the new zone and every zone in the evidence. The same zone again changes
   *       nothing.
   *   <li>A clear goes by the event's own time (a late clear never undoes a newer raise), except
   *       for an alarm opened by such a late raise: a clear whose device time is not older than
   *       that raise's device time clears it (the panel's own reset after its fire), at {@code
   *       max(nowMillis, the raise's time)}.
   * </ul>
   *
   * @param lateRaiseAtMillis the arrival time, epoch ms, or {@link Long#MIN_VALUE} for none
   * @param nowMillis the engine clock when the event arrived, epoch ms
   * @return true when the event name is known
   */
  public boolean apply(DeviceEvent e, long lateRaiseAtMillis, long nowMillis, Latches latches,
      RuleContext ctx) {
    Action a = byEvent.get(e.event().toLowerCase(Locale.ROOT));
    if (a == null) {
      return false;
    }
    Map<String, Object> ev = evidence(e);
    String where = place(e);
    String text = e.text() == null ? "" : (" (" + e.text() + ")");
    for (String r : a.clearRuleIds()) {
      latches.clearLate(r, e.timeMillis(), nowMillis, a.label() + where + text, ev, ctx);
    }
    if (a.raiseRuleId() != null) {
      long at = e.timeMillis();
      String message = a.label() + where + text;
      boolean suspect = lateRaiseAtMillis != Long.MIN_VALUE;
      if (e.zone() != null && latches.spread(a.raiseRuleId(), a.severity(), e.zone(),
          e.timeMillis(), suspect ? lateRaiseAtMillis : at, suspect,
          latches.get(a.raiseRuleId()).lateRaiseEventMillis, message, ev, ctx)) {
        return true; // the open alarm's fire has spread to another zone: a repeat
      }
      Latch l = latches.get(a.raiseRuleId());
      boolean late = lateRaiseAtMillis != Long.MIN_VALUE && at < l.changedAtMillis
          && !(l.open && l.severity == a.severity());
      if (late) {
        at = Math.max(lateRaiseAtMillis, l.changedAtMillis);
        ev = new LinkedHashMap<>(ev);
        ev.put("late", true);
        ev.put("received_ms", lateRaiseAtMillis);
        message += ": late event sent " + java.time.Instant.ofEpochMilli(e.timeMillis())
            + ", received " + java.time.Instant.ofEpochMilli(lateRaiseAtMillis);
      }
      latches.raiseDebounced(a.raiseRuleId(), a.severity(), at, a.debounceMillis(), message, ev,
          ctx);
      if (late) {
        l.lateRaiseEventMillis = e.timeMillis();
      }
    }
    return true;
  }

  /** The event's own evidence, in this order: event, event_time_ms, then zone, point, text when present. */
  private static Map<String, Object> evidence(DeviceEvent e) {
    Map<String, Object> ev = new LinkedHashMap<>();
    ev.put("event", e.event());
    ev.put("event_time_ms", e.timeMillis());
    if (e.zone() != null) {
      ev.put("zone", e.zone());
    }
    if (e.point() != null) {
      ev.put("point", e.point());
    }
    if (e.text() != null) {
      ev.put("text", e.text());
    }
    return ev;
  }

  /** " zone Z point P" (or " zone Z", or "") for the alarm message. */
  private static String place(DeviceEvent e) {
    return e.zone() == null ? "" : (" zone " + e.zone() + (e.point() == null ? "" : " point " + e.point()));
  }
}
