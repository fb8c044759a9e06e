package io.safegrid.rules.inactivity;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.Severity;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The device-offline rule of one device: timeout = report interval x intervals. Immutable.
 *
 * <p>A device is offline when no message arrived for strictly more than the timeout: with the
 * last message received at {@code L}, the deadline (first millisecond it counts as offline) is
 * {@code L + timeout + 1}. So a message arriving on the very millisecond {@code L + timeout}
 * wins over the deadline, whichever the engine sees first: it arrived in time.
 *
 * @param reportIntervalMillis the device's report interval, ms
 * @param intervals how many intervals may pass in silence, >= 1
 * @param severity severity of {@code device-offline} (default MINOR)
 */
public record InactivityRule(long reportIntervalMillis, int intervals, Severity severity) {

  /** Rule id of the offline alarm. */
  public static final String RULE_ID = "device-offline";

  /** @throws IllegalArgumentException when the interval is not positive or intervals is below 1 */
  public InactivityRule {
    if (reportIntervalMillis <= 0 || intervals < 1) {
      throw new IllegalArgumentException(
          "inactivity needs a report interval > 0 and intervals >= 1");
    }
    java.util.Objects.requireNonNull(severity, "severity");
  }

  /** Timeout, ms. */
  public long timeoutMillis() {
    return reportIntervalMillis * intervals;
  }

  /** The first millisecond the device counts as offline, given its last message time. */
  public long deadline(long lastMessageMillis) {
    return lastMessageMillis + timeoutMillis() + 1;
  }

  /**
   * The RAISE of {@code device-offline}.
   *
   * @param lastSeenMillis last message time, or {@link Long#MIN_VALUE} when never seen since the
   *     engine started and no last-seen time was restored
   * @param nowMillis the deadline reached (the first millisecond the device counted as offline)
   */
  public AlarmTransition raise(String deviceId, long lastSeenMillis, long nowMillis) {
    Map<String, Object> ev = new LinkedHashMap<>();
    ev.put("timeout_ms", timeoutMillis());
    ev.put("report_interval_ms", reportIntervalMillis);
    ev.put("intervals", intervals);
    String msg;
    if (lastSeenMillis == Long.MIN_VALUE) {
      ev.put("last_seen_ms", "never");
      msg = "no message since the gateway started (" + timeoutMillis() / 1000 + " s)";
    } else {
      ev.put("last_seen_ms", lastSeenMillis);
      msg = "no message for " + (nowMillis - lastSeenMillis) / 1000 + " s (timeout "
          + intervals + " x " + reportIntervalMillis / 1000 + " s report interval)";
    }
    return new AlarmTransition(deviceId, RULE_ID, Kind.RAISE, severity, nowMillis, msg, ev);
  }

  /** The CLEAR of {@code device-offline} when a message arrives. */
  public AlarmTransition clear(String deviceId, long nowMillis) {
    return new AlarmTransition(deviceId, RULE_ID, Kind.CLEAR, severity, nowMillis,
        "device reporting again", Map.of("message_ms", nowMillis));
  }
}
