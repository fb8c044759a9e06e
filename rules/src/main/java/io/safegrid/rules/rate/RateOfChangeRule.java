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
 * Rate of rise of one metric over a sliding window, e.g. a river rising faster than 0.5 m per
 * hour. Immutable; its per-device state is a {@link RateWindow}.
 *
 * <p>The rate is {@code (newest value - oldest value in the window) / (their time apart in
 * hours)}, in the metric's unit per hour. It is judged only once the samples in the window span
 * at least {@code minSpanMillis}, so two close readings with a little noise never raise. It
 * raises when the rate is strictly above {@code limitPerHour} and clears when it falls below
 * {@code limitPerHour - hysteresisPerHour}.
 */
public final class RateOfChangeRule {

  /** Most samples a window keeps (older ones are dropped first). */
  public static final int CAPACITY = 128;

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
    w.add(timeMillis, value);
    w.dropOlderThan(timeMillis - windowMillis);
    long span = timeMillis - w.oldestTime();
    if (span < minSpanMillis) {
      return;
    }
    double rate = (value - w.oldestValue()) * 3_600_000.0 / span;
    if (!w.active && rate > limitPerHour) {
      w.active = true;
      emit(w, Kind.RAISE, rate, span, timeMillis, value, ctx);
    } else if (w.active && rate < limitPerHour - hysteresisPerHour) {
      w.active = false;
      emit(w, Kind.CLEAR, rate, span, timeMillis, value, ctx);
    }
  }

  private void emit(RateWindow w, Kind kind, double rate, long span, long time, double value,
      RuleContext ctx) {
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
    ev.put("from_value", w.oldestValue());
    ev.put("from_time_ms", w.oldestTime());
    ev.put("window_ms", windowMillis);
    ctx.emit(new AlarmTransition(w.deviceId, ruleId, kind, severity, time, message, ev));
  }
}
