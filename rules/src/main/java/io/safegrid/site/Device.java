package io.safegrid.site;

import io.safegrid.model.DeviceType;
import java.util.Map;

/**
 * One configured device.
 *
 * @param id device id, {@link Site#ID_PATTERN}; also the MQTT username and the DTLS PSK identity
 * @param type device type
 * @param place where it is in the grid
 * @param name display name, e.g. "Kitchen, Restaurant 012 (placeholder)"
 * @param premises kind of premises, lower snake case, e.g. {@code restaurant}, {@code
 *     hypermarket}, {@code commercial_centre}, {@code shop}, {@code restaurant_boat}, {@code
 *     compound}, {@code school}, {@code kindergarten}, {@code river}; or null
 * @param secret the MQTT password and DTLS pre-shared key (text, UTF-8)
 * @param reportIntervalS how often the device reports when nothing happens, seconds; the
 *     inactivity timeout is a multiple of it (rule parameter {@code offline_after_intervals})
 * @param overrides rule parameters for this device only, over its type's {@code rules} section
 *     (e.g. {@code warning_level_m} of a Xi River gauge); never null
 */
public record Device(
    String id,
    DeviceType type,
    Place place,
    String name,
    String premises,
    String secret,
    int reportIntervalS,
    Map<String, Double> overrides) {
  public Device {
    overrides = overrides == null ? Map.of() : Map.copyOf(overrides);
  }
}
