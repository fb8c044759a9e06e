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
import io.safegrid.gateway.e2e.DemoDevice;
import io.safegrid.testing.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * newcomer7 F22-F24 through the whole gateway (MQTT 5 from Paho, TimescaleDB, the rules and the
 * alarm ledger): fire panels behind gateway firmware that is not ours write {@code "zone":"3"},
 * {@code 3.0}, a number as {@code text}, a {@code +0800} offset, or end the payload in a C
 * string's NUL. Before, each fire got PUBACK 0x99 and raised nothing. Now each gets PUBACK 0x00
 * and raises {@code fire-panel-fire}; what has no meaning (zone {@code "3a"}, ts {@code
 * "yesterday"}) is left out and the payload kept as a {@code partly_refused} dead letter.
 */
class LenientFirePanelEndToEndTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter STRFTIME_Z = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssZ");

  @Test
  void firesWrittenLooselyStillRaiseTheFireAlarm(@TempDir Path spool) throws Exception {
    LoadedConfig shipped = ShippedConfig.onTestDatabase(db);
    GatewayConfig gc = shipped.gateway()
        .withEmergencyNetwork(new EmergencyNetworkConfig(null, "safegrid-lenient", "safegrid/notify/", null, null))
        .withStorage(new StorageConfig(spool.toString(), 64L << 20, 5000, 10));
    try (Gateway g = Gateway.start(new LoadedConfig(shipped.file(), shipped.site(), gc))) {
      String mqtt = "tcp://127.0.0.1:" + g.ports().mqtt();
      HttpClient http = HttpClient.newHttpClient();
      Instant beijingTs = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(2);
      String plus0800 = OffsetDateTime.ofInstant(beijingTs, ZoneOffset.ofHours(8)).format(STRFTIME_Z);
      assertThat(plus0800).endsWith("+0800");

      assertThat(publish(mqtt, "fire-kindergarten-4", "events",
          "{\"event\":\"fire\",\"zone\":\"3\",\"point\":\"12\",\"text\":\"Building 2 smoke\"}"))
          .as("PUBACK success, not 0x99").isZero();
      assertThat(publish(mqtt, "fire-kindergarten-2", "events", "{\"event\":\"fire\",\"zone\":3.0,\"point\":1,\"text\":12}"))
          .isZero();
      assertThat(publish(mqtt, "fire-kindergarten-5", "events",
          "{\"event\":\"fire\",\"zone\":1,\"point\":1,\"ts\":\"" + plus0800 + "\"}")).isZero();
      assertThat(publish(mqtt, "fire-kindergarten-6", "events",
          "{\"event\":\"fire\",\"zone\":\"3a\",\"point\":4,\"ts\":\"yesterday\",\"text\":\"dormitory\"}"))
          .as("the fire is stored, the meaningless parts are kept as a dead letter").isZero();
      assertThat(publish(mqtt, "fire-kindergarten-3", "events", "{\"event\":\"fire\",\"zone\":2,\"point\":2}\u0000"))
          .as("a C string's NUL after the JSON").isZero();
      assertThat(publish(mqtt, "gas-081", "telemetry",
          "{\"ts\":\"" + plus0800 + "\",\"values\":{\"gas_lel\":1.5}}\u0000\u0000\u0000")).isZero();

      for (String panel : new String[] {"fire-kindergarten-4", "fire-kindergarten-2", "fire-kindergarten-5",
          "fire-kindergarten-6", "fire-kindergarten-3"}) {
        JsonNode alarm = await().atMost(Duration.ofSeconds(20))
            .until(() -> fireAlarm(http, g, panel), n -> n != null);
        assertThat(alarm.path("severity").asText()).as(panel).isEqualTo("critical");
      }
      assertThat(event("fire-kindergarten-4")).isEqualTo("3/12/Building 2 smoke");
      assertThat(event("fire-kindergarten-2")).isEqualTo("3/1/12");
      assertThat(event("fire-kindergarten-6")).isEqualTo("null/4/dormitory");
      assertThat(eventTime("fire-kindergarten-5")).isEqualTo(beijingTs);
      assertThat(readingTime("gas-081")).isEqualTo(beijingTs);

      assertThat(deadLetters("fire-kindergarten-6"))
          .singleElement().asString()
          .startsWith("partly refused: ")
          .contains("ts: \"yesterday\"").contains("the event is stored at its receive time")
          .contains("zone: the string \"3a\" is not a zone number");
      for (String clean : new String[] {"fire-kindergarten-4", "fire-kindergarten-2", "fire-kindergarten-5",
          "fire-kindergarten-3", "gas-081"}) {
        assertThat(deadLetters(clean)).as(clean + ": read as meant, nothing refused").isEmpty();
      }
      String metrics = body(http, g, "/metrics");
      assertThat(sample(metrics, "safegrid_ingest_nul_padded_total")).isEqualTo(2.0);
    }
  }

  /** One QoS 1 PUBLISH on the device's topic; returns the PUBACK's reason code. */
  private static int publish(String uri, String device, String topic, String payload) throws Exception {
    return DemoDevice.publish(uri, "lenient-", device, topic, payload);
  }

  private static JsonNode fireAlarm(HttpClient http, Gateway g, String device) throws Exception {
    for (JsonNode n : JSON.readTree(body(http, g, "/api/alarms?limit=1000&state=active_unacked")).path("alarms")) {
      if (device.equals(n.path("deviceId").asText()) && "fire-panel-fire".equals(n.path("ruleId").asText())) {
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

  private static double sample(String text, String name) {
    return text.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  /** zone/point/text of the device's one stored fire event. */
  private static String event(String device) throws Exception {
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT zone, point, text FROM device_events WHERE device_id = ? AND event = 'fire'")) {
      ps.setString(1, device);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as(device + " fire stored").isTrue();
        String s = rs.getObject(1) + "/" + rs.getObject(2) + "/" + rs.getString(3);
        assertThat(rs.next()).isFalse();
        return s;
      }
    }
  }

  private static Instant eventTime(String device) throws Exception {
    return time("SELECT time FROM device_events WHERE device_id = ?", device);
  }

  private static Instant readingTime(String device) throws Exception {
    return time("SELECT time FROM readings WHERE device_id = ? AND metric = 'gas_lel'", device);
  }

  private static Instant time(String sql, String device) throws Exception {
    try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, device);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as(device).isTrue();
        Instant t = rs.getTimestamp(1).toInstant();
        assertThat(rs.next()).isFalse();
        return t;
      }
    }
  }

  private static java.util.List<String> deadLetters(String device) throws Exception {
    java.util.List<String> reasons = new java.util.ArrayList<>();
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT reason FROM dead_letters WHERE device_id = ?")) {
      ps.setString(1, device);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          reasons.add(rs.getString(1));
        }
      }
    }
    return reasons;
  }
}
