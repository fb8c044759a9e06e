package io.safegrid.model;

import java.util.Map;
import java.util.Objects;

/**
 * What the rule engine tells alerting: an alarm condition of one rule on one device was raised,
 * changed severity, or cleared. Alerting turns it into a ledger entry (one open alarm per device
 * and rule).
 *
 * @param deviceId the device the alarm is about
 * @param ruleId the rule's id, stable across restarts (e.g. {@code gas-lel-threshold})
 * @param kind raise, severity change or clear
 * @param severity severity after the transition (for a clear: the severity it had)
 * @param timeMillis event time of the evidence that caused it, epoch milliseconds
 * @param message a short human text, e.g. "gas 31.2 %LEL above level 1 (25 %LEL)"
 * @param evidence the values, thresholds and times behind it, for the ledger and the page
 */
public record AlarmTransition(
    String deviceId,
    String ruleId,
    Kind kind,
    Severity severity,
    long timeMillis,
    String message,
    Map<String, Object> evidence) {

  /** The kind of transition. */
  public enum Kind {
    RAISE,
    SEVERITY_CHANGE,
    CLEAR
  }

  public AlarmTransition {
    Objects.requireNonNull(deviceId, "deviceId");
    Objects.requireNonNull(ruleId, "ruleId");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(severity, "severity");
    evidence = evidence == null ? Map.of() : Map.copyOf(evidence);
  }
}
