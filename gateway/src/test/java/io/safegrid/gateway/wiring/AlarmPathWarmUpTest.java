package io.safegrid.gateway.wiring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.safegrid.gateway.config.EmergencyNetworkConfig;
import io.safegrid.gateway.config.GatewayConfig;
import io.safegrid.gateway.config.LoadedConfig;
import io.safegrid.gateway.config.ShippedConfig;
import io.safegrid.testing.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The first-alarm warm-up ({@link AlarmPathWarmUp}) leaves no trace a user could see: run again
 * while a duty officer's {@code /api/live} client is connected, it sends that client no frame,
 * writes no alarm, alarm event or outbox row, adds nothing to {@code /metrics}, the snapshot or
 * the device list; and a real leak posted right after reaches the same client as the first alarm
 * frame it gets (so the client was listening all along).
 */
class AlarmPathWarmUpTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static final String OFFICER = "demo-officer-token";

  @Test
  void warmUpShowsNothingToAConnectedClientAndStoresNothing(@TempDir Path spool) throws Exception {
    LoadedConfig shipped = ShippedConfig.onTestDatabase(db);
    GatewayConfig gc = shipped.gateway()
        // no broker: notifications stay in the outbox table, where this test can see them
        .withEmergencyNetwork(new EmergencyNetworkConfig(null, null, null, null, null))
        .withStorage(new io.safegrid.gateway.config.StorageConfig(spool.toString(), 64L << 20, 5000, 10));
    try (Gateway g = Gateway.start(new LoadedConfig(shipped.file(), shipped.site(), gc))) {
      int http = g.ports().http();
      HttpClient client = HttpClient.newHttpClient();
      List<String> lines = new CopyOnWriteArrayList<>();
      HttpResponse<Stream<String>> live = client
          .sendAsync(get(http, "/api/live").header("Accept", "text/event-stream").build(),
              HttpResponse.BodyHandlers.ofLines())
          .get(20, TimeUnit.SECONDS);
      assertThat(live.statusCode()).isEqualTo(200);
      Thread reader = new Thread(() -> live.body().forEach(lines::add), "test-sse-reader");
      reader.setDaemon(true);
      reader.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> lines.stream().anyMatch(l -> l.startsWith("retry:")));

      AlarmPathWarmUp.Result r = g.warmUpAlarmPath();

      assertThat(r).as("the warm-up ran (it logs and returns null on failure)").isNotNull();
      assertThat(r.transitions()).as("rule transitions decided on the synthetic devices").isGreaterThan(AlarmPathWarmUp.CYCLES);
      assertThat(r.written()).as("all of them through the throwaway writer").isEqualTo(r.transitions());
      assertThat(r.live().frames()).isEqualTo(AlarmPathWarmUp.CYCLES * 3L);
      assertThat(r.live().bytes()).isGreaterThan(AlarmPathWarmUp.CYCLES * 3L * 100);
      Thread.sleep(500); // a frame leaked to the real feed would be on its way by now

      assertThat(lines).as("nothing but the greeting on the officer's live stream")
          .noneMatch(l -> l.startsWith("event:") || l.startsWith("data:") || l.startsWith("id:"));
      assertThat(count("alarms")).isZero();
      assertThat(count("alarm_events")).isZero();
      assertThat(count("outbox")).isZero();
      String metrics = body(client, http, "/metrics");
      assertThat(metrics).doesNotContain("safegrid-warmup");
      assertThat(metric(metrics, "safegrid_alarms_writer_applied_total")).isZero();
      assertThat(metric(metrics, "safegrid_live_alarm_age_seconds_count")).isZero();
      assertThat(metric(metrics, "safegrid_live_write_delay_seconds_count")).isZero();
      assertThat(body(client, http, "/api/live/snapshot")).doesNotContain("safegrid-warmup").contains("\"alarms\":[]");
      assertThat(body(client, http, "/api/devices")).doesNotContain("safegrid-warmup");

      // a real leak now: the same client gets it, and it is the first alarm frame it gets
      String reading = "{\"ts\": " + System.currentTimeMillis() + ", \"values\": {\"gas_lel\": 31.5}}";
      CoapClient coap = new CoapClient(
          "coap://127.0.0.1:" + g.ports().coap() + "/devices/gas-001/telemetry?s=demo-gas-001");
      CoapResponse posted = coap.post(reading, MediaTypeRegistry.APPLICATION_JSON);
      coap.shutdown();
      assertThat(posted.getCode()).isEqualTo(CoAP.ResponseCode.CHANGED);
      await().atMost(Duration.ofSeconds(20)).until(() -> lines.stream().anyMatch(l -> l.equals("event: alarm")));
      int first = lines.indexOf("event: alarm");
      assertThat(lines.get(first + 1)).startsWith("data:").contains("\"deviceId\":\"gas-001\"");
      assertThat(lines).noneMatch(l -> l.contains("safegrid-warmup"));
      assertThat(count("alarms")).isEqualTo(1);
      await().atMost(Duration.ofSeconds(20)).until(() -> count("outbox") > 0); // the check above could see rows
      live.body().close();
    }
  }

  private static HttpRequest.Builder get(int port, String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Authorization", "Bearer " + OFFICER);
  }

  private static String body(HttpClient client, int port, String path) throws Exception {
    HttpResponse<String> r = client.send(get(port, path).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path).isEqualTo(200);
    return r.body();
  }

  /** A sample's value in Prometheus text, 0 when the series is absent. */
  private static double metric(String text, String name) {
    return text.lines()
        .filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  private static long count(String table) throws Exception {
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
