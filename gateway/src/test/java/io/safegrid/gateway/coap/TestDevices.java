package io.safegrid.gateway.coap;

import io.micrometer.core.instrument.MeterRegistry;
import io.safegrid.gateway.ingest.IngestOnTestDatabase;
import io.safegrid.gateway.ingest.IngestSink;
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

  /**
   * A started server for these devices in front of the real ingest path, its meters in the same
   * registry; {@code ingest.close()} closes it.
   */
  static CoapIngestServer server(CoapSettings settings, IngestOnTestDatabase ingest) {
    return ingest.closing(server(settings, ingest.sink, ingest.registry));
  }

  /** A started server for these devices with {@code settings}, in front of {@code sink}. */
  static CoapIngestServer server(CoapSettings settings, IngestSink sink, MeterRegistry registry) {
    CoapIngestServer server = new CoapIngestServer(settings, sink, TestDevices::secret, TestDevices::type, registry);
    server.start();
    return server;
  }

  private TestDevices() {}
}
