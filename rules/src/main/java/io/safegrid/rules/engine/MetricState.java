package io.safegrid.rules.engine;

import io.safegrid.rules.config.RuleSet.MetricRules;
import io.safegrid.rules.rate.RateWindow;
import io.safegrid.rules.threshold.ThresholdState;

/** One device's newest value of one metric and the states of the rules reading it. */
final class MetricState {

  long latestTime = Long.MIN_VALUE;
  double latestValue = Double.NaN;
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
