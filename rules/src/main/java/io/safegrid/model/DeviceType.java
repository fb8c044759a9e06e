package io.safegrid.model;

/**
 * The kinds of device SafeGrid watches. The wire name ({@link #wireName()}) is what configs,
 * payloads and the database use.
 */
public enum DeviceType {
  /** Commercial combustible-gas alarm (GB 15322), reports %LEL. */
  GAS_ALARM("gas_alarm"),
  /** Fire alarm control panel behind a user information transmission device (GB/T 26875.3). */
  FIRE_PANEL("fire_panel"),
  /** River level gauge (SL 651-2014 hydrological telemetry station), reports metres. */
  RIVER_GAUGE("river_gauge");

  private final String wireName;

  DeviceType(String wireName) {
    this.wireName = wireName;
  }

  /** The lower-case name used in configs, payloads and the database, e.g. {@code gas_alarm}. */
  public String wireName() {
    return wireName;
  }

  /**
   * @throws IllegalArgumentException when the name is not one of the wire names
   */
  public static DeviceType fromWireName(String name) {
    for (DeviceType t : values()) {
      if (t.wireName.equals(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException(
        "unknown device type '" + name + "' (expected gas_alarm, fire_panel or river_gauge)");
  }
}
