package io.safegrid.gateway.config;

import java.util.Map;

/**
 * The public contract's environment overrides: each wins over the file. Null database settings
 * become the local TimescaleDB's ({@link DatabaseConfig#LOCAL_URL}, user and password {@code
 * safegrid}).
 */
final class EnvOverrides {

  private EnvOverrides() {}

  /**
   * @throws ConfigException naming the variable when a port is not an integer 0-65535
   */
  static GatewayConfig apply(GatewayConfig c, Map<String, String> env) {
    Ports p = c.ports();
    Ports ports =
        new Ports(
            port(env, ConfigLoader.ENV_MQTT_PORT, p.mqtt()),
            port(env, ConfigLoader.ENV_COAP_PORT, p.coap()),
            port(env, ConfigLoader.ENV_COAPS_PORT, p.coaps()),
            port(env, ConfigLoader.ENV_HTTP_PORT, p.http()));
    DatabaseConfig d = c.database();
    DatabaseConfig db =
        new DatabaseConfig(
            first(env.get(ConfigLoader.ENV_DB_URL), d.url(), DatabaseConfig.LOCAL_URL),
            first(env.get(ConfigLoader.ENV_DB_USER), d.user(), DatabaseConfig.LOCAL_USER),
            first(env.get(ConfigLoader.ENV_DB_PASSWORD), d.password(), DatabaseConfig.LOCAL_USER),
            d.poolSize());
    return c.withPorts(ports).withDatabase(db);
  }

  private static String first(String env, String file, String fallback) {
    if (env != null && !env.isEmpty()) {
      return env;
    }
    return file != null ? file : fallback;
  }

  private static int port(Map<String, String> env, String var, int fromFile) {
    String v = env.get(var);
    if (v == null || v.isBlank()) {
      return fromFile;
    }
    try {
      int port = Integer.parseInt(v.trim());
      if (port >= 0 && port <= 65535) {
        return port;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new ConfigException(
        "environment", 0, var, "'" + v + "' is not a port (an integer 0-65535; 0 = pick a free one)", null);
  }
}
