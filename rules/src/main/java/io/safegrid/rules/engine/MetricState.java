package io.safegrid.rules.engine;

import io.safegrid.rules.config.RuleSet.MetricRules;
import io.safegrid.rules.rate.RateWindow;
import io.safegrid.rules.threshold.ThresholdState;

/**
 * One device's newest value of one metric, the states of the rules reading it, and what the engine
 * believes about the device's clock for this metric (see {@link RuleEngine}, "Order").
 */
final class MetricState {

  /** Device time (epoch ms as sent) of the newest reading of the current clock epoch. */
  long latestTime = Long.MIN_VALUE;
  double latestValue = Double.NaN;
  /**
   * Rule clock (epoch ms) of the newest reading: its device time while the clock is trusted, its
   * arrival time while it is behind; never goes back.
   */
  long ruleTime = Long.MIN_VALUE;
  /**
   * Device time of a reading that was older than the newest and more than the tolerance behind
   * the gateway clock: a clock that may have gone back, confirmed by the next such reading.
   * Long.MIN_VALUE when none.
   */
  long suspectTime = Long.MIN_VALUE;
  /** Gateway clock (epoch ms) when {@link #suspectTime} arrived. */
  long suspectArrival;
  /** Whether the device's clock is judged behind: readings are evaluated on their arrival time. */
  boolean clockBehind;
  /** Newest device time ever judged for this metric, in any clock epoch (Long.MIN_VALUE: none). */
  long maxSeen = Long.MIN_VALUE;
  /**
   * The keys of the last {@link #SEEN} readings judged (evaluated, late or suspect): each a 32-bit
   * mix of the reading's device time and value ({@link #key}). A reading whose key is one of them
   * is a resend (QoS 1 after a lost PUBACK, a persistent session resumed later), never judged
   * twice. 32 = the MQTT Receive Maximum the gateway grants ({@code MqttLimits}), so a whole
   * in-flight window is covered. The key is not the reading: any two different (time, value)
   * pairs can share it, so a reading not newer than {@link #maxSeen} that was never judged (a real
   * late reading) is taken for a resend, not judged and not flagged, with a chance of about 32 in
   * 2^32 (7.5e-9) per check. 144 bytes a metric: 10,000 devices with 3 metrics each hold 4.3 MB.
   */
  private final int[] seen = new int[SEEN];
  private int seenCount;
  private int seenNext;

  /** How many recent device times are kept per metric for resend detection. */
  static final int SEEN = 32;
  final MetricRules rules; // null when no rule reads the metric
  final ThresholdState[] thresholds;
  final RateWindow[] rates;

  /**
   * Whether a reading at device time {@code t} with value {@code v} was judged already (a resend
   * carries both; a clock reset twice can give a time again, but with another value when it
   * matters: a hazardous one).
   */
  boolean seen(long t, double v) {
    if (t > maxSeen) {
      return false;
    }
    int k = key(t, v);
    for (int i = 0; i < seenCount; i++) {
      if (seen[i] == k) {
        return true;
      }
    }
    return false;
  }

  private static int key(long t, double v) {
    long b = Double.doubleToLongBits(v);
    return (int) t ^ (int) (b ^ (b >>> 32)) * 0x9E3779B9;
  }

  /** Records that a reading at device time {@code t} with value {@code v} was judged. */
  void remember(long t, double v) {
    seen[seenNext] = key(t, v);
    seenNext = (seenNext + 1) & (SEEN - 1);
    if (seenCount < SEEN) {
      seenCount++;
    }
    if (t > maxSeen) {
      maxSeen = t;
    }
  }

  MetricState(String deviceId, MetricRules rules) {
    this.rules = rules;
    if (rules == null) {
      thresholds = new ThresholdState[0];
      rates = new RateWindow[0];
    } else {
      thresholds = new ThresholdState[rules.thresholds().length];
      for (int i = 0; i < thresholds.length; i++) {
        thresholds[i] = rules.thresholds()[i].newState(deviceId);
      }
      rates = new RateWindow[rules.rates().length];
      for (int i = 0; i < rates.length; i++) {
        rates[i] = rules.rates()[i].newState(deviceId);
      }
    }
  }
}
