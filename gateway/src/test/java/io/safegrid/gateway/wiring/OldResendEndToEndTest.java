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
 * review6 1 beyond the resend ring, through MQTT and TimescaleDB: a gas unit's 60 %LEL reading
 * raised an alarm that ended; 40 readings later (past the rule engine's 32-entry resend ring) and
 * 20 minutes after its time, the unit resends that PUBLISH (a persistent session resumed). Before,
 * it was taken for a clock that went back and reopened the alarm on arrival. Now the store tells
 * the engine it had that reading: a duplicate. A reading as far behind that the store never had is
 * still judged (raised on arrival).
 */
class OldResendEndToEndTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ID = "gas-112";

  @Test
  void aResendOlderThanTheRingAndFarBehind_doesNotReopenTheEndedAlarm(@TempDir Path spool)
      throws Exception {
    LoadedConfig shipped = ShippedConfig.onTestDatabase(db);
    GatewayConfig gc = shipped.gateway()
        .withEmergencyNetwork(new EmergencyNetworkConfig(null, "safegrid-resend", "safegrid/notify/", null, null))
        .withStorage(new StorageConfig(spool.toString(), 64L << 20, 5000, 10));
    try (Gateway g = Gateway.start(new LoadedConfig(shipped.file(), shipped.site(), gc))) {
      String mqtt = "tcp://127.0.0.1:" + g.ports().mqtt();
      HttpClient http = HttpClient.newHttpClient();
      long t0 = System.currentTimeMillis() - 20 * 60_000L;
      String leak = "{\"ts\":" + t0 + ",\"values\":{\"gas_lel\":60}}";
      List<String> first = new ArrayList<>();
      first.add(leak);
      for (int k = 1; k <= 40; k++) {
        first.add("{\"ts\":" + (t0 + k * 10_000L) + ",\"values\":{\"gas_lel\":1.0}}");
      }
      publish(mqtt, first.toArray(String[]::new));
      await().atMost(Duration.ofSeconds(20))
          .until(() -> gasAlarms(http, g, "cleared_unacked").size() == 1);
      assertThat(gasAlarms(http, g, "active_unacked")).isEmpty();

      publish(mqtt, leak); // the resend, 20 minutes after its time, 40 readings later
      Thread.sleep(1_500);
      assertThat(gasAlarms(http, g, "active_unacked")).as("the ended alarm stays ended").isEmpty();

      // a reading as far behind that the store never had: judged, raised on arrival
      publish(mqtt, "{\"ts\":" + (t0 + 5_000) + ",\"values\":{\"gas_lel\":70}}");
      List<JsonNode> open = await().atMost(Duration.ofSeconds(20))
          .until(() -> gasAlarms(http, g, "active_unacked"), l -> l.size() == 1);
      assertThat(open.get(0).path("evidence").path("value").asDouble())
          .as("raised by the new reading, not by the resend").isEqualTo(70.0);
    }
  }

  private static void publish(String uri, String... payloads) throws Exception {
    MqttClient c = new MqttClient(uri, ID, new MemoryPersistence());
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setUserName(ID);
    o.setPassword(("demo-" + ID).getBytes(StandardCharsets.UTF_8));
    c.connect(o);
    try {
      for (String p : payloads) {
        c.publish("devices/" + ID + "/telemetry", p.getBytes(StandardCharsets.UTF_8), 1, false);
      }
    } finally {
      c.disconnect();
      c.close();
    }
  }

  private static List<JsonNode> gasAlarms(HttpClient http, Gateway g, String state) throws Exception {
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.ports().http()
                + "/api/alarms?limit=1000&state=" + state))
            .header("Authorization", "Bearer demo-officer-token").build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode n : JSON.readTree(r.body()).path("alarms")) {
      if (ID.equals(n.path("deviceId").asText())
          && "gas-lel-threshold".equals(n.path("ruleId").asText())) {
        out.add(n);
      }
    }
    return out;
  }
}
