package io.safegrid.gateway.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Raw bytes a broken or hostile device may send: each closes the connection and stores nothing. */
class MqttHostileInputTest {

  private final RecordingIngestSink sink = new RecordingIngestSink();
  private MqttTestSupport mqtt;

  private MqttTestSupport start(MqttLimits limits) {
    mqtt = new MqttTestSupport(sink, limits);
    return mqtt;
  }

  private int port() {
    if (mqtt == null) {
      start(MqttLimits.defaults());
    }
    return mqtt.server.port();
  }

  @AfterEach
  void stop() {
    if (mqtt != null) {
      mqtt.close();
    }
  }

  private Socket connected() throws IOException {
    return RawMqtt.connect(port(), "gas-001", "s-gas-001", 60);
  }

  @Test
  void pingreqWithABodyClosesWithoutPingresp() throws Exception {
    try (Socket s = connected()) {
      s.getOutputStream().write(new byte[] {(byte) 0xC0, 0x02, (byte) 0xD0, 0x00});
      byte[] after = RawMqtt.readUntilClosed(s, 5000);
      assertThat(after).as("no PINGRESP (0xD0)").isEmpty();
    }
    assertThat(mqtt.rejects("malformed")).isEqualTo(1);
    // a proper PINGREQ is answered
    try (Socket s = connected()) {
      s.getOutputStream().write(new byte[] {(byte) 0xC0, 0x00});
      assertThat(RawMqtt.readPacket(s.getInputStream())).containsExactly(0xD0, 0x00);
    }
  }

  @Test
  void aTwoMebibytePublishIsRefusedFromItsHeaderAlone() throws Exception {
    int body = 2 * 1024 * 1024;
    try (Socket s = connected()) {
      OutputStream out = s.getOutputStream();
      out.write(0x30);
      out.write(RawMqtt.remainingLength(body));
      out.write(new byte[] {0, 25});
      out.write("devices/gas-001/telemetry".getBytes(StandardCharsets.US_ASCII));
      out.write(new byte[32 * 1024]);
      out.flush();
      // closed although 2 MiB never came: the decoder judged the fixed header, buffered nothing
      assertThat(RawMqtt.readUntilClosed(s, 5000)).isEmpty();
    }
    assertThat(mqtt.rejects("packet_too_large")).isEqualTo(1);
    assertThat(sink.received).isEmpty();
  }

  @Test
  void twoMebibytePublishesOnMqtt5GetDisconnect0x95AndTheHeapStaysFlat() throws Exception {
    byte[] huge = RawMqtt.publish("devices/gas-001/telemetry".getBytes(StandardCharsets.UTF_8), 1, 1,
        new byte[2 * 1024 * 1024], true);
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    port();
    long before = usedHeapAfterGc(memory);
    for (int i = 0; i < 20; i++) {
      try (Socket s = RawMqtt.connect(port(), "gas-001", "s-gas-001", 60, 5)) {
        CompletableFuture<Void> send = CompletableFuture.runAsync(() -> {
          try {
            s.getOutputStream().write(huge);
          } catch (IOException closedUnderUs) {
            // expected: the server closes before the body is all sent
          }
        });
        byte[] got = RawMqtt.readUntilClosed(s, 5000);
        assertThat(got).as("DISCONNECT 0x95 packet too large").startsWith(0xE0, 0x02, 0x95);
        send.join();
      }
    }
    long after = usedHeapAfterGc(memory);
    assertThat(after - before).as("heap growth after 20 x 2 MiB, bytes").isLessThan(16L * 1024 * 1024);
    assertThat(mqtt.rejects("packet_too_large")).isEqualTo(20);
    assertThat(sink.received).isEmpty();
    // and the server still serves
    try (Socket s = connected()) {
      s.getOutputStream().write(RawMqtt.publish("devices/gas-001/telemetry", 1, 9, "{}"));
      assertThat(RawMqtt.readPacket(s.getInputStream())).containsExactly(0x40, 0x02, 0x00, 0x09);
    }
  }

