package io.safegrid.rules.rate;

import io.safegrid.rules.RuleContext;

/**
 * One device's samples for one {@link RateOfChangeRule}: a ring buffer of (time ms, value) in
 * time order, at most {@link RateOfChangeRule#CAPACITY}, plus whether the alarm is active.
 * Allocation-free after construction. Not thread-safe: owned by one engine shard.
 */
public final class RateWindow {

  final RateOfChangeRule rule;
  final String deviceId;
  private final long[] times = new long[RateOfChangeRule.CAPACITY];
  private final double[] values = new double[RateOfChangeRule.CAPACITY];
  private int head; // index of the oldest sample
  private int size;
  boolean active;

  RateWindow(RateOfChangeRule rule, String deviceId) {
    this.rule = rule;
    this.deviceId = deviceId;
  }

  /** Evaluates one accepted (newest) reading of the rule's metric. */
  public void evaluate(long timeMillis, double value, RuleContext ctx) {
    rule.evaluate(this, timeMillis, value, ctx);
  }

  /** Whether the alarm is active. */
  public boolean active() {
    return active;
  }

  /** Marks the alarm active without emitting (restart: it is open in the ledger). */
  public void restoreActive(boolean active) {
    this.active = active;
  }

  void add(long time, double value) {
    int mask = times.length;
    if (size == mask) {
      head = (head + 1) % mask;
      size--;
    }
    int idx = (head + size) % mask;
    times[idx] = time;
    values[idx] = value;
    size++;
  }

  void dropOlderThan(long cutoff) {
    while (size > 1 && times[head] < cutoff) {
      head = (head + 1) % times.length;
      size--;
    }
  }

  long oldestTime() {
    return times[head];
  }

  double oldestValue() {
    return values[head];
  }
}
