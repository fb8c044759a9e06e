package io.safegrid.rules.engine;

/** What the engine did with one reading or event. */
public enum Outcome {
  /** Taken as the newest state and evaluated. */
  EVALUATED,
  /**
   * Older than the newest state of that metric: not taken as the state, checked for raises only
   * (see {@link io.safegrid.rules.LateCheck}); a reading judged on arrival because the device's
   * clock is behind is {@link #EVALUATED}.
   */
  LATE,
  /**
   * A device time already judged for that metric (one of the last 32), or an event identical to
   * one of the device's last 32: a resend, however late, ignored.
   */
  DUPLICATE,
  /**
   * More than 5 minutes behind the gateway clock, older than the newest and not among the last 32
   * judged: waits for storage's verdict ({@link StoredBefore}), then is judged, or taken for a
   * resend when it was stored before with the same value.
   */
  DEFERRED,
  /** A {@link Flag} was raised (future time, seconds as millis): not taken as newest state. */
  FLAGGED,
  /** The device is unknown or its rules do not compile: nothing evaluated. */
  UNKNOWN_DEVICE,
  /** Neither a rule nor the newest-state check reads this metric or event (counted as seen). */
  NO_RULE
}
