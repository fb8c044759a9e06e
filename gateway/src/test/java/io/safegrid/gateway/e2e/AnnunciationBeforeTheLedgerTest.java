package io.safegrid.gateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.safegrid.alerting.ledger.BreakableProxy;
import io.safegrid.gateway.config.ConfigLoader;
import io.safegrid.gateway.config.LoadedConfig;
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
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Annunciation before the ledger (docs/alerting.md "Annunciation before the ledger"): the rule
 * engine's hazard raise reaches the duty page's stream as {@code event: annunciation} at the
 * decision, without waiting for the ledger's PostgreSQL round trip. The real gateway on the
 * shipped site, the real TimescaleDB (behind a loopback {@link BreakableProxy} to stall the
 * ledger), a device publishing over MQTT 5 with Paho, the page's stream read as a browser's
 * EventSource reads it ({@link SseListener}).
 */
class AnnunciationBeforeTheLedgerTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  static final String OFFICER_TOKEN = "demo-officer-token";
  static final String LEAKING = "gas-023";
  /** The normal-operation test's device (the test class's database is shared by both tests). */
  static final String RISING = "gas-029";
  static final String RULE = "gas-lel-threshold";
  /** Reports every 5 s in this test's site copy: never heard from, it goes offline ~15 s after the start. */
  static final String SILENT = "gas-027";

  @Test
  void aGasLeakIsAnnunciatedWithinASecondWhileTheLedgerIsStalled_thenTheLedgerRecordsIt(@TempDir Path spool)
      throws Exception {
    try (BreakableProxy proxy = proxyToTestDatabase();
        Gateway gateway = Gateway.start(ThroughProxy.config(db, proxy, spool, null, 0));
        SseListener page = SseListener.connect(gateway.ports().http(), OFFICER_TOKEN)) {
      String mqtt = "tcp://127.0.0.1:" + gateway.ports().mqtt();
      ThroughProxy.publish(mqtt, LEAKING, "{\"values\":{\"gas_lel\":1.0}}");
      MqttAsyncClient device = connect(mqtt, LEAKING);
      try {
        // the database goes silent (a checkpoint stall, a firewall DROP): the ledger's transaction waits
        proxy.blackhole(true);
        long readingTime = System.currentTimeMillis();
        long publishedAt = System.nanoTime();
        device.publish("devices/" + LEAKING + "/telemetry",
            ("{\"ts\":" + readingTime + ",\"values\":{\"gas_lel\":60}}").getBytes(StandardCharsets.UTF_8), 1, false);

        SseListener.Event card = await("event: annunciation on /api/live").atMost(Duration.ofSeconds(10))
            .until(() -> annunciation(page, LEAKING), Optional::isPresent).get();
        long tookMs = (card.receivedNanos() - publishedAt) / 1_000_000;
        assertThat(tookMs).as("publish to annunciation, ms, with the ledger stalled").isLessThan(1_000);
        assertThat(card.id()).as("no id: Last-Event-ID stays the ledger's").isNull();
        JsonNode d = card.data();
        assertThat(d.path("annunciationId").asLong()).isPositive();
        assertThat(d.path("deviceId").asText()).isEqualTo(LEAKING);
        assertThat(d.path("ruleId").asText()).isEqualTo(RULE);
        assertThat(d.path("kind").asText()).isEqualTo("raise");
        assertThat(d.path("severity").asText()).isEqualTo("critical");
        assertThat(d.path("message").asText()).contains("60");
        assertThat(d.path("evidence").path("value").asDouble()).isEqualTo(60.0);
        assertThat(d.path("evidence").path("reading_time_ms").asLong()).as("the probe's key").isEqualTo(readingTime);
        assertThat(Instant.parse(d.path("eventTime").asText()).toEpochMilli()).isEqualTo(readingTime);
        assertThat(Instant.parse(d.path("decidedAt").asText()).toEpochMilli())
            .isBetween(readingTime - 1_000, readingTime + 5_000);
        assertThat(page.events()).as("nothing from the ledger, and not yet handed over as unconfirmed")
            .noneMatch(e -> (e.name().equals("alarm") && LEAKING.equals(e.data().path("alarm").path("deviceId").asText()))
                || e.name().equals("unconfirmed"));

        // 2 s later the stalled ledger's hand-off (F4 b) names the same transition
        SseListener.Event held = await("event: unconfirmed").atMost(Duration.ofSeconds(10))
            .until(() -> page.events().stream().filter(e -> e.name().equals("unconfirmed")
                && "waiting".equals(e.data().path("status").asText())).findFirst(), Optional::isPresent).get();
        assertThat(held.data().path("unconfirmedId").asLong()).isEqualTo(d.path("annunciationId").asLong());

        // a page opened while it is not recorded is sent it too
        try (SseListener late = SseListener.connect(gateway.ports().http(), OFFICER_TOKEN)) {
          await("a client connecting meanwhile gets the annunciation").atMost(Duration.ofSeconds(5))
              .until(() -> annunciation(late, LEAKING), Optional::isPresent);
          assertThat(annunciation(late, LEAKING).get().data().path("annunciationId").asLong())
              .isEqualTo(d.path("annunciationId").asLong());
        }

        // the database answers again: the ledger records it, and the annunciation settles
        proxy.blackhole(false);
        SseListener.Event raised = await("the ledger's raised on /api/live").atMost(Duration.ofSeconds(60))
            .until(() -> ledgerEvent(page, LEAKING, RULE, "raised"), Optional::isPresent).get();
        assertThat(raised.data().path("details").path("eventTime").asText()).isEqualTo(d.path("eventTime").asText());
        await("event: annunciation committed").atMost(Duration.ofSeconds(10))
            .until(() -> settled(page, d.path("annunciationId").asLong()), Optional::isPresent);
        assertThat(settled(page, d.path("annunciationId").asLong()).get().data().path("status").asText())
            .isEqualTo("committed");
        try (SseListener after = SseListener.connect(gateway.ports().http(), OFFICER_TOKEN)) {
          Thread.sleep(1_000);
          assertThat(after.events()).as("a settled annunciation is not sent to a new client")
              .noneMatch(e -> e.name().equals("annunciation"));
        }
      } finally {
        device.disconnectForcibly(0, 1_000, false);
        device.close(true);
      }
    }
  }

  @Test
  void theAnnunciationComesBeforeTheLedgersAlarmWithTheSameEvidence_onePerHazardRaise_noneForAClearOrAnOffline(
      @TempDir Path dir) throws Exception {
    try (Gateway gateway = Gateway.start(siteWithASilentDevice(dir));
        SseListener page = SseListener.connect(gateway.ports().http(), OFFICER_TOKEN)) {
      String mqtt = "tcp://127.0.0.1:" + gateway.ports().mqtt();
      ThroughProxy.publish(mqtt, RISING, "{\"values\":{\"gas_lel\":1.0}}");
      // level 1 (raise, major), level 2 (severity change, critical), clear, and again (a re-open)
      ThroughProxy.publish(mqtt, RISING, "{\"values\":{\"gas_lel\":30}}");
      await().atMost(Duration.ofSeconds(20)).until(() -> ledgerEvent(page, RISING, RULE, "raised"), Optional::isPresent);
      ThroughProxy.publish(mqtt, RISING, "{\"values\":{\"gas_lel\":70}}");
      await().atMost(Duration.ofSeconds(20))
          .until(() -> ledgerEvent(page, RISING, RULE, "severity_changed"), Optional::isPresent);
      ThroughProxy.publish(mqtt, RISING, "{\"values\":{\"gas_lel\":1.0}}");
      await().atMost(Duration.ofSeconds(20)).until(() -> ledgerEvent(page, RISING, RULE, "cleared"), Optional::isPresent);
      ThroughProxy.publish(mqtt, RISING, "{\"values\":{\"gas_lel\":65}}");
      await().atMost(Duration.ofSeconds(20)).until(() -> ledgerEvent(page, RISING, RULE, "reopened"), Optional::isPresent);
      // the silent device's device-offline alarm: a maintenance alarm, recorded, not annunciated
      // (asked of the ledger's API: under load it may have been raised before the page connected)
      await("device-offline of " + SILENT + " in the ledger").atMost(Duration.ofSeconds(45))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> get(gateway, "/api/alarms?state=open&limit=1000"),
              body -> body.contains("\"deviceId\":\"" + SILENT + "\",\"ruleId\":\"device-offline\""));
      Thread.sleep(1_000); // anything late would be in by now

      List<SseListener.Event> events = page.events();
      List<SseListener.Event> annunciations = events.stream()
          .filter(e -> e.name().equals("annunciation") && !e.data().has("status")).toList();
      assertThat(annunciations).as("one per hazard raise or severity change, none for the clear or the offline")
          .extracting(e -> e.data().path("deviceId").asText() + " " + e.data().path("kind").asText() + " "
              + e.data().path("severity").asText())
          .containsExactly(RISING + " raise major", RISING + " severity critical", RISING + " raise critical");
      Map<String, String> ledgerTypeOf = Map.of("0", "raised", "1", "severity_changed", "2", "reopened");
      for (int i = 0; i < annunciations.size(); i++) {
        SseListener.Event a = annunciations.get(i);
        SseListener.Event recorded = ledgerEvent(page, RISING, RULE, ledgerTypeOf.get(String.valueOf(i))).get();
        assertThat(events.indexOf(a)).as("the annunciation before the ledger's " + ledgerTypeOf.get(String.valueOf(i)))
            .isLessThan(events.indexOf(recorded));
        assertThat(a.data().path("eventTime").asText()).as("the same transition")
            .isEqualTo(recorded.data().path("details").path("eventTime").asText());
        assertThat(a.data().path("message").asText()).isEqualTo(recorded.data().path("alarm").path("message").asText());
        assertSameEvidence(a.data().path("evidence"), recorded.data().path("alarm").path("evidence"));
        // and it settles, committed, after the ledger's event
        // and it settles, committed (its frame may come before the ledger's event: the ledger tells
        // its listeners after the commit, on the committing thread or its dispatcher's)
        SseListener.Event settle = settled(page, a.data().path("annunciationId").asLong()).orElseThrow();
        assertThat(settle.data().path("status").asText()).isEqualTo("committed");
        assertThat(events.indexOf(settle)).isGreaterThan(events.indexOf(a));
      }
      assertThat(events).as("nothing for the clear or the offline device")
          .noneMatch(e -> e.name().equals("annunciation") && SILENT.equals(e.data().path("deviceId").asText()));

      String metrics = get(gateway, "/metrics");
      assertThat(metric(metrics, "safegrid_alarms_annunciated_total{severity=\"critical\"}")).isEqualTo(2.0);
      assertThat(metric(metrics, "safegrid_alarms_annunciated_total{severity=\"major\"}")).isEqualTo(1.0);
      assertThat(metric(metrics, "safegrid_alarms_annunciation_age_seconds_count")).isEqualTo(3.0);
    }
  }

  /** Field by field: the jsonb column gives numbers back in its own types (70 for 70.0). */
  private static void assertSameEvidence(JsonNode annunciated, JsonNode recorded) {
    assertThat(annunciated.size()).as("evidence fields").isEqualTo(recorded.size()).isPositive();
    for (Iterator<Map.Entry<String, JsonNode>> it = annunciated.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      JsonNode r = recorded.path(f.getKey());
      if (f.getValue().isNumber()) {
        assertThat(r.asDouble()).as("evidence " + f.getKey()).isEqualTo(f.getValue().asDouble());
      } else {
        assertThat(r.toString()).as("evidence " + f.getKey()).isEqualTo(f.getValue().toString());
      }
    }
  }

  private static Optional<SseListener.Event> annunciation(SseListener l, String device) {
    return l.events().stream()
        .filter(e -> e.name().equals("annunciation") && !e.data().has("status")
            && device.equals(e.data().path("deviceId").asText()))
        .findFirst();
  }

  private static Optional<SseListener.Event> settled(SseListener l, long annunciationId) {
    return l.events().stream()
        .filter(e -> e.name().equals("annunciation") && e.data().has("status")
            && e.data().path("annunciationId").asLong() == annunciationId)
        .findFirst();
  }

  private static Optional<SseListener.Event> ledgerEvent(SseListener l, String device, String rule, String type) {
    return l.events().stream()
        .filter(e -> e.name().equals("alarm") && type.equals(e.data().path("type").asText())
            && device.equals(e.data().path("alarm").path("deviceId").asText())
            && rule.equals(e.data().path("alarm").path("ruleId").asText()))
        .findFirst();
  }

  /** The shipped site, with {@link #SILENT} reporting every 5 s (inactivity timeout 15 s). */
  private static LoadedConfig siteWithASilentDevice(Path dir) throws Exception {
    String yaml = Files.readString(Path.of("../config/dongnan.yaml"));
    String line = "{id: " + SILENT + ", ";
    int at = yaml.indexOf(line);
    int end = yaml.indexOf("report_interval_s: 60}", at);
    assertThat(at).isPositive();
    yaml = yaml.substring(0, end) + "report_interval_s: 5}" + yaml.substring(end + "report_interval_s: 60}".length());
    Path file = dir.resolve("site.yaml");
    Files.writeString(file, yaml);
    Map<String, String> env = Map.of(
        "SAFEGRID_DB_URL", db.jdbcUrl(),
        "SAFEGRID_DB_USER", db.user(),
        "SAFEGRID_DB_PASSWORD", db.password(),
        "SAFEGRID_MQTT_PORT", "0",
        "SAFEGRID_COAP_PORT", "0",
        "SAFEGRID_COAPS_PORT", "0",
        "SAFEGRID_HTTP_PORT", "0");
    LoadedConfig c = new ConfigLoader().load(file, env);
    return new LoadedConfig(c.file(), c.site(), c.gateway().withStorage(new io.safegrid.gateway.config.StorageConfig(
        dir.resolve("spool").toString(), c.gateway().storage().spoolMaxBytes(), c.gateway().storage().batchSize(),
        c.gateway().storage().batchWindowMs())));
  }

  /** The value of one Prometheus series ({@code name{labels}}), or NaN when it is not there. */
  private static double metric(String text, String series) {
    for (String line : text.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim().split(" ")[0]);
      }
    }
    return Double.NaN;
  }

  private static MqttAsyncClient connect(String uri, String device) throws Exception {
    MqttAsyncClient c = new MqttAsyncClient(uri, "annunciation-" + device, new MemoryPersistence());
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setUserName(device);
    o.setPassword(("demo-" + device).getBytes(StandardCharsets.UTF_8));
    c.connect(o).waitForCompletion(10_000);
    return c;
  }

  private static String get(Gateway g, String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + g.ports().http() + path))
        .header("Authorization", "Bearer " + OFFICER_TOKEN).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    return r.body();
  }

  private static BreakableProxy proxyToTestDatabase() throws Exception {
    URI u = URI.create(db.jdbcUrl().substring("jdbc:".length()));
    return new BreakableProxy(u.getHost(), u.getPort());
  }
}
