package io.safegrid.gateway.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The MQTT server with Paho v3 and v5 clients and mosquitto_pub, against a recording sink. */
class MqttServerTest {

  private static final String READING = "{\"seq\":1,\"values\":{\"gas_lel\":12.5}}";

  private RecordingIngestSink sink;
  private MqttTestSupport mqtt;
  private final List<AutoCloseable> clients = new ArrayList<>();

  @BeforeEach
  void start() {
    sink = new RecordingIngestSink();
    mqtt = new MqttTestSupport(sink, MqttLimits.defaults().withReceiveMaximum(8));
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : clients) {
      try {
        c.close();
      } catch (Exception ignored) {
        // already gone
      }
    }
    mqtt.close();
  }

  static MqttConnectOptions v3Options(String device, String secret) {
    MqttConnectOptions o = new MqttConnectOptions();
    o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
    o.setUserName(device);
    o.setPassword(secret.toCharArray());
    o.setCleanSession(true);
    o.setAutomaticReconnect(false);
    o.setConnectionTimeout(10);
    return o;
  }

  MqttClient v3(String device, String secret) throws MqttException {
    MqttClient c = new MqttClient(mqtt.tcpUrl(), device + "-v3", new MemoryPersistence());
    c.setTimeToWait(10_000);
    clients.add(() -> {
      if (c.isConnected()) {
        c.disconnect();
      }
      c.close(true);
    });
    c.connect(v3Options(device, secret));
    return c;
  }

  org.eclipse.paho.mqttv5.client.MqttAsyncClient v5(String device, String secret) throws Exception {
    var c = new org.eclipse.paho.mqttv5.client.MqttAsyncClient(
        mqtt.tcpUrl(), device + "-v5", new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
    clients.add(() -> {
      if (c.isConnected()) {
        c.disconnect().waitForCompletion(5000);
      }
      c.close(true);
    });
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setUserName(device);
    o.setPassword(secret.getBytes(StandardCharsets.UTF_8));
    o.setCleanStart(true);
    o.setAutomaticReconnect(false);
    c.connect(o).waitForCompletion(10_000);
    return c;
  }

  @Test
  void pahoV3PublishesQos0And1And2() throws Exception {
    MqttClient c = v3("gas-001", "s-gas-001");
    for (int qos = 0; qos <= 2; qos++) {
      c.publish("devices/gas-001/telemetry", ("{\"qos\":" + qos + "}").getBytes(StandardCharsets.UTF_8), qos, false);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> sink.count("gas-001") == 3);
    assertThat(sink.received).extracting(RecordingIngestSink.Received::payload)
        .containsExactly("{\"qos\":0}", "{\"qos\":1}", "{\"qos\":2}");
    assertThat(sink.received).allMatch(r -> r.kind().equals("telemetry")
        && r.source().equals("mqtt:devices/gas-001/telemetry"));
    assertThat(mqtt.registry.get("safegrid.mqtt.puback.latency").timer().count()).isEqualTo(2);
  }

  @Test
  void pahoV5PublishesQos0And1And2AndGets0x99ForAnUndecodablePayload() throws Exception {
    var c = v5("gas-002", "s-gas-002");
    for (int qos = 0; qos <= 2; qos++) {
      IMqttToken t = c.publish("devices/gas-002/telemetry", message("{\"qos\":" + qos + "}", qos));
      t.waitForCompletion(10_000);
      if (qos > 0) {
        assertThat(t.getReasonCodes()).containsOnly(0);
      }
    }
    IMqttToken bad = c.publish("devices/gas-002/events", message("not json", 1));
    bad.waitForCompletion(10_000);
    assertThat(bad.getReasonCodes()).containsExactly(0x99);
    await().atMost(Duration.ofSeconds(5)).until(() -> sink.count("gas-002") == 4);
    assertThat(mqtt.rejects("invalid_payload")).isEqualTo(1);
  }

  @Test
  void mosquittoPubPublishesQos0And1And2OnBothVersions() throws Exception {
    int n = 0;
    for (String version : List.of("mqttv311", "mqttv5")) {
      for (int qos = 0; qos <= 2; qos++) {
        Process p = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", String.valueOf(mqtt.server.port()),
            "-V", version, "-q", String.valueOf(qos), "-u", "gas-003", "-P", "s-gas-003", "-i", "mp-" + n,
            "-t", "devices/gas-003/telemetry", "-m", "{\"n\":" + n + "}")
            .redirectErrorStream(true).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        n++;
      }
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> sink.count("gas-003") == 6);
  }

  @Test
  void pubackOnlyAfterTheSinkSaysDurable() throws Exception {
    sink.hold = true;
    MqttAsyncClient c = new MqttAsyncClient(mqtt.tcpUrl(), "held", new MemoryPersistence());
    clients.add(() -> c.close(true));
    c.connect(v3Options("gas-001", "s-gas-001")).waitForCompletion(10_000);
    IMqttDeliveryToken t = c.publish("devices/gas-001/telemetry", READING.getBytes(StandardCharsets.UTF_8), 1, false);
    await().atMost(Duration.ofSeconds(5)).until(() -> sink.count("gas-001") == 1);
    Thread.sleep(300);
    assertThat(t.isComplete()).as("PUBACK before durable").isFalse();
    sink.releaseAll();
    t.waitForCompletion(5000);
    assertThat(t.isComplete()).isTrue();
    c.disconnect().waitForCompletion(5000);
  }

  @Test
  void inflightIsBoundedAndTheSocketIsPausedUntilItDrains() throws Exception {
    sink.hold = true;
    MqttAsyncClient c = new MqttAsyncClient(mqtt.tcpUrl(), "flood", new MemoryPersistence());
    clients.add(() -> c.close(true));
    MqttConnectOptions o = v3Options("gas-001", "s-gas-001");
    o.setMaxInflight(100);
    c.connect(o).waitForCompletion(10_000);
    List<IMqttDeliveryToken> tokens = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      tokens.add(c.publish("devices/gas-001/telemetry", ("{\"seq\":" + i + "}").getBytes(StandardCharsets.UTF_8), 1, false));
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> sink.outstanding.get() == 8);
    Thread.sleep(300);
    assertThat(sink.count("gas-001")).as("server stopped taking at the receive maximum").isEqualTo(8);
    for (int round = 0; round < 20 && sink.count("gas-001") < 50; round++) {
      sink.releaseAll();
      Thread.sleep(50);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      sink.releaseAll();
      return tokens.stream().allMatch(IMqttDeliveryToken::isComplete);
    });
    assertThat(sink.maxOutstanding.get()).isLessThanOrEqualTo(8);
    assertThat(sink.received).extracting(RecordingIngestSink.Received::payload)
        .startsWith("{\"seq\":0}", "{\"seq\":1}").hasSize(50).endsWith("{\"seq\":49}");
    c.disconnect().waitForCompletion(5000);
  }

  @Test
  void whileTheSinkIsNotAcceptingTheSocketIsNotRead() throws Exception {
    sink.accepting = false;
    MqttAsyncClient c = new MqttAsyncClient(mqtt.tcpUrl(), "pushback", new MemoryPersistence());
    clients.add(() -> c.close(true));
    c.connect(v3Options("gas-001", "s-gas-001")).waitForCompletion(10_000);
    List<IMqttDeliveryToken> tokens = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      tokens.add(c.publish("devices/gas-001/telemetry", ("{\"seq\":" + i + "}").getBytes(StandardCharsets.UTF_8), 1, false));
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> sink.count("gas-001") == 1);
    Thread.sleep(500);
    assertThat(sink.count("gas-001")).as("nothing taken while storage pushes back").isEqualTo(1);
    assertThat(mqtt.registry.get("safegrid.mqtt.throttled").tag("reason", "storage").counter().count()).isPositive();
    sink.accepting = true;
    await().atMost(Duration.ofSeconds(5)).until(() -> tokens.stream().allMatch(IMqttDeliveryToken::isComplete));
    assertThat(sink.count("gas-001")).isEqualTo(5);
    c.disconnect().waitForCompletion(5000);
  }

  @Test
  void anOverloadedStoreIsNeverAcknowledgedButRetried() throws Exception {
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    io.safegrid.gateway.ingest.IngestSink flaky = new io.safegrid.gateway.ingest.IngestSink() {
      @Override
      public java.util.concurrent.CompletableFuture<io.safegrid.gateway.ingest.IngestResult> telemetry(
          String d, byte[] p, long at, String s) {
        if (calls.incrementAndGet() <= 3) {
          return java.util.concurrent.CompletableFuture.failedFuture(
              new io.safegrid.gateway.storage.StoreOverloadedException("spool full"));
        }
        return sink.telemetry(d, p, at, s);
      }

      @Override
      public java.util.concurrent.CompletableFuture<io.safegrid.gateway.ingest.IngestResult> events(
          String d, byte[] p, long at, String s) {
        return sink.events(d, p, at, s);
      }

      @Override
      public boolean acceptingMore() {
        return true;
      }
    };
    try (MqttTestSupport other = new MqttTestSupport(flaky, MqttLimits.defaults())) {
      MqttAsyncClient c = new MqttAsyncClient(other.tcpUrl(), "overload", new MemoryPersistence());
      clients.add(() -> c.close(true));
      c.connect(v3Options("gas-002", "s-gas-002")).waitForCompletion(10_000);
      long t0 = System.nanoTime();
      IMqttDeliveryToken t = c.publish("devices/gas-002/telemetry", READING.getBytes(StandardCharsets.UTF_8), 1, false);
      t.waitForCompletion(10_000);
      assertThat(t.isComplete()).isTrue();
      assertThat(calls.get()).isEqualTo(4);
      assertThat((System.nanoTime() - t0) / 1_000_000).as("three retries 100 ms apart").isGreaterThanOrEqualTo(250);
      assertThat(sink.count("gas-002")).isEqualTo(1);
      c.disconnect().waitForCompletion(5000);
    }
  }

  @Test
  void wrongPasswordAndUnknownDeviceAreRefusedWithTheVersionsCode() throws Exception {
    assertThatThrownBy(() -> v3("gas-001", "wrong"))
        .isInstanceOfSatisfying(MqttException.class,
            e -> assertThat(e.getReasonCode()).isEqualTo(MqttException.REASON_CODE_FAILED_AUTHENTICATION));
    assertThatThrownBy(() -> v3("gas-999", "s-gas-999"))
        .isInstanceOfSatisfying(MqttException.class, e -> assertThat(e.getReasonCode()).isEqualTo(4));
    assertThatThrownBy(() -> v5("gas-001", "wrong"))
        .isInstanceOfSatisfying(org.eclipse.paho.mqttv5.common.MqttException.class,
            e -> assertThat(e.getReasonCode()).isEqualTo(0x86));
    assertThat(mqtt.rejects("bad_credentials")).isEqualTo(3);
    assertThat(sink.received).isEmpty();
  }

  @Test
  void anotherDevicesTopicIsRefused() throws Exception {
    var c5 = v5("gas-002", "s-gas-002");
    IMqttToken t = c5.publish("devices/gas-001/telemetry", message(READING, 1));
    t.waitForCompletion(10_000);
    assertThat(t.getReasonCodes()).containsExactly(0x87);
    assertThat(c5.isConnected()).isTrue();

    MqttClient c3 = v3("gas-003", "s-gas-003");
    assertThatThrownBy(() -> c3.publish("devices/gas-001/telemetry", READING.getBytes(StandardCharsets.UTF_8), 1, false))
        .isInstanceOf(MqttException.class);
    await().atMost(Duration.ofSeconds(5)).until(() -> !c3.isConnected());
    assertThat(sink.received).isEmpty();
    assertThat(mqtt.rejects("acl_publish")).isEqualTo(2);
  }

  @Test
  void subscribeOnlyToOwnCommands() throws Exception {
    MqttClient c3 = v3("gas-001", "s-gas-001");
    int[] granted = c3.subscribeWithResponse(new String[] {"devices/gas-001/commands", "devices/gas-002/commands", "devices/#"},
        new int[] {1, 1, 0}).getGrantedQos();
    assertThat(granted).containsExactly(1, 0x80, 0x80);
    var c5 = v5("gas-002", "s-gas-002");
    IMqttToken t = c5.subscribe(new org.eclipse.paho.mqttv5.common.MqttSubscription[] {
        new org.eclipse.paho.mqttv5.common.MqttSubscription("devices/gas-002/commands", 2),
        new org.eclipse.paho.mqttv5.common.MqttSubscription("devices/gas-001/commands", 1)});
    t.waitForCompletion(10_000);
    assertThat(t.getReasonCodes()).containsExactly(1, 0x87);
    assertThat(mqtt.rejects("acl_subscribe")).isEqualTo(3);
  }

  @Test
  void keepalive3sWithQos0Every500msStaysConnectedFor10s() throws Exception {
    MqttClient c = new MqttClient(mqtt.tcpUrl(), "ka", new MemoryPersistence());
    clients.add(() -> c.close(true));
    MqttConnectOptions o = v3Options("gas-001", "s-gas-001");
    o.setKeepAliveInterval(3);
    c.connect(o);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    int sent = 0;
    while (System.nanoTime() < end) {
      c.publish("devices/gas-001/telemetry", READING.getBytes(StandardCharsets.UTF_8), 0, false);
      sent++;
      Thread.sleep(500);
      assertThat(c.isConnected()).isTrue();
    }
    int expected = sent;
    await().atMost(Duration.ofSeconds(5)).until(() -> sink.count("gas-001") == expected);
    assertThat(mqtt.presence).noneMatch(e -> !e.online());
    c.disconnect();
  }

  @Test
  void statusTopicWillAndTakeoverGiveEachOfflineEventOnce() throws Exception {
    var first = new org.eclipse.paho.mqttv5.client.MqttAsyncClient(
        mqtt.tcpUrl(), "a", new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
    clients.add(() -> first.close(true));
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setUserName("gas-001");
    o.setPassword("s-gas-001".getBytes(StandardCharsets.UTF_8));
    o.setWill("devices/gas-001/status", new MqttMessage("offline".getBytes(StandardCharsets.UTF_8)));
    first.connect(o).waitForCompletion(10_000);
    first.publish("devices/gas-001/status", message("{\"status\":\"offline\"}", 1)).waitForCompletion(10_000);
    first.publish("devices/gas-001/status", message("online", 1)).waitForCompletion(10_000);

    // same device, another client id: takes over
    MqttClient second = new MqttClient(mqtt.tcpUrl(), "b", new MemoryPersistence());
    clients.add(() -> second.close(true));
    second.connect(v3Options("gas-001", "s-gas-001"));
    await().atMost(Duration.ofSeconds(5)).until(() -> !first.isConnected());
    second.disconnect(); // clean: no offline event
    Thread.sleep(300);

    assertThat(mqtt.presence).extracting(e -> e.online() + ":" + e.reason())
        .containsExactly("true:CONNECTED", "false:STATUS", "true:STATUS", "false:TAKEN_OVER", "true:CONNECTED");
    PresenceEvent takenOver = mqtt.presence.get(3);
    assertThat(takenOver.willTopic()).isEqualTo("devices/gas-001/status");
    assertThat(new String(takenOver.willPayload(), StandardCharsets.UTF_8)).isEqualTo("offline");
    assertThat(mqtt.server.isConnected("gas-001")).isFalse();
  }

  @Test
  void uncleanCloseGivesOneOfflineEvent() throws Exception {
    try (java.net.Socket s = RawMqtt.connect(mqtt.server.port(), "gas-002", "s-gas-002", 0)) {
      await().atMost(Duration.ofSeconds(5)).until(() -> mqtt.server.isConnected("gas-002"));
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> mqtt.presence.size() == 2);
    assertThat(mqtt.presence).extracting(e -> e.online() + ":" + e.reason())
        .containsExactly("true:CONNECTED", "false:CONNECTION_LOST");
  }

  /** Outbound packets are counted by type, as inbound ones are ({@code direction} out / in). */
  @Test
  void packetsSentAreCountedByTypeAndDirection() throws Exception {
    try (java.net.Socket s = RawMqtt.connect(mqtt.server.port(), "gas-001", "s-gas-001", 60)) {
      var in = s.getInputStream();
      var out = s.getOutputStream();
      out.write(RawMqtt.publish("devices/gas-001/telemetry", 1, 1, READING));
      assertThat(RawMqtt.readPacket(in)[0] & 0xFF).as("PUBACK").isEqualTo(0x40);
      out.write(RawMqtt.publish("devices/gas-001/telemetry", 2, 2, "{\"seq\":2}"));
      assertThat(RawMqtt.readPacket(in)[0] & 0xFF).as("PUBREC").isEqualTo(0x50);
      out.write(new byte[] {0x62, 0x02, 0x00, 0x02});
      assertThat(RawMqtt.readPacket(in)[0] & 0xFF).as("PUBCOMP").isEqualTo(0x70);
      out.write(new byte[] {(byte) 0xC0, 0x00});
      assertThat(RawMqtt.readPacket(in)[0] & 0xFF).as("PINGRESP").isEqualTo(0xD0);
      byte[] filter = "devices/gas-001/commands".getBytes(StandardCharsets.UTF_8);
      java.io.ByteArrayOutputStream sub = new java.io.ByteArrayOutputStream();
      sub.write(0);
      sub.write(3);
      sub.write(0);
      sub.write(filter.length);
      sub.writeBytes(filter);
      sub.write(1);
      out.write(RawMqtt.packet(0x82, sub.toByteArray()));
      assertThat(RawMqtt.readPacket(in)[0] & 0xFF).as("SUBACK").isEqualTo(0x90);
    }
    try (java.net.Socket s = RawMqtt.connect(mqtt.server.port(), "gas-002", "s-gas-002", 60, 5)) {
      s.getOutputStream().write(new byte[] {(byte) 0xC0, 0x02, (byte) 0xD0, 0x00}); // malformed PINGREQ
      assertThat(RawMqtt.readUntilClosed(s, 5000)).as("DISCONNECT 0x81").startsWith(0xE0, 0x02, 0x81);
    }
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", mqtt.server.port())) {
      s.getOutputStream().write(RawMqtt.connectPacket("gas-003", "wrong", 60, 4));
      assertThat(RawMqtt.readUntilClosed(s, 5000)).containsExactly(0x20, 0x02, 0x00, 0x04);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> sent("disconnect") == 1);
    assertThat(sent("connack")).as("two accepted, one refused").isEqualTo(3);
    assertThat(sent("puback")).isEqualTo(1);
    assertThat(sent("pubrec")).isEqualTo(1);
    assertThat(sent("pubcomp")).isEqualTo(1);
    assertThat(sent("pingresp")).isEqualTo(1);
    assertThat(sent("suback")).isEqualTo(1);
    assertThat(sent("publish")).isZero();
    assertThat(mqtt.registry.get("safegrid.mqtt.messages").tag("type", "connect").tag("direction", "in")
        .counter().count()).isEqualTo(3);
    assertThat(mqtt.registry.get("safegrid.mqtt.messages").tag("type", "publish").tag("direction", "in")
        .counter().count()).isEqualTo(2);
  }

  private double sent(String type) {
    return mqtt.registry.get("safegrid.mqtt.messages").tag("type", type).tag("direction", "out").counter().count();
  }

  private static MqttMessage message(String text, int qos) {
    MqttMessage m = new MqttMessage(text.getBytes(StandardCharsets.UTF_8));
    m.setQos(qos);
    return m;
  }
}
