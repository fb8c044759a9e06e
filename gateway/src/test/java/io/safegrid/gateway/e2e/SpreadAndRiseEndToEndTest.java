package io.safegrid.gateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.safegrid.gateway.config.EmergencyNetworkConfig;
import io.safegrid.gateway.config.GatewayConfig;
import io.safegrid.gateway.config.LoadedConfig;
import io.safegrid.gateway.config.ShippedConfig;
import io.safegrid.gateway.config.StorageConfig;
import io.safegrid.gateway.wiring.Gateway;
import io.safegrid.testing.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * newcomer7 F25 and F27 through the whole gateway (MQTT 5 from Paho, TimescaleDB, the rules, the
 * alarm ledger, {@code /api/alarms} and {@code /api/live}), as the duty officer sees them.
 *
 * <ul>
 *   <li>F25: a school's panel reports a fire in zone 1, then in zone 2: the one fire alarm now
 *       has count 2, names zone 2 and both zones, has a {@code repeated} history event, and the
 *       live stream carried it. The same for a kindergarten whose first fire the officer had
 *       acknowledged. A fire again in zone 1 changes nothing (zone 3 next makes count 3, not 4).
 *       Before: count 1, the card still named zone 1, no history, no live event.
 *   <li>F27: a river gauge reporting every 5 s uploads 20 minutes of a steady 2 m/h rise: {@code
 *       river-rise-rate} is raised (before: never, the window of 128 samples spanned 635 s).
 * </ul>
 */
class SpreadAndRiseEndToEndTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TOKEN = "demo-officer-token";

  @Test
  void aSpreadingFireAndAFastReportingRiverRiseReachTheDutyOfficer(@TempDir Path spool) throws Exception {
    LoadedConfig shipped = ShippedConfig.onTestDatabase(db);
    GatewayConfig gc = shipped.gateway()
        .withEmergencyNetwork(new EmergencyNetworkConfig(null, "safegrid-spread", "safegrid/notify/", null, null))
        .withStorage(new StorageConfig(spool.toString(), 64L << 20, 5000, 10));
    try (Gateway g = Gateway.start(new LoadedConfig(shipped.file(), shipped.site(), gc));
        SseListener live = SseListener.connect(g.ports().http(), TOKEN)) {
      String mqtt = "tcp://127.0.0.1:" + g.ports().mqtt();
      HttpClient http = HttpClient.newHttpClient();

      // F25, unacknowledged: fire in zone 1, then zone 2 of the same school
      assertThat(publish(mqtt, "fire-school-4", "events", "{\"event\":\"fire\",\"zone\":1,\"point\":1,\"text\":\"lab\"}"))
          .isZero();
      JsonNode school = await().atMost(Duration.ofSeconds(20)).until(() -> fireAlarm(http, g, "fire-school-4"), a -> a != null);
      assertThat(school.path("count").asInt()).isEqualTo(1);
      assertThat(publish(mqtt, "fire-school-4", "events",
          "{\"event\":\"fire\",\"zone\":2,\"point\":7,\"text\":\"library\"}")).isZero();
      JsonNode spread = await().atMost(Duration.ofSeconds(20))
          .until(() -> fireAlarm(http, g, "fire-school-4"), a -> a != null && a.path("count").asInt() == 2);
      assertThat(spread.path("id").asLong()).as("still the one alarm").isEqualTo(school.path("id").asLong());
      assertThat(spread.path("message").asText())
          .isEqualTo("fire alarm zone 2 point 7 (library); zones in alarm: 1, 2");
      assertThat(spread.path("evidence").path("zones").toString()).isEqualTo("[1,2]");
      assertThat(spread.path("evidence").path("new_zone").asInt()).isEqualTo(2);
      long schoolId = school.path("id").asLong();
      assertThat(historyTypes(http, g, schoolId)).contains("raised", "repeated");
      await().atMost(Duration.ofSeconds(10)).until(() -> live.alarmEvents(schoolId).stream()
          .anyMatch(e -> "repeated".equals(e.data().path("type").asText())
              && e.data().path("alarm").path("message").asText().contains("zones in alarm: 1, 2")));

      // the same zone again is no news; a third zone is
      assertThat(publish(mqtt, "fire-school-4", "events", "{\"event\":\"fire\",\"zone\":1,\"point\":1,\"text\":\"lab\"}"))
          .isZero();
      assertThat(publish(mqtt, "fire-school-4", "events", "{\"event\":\"fire\",\"zone\":3,\"point\":2,\"text\":\"gym\"}"))
          .isZero();
      JsonNode third = await().atMost(Duration.ofSeconds(20))
          .until(() -> fireAlarm(http, g, "fire-school-4"), a -> a != null && a.path("message").asText().contains("gym"));
      assertThat(third.path("count").asInt()).as("zone 1 again counted nothing").isEqualTo(3);
      assertThat(third.path("evidence").path("zones").toString()).isEqualTo("[1,2,3]");

      // F25, acknowledged: the officer acknowledged the kindergarten's ground-floor fire
      assertThat(publish(mqtt, "fire-kindergarten-7", "events",
          "{\"event\":\"fire\",\"zone\":1,\"point\":1,\"text\":\"ground floor\"}")).isZero();
      JsonNode kg = await().atMost(Duration.ofSeconds(20)).until(() -> fireAlarm(http, g, "fire-kindergarten-7"), a -> a != null);
      long kgId = kg.path("id").asLong();
      HttpResponse<String> ack = http.send(HttpRequest.newBuilder(URI.create(base(g) + "/api/alarms/" + kgId + "/ack"))
          .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"note\":\"brigade on the way\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(ack.statusCode()).as(ack.body()).isEqualTo(200);
      assertThat(publish(mqtt, "fire-kindergarten-7", "events",
          "{\"event\":\"fire\",\"zone\":5,\"point\":9,\"text\":\"3rd floor dormitory\"}")).isZero();
      JsonNode kgSpread = await().atMost(Duration.ofSeconds(20))
          .until(() -> fireAlarm(http, g, "fire-kindergarten-7"), a -> a != null && a.path("count").asInt() == 2);
      assertThat(kgSpread.path("message").asText()).contains("zone 5 point 9 (3rd floor dormitory)")
          .endsWith("zones in alarm: 1, 5");
      assertThat(historyTypes(http, g, kgId)).contains("acknowledged", "repeated");
      await().atMost(Duration.ofSeconds(10)).until(() -> live.alarmEvents(kgId).stream()
          .anyMatch(e -> "repeated".equals(e.data().path("type").asText())));

      // F27: 20 minutes of a 2 m/h rise sampled every 5 s, uploaded as one backlog message
      long now = System.currentTimeMillis();
      StringBuilder backlog = new StringBuilder("[");
      for (int i = 0; i <= 240; i++) {
        long t = now - 1_200_000L + i * 5_000L;
        double level = 268.0 + 2.0 * (i * 5_000L) / 3_600_000.0;
        backlog.append(i == 0 ? "" : ",").append("{\"ts\":").append(t).append(",\"values\":{\"water_level_m\":")
            .append(String.format(java.util.Locale.ROOT, "%.4f", level)).append("}}");
      }
      backlog.append(']');
      assertThat(publish(mqtt, "river-xi-1", "telemetry", backlog.toString())).isZero();
      JsonNode rise = await().atMost(Duration.ofSeconds(20))
          .until(() -> alarm(http, g, "river-xi-1", "river-rise-rate"), a -> a != null);
      assertThat(rise.path("severity").asText()).isEqualTo("warning");
      assertThat(rise.path("evidence").path("rate_per_h").asDouble()).isBetween(1.9, 2.1);
      long riseId = rise.path("id").asLong();
      await().atMost(Duration.ofSeconds(10)).until(() -> live.alarmEvents(riseId).stream()
          .anyMatch(e -> "raised".equals(e.data().path("type").asText())));
    }
  }

  private static String base(Gateway g) {
    return "http://127.0.0.1:" + g.ports().http();
  }

  /** One QoS 1 PUBLISH on the device's topic; returns the PUBACK's reason code. */
  private static int publish(String uri, String device, String topic, String payload) throws Exception {
    return DemoDevice.publish(uri, "spread-", device, topic, payload);
  }

  private static JsonNode fireAlarm(HttpClient http, Gateway g, String device) throws Exception {
    return alarm(http, g, device, "fire-panel-fire");
  }

  /** The device's open alarm of the rule (unacknowledged or acknowledged), or null. */
  private static JsonNode alarm(HttpClient http, Gateway g, String device, String rule) throws Exception {
    for (JsonNode n : JSON.readTree(body(http, g, "/api/alarms?limit=1000")).path("alarms")) {
      if (device.equals(n.path("deviceId").asText()) && rule.equals(n.path("ruleId").asText())
          && n.path("state").asText().startsWith("active")) {
        return n;
      }
    }
    return null;
  }

  private static List<String> historyTypes(HttpClient http, Gateway g, long id) throws Exception {
    JsonNode a = JSON.readTree(body(http, g, "/api/alarms/" + id));
    List<String> types = new java.util.ArrayList<>();
    for (JsonNode e : a.path("history")) {
      types.add(e.path("type").asText());
    }
    return types;
  }

  private static String body(HttpClient http, Gateway g, String path) throws Exception {
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(URI.create(base(g) + path)).header("Authorization", "Bearer " + TOKEN).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path).isEqualTo(200);
    return r.body();
  }
}
