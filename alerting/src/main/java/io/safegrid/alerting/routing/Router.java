package io.safegrid.alerting.routing;

import io.safegrid.model.Severity;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Routes an alarm from the device's place in the grid and the alarm's kind. Severity decides the
 * starting grid level (default: warning at the unit lead household, minor at the building group,
 * major at the compound branch, critical at the community committee); when the device's chain has
 * no recipient at that level, the next level above it that exists is used (or the top).
 *
 * <p>Responders (the departments and teams whose {@code handles} include the device type) are
 * called out only for {@link AlarmClass#HAZARD hazard} alarms: a silent gauge, a low battery or a
 * faulty or shielded panel goes to the grid alone (newcomer7 F16; {@link AlarmClass}).
 */
public final class Router {
  /** Starting levels by severity used when the config gives none. */
  public static final Map<Severity, GridLevel> DEFAULT_START_LEVELS = Map.of(
      Severity.WARNING, GridLevel.UNIT,
      Severity.MINOR, GridLevel.BUILDING,
      Severity.MAJOR, GridLevel.COMPOUND,
      Severity.CRITICAL, GridLevel.COMMUNITY);

  private final GridDirectory directory;
  private final Map<Severity, GridLevel> startLevels;

  /**
   * @param directory the site's grid
   * @param startLevels starting grid level by severity; missing severities take the default
   */
  public Router(GridDirectory directory, Map<Severity, GridLevel> startLevels) {
    this.directory = Objects.requireNonNull(directory, "directory");
    Map<Severity, GridLevel> m = new EnumMap<>(DEFAULT_START_LEVELS);
    if (startLevels != null) {
      m.putAll(startLevels);
    }
    this.startLevels = m;
  }

  /**
   * The route of an alarm of this device, rule and severity: responders only when the rule is a
   * hazard's ({@link AlarmClass#ofRule}), report upward only when critical.
   */
  public Route route(String deviceId, String ruleId, Severity severity) {
    return route(deviceId, ruleId, severity, AlarmClass.ofRule(ruleId));
  }

  /**
   * The route of an alarm of this device and rule taken as class {@code cls}: responders of the
   * device's kind only for {@link AlarmClass#HAZARD} (a device-offline of a device whose leak is
   * open is routed as that hazard: {@link AlarmClass#SENSOR_LOST_RULES}), report upward only when
   * {@code severity} is critical.
   *
   * @param severity the severity that picks the starting grid level (and report upward)
   */
  public Route route(String deviceId, String ruleId, Severity severity, AlarmClass cls) {
    var place = directory.place(deviceId);
    AlarmKind kind = place.map(DevicePlace::kind).orElseGet(() -> kindFromRule(ruleId));
    List<RecipientGroup> chain = place.map(DevicePlace::chain).orElseGet(directory::fallbackChain);
    return new Route(
        kind,
        place.map(DevicePlace::place).orElse(""),
        chain,
        startIndex(chain, startLevels.get(severity)),
        cls == AlarmClass.HAZARD ? directory.responders(kind) : List.of(),
        severity == Severity.CRITICAL ? directory.reportUpward() : List.of());
  }

  /** The grid level a severity starts at. */
  public GridLevel startLevel(Severity severity) {
    return startLevels.get(severity);
  }

  static int startIndex(List<RecipientGroup> chain, GridLevel start) {
    for (int i = 0; i < chain.size(); i++) {
      GridLevel l = chain.get(i).level();
      if (l != null && l.compareTo(start) >= 0) {
        return i;
      }
    }
    return chain.size() - 1;
  }

  private static AlarmKind kindFromRule(String ruleId) {
    String r = ruleId == null ? "" : ruleId.toLowerCase(Locale.ROOT);
    if (r.startsWith("gas")) {
      return AlarmKind.GAS;
    }
    if (r.startsWith("fire")) {
      return AlarmKind.FIRE;
    }
    if (r.startsWith("river") || r.startsWith("water") || r.startsWith("flood")) {
      return AlarmKind.WATER;
    }
    return AlarmKind.SYSTEM;
  }
}
