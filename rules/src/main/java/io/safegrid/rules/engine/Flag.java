package io.safegrid.rules.engine;

import java.util.Objects;

/**
 * Suspicious input the engine did not take as the device's newest state. The gateway counts these
 * (e.g. Micrometer {@code safegrid.rules.flags}, tag {@code reason} = {@link Kind#reason()}); the
 * reading itself was already stored as history.
 *
 * @param kind what is wrong
 * @param deviceId the device
 * @param subject the metric or event name
 * @param timeMillis the time the device sent, epoch ms as received
 * @param receivedMillis the engine's clock when it arrived, epoch ms
 * @param detail a short human text
 */
public record Flag(Kind kind, String deviceId, String subject, long timeMillis,
    long receivedMillis, String detail) {

  /** Kinds of flag. */
  public enum Kind {
    /**
     * The time is more than the allowed skew (5 min) ahead of the clock: the device's clock is
     * ahead. One flag per reading or event; each is judged on its arrival time and never taken as
     * the device's newest time (see {@code RuleEngine}, "Flags").
     */
    FUTURE_TIMESTAMP("future_timestamp"),
    /** The time is below 1e11 ms (before 1973-03-03): epoch seconds sent as milliseconds. */
    SECONDS_AS_MILLIS("seconds_as_millis"),
    /**
     * The device's clock is behind the gateway's: a reading older (by the device's clock) than
     * the newest one of its metric and more than {@code RuleEngine.CLOCK_BEHIND_TOLERANCE_MILLIS}
     * (5 min) behind the gateway clock, confirmed by a second such message (clock reset, e.g. to
     * 2000-01-01 after a power cut, or set back; see {@code RuleEngine}, "Order"). One flag per
     * reading judged on its arrival time instead (raises and clears work).
     */
    CLOCK_BEHIND("clock_behind"),
    /**
     * The device sent a reading at the very device time of its newest reading of that metric but
     * with another value: its clock is stopped (an RTC that no longer runs, a firmware that stamps
     * every reading with its boot time). Not a resend (a resend carries the same value). The
     * reading is judged on its arrival time ({@code RuleEngine}, "Order"); storage keeps one row
     * per (device, metric, time), so the gateway keeps the value it could not store in {@code
     * dead_letters} (docs/storage.md). One flag per such reading.
     */
    CLOCK_FROZEN("clock_frozen"),
    /**
     * A late reading (older than the device's newest of its metric) past a setpoint, not covered
     * by an open alarm: it raised the alarm with its own time, or it was history (older than the
     * reading that last cleared that alarm). Late readings are checked for raises only.
     */
    LATE_READING("late_reading"),
    /** The device is not in the site (first message only; later ones are counted). */
    UNKNOWN_DEVICE("unknown_device"),
    /** The device's rule overrides do not compile (first message only). */
    BAD_RULE_PARAMETERS("bad_rule_parameters"),
    /**
     * An event whose name no rule of the device's type reads (newcomer8 N5): e.g. {@code fire}
     * from a gas alarm or a river gauge (a combined gas/smoke unit, or a device entered in the site
     * with the wrong type). Stored in {@code device_events} as every event is, no alarm. Not a
     * dead letter: the message decoded, and the contract's event names are open ("..."). One
     * flag per such event.
     */
    EVENT_NOT_READ("event_not_read");

    private final String reason;

    Kind(String reason) {
      this.reason = reason;
    }

    /** Lower snake case, for metric tags and dead-letter reasons. */
    public String reason() {
      return reason;
    }
  }

  /** Null subject and detail become empty text. */
  public Flag {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(deviceId, "deviceId");
    subject = subject == null ? "" : subject;
    detail = detail == null ? "" : detail;
  }
}
