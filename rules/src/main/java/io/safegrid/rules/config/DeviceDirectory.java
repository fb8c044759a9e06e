package io.safegrid.rules.config;

import java.util.Map;
import java.util.Optional;

/**
 * Looks up a device's profile by id. The engine calls it once per device (the first time the
 * device is seen) and keeps the answer; it must be thread-safe when used by a sharded engine.
 */
@FunctionalInterface
public interface DeviceDirectory {

  /** The device's profile, or empty for a device the site does not know. */
  Optional<DeviceProfile> find(String deviceId);

  /** A directory over a fixed map of profiles keyed by device id. */
  static DeviceDirectory of(Map<String, DeviceProfile> profiles) {
    Map<String, DeviceProfile> copy = Map.copyOf(profiles);
    return id -> Optional.ofNullable(copy.get(id));
  }
}
