package io.safegrid.gateway.wiring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.safegrid.gateway.GatewayMain;
import io.safegrid.gateway.config.ConfigLoader;
import io.safegrid.gateway.config.LoadedConfig;
import io.safegrid.testing.TestDatabase;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

class GatewayTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  static final Path SHIPPED = Path.of("../config/dongnan.yaml");

  private static Map<String, String> env() {
    Map<String, String> env = new HashMap<>();
    env.put("SAFEGRID_DB_URL", db.jdbcUrl());
    env.put("SAFEGRID_DB_USER", db.user());
    env.put("SAFEGRID_DB_PASSWORD", db.password());
    env.put("SAFEGRID_MQTT_PORT", "0");
    env.put("SAFEGRID_COAP_PORT", "0");
    env.put("SAFEGRID_COAPS_PORT", "0");
    env.put("SAFEGRID_HTTP_PORT", "0");
    return env;
  }

  @org.junit.jupiter.api.io.TempDir static Path spool;

  /** The shipped site on this class's database, free ports, a spool of its own, no broker. */
  private static LoadedConfig shipped() {
    LoadedConfig c = new ConfigLoader().load(SHIPPED, env());
    return new LoadedConfig(c.file(), c.site(), c.gateway()
        .withStorage(new io.safegrid.gateway.config.StorageConfig(spool.toString(), 64L << 20, 5000, 10))
        .withEmergencyNetwork(new io.safegrid.gateway.config.EmergencyNetworkConfig(
            null, "safegrid-test", "safegrid/notify/", null, null)));
  }

  private static HttpResponse<String> get(int port, String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void startsTheShippedSiteRegistersItsDevicesAndStopsCleanly() throws Exception {
    int http;
    try (Gateway g = Gateway.start(shipped())) {
      http = g.ports().http();
      assertThat(http).isPositive();
      assertThat(g.ports().mqtt()).isPositive();
      assertThat(g.ports().coap()).isPositive();
      assertThat(g.ports().coaps()).isPositive();
      assertThat(g.ports().listeningLine()).startsWith("SafeGrid listening: mqtt=").contains(" http=" + http);

      try (Connection c = db.dataSource().getConnection();
          Statement s = c.createStatement()) {
        ResultSet rs = s.executeQuery("SELECT count(*) FROM devices");
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(117 + 22 + 5);
        rs = s.executeQuery(
            "SELECT type, community, compound, premises, meta->>'report_interval_s' FROM devices WHERE id = 'gas-001'");
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("gas_alarm");
        assertThat(rs.getString(2)).isEqualTo("xihe");
        assertThat(rs.getString(3)).isNull();
        assertThat(rs.getString(4)).isEqualTo("hypermarket");
        assertThat(rs.getString(5)).isEqualTo("60");
        rs = s.executeQuery("SELECT (meta->'overrides'->>'warning_level_m')::float FROM devices WHERE id = 'river-xi-1'");
        rs.next();
        assertThat(rs.getDouble(1)).isEqualTo(271.50);
        rs = s.executeQuery("SELECT count(*) FROM devices WHERE meta::text LIKE '%demo-%'");
        rs.next();
        assertThat(rs.getInt(1)).as("secrets never reach the database").isZero();
      }

      assertThat(get(http, "/api/health", null).statusCode()).isEqualTo(200);
      assertThat(get(http, "/api/devices", null).statusCode()).isEqualTo(401);
      HttpResponse<String> devices = get(http, "/api/devices", "demo-officer-token");
      assertThat(devices.statusCode()).isEqualTo(200);
      assertThat(devices.body()).contains("gas-117").contains("fire-languang-xiangjiang").contains("river-jialing-1");
      HttpResponse<String> grid = get(http, "/api/grid", "demo-viewer-token");
      assertThat(grid.body()).contains("nanmen-6").contains("Henghe Waitan");
    }
    assertThatThrownBy(() -> new Socket("127.0.0.1", http).close()).isInstanceOf(ConnectException.class);
  }

  /**
   * /api/health has the spool and retention checks docs/dashboard.md and docs/storage.md promise, and a second gateway on the same
   * spool directory (a newcomer running {@code bin/safegrid demo} beside {@code bin/safegrid
   * gateway} in one checkout) is told why it cannot start, not only "cannot open the spool".
   */
  @Test
  void healthReportsTheSpoolAndASecondGatewayOnTheSameSpoolSaysItIsInUse() throws Exception {
    try (Gateway g = Gateway.start(shipped())) {
      HttpResponse<String> health = get(g.ports().http(), "/api/health", null);
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(health.body())
          .contains("\"database\":{\"up\":true")
          .contains("\"spool\":{\"up\":true,\"spooling\":false,\"full\":false}");
      // review7 R19: the retention's check (its first run goes at start, on its own thread)
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() ->
          get(g.ports().http(), "/api/health", null).body()
              .contains("\"retention\":{\"up\":true,\"mode\":\"age_and_creation\",\"timescaledb\":\"2."));

      assertThatThrownBy(() -> Gateway.start(shipped()).close())
          .isInstanceOf(GatewayStartException.class)
          .hasMessageContaining("cannot open the spool in " + spool)
          .hasMessageContaining("in use by another process");
      assertThat(get(g.ports().http(), "/api/health", null).statusCode())
          .as("the first gateway is untouched").isEqualTo(200);
    }
  }

  /**
   * River gauges report over CoAP: a real Californium client posts a level, and the gauge is
   * online in /api/devices and in the live snapshot (docs/dashboard.md: "CoAP first message");
   * the gauges that sent nothing stay unknown (null).
   */
  @Test
  void aRiverGaugeIsOnlineAfterItsFirstCoapMessage() throws Exception {
    try (Gateway g = Gateway.start(shipped())) {
      int http = g.ports().http();
      String before = get(http, "/api/devices?type=river_gauge", "demo-officer-token").body();
      assertThat(before).contains("\"id\":\"river-xi-1\"").doesNotContain("\"online\":true");

      org.eclipse.californium.core.CoapClient client = new org.eclipse.californium.core.CoapClient(
          "coap://127.0.0.1:" + g.ports().coap() + "/devices/river-xi-1/telemetry?s=demo-river-xi-1");
      client.setTimeout(10_000L);
      org.eclipse.californium.core.CoapResponse r = client.post(
          "{\"values\": {\"water_level_m\": 268.2}}",
          org.eclipse.californium.core.coap.MediaTypeRegistry.APPLICATION_JSON);
      client.shutdown();
      assertThat(r).isNotNull();
      assertThat(r.getCode()).isEqualTo(org.eclipse.californium.core.coap.CoAP.ResponseCode.CHANGED);

      com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
      var devices = json.readTree(get(http, "/api/devices?type=river_gauge", "demo-officer-token").body())
          .path("devices");
      assertThat(devices.size()).isEqualTo(5);
      for (var d : devices) {
        if (d.path("id").asText().equals("river-xi-1")) {
          assertThat(d.path("online").asBoolean()).as(d.toString()).isTrue();
          assertThat(d.path("onlineSince").isTextual()).as(d.toString()).isTrue();
        } else {
          assertThat(d.path("online").isNull()).as("silent gauges stay unknown: " + d).isTrue();
        }
      }
      var snapshot = json.readTree(get(http, "/api/live/snapshot", "demo-officer-token").body());
      assertThat(snapshot.path("devices").toString())
          .contains("\"deviceId\":\"river-xi-1\",\"online\":true");
    }
  }

  @Test
  void aSecondStartChangesNoDeviceRows() throws Exception {
    try (Gateway g = Gateway.start(shipped())) {
      assertThat(g.ports().http()).isPositive();
    }
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement()) {
      ResultSet rs = s.executeQuery("SELECT max(updated_at) FROM devices");
      rs.next();
      java.sql.Timestamp before = rs.getTimestamp(1);
      try (Gateway g = Gateway.start(shipped())) {
        assertThat(g.ports().http()).isPositive();
      }
      rs = s.executeQuery("SELECT max(updated_at), count(*) FROM devices");
      rs.next();
      assertThat(rs.getTimestamp(1)).isEqualTo(before);
      assertThat(rs.getInt(2)).isEqualTo(144);
    }
  }

  @Test
  void unreachableDatabaseIsAClearStartError() {
    Map<String, String> env = env();
    env.put("SAFEGRID_DB_URL", "jdbc:postgresql://127.0.0.1:1/safegrid");
    LoadedConfig c = new ConfigLoader().load(SHIPPED, env);
    assertThatThrownBy(() -> Gateway.start(c))
        .isInstanceOf(GatewayStartException.class)
        .hasMessageContaining("cannot reach the database at jdbc:postgresql://127.0.0.1:1/safegrid")
        .hasMessageContaining("bin/safegrid db start");
  }

  /** Newcomer6 F8: the password in the URL stays out of the message; the user named is the one used. */
  @Test
  void unreachableDatabaseMessageMasksThePasswordAndNamesTheUrlsUser() {
    Map<String, String> env = env();
    // sslpassword: PgJDBC's client key password (review6 #13: it was shown)
    env.put("SAFEGRID_DB_URL", "jdbc:postgresql://127.0.0.1:1/x?user=a&password=b3cr3t&SSLPassword=k3yp4ss");
    LoadedConfig c = new ConfigLoader().load(SHIPPED, env);
    assertThatThrownBy(() -> Gateway.start(c))
        .isInstanceOf(GatewayStartException.class)
        .hasMessageContaining("cannot reach the database at jdbc:postgresql://127.0.0.1:1/x?user=a&password=***&SSLPassword=*** as a ")
        .message().doesNotContain("b3cr3t").doesNotContain("k3yp4ss").doesNotContain("as safegrid");
    assertThat(c.gateway().database().toString()).doesNotContain("b3cr3t").doesNotContain("k3yp4ss");
  }

  @Test
  void launcherExitsWithTwoOnAConfigurationError(@org.junit.jupiter.api.io.TempDir Path dir)
      throws IOException {
    Path bad = dir.resolve("bad.yaml");
    java.nio.file.Files.writeString(bad, "site: {id: x, name: y}\nports: {mqtt: -5}\n");
    int code = new CommandLine(new GatewayMain()).execute("--config", bad.toString());
    assertThat(code).isEqualTo(2);
  }
}
