package io.safegrid.rules.threshold;

import io.safegrid.rules.RuleContext;

/**
 * One device's state for one {@link ThresholdRule}: current level (0 = no alarm), a pending
 * (debounced) level and since when. Not thread-safe: owned by one engine shard.
 */
public final class ThresholdState implements RuleContext.Confirmable {

  final ThresholdRule rule;
  final String deviceId;
  int level;
  int pendingLevel = -1;
  long pendingSinceMillis;
  long token;
  double lastValue = Double.NaN;
  long lastTimeMillis;

  ThresholdState(ThresholdRule rule, String deviceId) {
    this.rule = rule;
    this.deviceId = deviceId;
  }

  /** Evaluates one accepted (newest) reading of the rule's metric. */
  public void evaluate(long timeMillis, double value, RuleContext ctx) {
    rule.evaluate(this, timeMillis, value, ctx);
  }

  @Override
  public void confirm(long token, long nowMillis, RuleContext context) {
    rule.confirm(this, token, nowMillis, context);
  }

  /** Current level: 0 none, 1..n. */
  public int level() {
    return level;
  }

  /** Sets the level without emitting (restart: the alarm is already open in the ledger). */
  public void restoreLevel(int level) {
    this.level = Math.max(0, Math.min(level, rule.levels()));
    this.pendingLevel = -1;
    this.token++;
  }

  public ThresholdRule rule() {
    return rule;
  }
}
