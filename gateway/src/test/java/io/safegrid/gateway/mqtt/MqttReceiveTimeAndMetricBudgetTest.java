package io.safegrid.gateway.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.safegrid.gateway.config.EmergencyNetworkConfig;
import io.safegrid.gateway.config.GatewayConfig;
import io.safegrid.gateway.config.LoadedConfig;
import io.safegrid.gateway.config.ShippedConfig;
import io.safegrid.gateway.wiring.Gateway;
import io.safegrid.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole gateway (MQTT, TimescaleDB, rules, alarm ledger) against two of newcomer7's findings:
 *
 * <ul>
 *   <li>F12: two ts-less PUBLISH packets of one device in the same millisecond got the same
 *       receive time; the second (a 70 %LEL leak behind a 1.0) was PUBACK'd and lost, and a
 *       200-message burst lost ~47. Now every message of a device gets its own receive time.
 *   <li>F21: every new metric name made rule state that is never freed. Now a device may send the
 *       names the site's rules read plus 16 others; further names are refused as a dead letter
 *       {@code too_many_metrics}, the rest of the message (the leak) stored and judged.
 * </ul>
 */
class MqttReceiveTimeAndMetricBudgetTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @TempDir static Path dir;

  static Gateway gateway;

  @BeforeAll
  static void start() throws Exception {
    LoadedConfig shipped = ShippedConfig.onTestDatabase(db);
    GatewayConfig gc = shipped.gateway()
        .withEmergencyNetwork(new EmergencyNetworkConfig(null, "safegrid-f12", "safegrid/notify/", null, null))
        .withStorage(new io.safegrid.gateway.config.StorageConfig(dir.resolve("spool").toString(), 64L << 20, 5000, 10));
    gateway = Gateway.start(new LoadedConfig(shipped.file(), shipped.site(), gc));
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  /** F12: two QoS 1 PUBLISH in one write (one read, one millisecond), 1.0 then 70 %LEL, for five units. */
  @Test
  void twoTsLessPublishesInOneMillisecondAreBothStoredAndTheSecondRaises() throws Exception {
    List<String> devices = List.of("gas-064", "gas-065", "gas-066", "gas-067", "gas-068");
    for (String device : devices) {
      try (Socket s = RawMqtt.connect(gateway.ports().mqtt(), device, "demo-" + device, 30)) {
        ByteArrayOutputStream both = new ByteArrayOutputStream();
        both.writeBytes(RawMqtt.publish("devices/" + device + "/telemetry", 1, 1, "{\"values\":{\"gas_lel\":1.0}}"));
        both.writeBytes(RawMqtt.publish("devices/" + device + "/telemetry", 1, 2, "{\"values\":{\"gas_lel\":70}}"));
        s.getOutputStream().write(both.toByteArray());
        InputStream in = s.getInputStream();
        assertThat(RawMqtt.readPacket(in)).as(device + " PUBACK 1").startsWith(0x40, 0x02, 0x00, 0x01);
        assertThat(RawMqtt.readPacket(in)).as(device + " PUBACK 2").startsWith(0x40, 0x02, 0x00, 0x02);
      }
    }
    for (String device : devices) {
      assertThat(count("SELECT count(*) FROM readings WHERE device_id = ? AND metric = 'gas_lel'", device))
          .as(device + ": every PUBACK'd reading is in readings").isEqualTo(2);
      assertThat(count("SELECT count(DISTINCT time) FROM readings WHERE device_id = ?", device)).isEqualTo(2);
      await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
          assertThat(count("SELECT count(*) FROM alarms WHERE device_id = ? AND severity = 'critical'"
              + " AND state = 'active_unacked'", device)).as(device + ": the 70 %LEL raised").isEqualTo(1));
    }
  }

  /** F12: a unit flushing 200 ts-less readings after a reconnect ({@code mosquitto_pub -q 1 -l}). */
  @Test
  void aBurstOf200TsLessReadingsIsStoredWhole() throws Exception {
    String device = "gas-049";
    StringBuilder lines = new StringBuilder();
    for (int i = 1; i <= 200; i++) {
      lines.append("{\"values\":{\"gas_lel\":").append(i % 20).append(".5}}\n");
    }
    Path file = dir.resolve(device + ".txt");
    Files.writeString(file, lines, StandardCharsets.UTF_8);
    Process p = new ProcessBuilder(List.of("mosquitto_pub", "-h", "127.0.0.1", "-p",
        String.valueOf(gateway.ports().mqtt()), "-V", "mqttv5", "-q", "1", "-u", device, "-P", "demo-" + device,
        "-i", "f12-" + device, "-t", "devices/" + device + "/telemetry", "-l"))
        .redirectInput(file.toFile()).redirectErrorStream(true).start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
        assertThat(count("SELECT count(*) FROM readings WHERE device_id = ? AND metric = 'gas_lel'", device))
            .isEqualTo(200));
    assertThat(count("SELECT count(*) FROM dead_letters WHERE device_id = ?", device)).isZero();
  }

  /**
   * F21: one message with the leak and 2,000 invented metric names: the leak is stored and raises,
   * 16 other names are kept, the rest refused with the reason; a later message of only new names
   * is refused (0x99), while the device's real metric still gets through.
   */
  @Test
  void aDeviceSendingEverNewMetricNamesIsBoundedAndItsLeakStillRaises() throws Exception {
    String device = "gas-077";
    StringBuilder many = new StringBuilder("{\"values\":{\"gas_lel\":70");
    for (int i = 0; i < 2000; i++) {
      many.append(String.format(",\"m%05d\":1", i));
    }
    many.append("}}");
    MqttAsyncClient c = new MqttAsyncClient("tcp://127.0.0.1:" + gateway.ports().mqtt(), "f21-" + device,
        new MemoryPersistence());
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setUserName(device);
    o.setPassword(("demo-" + device).getBytes(StandardCharsets.UTF_8));
    c.connect(o).waitForCompletion(10_000);
    try {
      assertThat(publish(c, device, many.toString())).as("the usable part is stored: PUBACK success").isZero();
      assertThat(count("SELECT count(*) FROM readings WHERE device_id = ? AND metric = 'gas_lel'", device)).isEqualTo(1);
      assertThat(count("SELECT count(*) FROM readings WHERE device_id = ? AND metric LIKE 'm0%'", device))
          .as("the allowance of names no rule reads").isEqualTo(16);
      assertThat(count("SELECT count(*) FROM readings WHERE device_id = ? AND metric = 'm00015'", device)).isEqualTo(1);
      assertThat(reasons(device)).singleElement().asString()
          .startsWith("partly refused: too many metric names: gas-077 already sends 16 names no rule of the site reads;"
              + " refused 1984 more: m00016, m00017");
      await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
          assertThat(count("SELECT count(*) FROM alarms WHERE device_id = ? AND severity = 'critical'"
              + " AND state = 'active_unacked'", device)).as("the leak in the same message raised").isEqualTo(1));

      assertThat(publish(c, device, "{\"values\":{\"n1\":1,\"n2\":2}}")).as("nothing usable: 0x99").isEqualTo(0x99);
      assertThat(publish(c, device, "{\"values\":{\"gas_lel\":1.0,\"m00003\":2}}")).isZero();
      assertThat(count("SELECT count(*) FROM readings WHERE device_id = ? AND metric = 'gas_lel'", device)).isEqualTo(2);
      assertThat(reasons(device)).hasSize(2);
      assertThat(metric("safegrid_mqtt_dead_letters_total", "too_many_metrics")).isEqualTo(2.0);
    } finally {
      c.disconnect().waitForCompletion(10_000);
      c.close();
    }
  }

  private static int publish(MqttAsyncClient c, String device, String payload) throws Exception {
    IMqttToken t = c.publish("devices/" + device + "/telemetry", payload.getBytes(StandardCharsets.UTF_8), 1, false);
    t.waitForCompletion(10_000);
    return t.getReasonCodes()[0];
  }

  private static List<String> reasons(String device) throws Exception {
    List<String> r = new java.util.ArrayList<>();
    try (Connection c = db.connect();
        PreparedStatement st = c.prepareStatement("SELECT reason FROM dead_letters WHERE device_id = ? ORDER BY id")) {
      st.setString(1, device);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          r.add(rs.getString(1));
        }
      }
    }
    return r;
  }

  private static double metric(String name, String reason) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.ports().http() + "/metrics"))
            .header("Authorization", "Bearer demo-officer-token").build(),
        HttpResponse.BodyHandlers.ofString());
    return r.body().lines()
        .filter(l -> l.startsWith(name + "{") && l.contains("reason=\"" + reason + "\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  private static long count(String sql, String device) throws Exception {
    try (Connection c = db.connect(); PreparedStatement st = c.prepareStatement(sql)) {
      st.setString(1, device);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
