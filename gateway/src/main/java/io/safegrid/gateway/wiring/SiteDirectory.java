package io.safegrid.gateway.wiring;

import io.safegrid.model.DeviceType;
import io.safegrid.rules.config.DeviceDirectory;
import io.safegrid.rules.config.DevicePlace;
import io.safegrid.rules.config.DeviceProfile;
import io.safegrid.site.Device;
import io.safegrid.site.Place;
import io.safegrid.site.Site;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The site seen by the transports and the rule engine: device profiles, secrets (raw UTF-8 bytes:
 * the MQTT password and the DTLS PSK) and types. Immutable, thread-safe, non-blocking.
 */
final class SiteDirectory implements DeviceDirectory {

  private final Site site;
  private final Map<String, DeviceProfile> profiles = new HashMap<>();
  private final Map<String, byte[]> secrets = new HashMap<>();

  SiteDirectory(Site site) {
    this.site = site;
    for (Device d : site.devices()) {
      Place p = d.place();
      profiles.put(
          d.id(),
          new DeviceProfile(
              d.id(),
              d.type(),
              new DevicePlace(p.community(), p.compound(), p.building()),
              d.reportIntervalS() * 1000L,
              d.overrides()));
      secrets.put(d.id(), d.secret().getBytes(StandardCharsets.UTF_8));
    }
  }

  @Override
  public Optional<DeviceProfile> find(String deviceId) {
    return Optional.ofNullable(profiles.get(deviceId));
  }

  /** The device's secret as raw UTF-8 bytes, a copy; empty for an unknown device. */
  Optional<byte[]> secret(String deviceId) {
    byte[] s = secrets.get(deviceId);
    return s == null ? Optional.empty() : Optional.of(s.clone());
  }

  /** The device's type; empty for an unknown device. */
  Optional<DeviceType> type(String deviceId) {
    return site.device(deviceId).map(Device::type);
  }
}
