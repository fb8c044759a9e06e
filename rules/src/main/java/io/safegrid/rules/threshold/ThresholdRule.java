package io.safegrid.rules.threshold;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.Severity;
import io.safegrid.rules.LateCheck;
import io.safegrid.rules.RuleContext;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A threshold rule on one metric with one or more levels, hysteresis and debounce. Immutable;
 * its per-device state is a {@link ThresholdState}.
 *
 * <p>Levels are numbered 1..n, each with a setpoint and a severity, ordered from the least to the
 * most severe (for {@link Direction#ABOVE} setpoints ascend, for {@link Direction#BELOW} they
 * descend). A reading enters level i when it reaches the setpoint ({@code value >= setpoint} for
 * ABOVE, {@code value < setpoint} for BELOW); it stays at level i (or higher) while it has not
 * moved more than the hysteresis back ({@code value >= setpoint - hysteresis}, resp. {@code value
 * < setpoint + hysteresis}); past that it falls to the next level that holds, or clears. Example, gas (GB/T 50493-2019 5.5.2): level 1 at 25 %LEL (MAJOR), level 2 at 50 %LEL
 * (CRITICAL), hysteresis 2 %LEL: 24.9 nothing, 25.0 raises MAJOR, 50 changes severity to
 * CRITICAL, 47.9 back to MAJOR, 22.9 clears.
 *
 * <p>Debounce (duration): with {@code debounceMillis > 0} a change of level (up or down, clear
 * included) happens only once the new condition has held for that long: confirmed by a reading at
 * least that much later that still asks for a change in the same direction, or by the engine's
 * deadline call at {@code since + debounce}. A reading that asks for the current level again
 * cancels the pending change, so a value hovering around the setpoint never raises.
 *
 * <p>Late readings (older than the newest, see {@link ThresholdState#lateRaise}) may raise or
 * escalate, never lower or clear; with a debounce they raise only once a run of contiguous late
 * readings (by device time, in any arrival order) past the setpoint spans it, hysteresis holding
 * the level between them.
 * Durations run on the engine's rule clock, which is the reading's own time unless the device's
 * clock is behind or stopped (then its arrival time).
 */
public final class ThresholdRule {

  /** Which side of the setpoints is the alarm side. */
  public enum Direction {
    /** Alarm when the value is at or above the setpoint (gas %LEL, river level). */
    ABOVE,
    /**
     * Alarm when the value is below the setpoint (battery %: {@code battery_pct < 20}); it holds
     * while below setpoint + hysteresis.
     */
    BELOW
  }

  private final String ruleId;
  private final String metric;
  private final String label;
  private final String unit;
  private final Direction direction;
  private final double[] setpoints;
  private final Severity[] severities;
  private final double hysteresis;
  private final long debounceMillis;

  /**
   * @param ruleId stable rule id, e.g. {@code gas-lel-threshold}
   * @param metric metric name with unit suffix, e.g. {@code gas_lel}
   * @param label what the value is, for messages, e.g. {@code gas}
   * @param unit unit for messages, e.g. {@code %LEL}
   * @param direction alarm side
   * @param setpoints one per level, least severe first, in the metric's unit
   * @param severities one per level
   * @param hysteresis how far back past a setpoint the value must go to leave the level, >= 0
   * @param debounceMillis how long a new condition must hold before the level changes, ms, >= 0
   * @throws IllegalArgumentException when the levels are empty, unordered, or sizes differ
   */
  public ThresholdRule(
      String ruleId,
      String metric,
      String label,
      String unit,
      Direction direction,
      double[] setpoints,
      Severity[] severities,
      double hysteresis,
      long debounceMillis) {
    this.ruleId = Objects.requireNonNull(ruleId, "ruleId");
    this.metric = Objects.requireNonNull(metric, "metric");
    this.label = Objects.requireNonNull(label, "label");
    this.unit = Objects.requireNonNull(unit, "unit");
    this.direction = Objects.requireNonNull(direction, "direction");
    if (setpoints.length == 0 || setpoints.length != severities.length) {
      throw new IllegalArgumentException(
          ruleId + ": need one severity per setpoint and at least one level");
    }
    for (int i = 0; i < setpoints.length; i++) {
      if (!Double.isFinite(setpoints[i])) {
        throw new IllegalArgumentException(ruleId + ": setpoint must be finite");
      }
      if (i > 0
          && (direction == Direction.ABOVE
              ? setpoints[i] <= setpoints[i - 1]
              : setpoints[i] >= setpoints[i - 1])) {
        throw new IllegalArgumentException(
            ruleId + ": setpoints must go towards the more severe side: " + Arrays.toString(setpoints));
      }
    }
    if (!(hysteresis >= 0) || debounceMillis < 0) {
      throw new IllegalArgumentException(ruleId + ": hysteresis and debounce must be >= 0");
    }
    this.setpoints = setpoints.clone();
    this.severities = severities.clone();
    this.hysteresis = hysteresis;
    this.debounceMillis = debounceMillis;
  }

  public String ruleId() {
    return ruleId;
  }

  public String metric() {
    return metric;
  }

  /** Number of levels. */
  public int levels() {
    return setpoints.length;
  }

  /** Setpoint of level {@code level} (1-based), in the metric's unit. */
  public double setpoint(int level) {
    return setpoints[level - 1];
  }

  /** Severity of level {@code level} (1-based). */
  public Severity severity(int level) {
    return severities[level - 1];
  }

  public double hysteresis() {
    return hysteresis;
  }

  public long debounceMillis() {
    return debounceMillis;
  }

  /** A fresh per-device state (no level). */
  public ThresholdState newState(String deviceId) {
    return new ThresholdState(this, deviceId);
  }

  /**
   * The highest level whose setpoint {@code severity} reaches, or the lowest level when none has
   * it (a restored alarm of unexpected severity keeps at least level 1).
   */
  public int levelFor(Severity severity) {
    for (int i = severities.length; i >= 1; i--) {
      if (severities[i - 1].compareTo(severity) <= 0) {
        return i;
      }
    }
    return 1;
  }

  /** The level a value asks for, given the current level (hysteresis applies to held levels). */
  int targetLevel(double value, int current) {
    if (direction == Direction.ABOVE) {
      for (int i = setpoints.length; i >= 1; i--) {
        double sp = setpoints[i - 1];
        if (value >= sp || (current >= i && value >= sp - hysteresis)) {
          return i;
        }
      }
    } else {
      for (int i = setpoints.length; i >= 1; i--) {
        double sp = setpoints[i - 1];
        if (value < sp || (current >= i && value < sp + hysteresis)) {
          return i;
        }
      }
    }
    return 0;
  }

  /**
   * Evaluates one accepted (newest) reading against the state; allocation-free unless it emits.
   * Durations (debounce) run on {@code ruleTime}; evidence shows {@code readingTime}.
   */
  void evaluate(ThresholdState s, long ruleTime, long readingTime, boolean onArrival, double value,
      RuleContext ctx) {
    s.lastValue = value;
    s.lastTimeMillis = readingTime;
    s.lastRuleTimeMillis = ruleTime;
    s.lastOnArrival = onArrival;
    if (debounceMillis > 0 && !onArrival) {
      knownReading(s, readingTime, value);
    }
    int target = targetLevel(value, s.level);
    if (s.openedLate) {
      // the alarm a late reading opened at its own past time: a newer reading still past level 1
      // makes it an alarm of the present (for combinations); one back below clears it below
      s.openedLate = false;
      if (target > 0) {
        ctx.held(s.deviceId, ruleId, ruleTime);
      }
    }
    if (target == s.level) {
      s.pendingLevel = -1;
      return;
    }
    if (debounceMillis == 0) {
      change(s, target, ruleTime, ruleTime, ctx);
      return;
    }
    boolean sameDirection =
        s.pendingLevel >= 0 && Integer.signum(s.pendingLevel - s.level) == Integer.signum(target - s.level);
    if (!sameDirection) {
      s.pendingLevel = target;
      s.pendingSinceMillis = ruleTime;
      s.token++;
      ctx.callBackAt(ruleTime + debounceMillis, s, s.token);
      return;
    }
    s.pendingLevel = target;
    if (ruleTime - s.pendingSinceMillis >= debounceMillis) {
      change(s, target, ruleTime, s.pendingSinceMillis, ctx);
    }
  }

  /**
   * An in-order reading (or a late one not past the setpoint) of a debounced threshold, by the
   * device's clock: back past the hysteresis of an open late run's level and within its gap, it
   * ends the run (the level did not hold across it); below level 1's hysteresis it is remembered
   * as a known low ({@link ThresholdState#LOWS} kept), which no run may span.
   */
  private void knownReading(ThresholdState s, long readingTime, double value) {
    if (s.lateRunLevel > 0 && targetLevel(value, s.lateRunLevel) < s.lateRunLevel
        && readingTime >= s.lateRunSinceMillis - s.lateGapMillis(this)
        && readingTime <= s.lateRunLastMillis + s.lateGapMillis(this)) {
      s.lateRunLevel = 0;
    }
    if (targetLevel(value, setpoints.length) == 0) {
      s.rememberLow(readingTime);
    }
  }

  /** See {@link ThresholdState#lateRaise}. */
  LateCheck lateRaise(ThresholdState s, long readingTime, long atMillis, double value,
      long receivedMillis, boolean checkHistory, boolean debounce, RuleContext ctx) {
    // late readings past a setpoint whose device times are contiguous form a run that holds its
    // level with the hysteresis, as an in-order pending change does (review7 R3, R18). Not for a
    // reading judged on arrival (debounce false): it may be the present, and its raise is never
    // delayed
    boolean debounced = debounceMillis > 0 && debounce;
    boolean near = debounced && s.lateRunLevel > 0 && joins(s, readingTime);
    int target = targetLevel(value, near ? s.lateRunLevel : 0);
    if (target == 0) {
      if (debounced) {
        knownReading(s, readingTime, value);
      }
      return LateCheck.NOT_PAST_SETPOINT;
    }
    if (target <= s.level) {
      s.lateRunLevel = 0; // as an in-order reading at the open level cancels a pending change
      return LateCheck.ALREADY_OPEN;
    }
    if (checkHistory && readingTime <= s.downTimeMillis) {
      return LateCheck.HISTORY;
    }
    int level = target;
    if (debounced) {
      // the site's debounce applies to late readings too: they raise only once the late
      // readings themselves show the level held that long (a one-sample spike in a backlog is
      // filtered as it is in order), whatever order they arrive in (a backlog uploaded
      // newest-first extends the run backwards); how long it held after the last of them is
      // unknown, so a run never completes on the clock alone
      if (near) {
        s.lateRunSinceMillis = Math.min(s.lateRunSinceMillis, readingTime);
        s.lateRunLastMillis = Math.max(s.lateRunLastMillis, readingTime);
        s.lateRunLevel = Math.min(s.lateRunLevel, target); // the level every reading of it held
      } else {
        s.lateRunSinceMillis = readingTime;
        s.lateRunLastMillis = readingTime;
        s.lateRunLevel = target;
      }
      if (s.lateRunLastMillis - s.lateRunSinceMillis < debounceMillis) {
        return LateCheck.PENDING;
      }
      level = s.lateRunLevel;
      s.lateRunLevel = 0;
      if (level <= s.level) {
        return LateCheck.ALREADY_OPEN;
      }
      atMillis = s.lateRunSinceMillis + debounceMillis; // when it had held the debounce
    }
    int from = s.level;
    s.level = level;
    s.pendingLevel = -1;
    s.token++;
    Kind kind = from == 0 ? Kind.RAISE : Kind.SEVERITY_CHANGE;
    if (from == 0) {
      s.openedLate = atMillis < receivedMillis; // raised in the past, not on arrival
    }
    String message = String.format(Locale.ROOT, "%s %s %s %s level %d (%s %s)%s: late reading sent %s, received %s",
        label, fmt(value), unit, side(), level, fmt(setpoint(level)), unit,
        from == 0 ? "" : ", was level " + from, Instant.ofEpochMilli(readingTime),
        Instant.ofEpochMilli(receivedMillis));
    Map<String, Object> ev = evidence(value, readingTime, level, from);
    ev.put("late", true);
    ev.put("received_ms", receivedMillis);
    if (debounced) {
      ev.put("debounce_ms", debounceMillis);
      ev.put("held_since_ms", s.lateRunSinceMillis);
      ev.put("held_until_ms", s.lateRunLastMillis);
    }
    ctx.emit(new AlarmTransition(s.deviceId, ruleId, kind, severity(level), atMillis, message, ev));
    return LateCheck.RAISED;
  }

  /**
   * Whether a late reading at {@code readingTime} is contiguous with the open late run: within
   * the gap of either end ({@link ThresholdState#lateGapMillis}) and with no known low (a reading
   * back past level 1's hysteresis, one of the last {@link ThresholdState#LOWS}) between it and
   * the run.
   */
  private boolean joins(ThresholdState s, long readingTime) {
    long gap = s.lateGapMillis(this);
    if (readingTime < s.lateRunSinceMillis - gap || readingTime > s.lateRunLastMillis + gap) {
      return false;
    }
    return !(s.lowBetween(readingTime, s.lateRunSinceMillis)
        || s.lowBetween(s.lateRunLastMillis, readingTime));
  }

  /** The deadline call for a pending change. */
  void confirm(ThresholdState s, long token, long nowMillis, RuleContext ctx) {
    if (token != s.token || s.pendingLevel < 0) {
      return;
    }
    long due = s.pendingSinceMillis + debounceMillis;
    if (nowMillis < due) {
      return;
    }
    change(s, s.pendingLevel, due, s.pendingSinceMillis, ctx);
  }

  private void change(ThresholdState s, int target, long atMillis, long sinceMillis, RuleContext ctx) {
    int from = s.level;
    s.level = target;
    s.openedLate = false;
    s.pendingLevel = -1;
    s.token++;
    if (target < from) {
      // a lowering judged on arrival (clock ahead or behind) happened at its rule time, not at the
      // time the device sent: a clock 8 h ahead must not make every late reading of the next 8 h
      // history once NTP puts it right (review7 R8); behind, the device's old-epoch time is the
      // earlier of the two and stays (late readings of that epoch older than it are history)
      s.downTimeMillis = s.lastOnArrival ? Math.min(s.lastTimeMillis, s.lastRuleTimeMillis)
          : s.lastTimeMillis;
    }
    Kind kind;
    Severity severity;
    String message;
    if (from == 0) {
      kind = Kind.RAISE;
      severity = severity(target);
      message = String.format(Locale.ROOT, "%s %s %s %s level %d (%s %s)",
          label, fmt(s.lastValue), unit, side(), target, fmt(setpoint(target)), unit);
    } else if (target == 0) {
      kind = Kind.CLEAR;
      severity = severity(from);
      message = String.format(Locale.ROOT, "%s %s %s back past level 1 (%s %s, hysteresis %s %s)",
          label, fmt(s.lastValue), unit, fmt(setpoint(1)), unit, fmt(hysteresis), unit);
    } else {
      kind = Kind.SEVERITY_CHANGE;
      severity = severity(target);
      message = String.format(Locale.ROOT, "%s %s %s now level %d (%s %s), was level %d",
          label, fmt(s.lastValue), unit, target, fmt(setpoint(target)), unit, from);
    }
    Map<String, Object> ev = evidence(s.lastValue, s.lastTimeMillis, target, from);
    if (debounceMillis > 0) {
      ev.put("debounce_ms", debounceMillis);
      ev.put("held_since_ms", sinceMillis);
    }
    if (s.lastOnArrival) {
      // the device's clock is behind (reset, or far off) or ahead (more than the future skew):
      // judged on the time it arrived; a time after its rule time is a clock ahead
      message += ": device clock wrong (sent " + Instant.ofEpochMilli(s.lastTimeMillis)
          + "), judged on arrival";
      ev.put("device_clock", s.lastTimeMillis > s.lastRuleTimeMillis ? "ahead" : "behind");
      ev.put("rule_time_ms", s.lastRuleTimeMillis);
    }
    ctx.emit(new AlarmTransition(s.deviceId, ruleId, kind, severity, atMillis, message, ev));
  }

  private Map<String, Object> evidence(double value, long readingTime, int target, int from) {
    Map<String, Object> ev = new LinkedHashMap<>();
    ev.put("metric", metric);
    ev.put("value", value);
    ev.put("unit", unit);
    ev.put("reading_time_ms", readingTime);
    ev.put("level", target);
    ev.put("previous_level", from);
    int shown = target == 0 ? 1 : target;
    ev.put("setpoint", setpoint(shown));
    ev.put("hysteresis", hysteresis);
    ev.put("direction", direction.name().toLowerCase(Locale.ROOT));
    return ev;
  }

  private String side() {
    return direction == Direction.ABOVE ? "at or above" : "below";
  }

  /** Formats a value with up to two decimals and at least one, e.g. 25.0, 31.25, 270.8. */
  static String fmt(double v) {
    String s = String.format(Locale.ROOT, "%.2f", v);
    return s.endsWith("0") ? s.substring(0, s.length() - 1) : s;
  }
}
