package io.safegrid.gateway.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the server refuses and how it says so: RETAIN on MQTT 5 and 3.1.1, client ids, and the
 * refused PUBLISH kept as a dead letter ({@link RecordingIngestSink#refused}).
 */
class MqttRefusalsTest {

  private static final String READING = "{\"values\":{\"gas_lel\":3.5}}";

  private RecordingIngestSink sink;
  private MqttTestSupport mqtt;
  private final List<AutoCloseable> clients = new ArrayList<>();

  @BeforeEach
  void start() {
    sink = new RecordingIngestSink();
    mqtt = new MqttTestSupport(sink, MqttLimits.defaults());
  }

  @AfterEach
  void stop() {
    for (AutoCloseable c : clients) {
      try {
        c.close();
      } catch (Exception ignored) {
        // already gone
      }
    }
    mqtt.close();
  }

  /**
   * Dead letters handed to the sink with this {@code reason} tag (the tag the real sink counts
   * them under in {@code safegrid.mqtt.dead_letters}: MqttDeadLetterTest checks that counter).
   */
  private long deadLetters(String tag) {
    return sink.refused.stream().filter(r -> r.tag().equals(tag)).count();
  }

  private static byte[] retained(byte[] publish) {
    publish[0] |= 0x01;
    return publish;
  }

  private Process mosquittoPub(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("mosquitto_pub", "-h", "127.0.0.1", "-p",
        String.valueOf(mqtt.server.port())));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    return p;
  }

  private static String output(Process p) throws Exception {
    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
  }

  // ---- 1. RETAIN (MQTT 5.0 3.3.1.3, 3.2.2.3.5; MQTT 3.1.1: ignored) ----

  @Test
  void mqtt5PublishWithRetainGetsDisconnect0x9AAndIsKeptAsADeadLetterNotStored() throws Exception {
    try (Socket s = RawMqtt.connect(mqtt.server.port(), "gas-001", "s-gas-001", 60, 5)) {
      s.getOutputStream().write(retained(RawMqtt.publish(
          "devices/gas-001/telemetry".getBytes(StandardCharsets.UTF_8), 1, 1,
          READING.getBytes(StandardCharsets.UTF_8), true)));
      byte[] got = RawMqtt.readUntilClosed(s, 5000);
      assertThat(got).as("DISCONNECT 0x9A retain not supported, no PUBACK").startsWith(0xE0, 0x02, 0x9A);
    }
    assertThat(sink.received).as("not stored as a reading").isEmpty();
    await().atMost(Duration.ofSeconds(5)).until(() -> deadLetters("retain_not_supported") == 1);
    assertThat(sink.refused).singleElement().satisfies(r -> {
      assertThat(r.deviceId()).isEqualTo("gas-001");
      assertThat(r.source()).isEqualTo("mqtt:devices/gas-001/telemetry");
      assertThat(r.text()).isEqualTo(READING);
      assertThat(r.reason()).contains("RETAIN=1", "Retain Available = 0", "0x9A");
    });
    assertThat(mqtt.rejects("retain_not_supported")).isEqualTo(1);
  }

  @Test
  void mqtt5WillWithRetainIsRefusedWithConnack0x9A() throws Exception {
    // CONNECT: user, password, will (QoS 0, retain), clean start
    java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
    writeString(body, "MQTT");
    body.write(5);
    body.write(0xC2 | 0x04 | 0x20);
    body.write(0);
    body.write(60);
    body.write(0); // no properties
    writeString(body, "gas-001");
    body.write(0); // no will properties
    writeString(body, "devices/gas-001/status");
    writeString(body, "offline");
    writeString(body, "gas-001");
    writeString(body, "s-gas-001");
    try (Socket s = new Socket("127.0.0.1", mqtt.server.port())) {
      s.getOutputStream().write(RawMqtt.packet(0x10, body.toByteArray()));
      byte[] ack = RawMqtt.readUntilClosed(s, 5000);
      assertThat(ack[0] & 0xFF).isEqualTo(0x20);
      assertThat(ack[3] & 0xFF).as("CONNACK reason").isEqualTo(0x9A);
    }
    assertThat(mqtt.server.isConnected("gas-001")).isFalse();
  }

  @Test
  void pahoV5LeavesRetainOffBecauseTheConnackSaysUnavailableAndTheReadingIsStored() throws Exception {
    var c = v5("gas-002", "s-gas-002", "gas-002");
    MqttMessage m = new MqttMessage(READING.getBytes(StandardCharsets.UTF_8));
    m.setQos(1);
    m.setRetained(true);
    IMqttToken t = c.publish("devices/gas-002/telemetry", m);
    t.waitForCompletion(10_000);
    assertThat(t.getReasonCodes()).containsOnly(0);
    assertThat(c.isConnected()).isTrue();
    assertThat(sink.count("gas-002")).isEqualTo(1);
  }

  /**
   * A foreign peer (libmosquitto 2.0) reads Retain Available = 0 from the CONNACK and clears the
   * flag itself, as Paho v5 does: the reading is stored.
   */
  @Test
  void mosquittoPubV5ClearsRetainAsTheConnackSaysAndTheReadingIsStored() throws Exception {
    Process p = mosquittoPub("-d", "-V", "mqttv5", "-q", "1", "-r", "-u", "gas-003", "-P", "s-gas-003",
        "-i", "gas-003", "-t", "devices/gas-003/telemetry", "-m", READING);
    String out = output(p);
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("sending PUBLISH (d0, q1, r0,", "received PUBACK (Mid: 1, RC:0)");
    assertThat(sink.count("gas-003")).isEqualTo(1);
  }

  @Test
  void mqtt311RetainIsIgnoredAndTheReadingStored() throws Exception {
    MqttClient c = connectedV3("gas-001");
    c.publish("devices/gas-001/telemetry", READING.getBytes(StandardCharsets.UTF_8), 1, true);
    assertThat(c.isConnected()).isTrue();
    c.disconnect();
    Process p = mosquittoPub("-V", "mqttv311", "-q", "1", "-r", "-u", "gas-003", "-P", "s-gas-003",
        "-i", "gas-003", "-t", "devices/gas-003/telemetry", "-m", READING);
    assertThat(p.exitValue()).as(output(p)).isZero();
    await().atMost(Duration.ofSeconds(5)).until(() -> sink.received.size() == 2);
    assertThat(sink.received).extracting(RecordingIngestSink.Received::deviceId).containsExactly("gas-001", "gas-003");
    assertThat(sink.refused).isEmpty();
    assertThat(mqtt.rejects("retain_not_supported")).isZero();
  }

  // ---- 2. client ids (1-128 printable ASCII; MQTT 3.1.1 3.2.2.3 0x02, 5.0 3.2.2.2 0x85) ----

  @Test
  void aThreeHundredCharacterClientIdIsRefusedByPahoV3V5AndMosquittoPub() throws Exception {
    String longId = "g".repeat(300);
    MqttClient c3 = new MqttClient(mqtt.tcpUrl(), longId, new MemoryPersistence());
    clients.add(() -> c3.close(true));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> c3.connect(MqttServerTest.v3Options("gas-001", "s-gas-001")))
        .isInstanceOfSatisfying(org.eclipse.paho.client.mqttv3.MqttException.class,
            e -> assertThat(e.getReasonCode()).as("CONNACK 0x02 identifier rejected").isEqualTo(2));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> v5("gas-002", "s-gas-002", longId))
        .isInstanceOfSatisfying(org.eclipse.paho.mqttv5.common.MqttException.class,
            e -> assertThat(e.getReasonCode()).as("CONNACK 0x85 client identifier not valid").isEqualTo(0x85));
    Process p = mosquittoPub("-V", "mqttv311", "-q", "1", "-u", "gas-003", "-P", "s-gas-003",
        "-i", longId, "-t", "devices/gas-003/telemetry", "-m", READING);
    String out = output(p);
    assertThat(p.exitValue()).as(out).isNotZero();
    assertThat(out).containsIgnoringCase("identifier rejected");
    assertThat(mqtt.rejects("client_id_rejected")).isEqualTo(3);
    assertThat(mqtt.rejects("bad_credentials")).isZero();
    assertThat(mqtt.presence).isEmpty();
    assertThat(sink.received).isEmpty();
  }

  @Test
  void printableAsciiClientIdsUpTo128AreAcceptedOthersRefusedOnBothVersions() throws Exception {
    List<String> accepted = List.of("gas-001", "GAS001", "paho1234567890", "mosq-aB3dE5gH7jK9mN1p", "a",
        "DVES_A1B2C3", "client-AA:BB:CC:DD:EE:FF", "gas.001", "-gas", "x".repeat(128));
    List<String> refused = List.of("x".repeat(129), "gas 001", "gas\n001", "gas-\u00e9", "gas\t1");
    for (int level : new int[] {4, 5}) {
      for (String id : accepted) {
        assertThat(connack(id, level)).as("client id %s, level %d", id, level).isZero();
      }
      for (String id : refused) {
        assertThat(connack(id, level)).as("client id %s, level %d", id, level).isEqualTo(level == 5 ? 0x85 : 0x02);
      }
    }
    assertThat(mqtt.rejects("client_id_rejected")).isEqualTo(2.0 * refused.size());
  }

  /** A Paho MQTT 3.1.1 client connected as {@code device} (secret {@code s-<device>}), closed after the test. */
  private MqttClient connectedV3(String device) throws Exception {
    MqttClient c = new MqttClient(mqtt.tcpUrl(), device, new MemoryPersistence());
    c.setTimeToWait(10_000);
    clients.add(() -> c.close(true));
    c.connect(MqttServerTest.v3Options(device, "s-" + device));
    return c;
  }

  /** The CONNACK return code / reason code for a CONNECT of gas-001 with this client id. */
  private int connack(String clientId, int level) throws Exception {
    try (Socket s = new Socket("127.0.0.1", mqtt.server.port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(RawMqtt.connectPacket("gas-001", "s-gas-001", 60, level, clientId));
      byte[] ack = RawMqtt.readPacket(s.getInputStream());
      assertThat(ack[0] & 0xFF).isEqualTo(0x20);
      return ack[3] & 0xFF;
    }
  }

  // ---- 3. refused PUBLISH kept as dead letters (contract "Delivery promise") ----

  @Test
  void mqtt5AclRefusalIsKeptAndAnswered0x87AfterTheEarlierPublishesPuback() throws Exception {
    sink.hold = true;
    try (Socket s = RawMqtt.connect(mqtt.server.port(), "gas-001", "s-gas-001", 60, 5)) {
      s.getOutputStream().write(RawMqtt.publish("devices/gas-001/telemetry".getBytes(StandardCharsets.UTF_8),
          1, 1, READING.getBytes(StandardCharsets.UTF_8), true));
      s.getOutputStream().write(RawMqtt.publish("devices/gas-002/telemetry".getBytes(StandardCharsets.UTF_8),
          1, 2, "{\"values\":{\"gas_lel\":99}}".getBytes(StandardCharsets.UTF_8), true));
      s.getOutputStream().write(RawMqtt.publish("weather/report".getBytes(StandardCharsets.UTF_8),
          0, 0, "sunny".getBytes(StandardCharsets.UTF_8), true));
      await().atMost(Duration.ofSeconds(5)).until(() -> sink.refused.size() == 2);
      s.setSoTimeout(300);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.getInputStream().read())
          .as("no ack before the first PUBLISH is durable (acks in arrival order, MQTT 5.0 4.6)")
          .isInstanceOf(java.net.SocketTimeoutException.class);
      s.setSoTimeout(5000);
      sink.releaseAll();
      byte[] first = RawMqtt.readPacket(s.getInputStream());
      assertThat(first[0] & 0xFF).isEqualTo(0x40);
      assertThat(first[3]).isEqualTo((byte) 1);
      byte[] second = RawMqtt.readPacket(s.getInputStream());
      assertThat(second).as("PUBACK 2, reason 0x87, no properties").containsExactly(0x40, 0x04, 0x00, 0x02, 0x87, 0x00);
      // still connected: a good one after it is taken
      s.getOutputStream().write(RawMqtt.publish("devices/gas-001/telemetry".getBytes(StandardCharsets.UTF_8),
          1, 3, READING.getBytes(StandardCharsets.UTF_8), true));
      await().atMost(Duration.ofSeconds(5)).until(() -> {
        sink.releaseAll();
        return sink.count("gas-001") == 2;
      });
      assertThat(RawMqtt.readPacket(s.getInputStream())[3]).isEqualTo((byte) 3);
    }
    assertThat(sink.refused).extracting(RecordingIngestSink.Refused::source)
        .containsExactly("mqtt:devices/gas-002/telemetry", "mqtt:weather/report");
    assertThat(sink.refused).extracting(RecordingIngestSink.Refused::text)
        .containsExactly("{\"values\":{\"gas_lel\":99}}", "sunny");
    assertThat(sink.refused).allSatisfy(r -> {
      assertThat(r.deviceId()).isEqualTo("gas-001");
      assertThat(r.reason()).contains("may not use", "devices/gas-001/telemetry", "0x87");
    });
    assertThat(sink.received).extracting(RecordingIngestSink.Received::deviceId).containsOnly("gas-001");
    assertThat(mqtt.rejects("acl_publish")).isEqualTo(2);
    assertThat(deadLetters("acl_publish")).isEqualTo(2);
  }

  @Test
  void mqtt311AclRefusalIsKeptAndTheConnectionClosedAsBefore() throws Exception {
    MqttClient c = connectedV3("gas-003");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> c.publish("devices/gas-001/events", "{\"event\":\"fire\"}".getBytes(StandardCharsets.UTF_8), 1, false))
        .isInstanceOf(org.eclipse.paho.client.mqttv3.MqttException.class);
    await().atMost(Duration.ofSeconds(5)).until(() -> !c.isConnected());
    Process p = mosquittoPub("-V", "mqttv311", "-q", "0", "-u", "gas-003", "-P", "s-gas-003",
        "-i", "gas-003", "-t", "alarms/all", "-m", "x");
    p.exitValue();
    await().atMost(Duration.ofSeconds(5)).until(() -> deadLetters("acl_publish") == 2);
    assertThat(sink.refused).extracting(RecordingIngestSink.Refused::source)
        .containsExactly("mqtt:devices/gas-001/events", "mqtt:alarms/all");
    assertThat(sink.refused).allSatisfy(r -> assertThat(r.reason()).contains("MQTT 3.1.1 connection closed"));
    assertThat(sink.received).isEmpty();
  }

  @Test
  void oversizePublishIsKeptBoundedWithItsSizeOnBothVersions() throws Exception {
    int payloadBytes = 2 * 1024 * 1024;
    byte[] payload = new byte[payloadBytes];
    for (int i = 0; i < payload.length; i++) {
      payload[i] = (byte) ('a' + i % 26);
    }
    for (int level : new int[] {4, 5}) {
      byte[] huge = RawMqtt.publish("devices/gas-002/telemetry".getBytes(StandardCharsets.UTF_8), 1, 7, payload,
          level == 5);
      try (Socket s = RawMqtt.connect(mqtt.server.port(), "gas-002", "s-gas-002", 60, level)) {
        java.util.concurrent.CompletableFuture<Void> send = java.util.concurrent.CompletableFuture.runAsync(() -> {
          try {
            s.getOutputStream().write(huge);
          } catch (java.io.IOException closedUnderUs) {
            // expected: the server closes before it is all sent
          }
        });
        byte[] got = RawMqtt.readUntilClosed(s, 5000);
        if (level == 5) {
          assertThat(got).as("DISCONNECT 0x95").startsWith(0xE0, 0x02, 0x95);
        } else {
          assertThat(got).as("3.1.1: closed, no PUBACK").isEmpty();
        }
        send.join();
      }
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> deadLetters("packet_too_large") == 2);
    byte[] first4k = java.util.Arrays.copyOf(payload, OversizeCapture.KEPT_PAYLOAD_BYTES);
    assertThat(sink.refused).hasSize(2).allSatisfy(r -> {
      assertThat(r.deviceId()).isEqualTo("gas-002");
      assertThat(r.source()).isEqualTo("mqtt:devices/gas-002/telemetry");
      assertThat(r.payload()).as("the first 4 KiB of the payload").isEqualTo(first4k);
      assertThat(r.reason()).contains("over the maximum packet size of 65536 bytes", "first 4096 bytes");
    });
    assertThat(sink.refused).extracting(RecordingIngestSink.Refused::reason)
        .anySatisfy(r -> assertThat(r).contains("PUBLISH of " + (2 + 25 + 2 + payloadBytes) + " bytes", "3.1.1"))
        .anySatisfy(r -> assertThat(r).contains("PUBLISH of " + (2 + 25 + 2 + 1 + payloadBytes) + " bytes", "0x95"));
    assertThat(sink.received).isEmpty();
    assertThat(mqtt.rejects("packet_too_large")).isEqualTo(2);
  }

  // ---- helpers ----

  org.eclipse.paho.mqttv5.client.MqttAsyncClient v5(String device, String secret, String clientId) throws Exception {
    var c = new org.eclipse.paho.mqttv5.client.MqttAsyncClient(
        mqtt.tcpUrl(), clientId, new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
    clients.add(() -> c.close(true));
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setUserName(device);
    o.setPassword(secret.getBytes(StandardCharsets.UTF_8));
    o.setCleanStart(true);
    o.setAutomaticReconnect(false);
    c.connect(o).waitForCompletion(10_000);
    return c;
  }

  private static void writeString(java.io.ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.write(b.length >> 8);
    out.write(b.length & 0xFF);
    out.writeBytes(b);
  }
}
