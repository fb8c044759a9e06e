package io.safegrid.gateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.safegrid.gateway.config.ConfigLoader;
import io.safegrid.gateway.config.EmergencyNetworkConfig;
import io.safegrid.gateway.config.GatewayConfig;
import io.safegrid.gateway.config.LoadedConfig;
import io.safegrid.gateway.config.StorageConfig;
import io.safegrid.gateway.wiring.Gateway;
import io.safegrid.testing.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * review8 R8-2 (newcomer8 N2's second half) through the whole gateway, as the duty officer sees
 * it on {@code /api/alarms}: the shipped site's rules ({@code config/dongnan.yaml}, {@code
 * debounce_s: 0}, no override) with newcomer8's two gas units added in one building of Nanmen
 * New City zone 1 (the shipped file has no two gas units in one building). gas-902 leaks now;
 * gas-901, reporting 1.0 %LEL in order, uploads N2's 30-record backlog from two hours ago with
 * one 70 %LEL sample: gas-901's late alarm is raised (at the sample's own time) but no {@code
 * gas-combo-building} (before: CRITICAL with report upward for two leaks 1 h 45 min apart). A
 * real leak of gas-901 now, next to gas-902's, still makes the combined alarm.
 */
class LateBacklogCombinationEndToEndTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TOKEN = "demo-officer-token";
  private static final String GAS = "gas-lel-threshold";
  private static final String COMBO = "gas-combo-building";

  @Test
  void anOldBacklogsSpikeRaisesLateButNoCombination_aRealPairDoes(@TempDir Path dir) throws Exception {
    Path site = dir.resolve("dongnan-n2.yaml");
    String shipped = Files.readString(Path.of("../config/dongnan.yaml"), StandardCharsets.UTF_8);
    assertThat(shipped.stripTrailing()).as("devices is the file's last section").contains("\ndevices:\n");
    Files.writeString(site, shipped.stripTrailing() + "\n"
        + "  - {id: gas-901, type: gas_alarm, place: {community: nanmenba, compound: nanmen-1, building: nanmen-1-b1, unit: nanmen-1-b1-u1}, name: \"N2 unit 1\", premises: restaurant, secret: demo-gas-901, report_interval_s: 60}\n"
        + "  - {id: gas-902, type: gas_alarm, place: {community: nanmenba, compound: nanmen-1, building: nanmen-1-b1, unit: nanmen-1-b1-u2}, name: \"N2 unit 2\", premises: restaurant, secret: demo-gas-902, report_interval_s: 60}\n",
        StandardCharsets.UTF_8);
    LoadedConfig loaded = new ConfigLoader().load(site, Map.of(
        "SAFEGRID_DB_URL", db.jdbcUrl(), "SAFEGRID_DB_USER", db.user(),
        "SAFEGRID_DB_PASSWORD", db.password(), "SAFEGRID_MQTT_PORT", "0",
        "SAFEGRID_COAP_PORT", "0", "SAFEGRID_COAPS_PORT", "0", "SAFEGRID_HTTP_PORT", "0"));
    GatewayConfig gc = loaded.gateway()
        .withEmergencyNetwork(new EmergencyNetworkConfig(null, "safegrid-n2", "safegrid/notify/", null, null))
        .withStorage(new StorageConfig(dir.resolve("spool").toString(), 64L << 20, 5000, 10));
    try (Gateway g = Gateway.start(new LoadedConfig(loaded.file(), loaded.site(), gc))) {
      String mqtt = "tcp://127.0.0.1:" + g.ports().mqtt();
      HttpClient http = HttpClient.newHttpClient();
      long now = System.currentTimeMillis();

      // gas-901 reports in order, normal; gas-902 next door leaks now
      assertThat(publish(mqtt, "gas-901", "{\"ts\":" + (now - 2_000) + ",\"values\":{\"gas_lel\":1.0}}")).isZero();
      assertThat(publish(mqtt, "gas-902", "{\"ts\":" + (now - 1_000) + ",\"values\":{\"gas_lel\":70.0}}")).isZero();
      await().atMost(Duration.ofSeconds(20)).until(() -> alarm(http, g, "gas-902", GAS), a -> a != null);

      // N2's payload: 30 records a minute apart two hours ago, one 70 %LEL in the middle
      long base = now - 2 * 3_600_000L;
      StringBuilder backlog = new StringBuilder("[");
      for (int i = 0; i < 30; i++) {
        backlog.append(i == 0 ? "" : ",").append("{\"ts\":").append(base + i * 60_000L)
            .append(",\"values\":{\"gas_lel\":").append(i == 15 ? "70.0" : "1.0").append("}}");
      }
      assertThat(publish(mqtt, "gas-901", backlog.append(']').toString())).isZero();
      JsonNode late = await().atMost(Duration.ofSeconds(20)).until(() -> alarm(http, g, "gas-901", GAS), a -> a != null);
      assertThat(late.path("severity").asText()).isEqualTo("critical");
      assertThat(late.path("evidence").path("late").asBoolean()).as(late.toString()).isTrue();
      assertThat(late.path("evidence").path("reading_time_ms").asLong()).isEqualTo(base + 15 * 60_000L);

      // gas-901's next in-order reading clears its late alarm; by then a combination would be there
      assertThat(publish(mqtt, "gas-901", "{\"ts\":" + System.currentTimeMillis() + ",\"values\":{\"gas_lel\":1.0}}")).isZero();
      await().atMost(Duration.ofSeconds(20)).until(() -> alarm(http, g, "gas-901", GAS) == null);
      assertThat(all(http, g, COMBO)).as("two leaks 1 h 45 min apart are no pair").isEmpty();
      assertThat(alarm(http, g, "gas-902", GAS)).as("gas-902 still open").isNotNull();

      // a real leak of gas-901 now, while gas-902's is open: the combined alarm
      assertThat(publish(mqtt, "gas-901", "{\"ts\":" + System.currentTimeMillis() + ",\"values\":{\"gas_lel\":30.0}}")).isZero();
      JsonNode combo = await().atMost(Duration.ofSeconds(20)).until(() -> alarm(http, g, "gas-902", COMBO), a -> a != null);
      assertThat(combo.path("severity").asText()).isEqualTo("critical");
      assertThat(combo.path("evidence").path("second_device").asText()).isEqualTo("gas-901");
    }
  }

  private static int publish(String uri, String device, String payload) throws Exception {
    return DemoDevice.publish(uri, "n2-", device, "telemetry", payload);
  }

  /** The device's open alarm of the rule, or null. */
  private static JsonNode alarm(HttpClient http, Gateway g, String device, String rule) throws Exception {
    for (JsonNode n : all(http, g, rule)) {
      if (device.equals(n.path("deviceId").asText()) && n.path("state").asText().startsWith("active")) {
        return n;
      }
    }
    return null;
  }

  /** Every alarm of the rule, in any state. */
  private static List<JsonNode> all(HttpClient http, Gateway g, String rule) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + g.ports().http() + "/api/alarms?limit=1000"))
        .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<JsonNode> l = new ArrayList<>();
    for (JsonNode n : JSON.readTree(r.body()).path("alarms")) {
      if (rule.equals(n.path("ruleId").asText())) {
        l.add(n);
      }
    }
    return l;
  }
}
