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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * newcomer8 N5 through the whole gateway: a {@code fire} event from a gas alarm (gas-032) and
 * from a river gauge (river-xi-1) of the shipped site is acknowledged and stored as every event
 * is, raises no alarm (no rule of their types reads it), and is no longer silently dropped: the
 * operator sees it in {@code /metrics} as {@code safegrid_rules_flags_total{reason="event_not_read"}}
 * (before: nothing anywhere).
 */
class EventNotReadEndToEndTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aFireFromAGasAlarmAndARiverGauge_isCountedNotDropped(@TempDir Path spool) throws Exception {
    LoadedConfig shipped = ShippedConfig.onTestDatabase(db);
    GatewayConfig gc = shipped.gateway()
        .withEmergencyNetwork(new EmergencyNetworkConfig(null, "safegrid-n5", "safegrid/notify/", null, null))
        .withStorage(new StorageConfig(spool.toString(), 64L << 20, 5000, 10));
    try (Gateway g = Gateway.start(new LoadedConfig(shipped.file(), shipped.site(), gc))) {
      String mqtt = "tcp://127.0.0.1:" + g.ports().mqtt();
      HttpClient http = HttpClient.newHttpClient();
      assertThat(flags(http, g)).isZero();
      assertThat(DemoDevice.publish(mqtt, "n5-", "gas-032", "events", "{\"event\":\"fire\",\"zone\":1}")).isZero();
      assertThat(DemoDevice.publish(mqtt, "n5-", "river-xi-1", "events", "{\"event\":\"fire\",\"zone\":1}")).isZero();
      await().atMost(Duration.ofSeconds(20)).until(() -> flags(http, g) == 2.0);
      for (JsonNode n : JSON.readTree(body(http, g, "/api/alarms?limit=1000")).path("alarms")) {
        assertThat(n.path("deviceId").asText()).as(n.toString()).isNotIn("gas-032", "river-xi-1");
      }
    }
  }

  /** {@code safegrid_rules_flags_total{reason="event_not_read"}} on /metrics, 0 when absent. */
  private static double flags(HttpClient http, Gateway g) throws Exception {
    return body(http, g, "/metrics").lines()
        .filter(l -> l.startsWith("safegrid_rules_flags_total{") && l.contains("reason=\"event_not_read\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  private static String body(HttpClient http, Gateway g, String path) throws Exception {
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.ports().http() + path))
            .header("Authorization", "Bearer demo-officer-token").build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path).isEqualTo(200);
    return r.body();
  }
}
