package io.safegrid.alerting.routing;

import io.safegrid.model.DeviceType;
import java.util.Locale;

/** What an alarm is about, which decides the responders beyond the grid. */
public enum AlarmKind {
  /** Gas: also the gas company and market supervision. */
  GAS,
  /** Fire: also the fire brigade. */
  FIRE,
  /** Water (river level): also flood command and the militia emergency rescue teams. */
  WATER,
  /** SafeGrid itself (e.g. a dead notification channel): the grid only. */
  SYSTEM;

  /** {@link #wireName()}, worked out once (escalation writes it into every notification). */
  private final String wireName;

  AlarmKind() {
    this.wireName = name().toLowerCase(Locale.ROOT);
  }

  /** The kind of alarm a device type raises. */
  public static AlarmKind of(DeviceType type) {
    return switch (type) {
      case GAS_ALARM -> GAS;
      case FIRE_PANEL -> FIRE;
      case RIVER_GAUGE -> WATER;
    };
  }

  /** Lower-case name used in payloads. */
  public String wireName() {
    return wireName;
  }
}
