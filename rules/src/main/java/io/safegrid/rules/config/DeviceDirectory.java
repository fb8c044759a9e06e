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

  /**
   * The devices of a loaded site: type, place (community, compound, building), report interval
   * ({@code report_interval_s}) and per-device rule overrides. Profiles are built once.
   */
  static DeviceDirectory of(io.safegrid.site.Site site) {
    Map<String, DeviceProfile> profiles = new java.util.HashMap<>();
    for (io.safegrid.site.Device d : site.devices()) {
      io.safegrid.site.Place p = d.place();
      DevicePlace place = p == null
          ? DevicePlace.NOWHERE
          : new DevicePlace(p.community(), p.compound(), p.building());
      profiles.put(d.id(), new DeviceProfile(d.id(), d.type(), place,
          d.reportIntervalS() * 1000L, d.overrides()));
    }
    return of(profiles);
  }

  /** A directory over a fixed map of profiles keyed by device id. */
  static DeviceDirectory of(Map<String, DeviceProfile> profiles) {
    Map<String, DeviceProfile> copy = Map.copyOf(profiles);
    return id -> Optional.ofNullable(copy.get(id));
  }
}
