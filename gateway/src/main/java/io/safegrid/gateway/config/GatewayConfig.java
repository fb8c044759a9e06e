package io.safegrid.gateway.config;

import java.util.List;

/**
 * Everything in the configuration file that is not the site: ports, database, dashboard tokens,
 * storage, MQTT limits, retention, the emergency network. Environment overrides are already
 * applied when {@link ConfigLoader} returns it.
 *
 * @param ports listening ports
 * @param database database connection (never-null url, user, password)
 * @param dashboard dashboard tokens
 * @param storage storage and spool
 * @param mqtt MQTT limits
 * @param retentionDays readings older than this many days are dropped (drop_chunks)
 * @param emergencyNetwork notification broker
 * @param webhooks notification webhooks; never null
 */
public record GatewayConfig(
    Ports ports,
    DatabaseConfig database,
    DashboardConfig dashboard,
    StorageConfig storage,
    MqttLimits mqtt,
    int retentionDays,
    EmergencyNetworkConfig emergencyNetwork,
    List<Webhook> webhooks) {
  public GatewayConfig {
    webhooks = webhooks == null ? List.of() : List.copyOf(webhooks);
  }

  /** A copy with other ports (e.g. for tests: all 0). */
  public GatewayConfig withPorts(Ports p) {
    return new GatewayConfig(
        p, database, dashboard, storage, mqtt, retentionDays, emergencyNetwork, webhooks);
  }

  /** A copy with another database. */
  public GatewayConfig withDatabase(DatabaseConfig db) {
    return new GatewayConfig(
        ports, db, dashboard, storage, mqtt, retentionDays, emergencyNetwork, webhooks);
  }

  /** A copy with another storage section. */
  public GatewayConfig withStorage(StorageConfig s) {
    return new GatewayConfig(
        ports, database, dashboard, s, mqtt, retentionDays, emergencyNetwork, webhooks);
  }

  /** A copy with another emergency network section. */
  public GatewayConfig withEmergencyNetwork(EmergencyNetworkConfig e) {
    return new GatewayConfig(ports, database, dashboard, storage, mqtt, retentionDays, e, webhooks);
  }
}
