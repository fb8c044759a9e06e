package io.safegrid.gateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.safegrid.alerting.testsupport.Mosquitto;
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
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * newcomer8 N7: the emergency network's broker (a real Mosquitto) dies; a gas unit then reports a
 * critical leak over MQTT. What the duty officer and the monitoring see of the real gateway on the
 * shipped site: {@code GET /api/health} says {@code degraded} (200, not "up") with the broker not
 * connected; the page's live stream carries a {@code delivery} event "failing" for the leak's
 * call-out within seconds (not {@code channel-dead} after 8 attempts, about 4 minutes); the
 * alarm's history says the call-out was queued and is failing, not "notified". When the broker is
 * back: delivered, and the check is "up" again.
 */
class EmergencyBrokerDownTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  static final String OFFICER_TOKEN = "demo-officer-token";
  static final String LEAKING = "gas-042";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void aLeaksCallOutThatCannotReachTheBrokerIsFailingOnThePageAndInHealthAtOnce(@TempDir Path spool) throws Exception {
    Mosquitto broker = Mosquitto.start();
    try (Gateway gateway = Gateway.start(config(broker.uri(), spool));
        SseListener page = SseListener.connect(gateway.ports().http(), OFFICER_TOKEN)) {
      int port = gateway.ports().http();
      await("the broker connected").atMost(Duration.ofSeconds(15))
          .until(() -> mqtt(health(port)).path("connected").asBoolean(false));
      assertThat(health(port).path("status").asText()).isEqualTo("up");

      broker.close();
      await("health degraded").atMost(Duration.ofSeconds(15))
          .until(() -> "degraded".equals(health(port).path("status").asText()));
      HttpResponse<String> degraded = get(port, "/api/health", null);
      assertThat(degraded.statusCode()).as("degraded is not down: a restart would not bring the broker back").isEqualTo(200);
      JsonNode notifications = JSON.readTree(degraded.body()).path("checks").path("notifications");
      assertThat(notifications.path("up").asBoolean()).isTrue();
      assertThat(notifications.path("degraded").asBoolean()).isTrue();
      assertThat(notifications.path("channels").path("mqtt").path("connected").asBoolean(true)).isFalse();

      long leakAt = System.nanoTime();
      ThroughProxy.publish("tcp://127.0.0.1:" + gateway.ports().mqtt(), LEAKING, "{\"values\":{\"gas_lel\":80}}");
      SseListener.Event failing = await("event: alarm, type delivery, failing").atMost(Duration.ofSeconds(15))
          .until(() -> delivery(page, "failing"), Optional::isPresent).get();
      assertThat(Duration.ofNanos(System.nanoTime() - leakAt)).as("at the first failed attempt, not the 8th")
          .isLessThan(Duration.ofSeconds(15));
      JsonNode ev = failing.data();
      assertThat(ev.path("actor").asText()).isEqualTo("outbox");
      assertThat(ev.path("details").path("hazard").asBoolean()).isTrue();
      assertThat(ev.path("alarm").path("severity").asText()).isEqualTo("critical");
      assertThat(ev.path("note").asText()).startsWith("NOT delivered");
      long alarmId = ev.path("alarmId").asLong();

      JsonNode alarm = JSON.readTree(get(port, "/api/alarms/" + alarmId, OFFICER_TOKEN).body());
      JsonNode notified = null;
      for (JsonNode h : alarm.path("history")) {
        if (h.path("type").asText().equals("notified")) {
          notified = h;
        }
      }
      assertThat(notified).isNotNull();
      assertThat(notified.path("note").asText()).startsWith("call-out queued for").doesNotContain("notified");
      assertThat(notified.path("details").path("delivery").path("state").asText()).isEqualTo("failing");
      JsonNode check = JSON.readTree(get(port, "/api/health", null).body()).path("checks").path("notifications");
      assertThat(check.path("channels").path("mqtt").path("failingCallOuts").asLong()).isPositive();

      broker.restart();
      await("delivered when the broker is back").atMost(Duration.ofSeconds(30))
          .until(() -> delivery(page, "delivered"), Optional::isPresent);
      await("health up again").atMost(Duration.ofSeconds(15))
          .until(() -> "up".equals(health(port).path("status").asText()));
    } finally {
      broker.close();
    }
  }

  private static Optional<SseListener.Event> delivery(SseListener page, String state) {
    return page.events().stream()
        .filter(e -> e.name().equals("alarm") && "delivery".equals(e.data().path("type").asText())
            && LEAKING.equals(e.data().path("alarm").path("deviceId").asText())
            && state.equals(e.data().path("details").path("delivery").path("state").asText()))
        .findFirst();
  }

  private JsonNode health(int port) throws Exception {
    return JSON.readTree(get(port, "/api/health", null).body());
  }

  private static JsonNode mqtt(JsonNode health) {
    return health.path("checks").path("notifications").path("channels").path("mqtt");
  }

  private HttpResponse<String> get(int port, String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static LoadedConfig config(String brokerUri, Path spool) {
    LoadedConfig shipped = ShippedConfig.onTestDatabase(db);
    GatewayConfig gc = shipped.gateway();
    StorageConfig st = gc.storage();
    EmergencyNetworkConfig en = gc.emergencyNetwork();
    gc = gc.withStorage(new StorageConfig(spool.toString(), st.spoolMaxBytes(), st.batchSize(), st.batchWindowMs()))
        .withEmergencyNetwork(new EmergencyNetworkConfig(brokerUri, en.clientId(), en.topicPrefix(), en.username(),
            en.password()));
    return new LoadedConfig(shipped.file(), shipped.site(), gc);
  }
}
