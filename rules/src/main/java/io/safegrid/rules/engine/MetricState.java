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
  /** Whether the device's clock is judged behind: readings are evaluated on their arrival time. */
  boolean clockBehind;
  final MetricRules rules; // null when no rule reads the metric
  final ThresholdState[] thresholds;
  final RateWindow[] rates;

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
