package io.safegrid.rules.config;

import io.safegrid.model.DeviceType;
import java.util.Map;
import java.util.Objects;

/**
 * What the rule engine needs to know about one device.
 *
 * @param deviceId device id
 * @param type device type (decides its rule set)
 * @param place where it is, for combination rules; never null ({@link DevicePlace#NOWHERE})
 * @param reportIntervalMillis how often the device reports when nothing happens, ms; 0 means "use
 *     the type's {@code heartbeat_s}". The inactivity timeout is {@code offline_after_intervals}
 *     times this.
 * @param ruleOverrides rule parameters for this device only, over its type's (e.g. {@code
 *     warning_level_m} of a Xi River gauge); never null
 */
public record DeviceProfile(
    String deviceId,
    DeviceType type,
    DevicePlace place,
    long reportIntervalMillis,
    Map<String, ?> ruleOverrides) {

  /** @throws IllegalArgumentException when the report interval is negative */
  public DeviceProfile {
    Objects.requireNonNull(deviceId, "deviceId");
    Objects.requireNonNull(type, "type");
    place = place == null ? DevicePlace.NOWHERE : place;
    if (reportIntervalMillis < 0) {
      throw new IllegalArgumentException("reportIntervalMillis must be >= 0: " + reportIntervalMillis);
    }
    ruleOverrides = ruleOverrides == null ? Map.of() : Map.copyOf(ruleOverrides);
  }

  /** A device with its type's defaults and no place. */
  public static DeviceProfile of(String deviceId, DeviceType type) {
    return new DeviceProfile(deviceId, type, DevicePlace.NOWHERE, 0, Map.of());
  }
}
