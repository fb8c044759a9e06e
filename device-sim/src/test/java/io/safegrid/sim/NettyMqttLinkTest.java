package io.safegrid.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.EventLoop;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.safegrid.sim.link.DeviceLink;
import io.safegrid.sim.link.netty.NettyMqttClients;
import io.safegrid.sim.link.netty.NettyMqttLink;
import io.safegrid.sim.site.SimDevice;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Netty MQTT link against a real Mosquitto: many devices on one event loop thread, QoS 1
 * and 2 acknowledged and delivered to a subscriber, v3.1.1 and v5, a wrong password refused with
 * the CONNACK code, keepalive holding an idle connection.
 */
class NettyMqttLinkTest {

  @TempDir Path dir;

  private static SimDevice device(String id) {
    return new SimDevice(id, "gas_alarm", "demo-" + id, id, null, null, 60);
  }

  @Test
  void twoHundredDevicesOnOneThreadHaveEveryQos1MessageAcknowledgedAndDelivered() throws Exception {
    try (Mosquitto broker = new Mosquitto(dir);
        NettyMqttClients clients = new NettyMqttClients(1, 30, 10_000)) {
      Set<String> received = ConcurrentHashMap.newKeySet();
      MqttClient subscriber = new MqttClient(broker.uri(), "subscriber", new MemoryPersistence());
      MqttConnectOptions o = new MqttConnectOptions();
      o.setMaxInflight(1000);
      subscriber.connect(o);
      subscriber.subscribe("devices/+/telemetry", 1,
          (topic, m) -> received.add(topic + " " + new String(m.getPayload(), StandardCharsets.UTF_8)));

      List<NettyMqttLink> links = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        MqttVersion v = i % 2 == 0 ? MqttVersion.MQTT_3_1_1 : MqttVersion.MQTT_5;
        links.add(clients.open(broker.uri(), device(String.format("dev-%03d", i)), "any", v));
      }
      CompletableFuture.allOf(links.stream().map(NettyMqttLink::connect).toArray(CompletableFuture[]::new))
          .get(20, TimeUnit.SECONDS);
      assertThat(links).allMatch(NettyMqttLink::isConnected);
      Set<EventLoop> loops = new HashSet<>();
      links.forEach(l -> loops.add(l.eventLoop()));
      assertThat(loops).as("every connection on the one event loop").hasSize(1);
      long ioThreads = Thread.getAllStackTraces().keySet().stream()
          .filter(t -> t.getName().startsWith("sim-mqtt-io")).count();
      assertThat(ioThreads).as("no thread per device").isEqualTo(1);

      List<CompletableFuture<Void>> acks = new ArrayList<>();
      Set<String> expected = new HashSet<>();
      for (int n = 0; n < 5; n++) {
        for (NettyMqttLink link : links) {
          String payload = "{\"seq\":" + n + ",\"values\":{\"gas_lel\":1.5}}";
          expected.add("devices/" + link.deviceId() + "/telemetry " + payload);
          acks.add(link.publish("telemetry", payload.getBytes(StandardCharsets.UTF_8), 1));
        }
      }
      CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
      assertThat(acks).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
      assertThat(links).allMatch(l -> l.inFlight() == 0);

      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (received.size() < expected.size() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(received).as("every message reached the subscriber once").isEqualTo(expected);
      subscriber.disconnect();
      links.forEach(NettyMqttLink::close);
    }
  }

  @Test
  void qos2CompletesOnPubcompOnBothVersionsAndQos0OnWrite() throws Exception {
    try (Mosquitto broker = new Mosquitto(dir);
        NettyMqttClients clients = new NettyMqttClients(1, 30, 10_000)) {
      Set<String> received = ConcurrentHashMap.newKeySet();
      MqttClient subscriber = new MqttClient(broker.uri(), "subscriber", new MemoryPersistence());
      subscriber.connect();
      subscriber.subscribe("devices/+/events", 2,
          (topic, m) -> received.add(topic + " " + new String(m.getPayload(), StandardCharsets.UTF_8)));
      for (MqttVersion v : List.of(MqttVersion.MQTT_3_1_1, MqttVersion.MQTT_5)) {
        NettyMqttLink link = clients.open(broker.uri(), device("q2-" + v.protocolLevel()), "x", v);
        link.connect().get(10, TimeUnit.SECONDS);
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          done.add(link.publish("events", ("{\"event\":\"fault\",\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8), 2));
        }
        done.add(link.publish("status", "online".getBytes(StandardCharsets.UTF_8), 0));
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
        assertThat(link.inFlight()).isZero();
        link.close();
        assertThat(link.isConnected()).isFalse();
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (received.size() < 40 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(received).hasSize(40);
      subscriber.disconnect();
    }
  }

  @Test
  void wrongPasswordIsRefusedWithTheConnackCodeAndTheRightOneConnects() throws Exception {
    try (Mosquitto broker = new Mosquitto(dir, Map.of("gas-001", "demo-gas-001"));
        NettyMqttClients clients = new NettyMqttClients(1, 30, 10_000)) {
      for (MqttVersion v : List.of(MqttVersion.MQTT_3_1_1, MqttVersion.MQTT_5)) {
        NettyMqttLink wrong = clients.open(broker.uri(), device("gas-001"), "not-the-secret", v);
        assertThatThrownBy(() -> wrong.connect().get(10, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .cause().isInstanceOf(DeviceLink.Refused.class)
            .hasMessageStartingWith("gas-001 refused: CONNACK 0x");
        assertThat(wrong.isConnected()).isFalse();
        assertThat(wrong.publish("telemetry", new byte[] {'{', '}'}, 1))
            .as("a refused device cannot publish").isCompletedExceptionally();

        NettyMqttLink right = clients.open(broker.uri(), device("gas-001"), "demo-gas-001", v);
        right.connect().get(10, TimeUnit.SECONDS);
        right.publish("telemetry", "{\"values\":{\"gas_lel\":0}}".getBytes(StandardCharsets.UTF_8), 1)
            .get(10, TimeUnit.SECONDS);
        right.close();
      }
    }
  }

  @Test
  void keepaliveHoldsAnIdleConnectionPastOneAndAHalfIntervals() throws Exception {
    // Mosquitto drops a client that sends nothing for 1.5 x its keepalive: 1.5 s here
    try (Mosquitto broker = new Mosquitto(dir);
        NettyMqttClients clients = new NettyMqttClients(1, 1, 10_000)) {
      NettyMqttLink link = clients.open(broker.uri(), device("idle-001"), "x", MqttVersion.MQTT_3_1_1);
      link.connect().get(10, TimeUnit.SECONDS);
      Thread.sleep(4_000);
      assertThat(link.isConnected()).as("PINGREQ kept it alive").isTrue();
      link.publish("telemetry", "{}".getBytes(StandardCharsets.UTF_8), 1).get(5, TimeUnit.SECONDS);
      link.drop();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (link.isConnected() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(link.isConnected()).as("dropped").isFalse();
      // the link may see the channel closed before its own state follows (the channel's inactive
      // event runs on its event loop): the publish then fails there, a moment later
      assertThat(link.publish("telemetry", "{}".getBytes(StandardCharsets.UTF_8), 1))
          .failsWithin(java.time.Duration.ofSeconds(5));
    }
  }
}
