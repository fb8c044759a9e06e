package io.safegrid.gateway.config;

import io.safegrid.testing.TestDatabase;
import java.nio.file.Path;
import java.util.Map;

/** The shipped site, {@code config/dongnan.yaml}, as tests that start a whole gateway load it. */
public final class ShippedConfig {
  private ShippedConfig() {}

  /**
   * {@code config/dongnan.yaml} with the environment a test gives it: the test's own database and
   * port 0 (a free port) for MQTT, CoAP, CoAPS and HTTP. Tests then swap the emergency network
   * and the spool directory with {@link GatewayConfig#withEmergencyNetwork} and {@link
   * GatewayConfig#withStorage}.
   *
   * @param db the test class's database (the {@code io.safegrid.testing} extension)
   * @throws ConfigException when the shipped file does not load
   */
  public static LoadedConfig onTestDatabase(TestDatabase db) {
    Map<String, String> env = Map.of(
        "SAFEGRID_DB_URL", db.jdbcUrl(),
        "SAFEGRID_DB_USER", db.user(),
        "SAFEGRID_DB_PASSWORD", db.password(),
        "SAFEGRID_MQTT_PORT", "0",
        "SAFEGRID_COAP_PORT", "0",
        "SAFEGRID_COAPS_PORT", "0",
        "SAFEGRID_HTTP_PORT", "0");
    return new ConfigLoader().load(Path.of("../config/dongnan.yaml"), env);
  }
}
