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
  /**
   * Device time (epoch ms as sent) of the newest reading judged with the device's clock more than
   * {@link RuleEngine#MAX_FUTURE_SKEW_MILLIS} ahead (judged on arrival, never {@link #latestTime});
   * Long.MIN_VALUE when none.
   */
  long aheadTime = Long.MIN_VALUE;
  /** Newest device time ever judged for this metric, in any clock epoch (Long.MIN_VALUE: none). */
  long maxSeen = Long.MIN_VALUE;
  /**
   * The last {@link #SEEN} readings judged (evaluated, late or suspect), exactly: at {@code 2i}
   * the device time (epoch ms as sent), at {@code 2i + 1} the value's bits ({@link
   * Double#doubleToLongBits}). A reading with the time and value of one of them is a resend (QoS 1
   * after a lost PUBACK, a persistent session resumed later), never judged twice. 32 = the MQTT
   * Receive Maximum the gateway grants ({@code MqttLimits}), so a whole in-flight window is
   * covered. Exact, not a hash: a real late reading is never taken for a resend (round 6 kept a
   * 32-bit mix, which one in about 1.3e8 checks took for one). 528 bytes a metric: 10,000 devices
   * with 3 metrics each hold 16 MB.
   */
  private final long[] seen = new long[2 * SEEN];
  private int seenCount;
  private int seenNext;

  /** How many recent readings (device time and value) are kept per metric for resend detection. */
  static final int SEEN = 32;
  final MetricRules rules; // null when no rule reads the metric
  final ThresholdState[] thresholds;
  final RateWindow[] rates;

  /**
   * Whether a reading at device time {@code t} with value {@code v} was judged already (a resend
   * carries both; a clock reset twice can give a time again, but with another value when it
   * matters: a hazardous one). Allocation-free; compares the exact time and value bits.
   */
  boolean seen(long t, double v) {
    if (t > maxSeen) {
      return false;
    }
    long b = Double.doubleToLongBits(v);
    for (int i = 0, n = 2 * seenCount; i < n; i += 2) {
      if (seen[i] == t && seen[i + 1] == b) {
        return true;
      }
    }
    return false;
  }

  /** Records that a reading at device time {@code t} with value {@code v} was judged. */
  void remember(long t, double v) {
    int i = 2 * seenNext;
    seen[i] = t;
    seen[i + 1] = Double.doubleToLongBits(v);
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
