package io.safegrid.alerting.routing;

import java.util.List;
import java.util.Objects;

/**
 * Where a device sits in the grid and who stands above it.
 *
 * @param deviceId the device
 * @param kind what its alarms are about
 * @param place human place text, e.g. "Dongnan / Nanmen New City / building 3 / unit 2"
 * @param chain the grid recipients responsible for it, lowest level first (typically unit lead
 *     household, building group, compound branch, community committee, sub-district duty
 *     officer; a device outside a compound, e.g. a river gauge, may have a shorter chain). Never
 *     empty; levels strictly increasing.
 */
public record DevicePlace(String deviceId, AlarmKind kind, String place, List<RecipientGroup> chain) {
  /**
   * @throws IllegalArgumentException when the chain is empty, has a recipient without grid level,
   *     or its levels do not increase
   */
  public DevicePlace {
    Objects.requireNonNull(deviceId, "deviceId");
    Objects.requireNonNull(kind, "kind");
    chain = List.copyOf(chain);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("device " + deviceId + ": empty grid chain");
    }
    GridLevel prev = null;
    for (RecipientGroup r : chain) {
      if (r.level() == null || (prev != null && r.level().compareTo(prev) <= 0)) {
        throw new IllegalArgumentException(
            "device " + deviceId + ": grid chain levels must be set and increase, got " + chain);
      }
      prev = r.level();
    }
    place = place == null ? "" : place;
  }
}
