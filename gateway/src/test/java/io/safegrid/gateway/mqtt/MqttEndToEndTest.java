package io.safegrid.gateway.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.safegrid.gateway.ingest.IngestOnTestDatabase;
import io.safegrid.testing.TestDatabase;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readings published over MQTT end in the real {@code readings} hypertable: the MQTT server, the
 * lead's {@link io.safegrid.gateway.ingest.IngestService} and the {@link
 * io.safegrid.gateway.storage.TimescaleReadingStore}, on a fresh database ({@link
 * IngestOnTestDatabase}).
 */
class MqttEndToEndTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @TempDir static Path spool;

  static IngestOnTestDatabase ingest;
  static MqttServer server;

  @BeforeAll
  static void start() {
    ingest = new IngestOnTestDatabase(db, spool);
    server = MqttTestSupport.onTestDatabase(ingest, MqttLimits.defaults().withMessagesPerSecondPerDevice(2_000),
        "gas-101", "gas-102", "gas-103", "gas-104", "gas-105", "gas-106", "gas-107");
  }

  @AfterAll
  static void stop() {
    if (ingest != null) {
      ingest.close(); // the server, then the store
    }
  }

  private static String reading(long ts, double lel) {
    return "{\"ts\":" + ts + ",\"values\":{\"gas_lel\":" + lel + "}}";
  }

  @Test
  void pahoV3V5AndMosquittoPubQos0And1And2EndInReadings() throws Exception {
    long ts = 1_764_403_200_000L;
    // Paho v3
    MqttClient v3 = new MqttClient("tcp://127.0.0.1:" + server.port(), "e2e-v3", new MemoryPersistence());
    MqttConnectOptions o3 = new MqttConnectOptions();
    o3.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
    o3.setUserName("gas-101");
    o3.setPassword("demo-gas-101".toCharArray());
    v3.setTimeToWait(10_000);
    v3.connect(o3);
    for (int qos = 0; qos <= 2; qos++) {
      v3.publish("devices/gas-101/telemetry", reading(ts + qos, 10 + qos).getBytes(StandardCharsets.UTF_8), qos, false);
    }
    v3.disconnect();
    v3.close();
    // Paho v5
    var v5 = new org.eclipse.paho.mqttv5.client.MqttClient(
        "tcp://127.0.0.1:" + server.port(), "e2e-v5", new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
    MqttConnectionOptions o5 = new MqttConnectionOptions();
    o5.setUserName("gas-102");
    o5.setPassword("demo-gas-102".getBytes(StandardCharsets.UTF_8));
    v5.setTimeToWait(10_000);
    v5.connect(o5);
    for (int qos = 0; qos <= 2; qos++) {
      MqttMessage m = new MqttMessage(reading(ts + qos, 20 + qos).getBytes(StandardCharsets.UTF_8));
      m.setQos(qos);
      v5.publish("devices/gas-102/telemetry", m);
    }
    v5.disconnect();
    v5.close();
    // mosquitto_pub, a foreign client, both protocol versions
    int n = 0;
    for (String version : new String[] {"mqttv311", "mqttv5"}) {
      for (int qos = 0; qos <= 2; qos++) {
        Process p = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", String.valueOf(server.port()),
            "-V", version, "-q", String.valueOf(qos), "-u", "gas-103", "-P", "demo-gas-103", "-i", "e2e-mp-" + n,
            "-t", "devices/gas-103/telemetry", "-m", reading(ts + n, 30 + n)).redirectErrorStream(true).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
        n++;
      }
    }
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      assertThat(ingest.rows("SELECT count(*) FROM readings WHERE device_id = 'gas-101' AND metric = 'gas_lel'")).isEqualTo(3);
      assertThat(ingest.rows("SELECT count(*) FROM readings WHERE device_id = 'gas-102'")).isEqualTo(3);
      assertThat(ingest.rows("SELECT count(*) FROM readings WHERE device_id = 'gas-103'")).isEqualTo(6);
    });
    assertThat(ingest.rows("SELECT count(*) FROM readings WHERE device_id = 'gas-101' AND value = 12 "
        + "AND time = to_timestamp(" + (ts + 2) + " / 1000.0)")).isEqualTo(1);
  }

  /** Contract, delivery promise: an undecodable status payload is kept too, not only logged. */
  @Test
  void anUndecodableStatusPayloadIsADeadLetterAndAGoodOneIsNot() throws Exception {
    long before = ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-103'");
    try (Socket s = RawMqtt.connect(server.port(), "gas-103", "demo-gas-103", 60)) {
      s.getOutputStream().write(RawMqtt.publish("devices/gas-103/status", 1, 11, "maybe"));
      s.getOutputStream().write(RawMqtt.publish("devices/gas-103/status", 1, 12, "online"));
      assertThat(RawMqtt.readPacket(s.getInputStream())).containsExactly(0x40, 0x02, 0x00, 11);
      assertThat(RawMqtt.readPacket(s.getInputStream())).containsExactly(0x40, 0x02, 0x00, 12);
    }
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-103'"
        + " AND source = 'mqtt:devices/gas-103/status' AND payload = 'maybe'::bytea"
        + " AND reason LIKE 'status payload is neither online nor offline%'") )
        .as("kept once, after the PUBACK").isEqualTo(1);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-103'") - before).isEqualTo(1);
  }

  @Test
  void thousandUndecodableMessagesFromOneDeviceThenAGoodOneFromAnother() throws Exception {
    long deadBefore = ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-104'");
    try (Socket bad = RawMqtt.connect(server.port(), "gas-104", "demo-gas-104", 60)) {
      OutputStream out = bad.getOutputStream();
      for (int i = 1; i <= 1000; i++) {
        out.write(RawMqtt.publish("devices/gas-104/telemetry", 1, i, "{\"values\": {\"gas_lel\": 1" + i));
      }
      out.flush();
      long started = System.nanoTime();
      try (Socket good = RawMqtt.connect(server.port(), "gas-105", "demo-gas-105", 60)) {
        good.getOutputStream().write(RawMqtt.publish("devices/gas-105/telemetry", 1, 7, reading(1_764_403_260_000L, 42.5)));
        byte[] puback = RawMqtt.readPacket(good.getInputStream());
        assertThat(puback).containsExactly(0x40, 0x02, 0x00, 0x07);
      }
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
      assertThat(ingest.rows("SELECT count(*) FROM readings WHERE device_id = 'gas-105' AND value = 42.5")).isEqualTo(1);
      // every bad one was answered (plain PUBACK on 3.1.1) and kept as a dead letter
      for (int i = 1; i <= 1000; i++) {
        byte[] ack = RawMqtt.readPacket(bad.getInputStream());
        assertThat(ack[0] & 0xFF).isEqualTo(0x40);
        assertThat(((ack[2] & 0xFF) << 8) | (ack[3] & 0xFF)).isEqualTo(i);
      }
    }
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-104'") - deadBefore).isEqualTo(1000);
    assertThat(ingest.rows("SELECT count(*) FROM readings WHERE device_id = 'gas-104'")).isZero();
  }
  /**
   * Contract, delivery promise: a PUBLISH refused by the topic ACL, with RETAIN=1 on MQTT 5, or
   * over the maximum packet size is a row of {@code dead_letters} with the reason, not stored.
   */
  @Test
  void refusedPublishesAreDeadLettersWithTheirReason() throws Exception {
    // MQTT 5 (Paho): another device's topic, answered 0x87
    var c5 = new org.eclipse.paho.mqttv5.client.MqttAsyncClient(
        "tcp://127.0.0.1:" + server.port(), "gas-106",
        new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setUserName("gas-106");
    o.setPassword("demo-gas-106".getBytes(StandardCharsets.UTF_8));
    c5.connect(o).waitForCompletion(10_000);
    MqttMessage m = new MqttMessage(reading(1_764_403_300_000L, 77.5).getBytes(StandardCharsets.UTF_8));
    m.setQos(1);
    var t = c5.publish("devices/gas-101/telemetry", m);
    t.waitForCompletion(10_000);
    assertThat(t.getReasonCodes()).containsExactly(0x87);
    c5.disconnect().waitForCompletion(5000);
    c5.close();
    // MQTT 3.1.1 (mosquitto_pub): an unknown topic, the connection closed
    Process p = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", String.valueOf(server.port()),
        "-V", "mqttv311", "-q", "1", "-u", "gas-107", "-P", "demo-gas-107", "-i", "gas-107",
        "-t", "sensors/gas-107", "-m", "{\"values\":{\"gas_lel\":1}}").redirectErrorStream(true).start();
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    // MQTT 5 (raw): RETAIN=1, DISCONNECT 0x9A
    try (Socket s = RawMqtt.connect(server.port(), "gas-106", "demo-gas-106", 60, 5)) {
      byte[] retained = RawMqtt.publish("devices/gas-106/telemetry".getBytes(StandardCharsets.UTF_8), 1, 1,
          reading(1_764_403_301_000L, 5).getBytes(StandardCharsets.UTF_8), true);
      retained[0] |= 0x01;
      s.getOutputStream().write(retained);
      assertThat(RawMqtt.readUntilClosed(s, 5000)).startsWith(0xE0, 0x02, 0x9A);
    }
    // MQTT 3.1.1 (raw): 200 KiB, over the 64 KiB maximum
    byte[] big = new byte[200 * 1024];
    java.util.Arrays.fill(big, (byte) 'x');
    try (Socket s = RawMqtt.connect(server.port(), "gas-107", "demo-gas-107", 60)) {
      try {
        s.getOutputStream().write(RawMqtt.publish("devices/gas-107/telemetry".getBytes(StandardCharsets.UTF_8), 1, 2,
            big, false));
        assertThat(RawMqtt.readUntilClosed(s, 5000)).isEmpty();
      } catch (java.net.SocketException closedWhileWriting) {
        // the server closes once it has the packet's first 8 KiB: the rest of the write may meet
        // the reset (broken pipe / connection reset); the dead letter below is what matters
      }
    }
    await().atMost(Duration.ofSeconds(10)).until(() ->
        ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id IN ('gas-106', 'gas-107')") == 4);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-106'"
        + " AND source = 'mqtt:devices/gas-101/telemetry' AND reason LIKE '%may not use%0x87%'"
        + " AND payload = convert_to('" + reading(1_764_403_300_000L, 77.5) + "', 'UTF8')")).isEqualTo(1);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-107'"
        + " AND source = 'mqtt:sensors/gas-107' AND reason LIKE '%may not use%3.1.1 connection closed%'")).isEqualTo(1);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-106'"
        + " AND source = 'mqtt:devices/gas-106/telemetry' AND reason LIKE '%RETAIN=1%0x9A%'")).isEqualTo(1);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-107'"
        + " AND source = 'mqtt:devices/gas-107/telemetry' AND reason LIKE 'PUBLISH of " + (2 + 25 + 2 + big.length)
        + " bytes%over the maximum packet size of 65536 bytes%'"
        + " AND octet_length(payload) = 4096 AND payload = convert_to(repeat('x', 4096), 'UTF8')")).isEqualTo(1);
    assertThat(ingest.rows("SELECT count(*) FROM readings WHERE device_id IN ('gas-101', 'gas-106', 'gas-107')"
        + " AND value IN (77.5, 5)")).isZero();
    assertThat(ingest.registry.get("safegrid.ingest.messages").tag("kind", "refused").tag("outcome", "invalid")
        .counter().count()).isEqualTo(4);
  }
}
