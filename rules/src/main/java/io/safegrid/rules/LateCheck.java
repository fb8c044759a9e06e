package io.safegrid.rules;

/**
 * What a rule did with a late reading: one older (by the device's clock) than the device's newest
 * reading of the same metric, arriving within the clock tolerance (a cached backlog sent after a
 * current reading, or readings after one stamped a little ahead). A late reading is checked for
 * raises only: it may raise or escalate an alarm, never lower or clear one, because a newer
 * reading already decided the device's present state (docs/rules.md "Time and order").
 */
public enum LateCheck {
  /** The value is not past any setpoint (or the code raises nothing): nothing to do. */
  NOT_PAST_SETPOINT,
  /** Past a setpoint, but an alarm at that severity or above is already open: nothing to do. */
  ALREADY_OPEN,
  /** Past a setpoint: raised (or escalated) the alarm, with the reading's own time. */
  RAISED,
  /**
   * Past a setpoint, but the rule has a debounce and the late readings past it so far span less
   * than that: not raised (yet). A one-sample spike in a backlog is filtered as it is in order.
   */
  PENDING,
  /**
   * Past a setpoint, but older than the newest reading that lowered or cleared that alarm: the
   * alarm that covered that time was already raised and cleared, so it is history. (A QoS 1
   * resend never gets here: the engine knows the device times it judged, a resend is a
   * duplicate.)
   */
  HISTORY
}
