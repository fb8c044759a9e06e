package io.safegrid.rules.event;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.Severity;
import io.safegrid.rules.RuleContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The latched rules of one device, by rule id, created on first use. Raising an open latch or
 * clearing a closed one does nothing, except a raise naming a zone the open alarm has not
 * reported ({@link #spread}: a fire spreading to another zone is a repeat); a change older (by
 * event time) than the latch's last change is ignored (late: it belongs to history). Not
 * thread-safe: owned by one engine shard.
 */
public final class Latches {

  /**
   * Most zones an open alarm lists ({@code zones} in its evidence); a zone past them raises no
   * further repeat. 64: more than a residential compound's fire panel has loops and zones.
   */
  public static final int MAX_ZONES = 64;

  private final String deviceId;
  private final Map<String, Latch> byRule = new HashMap<>(4);

  /** The device these latches belong to. */
  String deviceId() {
    return deviceId;
  }

  public Latches(String deviceId) {
    this.deviceId = deviceId;
  }

  /** The latch of a rule, created closed if absent. */
  public Latch get(String ruleId) {
    return byRule.computeIfAbsent(ruleId, k -> new Latch(this, k));
  }

  /** Whether the rule's latch exists and is open. */
  public boolean isOpen(String ruleId) {
    Latch l = byRule.get(ruleId);
    return l != null && l.open;
  }

  /**
   * Opens (RAISE) or re-grades (SEVERITY_CHANGE) a latch.
   *
   * @return true when it emitted
   */
  public boolean raise(String ruleId, Severity severity, long atMillis, String message,
      Map<String, Object> evidence, RuleContext ctx) {
    Latch l = get(ruleId);
    if (atMillis < l.changedAtMillis) {
      return false;
    }
    if (l.open && l.severity == severity) {
      return false;
    }
    Kind kind = l.open ? Kind.SEVERITY_CHANGE : Kind.RAISE;
    l.openedLate = false;
    if (!l.open && l.zones != null) {
      l.zones.clear(); // a new occurrence: its own zones
    }
    Object zone = evidence == null ? null : evidence.get("zone");
    if (zone instanceof Integer z) {
      addZone(l, z);
    }
    l.open = true;
    l.severity = severity;
    l.changedAtMillis = atMillis;
    l.aheadEventMillis = Long.MIN_VALUE;
    ctx.emit(new AlarmTransition(deviceId, ruleId, kind, severity, atMillis, message, evidence));
    return true;
  }

  /**
   * Raises a latch only if nothing clears it within {@code debounceMillis} (a transient fault that
   * recovers at once wakes nobody); the engine's deadline call raises it then, with the event's
   * time plus the debounce. With 0 it is {@link #raise}.
   */
  public void raiseDebounced(String ruleId, Severity severity, long atMillis, long debounceMillis,
      String message, Map<String, Object> evidence, RuleContext ctx) {
    if (debounceMillis <= 0) {
      raise(ruleId, severity, atMillis, message, evidence, ctx);
      return;
    }
    Latch l = get(ruleId);
    if (atMillis < l.changedAtMillis || (l.open && l.severity == severity)
        || l.pendingSeverity != null) {
      return;
    }
    l.pendingSeverity = severity;
    l.pendingSinceMillis = atMillis;
    l.pendingDebounceMillis = debounceMillis;
    l.pendingMessage = message;
    l.pendingEvidence = evidence;
    l.token++;
    ctx.callBackAt(atMillis + debounceMillis, l, l.token);
  }

  /**
   * Closes a latch (CLEAR) as {@link #clear} does on the event's own time; and also when the latch
   * was opened by a late raise (an event judged on arrival because the device's clock went back)
   * and this clear's device time is not older than that raise's device time: the device's own
   * clear after its own alarm, both on the clock that went back. That clear's time is {@code
   * max(nowMillis, the latch's last change)}.
   *
   * @param eventMillis the clear's device time, epoch ms
   * @param nowMillis the engine clock when it arrived, epoch ms
   * @return true when it emitted
   */
  public boolean clearLate(String ruleId, long eventMillis, long nowMillis, String message,
      Map<String, Object> evidence, RuleContext ctx) {
    Latch l = byRule.get(ruleId);
    if (l != null && eventMillis < l.changedAtMillis && (l.open || l.pendingSeverity != null)
        && l.lateRaiseEventMillis != Long.MIN_VALUE && eventMillis >= l.lateRaiseEventMillis) {
      Map<String, Object> ev = new java.util.LinkedHashMap<>(evidence);
      ev.put("late", true);
      ev.put("received_ms", nowMillis);
      return clear(ruleId, Math.max(nowMillis, l.changedAtMillis), message, ev, ctx);
    }
    return clear(ruleId, eventMillis, message, evidence, ctx);
  }

  /**
   * Opens or re-grades a latch for an event whose device time is more than the future skew ahead
   * of the gateway clock (a panel keeping Beijing time but writing UTC: 8 h ahead): at {@code
   * max(nowMillis, the latch's last change)}, the arrival time, never at its device time (which
   * would make the panel's later in-order events history). An event older (by device time) than
   * the ahead event that last changed the latch is history. The debounce applies as in {@link
   * #raiseDebounced}.
   *
   * @param eventMillis the event's device time, epoch ms
   * @param nowMillis the engine clock when it arrived, epoch ms
   */
  public void raiseAhead(String ruleId, Severity severity, long eventMillis, long nowMillis,
      long debounceMillis, String message, Map<String, Object> evidence, RuleContext ctx) {
    Latch l = get(ruleId);
    if (l.aheadEventMillis != Long.MIN_VALUE && eventMillis < l.aheadEventMillis) {
      return;
    }
    boolean opens = !l.open && l.pendingSeverity == null;
    raiseDebounced(ruleId, severity, Math.max(nowMillis, l.changedAtMillis), debounceMillis,
        message, evidence, ctx);
    l.aheadEventMillis = eventMillis;
    if (opens && (l.open || l.pendingSeverity != null)) {
      l.aheadOpenedEventMillis = eventMillis;
    }
  }

  /**
   * Closes a latch for an event with the device's clock ahead, as {@link #raiseAhead} opens one:
   * at {@code max(nowMillis, the latch's last change)}; history when older (by device time) than
   * the ahead event that last changed the latch.
   *
   * @return true when it emitted
   */
  public boolean clearAhead(String ruleId, long eventMillis, long nowMillis, String message,
      Map<String, Object> evidence, RuleContext ctx) {
    Latch l = get(ruleId);
    if (l.aheadEventMillis != Long.MIN_VALUE && eventMillis < l.aheadEventMillis) {
      return false;
    }
    boolean emitted = clear(ruleId, Math.max(nowMillis, l.changedAtMillis), message, evidence, ctx);
    l.aheadEventMillis = eventMillis;
    return emitted;
  }

  /**
   * Closes a latch (CLEAR). A clear of a closed latch still moves its change time forward, so a
   * late raise from before the clear stays history.
   *
   * @return true when it emitted
   */
  public boolean clear(String ruleId, long atMillis, String message, Map<String, Object> evidence,
      RuleContext ctx) {
    Latch l = byRule.get(ruleId);
    if (l == null) {
      l = get(ruleId);
    }
    if (atMillis < l.changedAtMillis) {
      return false;
    }
    l.changedAtMillis = atMillis;
    l.lateRaiseEventMillis = Long.MIN_VALUE;
    l.aheadEventMillis = Long.MIN_VALUE;
    l.aheadOpenedEventMillis = Long.MIN_VALUE;
    l.openedLate = false;
    // the clear's own time (an ahead or clock-back clear: its arrival, never a time 8 h ahead)
    l.clearedEventMillis = Math.max(l.clearedEventMillis, atMillis);
    if (l.zones != null) {
      l.zones.clear();
    }
    if (l.pendingSeverity != null) {
      l.pendingSeverity = null; // cleared within the debounce: never raised
      l.token++;
    }
    if (!l.open) {
      return false;
    }
    l.open = false;
    ctx.emit(new AlarmTransition(deviceId, ruleId, Kind.CLEAR, l.severity, atMillis, message, evidence));
    return true;
  }

  /**
   * A raise of an open latch, at the severity it has, by an event naming a zone the open alarm
   * has not reported: the fire has spread to another zone of the panel. Only {@code
   * fire-panel-fire} spreads: a fault, supervisory signal or shielded point in a further zone is
   * routine (a technician shielding points zone by zone, a loop fault) and changes nothing, as
   * before (review8 R8-4: each one was told as a "spread" and lapsed the acknowledgement). Emits a
   * {@link Kind#RAISE} on the open alarm, which the ledger records as a repeat (count + 1, an
   * {@code alarm_events} row {@code repeated}, a live event; the alarm's message and evidence
   * become this event's), with {@code zones} (every zone reported since the alarm opened, first
   * seen first) and {@code new_zone} in the evidence and "; zones in alarm: 1, 5" in the message
   * (newcomer7 F25). Nothing when the latch is closed, at another severity, or the zone was
   * reported already (a fire again in the same zone stays one alarm and changes nothing), or when
   * the event is older (by the device's clock) than the clear that last closed the latch (it
   * belongs to the occurrence that was reset) unless {@code anyTime} (the device's clock may have
   * gone back, or is ahead: its time cannot be compared with the clear's); then nothing either
   * when it is older than {@code notBeforeMillis}, the device time (on the same wrong clock) of
   * the event that opened the open occurrence: a stale, reordered event of the occurrence that
   * was reset is no spread of the new one (review8 R8-10). The transition's time is {@code
   * max(atMillis, the latch's last change)}, and becomes the latch's last change, so a late reset
   * from before the spread never clears it.
   *
   * @param zone the zone the event names
   * @param eventMillis the event's device time, epoch ms
   * @param atMillis the transition's time: the event's own time, or its arrival when judged on
   *     arrival (clock ahead or gone back), epoch ms
   * @param anyTime true when the event's device time cannot be compared with the last clear's
   * @param notBeforeMillis with {@code anyTime}: device time of the event that opened the open
   *     occurrence on the same clock, epoch ms, or {@link Long#MIN_VALUE} when not known
   * @return true when it emitted (the caller then raises nothing more for this event)
   */
  public boolean spread(String ruleId, Severity severity, int zone, long eventMillis,
      long atMillis, boolean anyTime, long notBeforeMillis, String message,
      Map<String, Object> evidence, RuleContext ctx) {
    if (!io.safegrid.rules.config.RuleSet.PANEL_FIRE.equals(ruleId)) {
      return false; // a fault, supervisory or shield in another zone is no spread (review8 R8-4)
    }
    Latch l = byRule.get(ruleId);
    if (l == null || !l.open || l.severity != severity
        || (l.zones != null && (l.zones.contains(zone) || l.zones.size() >= MAX_ZONES))
        || (!anyTime && eventMillis < l.clearedEventMillis)
        || (anyTime && notBeforeMillis != Long.MIN_VALUE && eventMillis < notBeforeMillis)) {
      return false;
    }
    addZone(l, zone);
    long at = Math.max(atMillis, l.changedAtMillis);
    l.changedAtMillis = at;
    Map<String, Object> ev = new java.util.LinkedHashMap<>(evidence);
    ev.put("new_zone", zone);
    ev.put("zones", List.copyOf(l.zones));
    StringBuilder m = new StringBuilder(message).append("; zones in alarm: ");
    for (int i = 0; i < l.zones.size(); i++) {
      m.append(i == 0 ? "" : ", ").append(l.zones.get(i));
    }
    ctx.emit(new AlarmTransition(deviceId, ruleId, Kind.RAISE, severity, at, m.toString(), ev));
    return true;
  }

  private static void addZone(Latch l, int zone) {
    if (l.zones == null) {
      l.zones = new ArrayList<>(2);
    }
    if (!l.zones.contains(zone) && l.zones.size() < MAX_ZONES) {
      l.zones.add(zone);
    }
  }
}
