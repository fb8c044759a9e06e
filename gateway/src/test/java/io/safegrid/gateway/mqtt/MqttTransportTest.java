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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The MQTT server on each socket transport ({@link MqttTransport}): io_uring (the default where
 * the kernel allows it), epoll and NIO (forced by name with the builder's {@code transport}, or
 * NIO by {@code nativeTransport(false)}): a QoS 1 PUBLISH reaches the sink and is acknowledged on
 * each. The operator's system property {@code safegrid.mqtt.transport} is read only when the
 * builder names none: these tests set no JVM-wide property (which leaked into every other test in
 * the same JVM), and fail if one is set.
 */
class MqttTransportTest {

  /** This build ships the linux-x86_64 native libraries: on such a machine a native one must load. */
  private static final boolean LINUX_X64 = System.getProperty("os.name").startsWith("Linux")
      && System.getProperty("os.arch").matches("amd64|x86_64");

  @BeforeEach
  void noJvmWideTransport() {
    // what these tests expect holds only when no one forces a transport for the whole JVM
    assertThat(System.getProperty(MqttTransport.PROPERTY)).as(MqttTransport.PROPERTY).isNull();
  }

  @ParameterizedTest
  @CsvSource({"true,", "true,epoll", "true,nio", "false,"})
  void aQos1PublishIsStoredAndAcknowledgedOnEachTransport(boolean nativeTransport, String forced)
      throws Exception {
    String expected;
    if (!nativeTransport || "nio".equals(forced) || !LINUX_X64) {
      expected = "nio";
    } else if ("epoll".equals(forced) || !IoUring.isAvailable()) {
      expected = "epoll";
    } else {
      expected = "io_uring";
    }
    RecordingIngestSink sink = new RecordingIngestSink();
    try (MqttTestSupport mqtt = new MqttTestSupport(sink, MqttLimits.defaults(), nativeTransport, forced,
        MqttTransport::ioHandlerFactory)) {
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
    assertThatThrownBy(() -> new MqttTestSupport(new RecordingIngestSink(), MqttLimits.defaults(), true, "io_uring",
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
    assertThatThrownBy(() -> MqttServer.builder().ingest(new RecordingIngestSink()).authenticator(MqttTestSupport.AUTH)
        .meterRegistry(new io.micrometer.core.instrument.simple.SimpleMeterRegistry()).transport("kqueue").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("MQTT server transport must be io_uring, epoll or nio: kqueue");
    // the operator's switch names itself in the same error
    assertThatThrownBy(() -> MqttTransport.choose(true, "kqueue", MqttTransport.PROPERTY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("safegrid.mqtt.transport must be io_uring, epoll or nio: kqueue");
  }

  /**
   * A transport named for one server: any case and spaces, NIO when native transports are off;
   * no name and no property (none in these tests): the default order.
   */
  @Test
  void aTransportIsChosenByNameWithoutTheProperty() {
    assertThat(MqttTransport.choose(true, "nio", "builder")).isEqualTo(MqttTransport.NIO);
    assertThat(MqttTransport.choose(false, "epoll", "builder")).as("nativeTransport(false) is NIO").isEqualTo(MqttTransport.NIO);
    assertThat(MqttTransport.choose(true, " EPOLL ", "builder"))
        .isEqualTo(LINUX_X64 ? MqttTransport.EPOLL : MqttTransport.NIO);
    assertThat(MqttTransport.choose(true)).as("no property, no name: the default order")
        .isEqualTo(MqttTransport.choose(true, null, MqttTransport.PROPERTY));
  }
}
