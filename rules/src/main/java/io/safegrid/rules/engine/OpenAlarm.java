package io.safegrid.rules.engine;

import io.safegrid.model.Severity;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An alarm open in the ledger at restart.
 *
 * @param deviceId device id
 * @param ruleId rule id, as in {@link io.safegrid.model.AlarmTransition#ruleId()}
 * @param severity current severity
 * @param sinceMillis when it was raised, epoch ms (used by combination rules)
 * @param zones the zones its evidence lists (a fire panel's alarm: {@code zones}, else its one
 *     {@code zone}), so a fire again in one of them after the restart is no spread; empty when
 *     unknown (then the first zone reported after the restart counts as a spread)
 */
public record OpenAlarm(String deviceId, String ruleId, Severity severity, long sinceMillis,
    List<Integer> zones) {
  public OpenAlarm {
    Objects.requireNonNull(deviceId, "deviceId");
    Objects.requireNonNull(ruleId, "ruleId");
    Objects.requireNonNull(severity, "severity");
    zones = zones == null ? List.of() : List.copyOf(zones);
  }

  /** An open alarm whose zones are unknown. */
  public OpenAlarm(String deviceId, String ruleId, Severity severity, long sinceMillis) {
    this(deviceId, ruleId, severity, sinceMillis, List.of());
  }

  /**
   * The zones an alarm's evidence names: its {@code zones} list (integers), else its {@code
   * zone}; empty when neither (a JSON number read back may be any {@link Number}).
   *
   * @param evidence the alarm's evidence as the ledger keeps it, or null
   */
  public static List<Integer> zonesOf(Map<String, ?> evidence) {
    if (evidence == null) {
      return List.of();
    }
    List<Integer> out = new ArrayList<>();
    if (evidence.get("zones") instanceof List<?> l) {
      for (Object o : l) {
        if (o instanceof Number n) {
          out.add(n.intValue());
        }
      }
    } else if (evidence.get("zone") instanceof Number n) {
      out.add(n.intValue());
    }
    return out;
  }
}
