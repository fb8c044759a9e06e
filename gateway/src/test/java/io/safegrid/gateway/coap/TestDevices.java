package io.safegrid.gateway.coap;

import io.safegrid.model.DeviceType;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;

/** A tiny site for the CoAP tests; secrets follow the demo convention {@code demo-{id}}. */
final class TestDevices {

  static final Map<String, DeviceType> TYPES =
      Map.of(
          "gas-001", DeviceType.GAS_ALARM,
          "gas-002", DeviceType.GAS_ALARM,
          "jl-gauge-1", DeviceType.RIVER_GAUGE,
          "lg-panel-1", DeviceType.FIRE_PANEL);

  static Optional<byte[]> secret(String id) {
    return TYPES.containsKey(id)
        ? Optional.of(("demo-" + id).getBytes(StandardCharsets.UTF_8))
        : Optional.empty();
  }

  static Optional<DeviceType> type(String id) {
    return Optional.ofNullable(TYPES.get(id));
  }

  private TestDevices() {}
}
