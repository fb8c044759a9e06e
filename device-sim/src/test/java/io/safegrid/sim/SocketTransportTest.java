package io.safegrid.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.safegrid.sim.link.netty.NettyMqttClients;
import io.safegrid.sim.link.netty.NettyMqttLink;
import io.safegrid.sim.link.netty.SocketTransport;
import io.safegrid.sim.site.SimDevice;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The simulator's Netty devices run on the gateway's choice of socket transport (io_uring, else
 * epoll, else NIO; {@code --io-transport} forces one): each transport this machine has carries
 * QoS 1 publishes to a real Mosquitto and their PUBACKs.
 */
class SocketTransportTest {

  @TempDir Path dir;

  @Test
  void theDefaultIsNativeOnLinuxAndEachNameForcesItsTransport() {
    assumeTrue(IoUring.isAvailable() || Epoll.isAvailable(), "no native transport on this machine");
    SocketTransport auto = SocketTransport.choose("auto");
    assertThat(auto).as("auto: io_uring, else epoll, as the gateway").isNotEqualTo(SocketTransport.NIO)
        .isEqualTo(IoUring.isAvailable() ? SocketTransport.IO_URING : SocketTransport.EPOLL)
        .isEqualTo(SocketTransport.choose(null));
    assertThat(SocketTransport.choose("nio")).isEqualTo(SocketTransport.NIO);
    assertThat(SocketTransport.choose("NIO")).isEqualTo(SocketTransport.NIO);
    if (Epoll.isAvailable()) {
      assertThat(SocketTransport.choose("epoll")).isEqualTo(SocketTransport.EPOLL);
    }
    assertThatThrownBy(() -> SocketTransport.choose("zigbee")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--io-transport").hasMessageContaining("zigbee");
    try (NettyMqttClients clients = new NettyMqttClients(1, 30, 10_000)) {
      assertThat(clients.transport()).as("the constructor without a transport: auto").isEqualTo(auto);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"io_uring", "epoll", "nio"})
  void devicesOnEachTransportHaveTheirQos1PublishesAcknowledged(String name) throws Exception {
    SocketTransport asked = SocketTransport.choose(name);
    assumeTrue(asked.label().equals(name), name + " is not available here");
    try (Mosquitto broker = new Mosquitto(dir);
        NettyMqttClients clients = new NettyMqttClients(1, 30, 10_000, asked)) {
      assertThat(clients.transport()).isEqualTo(asked);
      assertThat(SocketTransport.of(clients.eventLoops().get(0))).isEqualTo(asked);
      List<NettyMqttLink> links = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        links.add(clients.open(broker.uri(), new SimDevice("dev-" + i, "gas_alarm", "s", "dev-" + i, null, null, 60),
            "any", i % 2 == 0 ? MqttVersion.MQTT_3_1_1 : MqttVersion.MQTT_5));
      }
      CompletableFuture.allOf(links.stream().map(NettyMqttLink::connect).toArray(CompletableFuture[]::new))
          .get(20, TimeUnit.SECONDS);
      List<CompletableFuture<Void>> acks = new ArrayList<>();
      for (NettyMqttLink l : links) {
        for (int n = 0; n < 10; n++) {
          acks.add(l.publish("telemetry", ("{\"seq\":" + n + ",\"values\":{\"gas_lel\":1}}")
              .getBytes(StandardCharsets.UTF_8), 1));
        }
      }
      CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
      assertThat(acks).hasSize(200).allMatch(f -> !f.isCompletedExceptionally());
      assertThat(links).allMatch(l -> l.inFlight() == 0);
    }
  }
}
