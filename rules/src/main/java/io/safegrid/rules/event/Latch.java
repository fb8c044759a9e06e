package io.safegrid.rules.event;

import io.safegrid.model.Severity;

/**
 * One device's open/closed state of one latched rule (an event or state-code alarm), with the
 * event time of its last change so a late event never undoes a newer one. Not thread-safe.
 */
public final class Latch {

  boolean open;
  Severity severity;
  long changedAtMillis = Long.MIN_VALUE;

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
    this.open = true;
    this.severity = severity;
  }
}
