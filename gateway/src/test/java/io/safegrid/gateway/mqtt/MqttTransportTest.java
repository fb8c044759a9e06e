package io.safegrid.gateway.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.uring.IoUring;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The MQTT server on each socket transport ({@link MqttTransport}): io_uring (the default where
 * the kernel allows it), epoll (forced by {@code safegrid.mqtt.transport}) and NIO (forced by
 * the builder): a QoS 1 PUBLISH reaches the sink and is acknowledged on each.
 */
class MqttTransportTest {

  /** This build ships the linux-x86_64 native libraries: on such a machine a native one must load. */
  private static final boolean LINUX_X64 = System.getProperty("os.name").startsWith("Linux")
      && System.getProperty("os.arch").matches("amd64|x86_64");

  @AfterEach
  void clearProperty() {
    System.clearProperty(MqttTransport.PROPERTY);
  }

  @ParameterizedTest
  @CsvSource({"true,", "true,epoll", "true,nio", "false,"})
  void aQos1PublishIsStoredAndAcknowledgedOnEachTransport(boolean nativeTransport, String forced)
      throws Exception {
    if (forced != null) {
      System.setProperty(MqttTransport.PROPERTY, forced);
    }
    String expected;
    if (!nativeTransport || "nio".equals(forced) || !LINUX_X64) {
      expected = "nio";
    } else if ("epoll".equals(forced) || !IoUring.isAvailable()) {
      expected = "epoll";
    } else {
      expected = "io_uring";
    }
    RecordingIngestSink sink = new RecordingIngestSink();
    try (MqttTestSupport mqtt = new MqttTestSupport(sink, MqttLimits.defaults(), nativeTransport)) {
      assertThat(mqtt.server.transport()).as(MqttTransport.unavailabilityCauses()).isEqualTo(expected);

      publishOneAndAwaitIt(mqtt, sink, "gas-001", "gas-001-" + expected);
      assertThat(mqtt.registry.get("safegrid.mqtt.puback.latency").timer().count()).isEqualTo(1);
    }
  }

  @Test
  void ioUringLoopsThatCannotStartStepBackToEpoll() throws Exception {
    assumeTrue(LINUX_X64 && IoUring.isAvailable(), "io_uring is not the default here");
    RecordingIngestSink sink = new RecordingIngestSink();
    // Netty's probe passed, but the loops' own rings fail (as under a container's memory limit)
    try (MqttTestSupport mqtt = new MqttTestSupport(sink, MqttLimits.defaults(), true,
        t -> t == MqttTransport.IO_URING
            ? executor -> {
                throw new IllegalStateException("io_uring_setup: Cannot allocate memory (test)");
              }
            : t.ioHandlerFactory())) {
      assertThat(mqtt.server.transport()).isEqualTo("epoll");
      publishOneAndAwaitIt(mqtt, sink, "gas-002", "gas-002");
    }
  }

  @Test
  void ioUringAskedForByNameDoesNotStepBack() {
    assumeTrue(LINUX_X64 && IoUring.isAvailable(), "io_uring is not the default here");
    System.setProperty(MqttTransport.PROPERTY, "io_uring");
    assertThatThrownBy(() -> new MqttTestSupport(new RecordingIngestSink(), MqttLimits.defaults(), true,
        t -> t == MqttTransport.IO_URING
            ? executor -> {
                throw new IllegalStateException("io_uring_setup: Cannot allocate memory (test)");
              }
            : t.ioHandlerFactory()))
        .hasStackTraceContaining("io_uring_setup: Cannot allocate memory (test)");
  }

  /** Device {@code device} publishes one QoS 1 reading (Paho, MQTT 3.1.1); the sink gets it. */
  private static void publishOneAndAwaitIt(MqttTestSupport mqtt, RecordingIngestSink sink, String device,
      String clientId) throws Exception {
    MqttClient c = new MqttClient(mqtt.tcpUrl(), clientId, new MemoryPersistence());
    c.setTimeToWait(10_000);
    c.connect(MqttServerTest.v3Options(device, "s-" + device));
    try {
      // publish() of a QoS 1 message returns once its PUBACK came back
      c.publish("devices/" + device + "/telemetry", "{\"values\":{\"gas_lel\":3.5}}".getBytes(StandardCharsets.UTF_8),
          1, false);
    } finally {
      c.disconnect();
      c.close(true);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> sink.count(device) == 1);
  }

  @Test
  void anUnknownForcedTransportIsAClearError() {
    System.setProperty(MqttTransport.PROPERTY, "kqueue");
    assertThatThrownBy(() -> MqttTransport.choose(true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("safegrid.mqtt.transport must be io_uring, epoll or nio: kqueue");
  }
}
