package io.safegrid.rules.rate;

import io.safegrid.rules.RuleContext;

/**
 * One device's samples for one {@link RateOfChangeRule}, thinned by time so that the window
 * always spans the rule's time window whatever the report interval: the window is cut into
 * {@link RateOfChangeRule#BUCKETS} buckets of {@code windowMillis / BUCKETS} (28.125 s for the
 * Dongnan 3,600 s window) and each bucket keeps the mean time and mean value of the samples that
 * fell in it, plus its first and last sample times. A gauge reporting every second fills a bucket
 * with 28 samples; one reporting every 5 min puts one sample in a bucket. Memory is bounded
 * ({@code BUCKETS + 2} slots, about 4 KB) and the whole is allocation-free after construction.
 * Buckets whose last sample is older than the window are dropped. Samples come in time order (the
 * engine's rule clock, never going back). Not thread-safe: owned by one engine shard.
 */
public final class RateWindow {

  private static final int SLOTS = RateOfChangeRule.BUCKETS + 2;

  final RateOfChangeRule rule;
  final String deviceId;
  private final long bucketMillis;
  private final long[] index = new long[SLOTS]; // bucket number: time / bucketMillis
  private final long[] first = new long[SLOTS]; // first sample's time, epoch ms
  private final long[] last = new long[SLOTS]; // last sample's time, epoch ms
  private final long[] sumDt = new long[SLOTS]; // sum of (time - first), ms
  private final double[] sumValue = new double[SLOTS];
  private final int[] count = new int[SLOTS];
  private int head; // slot of the oldest bucket
  private int size;
  boolean active;

  RateWindow(RateOfChangeRule rule, String deviceId) {
    this.rule = rule;
    this.deviceId = deviceId;
    this.bucketMillis = Math.max(1, rule.windowMillis() / RateOfChangeRule.BUCKETS);
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

  /** Adds a sample (time not before the previous one's), then drops buckets older than {@code cutoff}. */
  void add(long time, double value, long cutoff) {
    long b = Math.floorDiv(time, bucketMillis);
    int newest = slot(size - 1);
    if (size > 0 && index[newest] >= b) {
      // the same bucket (or, should a time go back, the newest one): one more sample in it
      sumDt[newest] += Math.max(0, time - first[newest]);
      sumValue[newest] += value;
      count[newest]++;
      last[newest] = Math.max(last[newest], time);
    } else {
      if (size == SLOTS) {
        head = (head + 1) % SLOTS;
        size--;
      }
      int s = slot(size);
      index[s] = b;
      first[s] = time;
      last[s] = time;
      sumDt[s] = 0;
      sumValue[s] = value;
      count[s] = 1;
      size++;
    }
    while (size > 1 && last[head] < cutoff) {
      head = (head + 1) % SLOTS;
      size--;
    }
  }

  private int slot(int i) {
    return (head + i) % SLOTS;
  }

  /** Buckets in the window. */
  int size() {
    return size;
  }

  /** Time of the oldest sample in the window, epoch ms. */
  long oldestSampleTime() {
    return first[head];
  }

  /** Mean sample time of the i-th bucket (0 = oldest), epoch ms. */
  long time(int i) {
    int s = slot(i);
    return first[s] + sumDt[s] / count[s];
  }

  /** Mean value of the i-th bucket (0 = oldest), in the metric's unit. */
  double value(int i) {
    int s = slot(i);
    return sumValue[s] / count[s];
  }

  /**
   * The bucket (of {@code from}, {@code from + 1}, {@code from + 2}) whose mean value is the
   * median of the three: a single outlying sample (a boat wake, a sticking float) is never picked.
   */
  int median3(int from) {
    double a = value(from);
    double b = value(from + 1);
    double c = value(from + 2);
    if ((a <= b && b <= c) || (c <= b && b <= a)) {
      return from + 1;
    }
    if ((b <= a && a <= c) || (c <= a && a <= b)) {
      return from;
    }
    return from + 2;
  }
}
