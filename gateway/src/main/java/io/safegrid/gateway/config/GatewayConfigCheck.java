package io.safegrid.gateway.config;

import io.safegrid.site.SiteProblem;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Checks the gateway settings after the environment overrides; problems carry JSON pointers. */
final class GatewayConfigCheck {

  private GatewayConfigCheck() {}

  static List<SiteProblem> problems(GatewayConfig c) {
    List<SiteProblem> out = new ArrayList<>();
    port(out, "/ports/mqtt", c.ports().mqtt());
    port(out, "/ports/coap", c.ports().coap());
    port(out, "/ports/coaps", c.ports().coaps());
    port(out, "/ports/http", c.ports().http());
    if (c.database().poolSize() < 1) {
      out.add(new SiteProblem("/database/pool_size", "pool_size must be >= 1"));
    }
    Set<String> tokens = new HashSet<>();
    for (int i = 0; i < c.dashboard().tokens().size(); i++) {
      DashboardToken t = c.dashboard().tokens().get(i);
      String path = "/dashboard/tokens/" + i;
      if (t == null || t.token() == null || t.token().isBlank()) {
        out.add(new SiteProblem(path + "/token", "the token is missing"));
        continue;
      }
      if (!tokens.add(t.token())) {
        out.add(new SiteProblem(path + "/token", "duplicate token"));
      }
      if (!DashboardToken.OFFICER.equals(t.role()) && !DashboardToken.VIEWER.equals(t.role())) {
        out.add(
            new SiteProblem(
                path + "/role", "role '" + t.role() + "' is not one of officer, viewer"));
      }
    }
    StorageConfig s = c.storage();
    if (s.spoolDir() == null || s.spoolDir().isBlank()) {
      out.add(new SiteProblem("/storage/spool_dir", "spool_dir is missing"));
    }
    positive(out, "/storage/spool_max_bytes", s.spoolMaxBytes());
    positive(out, "/storage/batch_size", s.batchSize());
    if (s.batchWindowMs() < 0) {
      out.add(new SiteProblem("/storage/batch_window_ms", "batch_window_ms must be >= 0"));
    }
    positive(out, "/mqtt/max_packet_bytes", c.mqtt().maxPacketBytes());
    positive(out, "/mqtt/max_connections", c.mqtt().maxConnections());
    positive(out, "/mqtt/per_device_rate_per_s", c.mqtt().perDeviceRatePerS());
    positive(out, "/retention_days", c.retentionDays());
    Set<String> hookNames = new HashSet<>();
    for (int i = 0; i < c.webhooks().size(); i++) {
      Webhook w = c.webhooks().get(i);
      String path = "/webhooks/" + i;
      if (w == null) {
        out.add(new SiteProblem(path, "empty webhook entry"));
        continue;
      }
      if (w.name() == null || !w.name().matches("[a-z0-9][a-z0-9-]{0,63}")) {
        out.add(new SiteProblem(path + "/name", "name must match [a-z0-9][a-z0-9-]{0,63}"));
      } else if (!hookNames.add(w.name())) {
        out.add(new SiteProblem(path + "/name", "duplicate webhook name '" + w.name() + "'"));
      }
      if (w.url() == null
          || !(w.url().startsWith("http://") || w.url().startsWith("https://"))) {
        out.add(new SiteProblem(path + "/url", "url must be an http:// or https:// URL"));
      }
      if (w.secret() == null || w.secret().isEmpty()) {
        out.add(new SiteProblem(path + "/secret", "a secret is required (HMAC-SHA256 signature)"));
      }
    }
    String broker = c.emergencyNetwork().brokerUrl();
    if (broker != null
        && !(broker.startsWith("tcp://") || broker.startsWith("ssl://")
            || broker.startsWith("ws://") || broker.startsWith("wss://"))) {
      out.add(
          new SiteProblem(
              "/emergency_network/broker_url",
              "broker_url must start with tcp://, ssl://, ws:// or wss://"));
    }
    return out;
  }

  private static void port(List<SiteProblem> out, String path, int port) {
    if (port < 0 || port > 65535) {
      out.add(new SiteProblem(path, "port " + port + " is not in 0-65535 (0 = pick a free one)"));
    }
  }

  private static void positive(List<SiteProblem> out, String path, long v) {
    if (v <= 0) {
      out.add(new SiteProblem(path, "must be > 0 (got " + v + ")"));
    }
  }
}
