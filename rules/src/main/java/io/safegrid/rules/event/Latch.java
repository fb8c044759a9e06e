package io.safegrid.rules.event;

import io.safegrid.model.Severity;

/**
 * One device's open/closed state of one latched rule (an event or state-code alarm), with the
 * event time of its last change so a late event never undoes a newer one. Not thread-safe.
 */
public final class Latch implements io.safegrid.rules.RuleContext.Confirmable {

  final Latches owner;
  final String ruleId;
  boolean open;
  Severity severity;
  long changedAtMillis = Long.MIN_VALUE;
  /**
   * Device time of the event whose late raise (device clock behind) last opened or re-graded this
   * latch, or Long.MIN_VALUE: a clear not older than it clears the latch (see {@link
   * Latches#clearLate}).
   */
  long lateRaiseEventMillis = Long.MIN_VALUE;
  /**
   * Device time of the event judged with the device's clock ahead (on arrival, see {@link
   * Latches#raiseAhead}) that last changed this latch, or Long.MIN_VALUE when its last change was
   * an in-order one: such an event older than it is history.
   */
  long aheadEventMillis = Long.MIN_VALUE;
  /**
   * The zones (as the panel numbers them) the open alarm has reported, in the order first seen,
   * at most {@link Latches#MAX_ZONES}; null until a raise names one, emptied by a clear. After a
   * restart, those the ledger's evidence lists ({@link #restoreOpen(Severity, java.util.List)});
   * when unknown, the first zone then reported counts as new.
   */
  java.util.List<Integer> zones;
  /**
   * Time (epoch ms) of the clear that last closed this latch: the event's own time, or its
   * arrival when judged on arrival (clock ahead or gone back); Long.MIN_VALUE when none. An event
   * older than it belongs to an occurrence that was reset, never a spread of the open one.
   */
  long clearedEventMillis = Long.MIN_VALUE;
  /**
   * Device time of the event judged with the device's clock ahead that opened the open (or
   * pending) occurrence, or Long.MIN_VALUE when it was opened otherwise: an ahead event older than
   * it belongs to an earlier occurrence and is never a spread of this one (review8 R8-10).
   */
  long aheadOpenedEventMillis = Long.MIN_VALUE;
  /**
   * Whether the open alarm was raised by a late state-code reading at its own past time and no
   * newer reading has held it since (then {@link io.safegrid.rules.RuleContext#held} tells, once,
   * for combinations: review8 R8-2).
   */
  boolean openedLate;
  // a debounced raise waiting for its time (pendingSeverity null when none)
  Severity pendingSeverity;
  long pendingSinceMillis;
  long pendingDebounceMillis;
  String pendingMessage;
  java.util.Map<String, Object> pendingEvidence;
  long token;

  Latch(Latches owner, String ruleId) {
    this.owner = owner;
    this.ruleId = ruleId;
  }

  @Override
  public void confirm(long token, long nowMillis, io.safegrid.rules.RuleContext ctx) {
    if (token != this.token || pendingSeverity == null
        || nowMillis < pendingSinceMillis + pendingDebounceMillis) {
      return;
    }
    Severity s = pendingSeverity;
    pendingSeverity = null;
    java.util.Map<String, Object> ev = new java.util.LinkedHashMap<>(pendingEvidence);
    ev.put("debounce_ms", pendingDebounceMillis);
    ev.put("held_since_ms", pendingSinceMillis);
    owner.raise(ruleId, s, pendingSinceMillis + pendingDebounceMillis, pendingMessage, ev, ctx);
  }

  /** Whether a debounced raise is waiting. */
  public boolean pending() {
    return pendingSeverity != null;
  }

  /** Whether the alarm is open. */
  public boolean open() {
    return open;
  }

  /** Severity while open, else the last one, or null if never raised. */
  public Severity severity() {
    return severity;
  }

  /** Marks the alarm open without emitting (restart: it is open in the ledger). */
  public void restoreOpen(Severity severity) {
    restoreOpen(severity, java.util.List.of());
  }

  /**
   * Marks the alarm open without emitting, with the zones it has reported (restart: it is open in
   * the ledger, its evidence lists them); empty when unknown.
   */
  public void restoreOpen(Severity severity, java.util.List<Integer> zones) {
    this.open = true;
    this.pendingSeverity = null;
    this.severity = severity;
    this.zones = zones.isEmpty() ? null : new java.util.ArrayList<>(
        zones.subList(0, Math.min(zones.size(), Latches.MAX_ZONES)));
  }
}
