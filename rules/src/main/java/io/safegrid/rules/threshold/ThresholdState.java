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
  /** Device time of the newest in-order reading (its own {@code ts}), for evidence. */
  long lastTimeMillis;
  /** Rule clock of the newest in-order reading (its arrival time when the clock is behind). */
  long lastRuleTimeMillis;
  /** Whether the newest in-order reading was judged on its arrival time (device clock behind). */
  boolean lastOnArrival;
  /**
   * Device time of the newest in-order reading when the level last went down (lowered or
   * cleared); a late reading older than this is history. Long.MIN_VALUE when never.
   */
  long downTimeMillis = Long.MIN_VALUE;
  /**
   * Level (1..n) every late reading of the open run reached (with the hysteresis), while its
   * duration is shorter than the debounce; 0 when no run is open.
   */
  int lateRunLevel;
  /** Device time (epoch ms) of the oldest late reading of the open run. */
  long lateRunSinceMillis;
  /** Device time (epoch ms) of the newest late reading of the open run. */
  long lateRunLastMillis;
  /** How many known lows (device times) a debounced threshold keeps for its late runs. */
  static final int LOWS = 16;
  /**
   * Device times (epoch ms) of the last {@link #LOWS} known readings (in order, or late) back past
   * level 1's hysteresis, a ring; no late run spans one. Null until the first (only a debounced
   * threshold keeps them: 128 bytes).
   */
  private long[] lows;
  private int lowsNext;
  private int lowsCount;
  /**
   * Longest gap (ms) between two late readings of one run, beyond the debounce: the device's
   * inactivity timeout (report interval x offline intervals, 180 s for a Dongnan gas unit), set
   * by the engine; a gap longer than that is a hole in the record, not a level that held.
   */
  long lateGapMillis;
  /**
   * Whether the open level was raised by a late reading at its own past time and no newer judged
   * reading has held it since (then {@link io.safegrid.rules.RuleContext#held} tells, once).
   */
  boolean openedLate;

  ThresholdState(ThresholdRule rule, String deviceId) {
    this.rule = rule;
    this.deviceId = deviceId;
  }

  /**
   * Evaluates one accepted (newest) reading of the rule's metric on its own time.
   *
   * @param timeMillis the reading's time, epoch ms
   * @param value the value, in the metric's unit
   */
  public void evaluate(long timeMillis, double value, RuleContext ctx) {
    rule.evaluate(this, timeMillis, timeMillis, false, value, ctx);
  }

  /**
   * Evaluates one accepted (newest) reading of the rule's metric on the engine's rule clock.
   *
   * @param ruleTimeMillis the rule clock, epoch ms: the reading's time, or its arrival time when
   *     the device's clock is behind; never less than the previous call's
   * @param readingTimeMillis the time the device sent, epoch ms (shown in evidence)
   * @param onArrival true when {@code ruleTimeMillis} is the arrival time (device clock behind)
   * @param value the value, in the metric's unit
   */
  public void evaluate(long ruleTimeMillis, long readingTimeMillis, boolean onArrival,
      double value, RuleContext ctx) {
    rule.evaluate(this, ruleTimeMillis, readingTimeMillis, onArrival, value, ctx);
  }

  /**
   * Checks a late reading (older than the newest one) for a raise only; see {@link
   * io.safegrid.rules.LateCheck}. The value must reach the setpoint itself. Without a debounce it
   * raises at once. With one (the site's {@code debounce_s}) the same debounce and hysteresis as in
   * order apply, on the late readings' own times: late readings past the setpoint whose device
   * times are contiguous (in any arrival order: each within the gap, {@link #lateGap}, of the
   * run's oldest or newest reading, with no known reading back past level 1's hysteresis between
   * them) and each within the hysteresis of the run's level form a run; it raises ({@link
   * io.safegrid.rules.LateCheck#RAISED}) the level all its readings held once its newest minus
   * its oldest reaches the debounce, at its oldest time plus the debounce, else answers {@link
   * io.safegrid.rules.LateCheck#PENDING}; a known reading (in order or late) back past the
   * hysteresis within the run's gap, or one at the open alarm's level, ends the run (review7 R3,
   * R18; docs/rules.md "Time and order"). A reading
   * checked without history (its device's clock may have gone back, so it may be the present)
   * raises at once whatever the debounce: its raise is never delayed.
   *
   * @param readingTimeMillis the time the device sent, epoch ms (compared with the last clear)
   * @param atMillis the transition's time, epoch ms: the reading's own time, or its arrival
   *     time when the device's clock is suspected to be wrong
   * @param value the value, in the metric's unit
   * @param receivedMillis the engine clock when it arrived, epoch ms (for evidence)
   */
  public io.safegrid.rules.LateCheck lateRaise(long readingTimeMillis, long atMillis, double value,
      long receivedMillis, RuleContext ctx) {
    return rule.lateRaise(this, readingTimeMillis, atMillis, value, receivedMillis, true, true,
        ctx);
  }

  /**
   * As {@link #lateRaise(long, long, double, long, RuleContext)}; with {@code checkHistory}
   * false a reading older than the last lowering still raises: the device's clock may have gone
   * back, so its time cannot be compared with the last clear's (a resend never gets here: the
   * engine knows the times it judged).
   */
  public io.safegrid.rules.LateCheck lateRaise(long readingTimeMillis, long atMillis, double value,
      long receivedMillis, boolean checkHistory, RuleContext ctx) {
    return rule.lateRaise(this, readingTimeMillis, atMillis, value, receivedMillis, checkHistory,
        checkHistory, ctx);
  }

  /**
   * As {@link #lateRaise(long, long, double, long, boolean, RuleContext)}, with the history check
   * and the debounce chosen apart: the first far-behind message holding several times of the
   * metric (a cached backlog, or a multi-sample unit whose clock went back) is debounced on its
   * own times but has no history check (review8 R8-7).
   *
   * @param debounce whether the threshold's debounce applies (on the late readings' own times);
   *     without it the reading raises at once
   */
  public io.safegrid.rules.LateCheck lateRaise(long readingTimeMillis, long atMillis, double value,
      long receivedMillis, boolean checkHistory, boolean debounce, RuleContext ctx) {
    return rule.lateRaise(this, readingTimeMillis, atMillis, value, receivedMillis, checkHistory,
        debounce, ctx);
  }

  /**
   * Forgets the device time of the last lowering: the device's clock went back, so times of the
   * old clock cannot be compared with the new one.
   */
  public void newClockEpoch() {
    downTimeMillis = Long.MIN_VALUE;
    lateRunLevel = 0;
    lowsCount = 0;
  }

  /** Remembers a known low's device time (see {@link #LOWS}). */
  void rememberLow(long timeMillis) {
    if (lows == null) {
      lows = new long[LOWS];
    }
    lows[lowsNext] = timeMillis;
    lowsNext = (lowsNext + 1) % LOWS;
    if (lowsCount < LOWS) {
      lowsCount++;
    }
  }

  /** Whether a known low lies strictly between {@code fromMillis} and {@code toMillis}. */
  boolean lowBetween(long fromMillis, long toMillis) {
    for (int i = 0; i < lowsCount; i++) {
      if (lows[i] > fromMillis && lows[i] < toMillis) {
        return true;
      }
    }
    return false;
  }

  /**
   * Sets the longest gap between two late readings of one run (see {@link #lateRaise}): the
   * device's inactivity timeout, ms, >= 0.
   */
  public void lateGap(long millis) {
    this.lateGapMillis = Math.max(0, millis);
  }

  /** The longest gap between two late readings of one run, ms: at least the debounce. */
  long lateGapMillis(ThresholdRule rule) {
    return Math.max(lateGapMillis, rule.debounceMillis());
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
    this.openedLate = false;
  }

  public ThresholdRule rule() {
    return rule;
  }
}
