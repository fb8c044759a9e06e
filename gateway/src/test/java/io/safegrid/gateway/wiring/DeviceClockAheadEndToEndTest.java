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
 * newcomer7 F5 through the whole gateway: a gas alarm and a fire panel whose clocks are 8 h ahead
 * (Beijing time written as UTC {@code Z}) send over MQTT 5. Before, every message got a PUBACK and
 * was stored, but the rule engine flagged it {@code future_timestamp} and judged nothing: no gas
 * alarm, no fire alarm, until the wall clock caught up 8 h later. Now both are raised on arrival
 * (evidence {@code device_clock: ahead}) and cleared by the devices' later messages, and every such
 * message is still counted in {@code safegrid.rules.flags{reason=future_timestamp}}.
 */
class DeviceClockAheadEndToEndTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long EIGHT_HOURS = 8 * 3_600_000L;

  @Test
  void aGasAlarmAndAFirePanelEightHoursAhead_raiseAndClearTheirAlarms(@TempDir Path spool)
      throws Exception {
    LoadedConfig shipped = ShippedConfig.onTestDatabase(db);
    GatewayConfig gc = shipped.gateway()
        .withEmergencyNetwork(new EmergencyNetworkConfig(null, "safegrid-ahead", "safegrid/notify/", null, null))
        .withStorage(new StorageConfig(spool.toString(), 64L << 20, 5000, 10));
    try (Gateway g = Gateway.start(new LoadedConfig(shipped.file(), shipped.site(), gc))) {
      String mqtt = "tcp://127.0.0.1:" + g.ports().mqtt();
      HttpClient http = HttpClient.newHttpClient();
      long fast = System.currentTimeMillis() + EIGHT_HOURS;

      publish(mqtt, "gas-030", "telemetry",
          "{\"ts\":" + fast + ",\"values\":{\"gas_lel\":1.0}}",
          "{\"ts\":" + (fast + 60_000) + ",\"values\":{\"gas_lel\":70}}");
      publish(mqtt, "fire-henghe-waitan", "events",
          "{\"ts\":" + fast + ",\"event\":\"fire\",\"zone\":1,\"point\":1}");
      assertThat(storedValues("gas-030")).as("acknowledged means stored").containsExactly(1.0, 70.0);

      JsonNode gas = await().atMost(Duration.ofSeconds(20))
          .until(() -> alarm(http, g, "gas-030", "gas-lel-threshold", "active_unacked"), n -> n != null);
      assertThat(gas.path("severity").asText()).isEqualTo("critical");
      assertThat(gas.path("evidence").path("device_clock").asText()).isEqualTo("ahead");
      assertThat(gas.path("evidence").path("reading_time_ms").asLong())
          .as("the time the device sent is in the evidence").isEqualTo(fast + 60_000);
      JsonNode fire = await().atMost(Duration.ofSeconds(20))
          .until(() -> alarm(http, g, "fire-henghe-waitan", "fire-panel-fire", "active_unacked"),
              n -> n != null);
      assertThat(fire.path("severity").asText()).isEqualTo("critical");
      assertThat(fire.path("evidence").path("device_clock").asText()).isEqualTo("ahead");
      assertThat(fire.path("evidence").path("event_time_ms").asLong()).isEqualTo(fast);

      // the same clocks go on: a normal reading clears the gas alarm, the panel's reset its fire
      publish(mqtt, "gas-030", "telemetry",
          "{\"ts\":" + (fast + 120_000) + ",\"values\":{\"gas_lel\":1.0}}");
      publish(mqtt, "fire-henghe-waitan", "events",
          "{\"ts\":" + (fast + 120_000) + ",\"event\":\"reset\"}");
      JsonNode gasCleared = await().atMost(Duration.ofSeconds(20))
          .until(() -> alarm(http, g, "gas-030", "gas-lel-threshold", "cleared_unacked"), n -> n != null);
      assertThat(gasCleared.path("id").asLong()).isEqualTo(gas.path("id").asLong());
      JsonNode fireCleared = await().atMost(Duration.ofSeconds(20))
          .until(() -> alarm(http, g, "fire-henghe-waitan", "fire-panel-fire", "cleared_unacked"),
              n -> n != null);
      assertThat(fireCleared.path("id").asLong()).isEqualTo(fire.path("id").asLong());

      assertThat(metric(body(http, g, "/metrics"), "safegrid_rules_flags_total", "future_timestamp"))
          .as("every message ahead is still flagged and counted").isEqualTo(5.0);
    }
  }

  /** Publishes each payload at QoS 1 on the device's topic; returns once PUBACK came. */
  private static void publish(String uri, String device, String topic, String... payloads)
      throws Exception {
    MqttClient c = new MqttClient(uri, device, new MemoryPersistence());
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setUserName(device);
    o.setPassword(("demo-" + device).getBytes(StandardCharsets.UTF_8));
    c.connect(o);
    try {
      for (String p : payloads) {
        c.publish("devices/" + device + "/" + topic, p.getBytes(StandardCharsets.UTF_8), 1, false);
      }
    } finally {
      c.disconnect();
      c.close();
    }
  }

  /** The device's alarm of a rule in the given state, as the officer's API shows it. */
  private static JsonNode alarm(HttpClient http, Gateway g, String device, String rule,
      String state) throws Exception {
    for (JsonNode n : JSON.readTree(body(http, g, "/api/alarms?limit=1000&state=" + state)).path("alarms")) {
      if (device.equals(n.path("deviceId").asText()) && rule.equals(n.path("ruleId").asText())) {
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
