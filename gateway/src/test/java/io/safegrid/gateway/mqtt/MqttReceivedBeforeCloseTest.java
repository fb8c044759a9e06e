package io.safegrid.gateway.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.safegrid.gateway.config.EmergencyNetworkConfig;
import io.safegrid.gateway.config.GatewayConfig;
import io.safegrid.gateway.config.LoadedConfig;
import io.safegrid.gateway.config.ShippedConfig;
import io.safegrid.gateway.wiring.Gateway;
import io.safegrid.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Newcomer finding F1 (docs/mqtt.md "received before a disconnect"): {@code mosquitto_pub -q 0 -l}
 * of 100 telemetry lines, the last at 60 %LEL, sends them all and disconnects at once. The gateway
 * (the shipped Dongnan site: 50 messages/s per device, receive maximum 32, on a real TimescaleDB)
 * holds most of them behind its inflight and rate limits when the client closes; it used to drop
 * those silently (32 stored, no alarm). Every reading received must be stored and the last one
 * must raise the critical gas alarm, on MQTT 3.1.1 and 5.
 */
class MqttReceivedBeforeCloseTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @TempDir static Path dir;

  static Gateway gateway;

  @BeforeAll
  static void start() throws Exception {
    LoadedConfig shipped = ShippedConfig.onTestDatabase(db);
    GatewayConfig gc = shipped.gateway()
        .withEmergencyNetwork(new EmergencyNetworkConfig(null, "safegrid-f1", "safegrid/notify/", null, null))
        .withStorage(new io.safegrid.gateway.config.StorageConfig(dir.resolve("spool").toString(), 64L << 20, 5000, 10));
    gateway = Gateway.start(new LoadedConfig(shipped.file(), shipped.site(), gc));
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
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

  @ParameterizedTest(name = "{0}")
  @CsvSource({"mqttv311, gas-030", "mqttv5, gas-031"})
  void qos0LinesSentJustBeforeADisconnectAreAllStoredAndTheLastRaisesTheAlarm(String version, String device)
      throws Exception {
    long base = System.currentTimeMillis() - 100 * 100;
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < 100; i++) {
      double lel = i == 99 ? 60.0 : 1.0;
      lines.append("{\"ts\":").append(base + i * 100L).append(",\"seq\":").append(i + 1)
          .append(",\"values\":{\"gas_lel\":").append(lel).append("}}\n");
    }
    Path file = dir.resolve(device + ".txt");
    Files.writeString(file, lines, StandardCharsets.UTF_8);
    Process p = new ProcessBuilder(List.of("mosquitto_pub", "-h", "127.0.0.1", "-p",
        String.valueOf(gateway.ports().mqtt()), "-V", version, "-q", "0", "-u", device, "-P", "demo-" + device,
        "-t", "devices/" + device + "/telemetry", "-l"))
        .redirectInput(file.toFile()).redirectErrorStream(true).start();
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();

    await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
        assertThat(count("SELECT count(*) FROM readings WHERE device_id = ? AND metric = 'gas_lel'", device))
            .as("readings stored of the 100 received (refused ones kept: %d)",
                count("SELECT count(*) FROM dead_letters WHERE device_id = ?", device))
            .isEqualTo(100));
    assertThat(count("SELECT count(*) FROM dead_letters WHERE device_id = ?", device)).isZero();
    assertThat(count("SELECT count(*) FROM readings WHERE device_id = ? AND metric = 'gas_lel' AND value = 60", device))
        .isEqualTo(1);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(count("SELECT count(*) FROM alarms WHERE device_id = ? AND severity = 'critical'"
            + " AND state = 'active_unacked'", device))
            .as("the 60 %LEL reading raised the critical gas alarm").isEqualTo(1));
  }

  /**
   * The same at QoS 1 and 2, on a raw socket as a device's own stack would do it: 100 PUBLISH
   * packets (the last at 60 %LEL) and a DISCONNECT in one write, then the client's side of the
   * connection closed (FIN) without waiting for a PUBACK / PUBREC. The gateway holds most of them
   * behind its inflight and rate limits when the close arrives; all 100 must be stored (no ack can
   * be sent any more) and the last must raise the alarm. The socket is read until the gateway
   * closes it, so the acks it did send do not turn the client's close into a reset.
   */
  @ParameterizedTest(name = "MQTT level {0}, QoS {1}")
  @CsvSource({"4, 1, gas-032", "5, 1, gas-033", "4, 2, gas-034", "5, 2, gas-035"})
  void qos1And2PublishesSentJustBeforeTheClientClosesAreAllStoredAndTheLastRaisesTheAlarm(
      int level, int qos, String device) throws Exception {
    long base = System.currentTimeMillis() - 100 * 100;
    java.io.ByteArrayOutputStream burst = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < 100; i++) {
      double lel = i == 99 ? 60.0 : 1.0;
      String line = "{\"ts\":" + (base + i * 100L) + ",\"seq\":" + (i + 1) + ",\"values\":{\"gas_lel\":" + lel + "}}";
      burst.writeBytes(RawMqtt.publish(("devices/" + device + "/telemetry").getBytes(StandardCharsets.UTF_8), qos,
          i + 1, line.getBytes(StandardCharsets.UTF_8), level == 5));
    }
    burst.writeBytes(new byte[] {(byte) 0xE0, 0x00}); // DISCONNECT
    byte[] acks;
    try (java.net.Socket s = RawMqtt.connect(gateway.ports().mqtt(), device, "demo-" + device, 60, level)) {
      s.getOutputStream().write(burst.toByteArray());
      s.shutdownOutput();
      acks = RawMqtt.readUntilClosed(s, 10_000);
    }

    await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
        assertThat(count("SELECT count(*) FROM readings WHERE device_id = ? AND metric = 'gas_lel'", device))
            .as("readings stored of the 100 received (%d bytes of acks came back before the close)", acks.length)
            .isEqualTo(100));
    assertThat(acks.length / 4).as("not all acknowledged: most were still waiting when the client closed")
        .isLessThan(100);
    assertThat(count("SELECT count(*) FROM dead_letters WHERE device_id = ?", device)).isZero();
    assertThat(count("SELECT count(*) FROM readings WHERE device_id = ? AND metric = 'gas_lel' AND value = 60", device))
        .isEqualTo(1);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(count("SELECT count(*) FROM alarms WHERE device_id = ? AND severity = 'critical'"
            + " AND state = 'active_unacked'", device))
            .as("the 60 %LEL reading raised the critical gas alarm").isEqualTo(1));
  }

  /**
   * A store push-back ({@code StoreOverloadedException}) of a PUBLISH received before the close
   * is offered again after the close until it is stored, as on an open connection (docs/mqtt.md
   * "received before a disconnect"). 40 QoS 1 PUBLISH packets at 5 messages/s, so most wait behind
   * the rate limit when the client closes; the sink pushes back three of those once each.
   */
  @Test
  void aStorePushBackAfterTheCloseIsOfferedAgainUntilStored() throws Exception {
    RecordingIngestSink sink = new RecordingIngestSink();
    for (int seq : new int[] {30, 31, 32}) {
      sink.pushBackOnce.add("\"seq\":" + seq + ",");
    }
    try (MqttTestSupport mqtt = new MqttTestSupport(sink, MqttLimits.defaults().withMessagesPerSecondPerDevice(5))) {
      java.io.ByteArrayOutputStream burst = new java.io.ByteArrayOutputStream();
      for (int i = 1; i <= 40; i++) {
        burst.writeBytes(RawMqtt.publish("devices/gas-001/telemetry", 1, i,
            "{\"seq\":" + i + ",\"values\":{\"gas_lel\":1.0}}"));
      }
      burst.writeBytes(new byte[] {(byte) 0xE0, 0x00}); // DISCONNECT
      byte[] acks;
      try (java.net.Socket s = RawMqtt.connect(mqtt.server.port(), "gas-001", "s-gas-001", 60)) {
        s.getOutputStream().write(burst.toByteArray());
        s.shutdownOutput();
        acks = RawMqtt.readUntilClosed(s, 10_000);
      }
      assertThat(acks.length / 4).as("PUBACKs before the close: the pushed-back ones came after it").isLessThan(30);
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
          assertThat(sink.received).extracting(RecordingIngestSink.Received::payload)
              .as("all 40 stored, the 3 pushed back after the close too")
              .hasSize(40)
              .allSatisfy(p -> assertThat(p).startsWith("{\"seq\":")));
      assertThat(sink.received.stream().map(r -> r.payload().replaceAll("^\\{\"seq\":(\\d+),.*$", "$1"))
          .map(Integer::parseInt).sorted().toList())
          .isEqualTo(java.util.stream.IntStream.rangeClosed(1, 40).boxed().toList());
      assertThat(sink.pushedBack).hasValue(3);
    }
  }
}
