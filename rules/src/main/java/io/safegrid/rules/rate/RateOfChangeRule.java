package io.safegrid.rules.rate;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.Severity;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import io.safegrid.rules.RuleContext;

/**
 * Rate of rise of one metric over a sliding time window, e.g. a river rising faster than 0.5 m
 * per hour. Immutable; its per-device state is a {@link RateWindow}.
 *
 * <p>The window keeps the samples of the last {@code windowMillis} thinned by time into {@link
 * #BUCKETS} buckets (each the mean of the samples in {@code windowMillis / BUCKETS}), so it spans
 * the whole time window whatever the report interval: a gauge reporting every second and one
 * reporting every 5 minutes see the same rise (newcomer7 F27: a count-bounded window of 128
 * samples never spanned 900 s for a gauge reporting every 7 s or faster). It is judged only once
 * the samples in the window span at least {@code minSpanMillis}, so two close readings with a
 * little noise never raise.
 *
 * <p>The rate, in the metric's unit per hour, is taken between the median bucket of the oldest
 * three and the median bucket of the newest three ({@code (value - value) / (time apart in
 * hours)}), so no single sample makes a rate: a 0.2 m spike on a flat river (a boat wake at
 * Nanchong port, a float sticking) is never the median of three (newcomer7 F18). With fewer than
 * four buckets in the window (a gauge reporting every 20 min or less often) it is newest minus
 * oldest, as one sample is then all there is. With four buckets the two threes share two buckets;
 * when the newest three's median bucket is then older than the oldest three's, the rate is not
 * judged at that reading (taken as it stands, its sign would be turned). It raises when the rate is strictly above {@code
 * limitPerHour} and clears when it falls below {@code limitPerHour - hysteresisPerHour}.
 */
public final class RateOfChangeRule {

  /**
   * Buckets the window is cut into: each holds the mean of the samples of {@code window / 128}
   * (28.125 s for 3,600 s), so a window is at most 130 buckets (about 4 KB) whatever the report
   * interval.
   */
  public static final int BUCKETS = 128;

  private final String ruleId;
  private final String metric;
  private final String label;
  private final String unit;
  private final double limitPerHour;
  private final double hysteresisPerHour;
  private final long windowMillis;
  private final long minSpanMillis;
  private final Severity severity;

  /**
   * @param ruleId stable rule id, e.g. {@code river-rise-rate}
   * @param metric metric name, e.g. {@code water_level_m}
   * @param label for messages, e.g. {@code river level}
   * @param unit unit of the metric, e.g. {@code m}
   * @param limitPerHour rise per hour above which it raises (metric unit per hour), > 0
   * @param hysteresisPerHour how far below the limit the rate must fall to clear, >= 0
   * @param windowMillis the window, ms, > 0
   * @param minSpanMillis the least time the samples must span to judge, ms, 0 &lt; x &lt;= window
   * @param severity severity of the alarm
   */
  public RateOfChangeRule(
      String ruleId,
      String metric,
      String label,
      String unit,
      double limitPerHour,
      double hysteresisPerHour,
      long windowMillis,
      long minSpanMillis,
      Severity severity) {
    this.ruleId = Objects.requireNonNull(ruleId);
    this.metric = Objects.requireNonNull(metric);
    this.label = Objects.requireNonNull(label);
    this.unit = Objects.requireNonNull(unit);
    this.severity = Objects.requireNonNull(severity);
    if (!(limitPerHour > 0) || !(hysteresisPerHour >= 0) || windowMillis <= 0
        || minSpanMillis <= 0 || minSpanMillis > windowMillis) {
      throw new IllegalArgumentException(
          ruleId + ": need limit > 0, hysteresis >= 0, window > 0 and 0 < min span <= window");
    }
    this.limitPerHour = limitPerHour;
    this.hysteresisPerHour = hysteresisPerHour;
    this.windowMillis = windowMillis;
    this.minSpanMillis = minSpanMillis;
  }

  public String ruleId() {
    return ruleId;
  }

  public String metric() {
    return metric;
  }

  public double limitPerHour() {
    return limitPerHour;
  }

  public long windowMillis() {
    return windowMillis;
  }

  /** A fresh per-device window. */
  public RateWindow newState(String deviceId) {
    return new RateWindow(this, deviceId);
  }

  void evaluate(RateWindow w, long timeMillis, double value, RuleContext ctx) {
    w.add(timeMillis, value, timeMillis - windowMillis);
    int n = w.size();
    if (n < 2 || timeMillis - w.oldestSampleTime() < minSpanMillis) {
      return;
    }
    int from;
    int to;
    if (n < 4) {
      from = 0;
      to = n - 1;
    } else {
      from = w.median3(0);
      to = w.median3(n - 3);
    }
    long span = w.time(to) - w.time(from);
    if (span <= 0) {
      // One bucket at both ends, or (4 buckets: the two threes overlap) the newest three's median
      // bucket lies before the oldest three's: no rate to judge, and never one with its sign
      // turned (review8 R8-1: a falling 268.20, 268.05, 268.12, 268.00 m read as +0.84 m/h).
      return;
    }
    double rate = (w.value(to) - w.value(from)) * 3_600_000.0 / span;
    if (!w.active && rate > limitPerHour) {
      w.active = true;
      emit(w, Kind.RAISE, rate, from, timeMillis - w.oldestSampleTime(), timeMillis, value, ctx);
    } else if (w.active && rate < limitPerHour - hysteresisPerHour) {
      w.active = false;
      emit(w, Kind.CLEAR, rate, from, timeMillis - w.oldestSampleTime(), timeMillis, value, ctx);
    }
  }

  private void emit(RateWindow w, Kind kind, double rate, int from, long span, long time,
      double value, RuleContext ctx) {
    String message = String.format(Locale.ROOT,
        kind == Kind.RAISE
            ? "%s rising %.2f %s/h over %d min, above %.2f %s/h"
            : "%s rising %.2f %s/h over %d min, back under %.2f %s/h",
        label, rate, unit, span / 60_000, limitPerHour, unit);
    Map<String, Object> ev = new LinkedHashMap<>();
    ev.put("metric", metric);
    ev.put("value", value);
    ev.put("unit", unit);
    ev.put("reading_time_ms", time);
    ev.put("rate_per_h", rate);
    ev.put("limit_per_h", limitPerHour);
    ev.put("from_value", w.value(from));
    ev.put("from_time_ms", w.time(from));
    ev.put("window_ms", windowMillis);
    ctx.emit(new AlarmTransition(w.deviceId, ruleId, kind, severity, time, message, ev));
  }
}
