package io.safegrid.rules.engine;

import io.safegrid.model.Severity;
import java.util.Objects;

/**
 * An alarm open in the ledger at restart.
 *
 * @param deviceId device id
 * @param ruleId rule id, as in {@link io.safegrid.model.AlarmTransition#ruleId()}
 * @param severity current severity
 * @param sinceMillis when it was raised, epoch ms (used by combination rules)
 */
public record OpenAlarm(String deviceId, String ruleId, Severity severity, long sinceMillis) {
  public OpenAlarm {
    Objects.requireNonNull(deviceId, "deviceId");
    Objects.requireNonNull(ruleId, "ruleId");
    Objects.requireNonNull(severity, "severity");
  }
}