  private static long usedHeapAfterGc(MemoryMXBean memory) throws InterruptedException {
    long min = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
      min = Math.min(min, memory.getHeapMemoryUsage().getUsed());
    }
    return min;
  }

  @Test
  void wrongPasswordGetsConnack0x04() throws Exception {
    try (Socket s = new Socket("127.0.0.1", port())) {
      s.getOutputStream().write(RawMqtt.connectPacket("gas-001", "nope", 60, 4));
      assertThat(RawMqtt.readUntilClosed(s, 5000)).containsExactly(0x20, 0x02, 0x00, 0x04);
    }
    try (Socket s = new Socket("127.0.0.1", port())) {
      s.getOutputStream().write(RawMqtt.connectPacket("gas-001", "nope", 60, 5));
      byte[] ack = RawMqtt.readUntilClosed(s, 5000);
      assertThat(ack[0] & 0xFF).isEqualTo(0x20);
      assertThat(ack[3] & 0xFF).isEqualTo(0x86);
    }
  }

  @Test
  void anotherDevicesTopicClosesAnMqtt311Connection() throws Exception {
    try (Socket s = connected()) {
      s.getOutputStream().write(RawMqtt.publish("devices/gas-002/telemetry", 1, 1, "{\"values\":{\"gas_lel\":1}}"));
      assertThat(RawMqtt.readUntilClosed(s, 5000)).as("no PUBACK").isEmpty();
    }
    assertThat(sink.received).isEmpty();
    assertThat(mqtt.rejects("acl_publish")).isEqualTo(1);
  }

  @Test
  void malformedPacketsCloseAndStoreNothing() throws Exception {
    byte[][] hostile = {
      // wildcard in a PUBLISH topic
      RawMqtt.publish("devices/gas-001/+", 0, 0, "{}"),
      RawMqtt.publish("devices/#", 1, 1, "{}"),
      // invalid UTF-8 in the topic (0xC3 0x28)
      RawMqtt.publish(new byte[] {'d', 'e', 'v', (byte) 0xC3, 0x28}, 1, 2, "{}".getBytes(StandardCharsets.UTF_8), false),
      // U+0000 in the topic
      RawMqtt.publish("devices/gas-001/telemetry\u0000".getBytes(StandardCharsets.UTF_8), 1, 3,
          "{}".getBytes(StandardCharsets.UTF_8), false),
      // leftover bytes: a PUBREL (3.1.1: exactly 2 bytes) with an extra byte
      new byte[] {0x62, 0x03, 0x00, 0x01, 0x00},
      // leftover bytes: DISCONNECT with a body on 3.1.1
      new byte[] {(byte) 0xE0, 0x01, 0x00},
      // QoS 3
      new byte[] {0x36, 0x04, 0x00, 0x01, 'a', 0x00},
      // packet id 0 on QoS 1
      RawMqtt.publish("devices/gas-001/telemetry", 1, 0, "{}"),
      // SUBSCRIBE with reserved flags wrong
      new byte[] {(byte) 0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00},
      // a second CONNECT
      RawMqtt.connectPacket("gas-001", "s-gas-001", 60, 4),
      // a PUBACK for nothing we sent
      new byte[] {0x40, 0x02, 0x00, 0x01},
    };
    for (byte[] packet : hostile) {
      try (Socket s = connected()) {
        // a good PUBLISH right behind it, in the same segment (so in the same read), must not be
        // taken either
        byte[] after = RawMqtt.publish("devices/gas-001/telemetry", 1, 5, "{\"after\":1}");
        byte[] both = java.util.Arrays.copyOf(packet, packet.length + after.length);
        System.arraycopy(after, 0, both, packet.length, after.length);
        s.getOutputStream().write(both);
        byte[] got = RawMqtt.readUntilClosed(s, 5000);
        assertThat(got).as("answer to %s", java.util.HexFormat.of().formatHex(packet)).isEmpty();
      }
    }
    assertThat(sink.received).isEmpty();
  }

  @Test
  void emptyTopicOnMqtt5IsAProtocolErrorNotAnAclRefusal() throws Exception {
    try (Socket s = RawMqtt.connect(port(), "gas-001", "s-gas-001", 60, 5)) {
      s.getOutputStream().write(
          RawMqtt.publish(new byte[0], 1, 9, "{\"values\": {\"gas_lel\": 1}}".getBytes(StandardCharsets.UTF_8), true));
      byte[] answer = RawMqtt.readPacket(s.getInputStream());
      // DISCONNECT (0xE0) with reason 0x82 protocol error, not PUBACK 0x87
      assertThat(answer[0] & 0xFF).isEqualTo(0xE0);
      assertThat(answer[2] & 0xFF).isEqualTo(0x82);
      assertThat(RawMqtt.readUntilClosed(s, 5000)).isEmpty();
    }
    assertThat(sink.received).isEmpty();
  }

  @Test
  void publishBeforeConnectCloses() throws Exception {
    try (Socket s = new Socket("127.0.0.1", port())) {
      s.getOutputStream().write(RawMqtt.publish("devices/gas-001/telemetry", 0, 0, "{}"));
      assertThat(RawMqtt.readUntilClosed(s, 5000)).isEmpty();
    }
    assertThat(sink.received).isEmpty();
  }

  @Test
  void silenceForOneAndAHalfKeepalivesCloses() throws Exception {
    try (Socket s = RawMqtt.connect(port(), "gas-001", "s-gas-001", 1)) {
      long t0 = System.nanoTime();
      RawMqtt.readUntilClosed(s, 5000);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(ms).isBetween(1_300L, 2_500L);
    }
    await().atMost(Duration.ofSeconds(2)).until(() -> mqtt.presence.size() == 2);
    assertThat(mqtt.presence.get(1).reason()).isEqualTo(PresenceEvent.Reason.KEEPALIVE_TIMEOUT);
  }

  @Test
  void keepaliveZeroMeansNoTimeout() throws Exception {
    start(MqttLimits.defaults().withConnectTimeoutMillis(500));
    try (Socket s = RawMqtt.connect(port(), "gas-001", "s-gas-001", 0)) {
      s.setSoTimeout(2000);
      assertThatThrownBy(() -> s.getInputStream().read()).isInstanceOf(java.net.SocketTimeoutException.class);
    }
    // but a socket that never sends CONNECT is closed after the connect timeout
    try (Socket s = new Socket("127.0.0.1", port())) {
      RawMqtt.readUntilClosed(s, 3000);
    }
  }

  @Test
  void connectionsBeyondTheMaximumAreClosed() throws Exception {
    start(MqttLimits.defaults().withMaxConnections(2));
    try (Socket a = connected(); Socket b = RawMqtt.connect(port(), "gas-002", "s-gas-002", 60);
        Socket c = new Socket("127.0.0.1", port())) {
      assertThat(RawMqtt.readUntilClosed(c, 5000)).isEmpty();
      assertThat(mqtt.rejects("max_connections")).isEqualTo(1);
      await().atMost(Duration.ofSeconds(5)).until(() -> mqtt.server.connectionCount() == 2);
    }
  }

  @Test
  void aDeviceOverItsRateIsSlowedNotDropped() throws Exception {
    start(MqttLimits.defaults().withMessagesPerSecondPerDevice(10));
    try (Socket s = connected()) {
      long t0 = System.nanoTime();
      for (int i = 1; i <= 30; i++) {
        s.getOutputStream().write(RawMqtt.publish("devices/gas-001/telemetry", 0, 0, "{\"i\":" + i + "}"));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> sink.count("gas-001") == 30);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      // 10 at once (the bucket), then 10/s: about 2 s for the other 20
      assertThat(ms).isGreaterThan(1_500L);
    }
    assertThat(mqtt.registry.get("safegrid.mqtt.throttled").tag("reason", "rate").counter().count()).isPositive();
  }
}
