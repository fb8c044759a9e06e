package io.safegrid.gateway.wiring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.safegrid.gateway.config.EmergencyNetworkConfig;
import io.safegrid.gateway.config.GatewayConfig;
import io.safegrid.gateway.config.LoadedConfig;
import io.safegrid.gateway.config.ShippedConfig;
import io.safegrid.gateway.config.StorageConfig;
import io.safegrid.testing.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * newcomer6 finding 1 through the whole gateway: a gas alarm whose clock went back (reset to
 * 2000-01-01 after a power cut; or 90 minutes behind, the demo's {@code clock_skew} fault) sends
 * leaks over MQTT 5 after one current reading. Before, each got a PUBACK and was stored, yet no
 * alarm, flag or count came of it. Now the critical gas alarm is raised (and, on the reset clock,
 * cleared again by a normal reading), and the wrong clock is counted in {@code
 * safegrid.rules.flags}.
 */
class DeviceClockBehindEndToEndTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aDeviceWhoseClockWentBackStillRaisesAndClearsTheCriticalGasAlarm(@TempDir Path spool)
      throws Exception {
    LoadedConfig shipped = ShippedConfig.onTestDatabase(db);
    GatewayConfig gc = shipped.gateway()
        .withEmergencyNetwork(new EmergencyNetworkConfig(null, "safegrid-clock", "safegrid/notify/", null, null))
        .withStorage(new StorageConfig(spool.toString(), 64L << 20, 5000, 10));
    try (Gateway g = Gateway.start(new LoadedConfig(shipped.file(), shipped.site(), gc))) {
      String mqtt = "tcp://127.0.0.1:" + g.ports().mqtt();
      HttpClient http = HttpClient.newHttpClient();
      long now = System.currentTimeMillis();

      // a) the clock reset to 2000 after one current reading
      publish(mqtt, "gas-109",
          "{\"ts\":" + now + ",\"values\":{\"gas_lel\":1.0}}",
          "{\"ts\":\"2000-01-01T00:00:05Z\",\"values\":{\"gas_lel\":70}}",
          "{\"ts\":\"2000-01-01T00:01:05Z\",\"values\":{\"gas_lel\":72}}");
      // b) 90 minutes behind after one current reading
      publish(mqtt, "gas-110",
          "{\"ts\":" + now + ",\"values\":{\"gas_lel\":1.0}}",
          "{\"ts\":" + (now - 5_400_000L + 1_000) + ",\"values\":{\"gas_lel\":65}}");

      assertThat(storedValues("gas-109")).as("acknowledged means stored").containsExactly(1.0, 70.0, 72.0);
      assertThat(storedValues("gas-110")).containsExactly(1.0, 65.0);

      JsonNode a = await().atMost(Duration.ofSeconds(20))
          .until(() -> gasAlarm(http, g, "gas-109", "active_unacked"), n -> n != null);
      assertThat(a.path("severity").asText()).isEqualTo("critical");
      assertThat(a.path("evidence").path("reading_time_ms").asLong())
          .as("the device's own (wrong) time is in the evidence")
          .isEqualTo(java.time.Instant.parse("2000-01-01T00:00:05Z").toEpochMilli());
      JsonNode b = await().atMost(Duration.ofSeconds(20))
          .until(() -> gasAlarm(http, g, "gas-110", "active_unacked"), n -> n != null);
      assertThat(b.path("severity").asText()).isEqualTo("critical");
      assertThat(b.path("evidence").path("value").asDouble()).isEqualTo(65.0);

      // the reset clock keeps running from 2000: a normal reading clears the alarm
      publish(mqtt, "gas-109", "{\"ts\":\"2000-01-01T00:02:05Z\",\"values\":{\"gas_lel\":1.0}}");
      JsonNode cleared = await().atMost(Duration.ofSeconds(20))
          .until(() -> gasAlarm(http, g, "gas-109", "cleared_unacked"), n -> n != null);
      assertThat(cleared.path("id").asLong()).isEqualTo(a.path("id").asLong());

      String metrics = body(http, g, "/metrics");
      assertThat(metric(metrics, "safegrid_rules_flags_total", "clock_behind"))
          .as("the readings judged on arrival time are counted").isEqualTo(2.0);
      assertThat(metric(metrics, "safegrid_rules_flags_total", "late_reading"))
          .as("the first reading far behind of each device raised as a late reading").isEqualTo(2.0);
    }
  }

  /** Publishes each payload at QoS 1 on the device's telemetry topic; returns once PUBACK came. */
  private static void publish(String uri, String device, String... payloads) throws Exception {
    MqttClient c = new MqttClient(uri, device, new MemoryPersistence());
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setUserName(device);
    o.setPassword(("demo-" + device).getBytes(StandardCharsets.UTF_8));
    c.connect(o);
    try {
      for (String p : payloads) {
        c.publish("devices/" + device + "/telemetry", p.getBytes(StandardCharsets.UTF_8), 1, false);
      }
    } finally {
      c.disconnect();
      c.close();
    }
  }

  /** The device's gas-lel-threshold alarm in the given state, as the officer's API shows it. */
  private static JsonNode gasAlarm(HttpClient http, Gateway g, String device, String state)
      throws Exception {
    for (JsonNode n : JSON.readTree(body(http, g, "/api/alarms?limit=1000&state=" + state)).path("alarms")) {
      if (device.equals(n.path("deviceId").asText())
          && "gas-lel-threshold".equals(n.path("ruleId").asText())) {
        return n;
      }
    }
    return null;
  }

  private static String body(HttpClient http, Gateway g, String path) throws Exception {
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.ports().http() + path))
            .header("Authorization", "Bearer demo-officer-token").build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path).isEqualTo(200);
    return r.body();
  }

  /** A Prometheus sample with {@code reason="..."}, 0 when absent. */
  private static double metric(String text, String name, String reason) {
    return text.lines()
        .filter(l -> l.startsWith(name + "{") && l.contains("reason=\"" + reason + "\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  private static List<Double> storedValues(String device) throws Exception {
    List<Double> values = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT value FROM readings WHERE device_id = ? AND metric = 'gas_lel' ORDER BY value")) {
      ps.setString(1, device);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          values.add(rs.getDouble(1));
        }
      }
    }
    return values;
  }
}
