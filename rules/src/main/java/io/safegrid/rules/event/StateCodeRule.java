package io.safegrid.rules.event;

import io.safegrid.model.Severity;
import io.safegrid.rules.RuleContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A device's own state reported as a numeric metric (e.g. a gas alarm's {@code state}), mapped to
 * latched alarms. A code either asks for one rule at one severity (and clears the family's
 * others), means "normal" (clears the whole family), or is neutral (nothing changes, e.g.
 * preheating). Immutable.
 *
 * <p>Gas alarm default codes (SafeGrid's numbering of the states units report, see the domain
 * brief): 0 normal, 1 low alarm ({@code gas-device-alarm} MAJOR), 2 high alarm ({@code
 * gas-device-alarm} CRITICAL), 3 fault ({@code gas-fault} MINOR), 4 sensor failure ({@code
 * gas-fault} MINOR), 5 preheating (neutral).
 */
public final class StateCodeRule {

  /**
   * One code's meaning.
   *
   * @param code the numeric code
   * @param name its name, e.g. {@code low_alarm}
   * @param ruleId the rule it raises, or null for normal/neutral
   * @param severity the severity, or null
   * @param normal true when the code clears the family
   */
  public record Code(int code, String name, String ruleId, Severity severity, boolean normal) {
    public Code {
      Objects.requireNonNull(name, "name");
    }
  }

  private final String metric;
  private final Code[] codes;
  private final String[] family; // an array: iterating it allocates nothing

  /**
   * @param metric metric carrying the code, e.g. {@code state}
   * @param codes the known codes
   */
  public StateCodeRule(String metric, List<Code> codes) {
    this.metric = Objects.requireNonNull(metric);
    this.codes = codes.toArray(new Code[0]);
    this.family = codes.stream().map(Code::ruleId).filter(Objects::nonNull).distinct()
        .toArray(String[]::new);
  }

  public String metric() {
    return metric;
  }

  /** The rule ids this code table raises. */
  public List<String> ruleIds() {
    return List.of(family);
  }

  /** Applies one accepted (newest) reading of the metric. Unknown codes do nothing. */
  public void evaluate(long timeMillis, double value, Latches latches, RuleContext ctx) {
    Code c = null;
    for (Code k : codes) {
      if (k.code() == value) {
        c = k;
        break;
      }
    }
    if (c == null || (c.ruleId() == null && !c.normal())) {
      return;
    }
    if (c.ruleId() != null && latches.isOpen(c.ruleId()) && latches.get(c.ruleId()).openedLate) {
      // the alarm a late reading opened at its own past time, held by a newer reading: an alarm
      // of the present from now on, for combinations (review8 R8-2)
      latches.get(c.ruleId()).openedLate = false;
      ctx.held(latches.deviceId(), c.ruleId(), timeMillis);
    }
    if (c.ruleId() != null && latches.isOpen(c.ruleId())
        && latches.get(c.ruleId()).severity() == c.severity()) {
      boolean othersClosed = true;
      for (String r : family) {
        if (!r.equals(c.ruleId()) && latches.isOpen(r)) {
          othersClosed = false;
        }
      }
      if (othersClosed) {
        return; // the hot path: state unchanged, no allocation
      }
    }
    if (c.normal() && !anyOpen(latches)) {
      return;
    }
    Map<String, Object> ev = new LinkedHashMap<>();
    ev.put("metric", metric);
    ev.put("value", value);
    ev.put("state", c.name());
    ev.put("reading_time_ms", timeMillis);
    String msg = "device state " + c.name().replace('_', ' ') + " (" + metric + "=" + c.code() + ")";
    for (String r : family) {
      if (!r.equals(c.ruleId())) {
        latches.clear(r, timeMillis, msg, ev, ctx);
      }
    }
    if (c.ruleId() != null) {
      latches.raise(c.ruleId(), c.severity(), timeMillis, msg, ev, ctx);
    }
  }

  /**
   * Checks a late reading of the metric (older than the newest one) for a raise only: a code that
   * asks for an alarm raises it, or escalates an open one, with the reading's own time; it never
   * clears the family's others, and never lowers a severity. A raise older than the latch's last
   * change is history (see {@link Latches#raise}). Unknown, normal and neutral codes do nothing.
   *
   * @param timeMillis the time the device sent, epoch ms
   * @param atMillis the transition's time, epoch ms: the reading's own time, or its arrival time
   *     when the device's clock is suspected to be wrong
   * @param value the code
   * @param receivedMillis the engine clock when it arrived, epoch ms (for evidence)
   */
  public io.safegrid.rules.LateCheck lateRaise(long timeMillis, long atMillis, double value,
      long receivedMillis, Latches latches, RuleContext ctx) {
    return lateRaise(timeMillis, atMillis, value, receivedMillis, true, latches, ctx);
  }

  /**
   * As {@link #lateRaise(long, long, double, long, Latches, RuleContext)}; with {@code
   * checkHistory} false a code older than the latch's last change still raises (at {@code
   * atMillis}, the arrival time): the device's clock may have gone back.
   */
  public io.safegrid.rules.LateCheck lateRaise(long timeMillis, long atMillis, double value,
      long receivedMillis, boolean checkHistory, Latches latches, RuleContext ctx) {
    Code c = null;
    for (Code k : codes) {
      if (k.code() == value) {
        c = k;
        break;
      }
    }
    if (c == null || c.ruleId() == null) {
      return io.safegrid.rules.LateCheck.NOT_PAST_SETPOINT;
    }
    if (latches.isOpen(c.ruleId())
        && latches.get(c.ruleId()).severity().compareTo(c.severity()) >= 0) {
      return io.safegrid.rules.LateCheck.ALREADY_OPEN;
    }
    if (checkHistory && timeMillis < latches.get(c.ruleId()).changedAtMillis) {
      return io.safegrid.rules.LateCheck.HISTORY;
    }
    Map<String, Object> ev = new LinkedHashMap<>();
    ev.put("metric", metric);
    ev.put("value", value);
    ev.put("state", c.name());
    ev.put("reading_time_ms", timeMillis);
    ev.put("late", true);
    ev.put("received_ms", receivedMillis);
    String msg = "device state " + c.name().replace('_', ' ') + " (" + metric + "=" + c.code()
        + "): late reading sent " + java.time.Instant.ofEpochMilli(timeMillis) + ", received "
        + java.time.Instant.ofEpochMilli(receivedMillis);
    boolean opens = !latches.isOpen(c.ruleId());
    if (!latches.raise(c.ruleId(), c.severity(), atMillis, msg, ev, ctx)) {
      return io.safegrid.rules.LateCheck.HISTORY;
    }
    latches.get(c.ruleId()).openedLate = opens && atMillis < receivedMillis;
    return io.safegrid.rules.LateCheck.RAISED;
  }

  private boolean anyOpen(Latches latches) {
    for (String r : family) {
      if (latches.isOpen(r)) {
        return true;
      }
    }
    return false;
  }
}
