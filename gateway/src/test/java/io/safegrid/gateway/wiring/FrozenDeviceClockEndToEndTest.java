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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * review6 4 through the whole gateway: a gas unit whose RTC stopped (every reading stamped
 * 2000-01-01T00:00:00Z) goes from 0 to 60 %LEL over MQTT 5. Before, the 60 was taken for a
 * duplicate: PUBACK, nothing stored, no alarm, no flag, no count. Now the critical gas alarm is
 * raised on arrival and cleared by the next normal value, the stopped clock is counted in {@code
 * safegrid.rules.flags{reason=clock_frozen}}, and the values readings cannot hold (one row per
 * device, metric and time) are kept in dead_letters and counted.
 */
class FrozenDeviceClockEndToEndTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String FROZEN = "\"2000-01-01T00:00:00Z\"";

  @Test
  void aGasUnitWithAStoppedClock_raisesAndClearsTheCriticalAlarm_andNothingVanishes(
      @TempDir Path spool) throws Exception {
    LoadedConfig shipped = ShippedConfig.onTestDatabase(db);
    GatewayConfig gc = shipped.gateway()
        .withEmergencyNetwork(new EmergencyNetworkConfig(null, "safegrid-frozen", "safegrid/notify/", null, null))
        .withStorage(new StorageConfig(spool.toString(), 64L << 20, 5000, 10));
    try (Gateway g = Gateway.start(new LoadedConfig(shipped.file(), shipped.site(), gc))) {
      String mqtt = "tcp://127.0.0.1:" + g.ports().mqtt();
      HttpClient http = HttpClient.newHttpClient();

      publish(mqtt, "gas-111",
          "{\"ts\":" + FROZEN + ",\"values\":{\"gas_lel\":0.0}}",
          "{\"ts\":" + FROZEN + ",\"values\":{\"gas_lel\":60}}");

      JsonNode a = await().atMost(Duration.ofSeconds(20))
          .until(() -> gasAlarm(http, g, "gas-111", "active_unacked"), n -> n != null);
      assertThat(a.path("severity").asText()).isEqualTo("critical");
      assertThat(a.path("evidence").path("value").asDouble()).isEqualTo(60.0);
      assertThat(a.path("evidence").path("reading_time_ms").asLong())
          .isEqualTo(Instant.parse("2000-01-01T00:00:00Z").toEpochMilli());

      publish(mqtt, "gas-111", "{\"ts\":" + FROZEN + ",\"values\":{\"gas_lel\":1.0}}");
      JsonNode cleared = await().atMost(Duration.ofSeconds(20))
          .until(() -> gasAlarm(http, g, "gas-111", "cleared_unacked"), n -> n != null);
      assertThat(cleared.path("id").asLong()).isEqualTo(a.path("id").asLong());

      assertThat(storedValues("gas-111")).as("one row per device, metric and time: the first")
          .containsExactly(0.0);
      List<String> reasons = deadLetterReasons("gas-111");
      assertThat(reasons).as("the values readings cannot hold are kept with the reason")
          .hasSize(2).allMatch(r -> r.startsWith("same device, metric and time as a stored reading"));

      String metrics = body(http, g, "/metrics");
      assertThat(metric(metrics, "safegrid_rules_flags_total", "reason", "clock_frozen"))
          .isEqualTo(2.0);
      assertThat(metric(metrics, "safegrid_storage_rows_total", "outcome", "conflict"))
          .isEqualTo(2.0);
      assertThat(metric(metrics, "safegrid_storage_dead_letters_total", "source", "storage"))
          .isEqualTo(2.0);
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

  /** A Prometheus sample with {@code tag="value"}, 0 when absent. */
  private static double metric(String text, String name, String tag, String value) {
    return text.lines()
        .filter(l -> l.startsWith(name + "{") && l.contains(tag + "=\"" + value + "\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  private static List<Double> storedValues(String device) throws Exception {
    return strings("SELECT value::text FROM readings WHERE device_id = ? AND metric = 'gas_lel'"
        + " ORDER BY time", device).stream().map(Double::valueOf).toList();
  }

  private static List<String> deadLetterReasons(String device) throws Exception {
    return strings("SELECT reason FROM dead_letters WHERE device_id = ? ORDER BY id", device);
  }

  private static List<String> strings(String sql, String device) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, device);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }
}
